"""Source map v3 lookups: a minified script's line and column back to the session file.

Only what a boot check needs: decode ``mappings`` (base64 VLQ), find the segment that
covers a generated position, and map a JavaScript stack to the first frame that lands in
a session file. The page's own script maps to ``/app/...`` paths as pushed (the bundler
writes ``sources`` that way); vendor chunks have no session files, so their frames are
skipped in favour of the first one that does.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SourceMap", "Position", "StackFrame", "decode_vlq", "parse_stack", "map_stack"]

_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DIGITS = {c: i for i, c in enumerate(_BASE64)}
_CONTINUE = 32  # the VLQ continuation bit
# "    at App (https://origin/sessions/x/renders/1/app-X.js:1:234)" or "    at https://...:1:2"
_FRAME = re.compile(r"(?P<url>[a-z][a-z0-9+.-]*://[^\s()]+?):(?P<line>\d+):(?P<column>\d+)\)?\s*$")


def decode_vlq(segment: str) -> list[int]:
    """The signed integers of one ``mappings`` segment (``"AAgBC"`` → ``[0, 0, 16, 1]``)."""
    values: list[int] = []
    value = shift = 0
    for char in segment:
        try:
            digit = _DIGITS[char]
        except KeyError:
            raise ValueError(f"source map: {char!r} is not a base64 VLQ digit") from None
        value += (digit & 31) << shift
        if digit & _CONTINUE:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        value = shift = 0
    if shift:
        raise ValueError(f"source map: segment {segment!r} ends inside a number")
    return values


@dataclass(frozen=True)
class Position:
    """A place in an original source: file as listed in ``sources``, 1-based line and column."""

    source: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


class SourceMap:
    """One decoded v3 source map; generated positions are 1-based as stacks print them."""

    def __init__(self, sources: list[str], lines: list[list[tuple[int, int, int, int]]]) -> None:
        self.sources = sources
        self._lines = lines  # per generated line: (column, source, line, column), 0-based
        self._columns = [[s[0] for s in line] for line in lines]

    @classmethod
    def parse(cls, text: str | bytes) -> SourceMap:
        """Decode a map's JSON. Raises ValueError for anything that is not a v3 map."""
        try:
            data = json.loads(text)
            sources = [str(s) for s in data["sources"]]
            mappings = str(data["mappings"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"source map: not a version 3 map ({exc})") from None
        lines: list[list[tuple[int, int, int, int]]] = []
        source = line = column = 0
        for text_line in mappings.split(";"):
            generated = 0
            segments = []
            for segment in filter(None, text_line.split(",")):
                values = decode_vlq(segment)
                generated += values[0]
                if len(values) >= 4:
                    source, line, column = (
                        source + values[1],
                        line + values[2],
                        column + values[3],
                    )
                    segments.append((generated, source, line, column))
            segments.sort()
            lines.append(segments)
        return cls(sources, lines)

    def lookup(self, line: int, column: int) -> Position | None:
        """The original position of generated ``line``:``column`` (1-based), or None."""
        if not 1 <= line <= len(self._lines):
            return None
        index = bisect.bisect_right(self._columns[line - 1], column - 1) - 1
        if index < 0:
            return None
        _, source, original_line, original_column = self._lines[line - 1][index]
        if not 0 <= source < len(self.sources):
            return None
        return Position(self.sources[source], original_line + 1, original_column + 1)


@dataclass(frozen=True)
class StackFrame:
    """One ``at ...`` line of a V8 stack: the script's URL and a 1-based position."""

    url: str
    line: int
    column: int


def parse_stack(stack: str) -> list[StackFrame]:
    """The frames of a V8 stack trace that name a script URL, top first."""
    frames = []
    for text in stack.splitlines():
        match = _FRAME.search(text.strip())
        if match and text.strip().startswith("at "):
            frames.append(StackFrame(match["url"], int(match["line"]), int(match["column"])))
    return frames


def map_stack(
    stack: str,
    source_map_for: Callable[[str], SourceMap | None],
    is_session_file: Callable[[str], bool],
) -> Position | None:
    """The first frame of ``stack`` that maps to a session file, or None.

    ``source_map_for`` gives the map of a script URL (None when it has none);
    ``is_session_file`` tells session files (``/app/App.tsx``) from packages.
    """
    for frame in parse_stack(stack):
        source_map = source_map_for(frame.url)
        if source_map is None:
            continue
        position = source_map.lookup(frame.line, frame.column)
        if position is not None and is_session_file(position.source):
            return position
    return None
