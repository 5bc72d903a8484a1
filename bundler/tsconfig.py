"""The parts of a session's ``/tsconfig.json`` the import rules must know: path aliases.

esbuild itself honours the whole file; the import rules only need to tell an alias such
as ``@/components/Button`` (resolved by esbuild to a session file) from an npm package.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bundler.artifacts import SourceFile

__all__ = ["Aliases", "TSCONFIG", "read_aliases", "session_aliases"]

TSCONFIG = "/tsconfig.json"

_COMMENTS = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMAS = re.compile(r",(\s*[\]}])")


@dataclass(frozen=True)
class Aliases:
    """``compilerOptions.paths`` patterns and ``baseUrl`` (as a session folder)."""

    patterns: tuple[str, ...] = ()
    base_url: str | None = None

    def matches(self, specifier: str) -> bool:
        for pattern in self.patterns:
            if "*" in pattern:
                prefix, _, suffix = pattern.partition("*")
                if specifier.startswith(prefix) and specifier.endswith(suffix):
                    return True
            elif specifier == pattern:
                return True
        return False


def session_aliases(sources: Mapping[str, SourceFile]) -> Aliases:
    """The aliases of the session's ``/tsconfig.json``. A Vite project's root config often
    only lists ``references`` (``./tsconfig.app.json``): its ``baseUrl`` is then taken from
    the first referenced config that has one, so bare ``src/…`` imports resolve as the
    editor resolved them (``paths`` stay the root's: esbuild reads only the root's)."""
    root = sources.get(TSCONFIG)
    aliases = read_aliases(root.content if root else None)
    if root is None or aliases.base_url is not None:
        return aliases
    references = _json(root.content).get("references")
    for reference in references if isinstance(references, list) else []:
        if not isinstance(reference, dict) or not isinstance(reference.get("path"), str):
            continue
        path = posixpath.normpath(posixpath.join("/", reference["path"]))
        if path in sources:
            config = sources[path]
        elif posixpath.join(path, "tsconfig.json") in sources:
            path = posixpath.join(path, "tsconfig.json")
            config = sources[path]
        else:
            continue
        options = _json(config.content).get("compilerOptions")
        base_url = options.get("baseUrl") if isinstance(options, dict) else None
        if isinstance(base_url, str):  # relative to the file that sets it
            return Aliases(
                aliases.patterns,
                posixpath.normpath(posixpath.join(posixpath.dirname(path), base_url)),
            )
    return aliases


def _json(content: bytes) -> dict[str, object]:
    """A tsconfig file's object; empty when it is not one."""
    try:
        text = _COMMENTS.sub(lambda m: m[1] or "", content.decode("utf-8-sig"))
        data = json.loads(_TRAILING_COMMAS.sub(r"\1", text))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_aliases(content: bytes | None) -> Aliases:
    """Aliases from tsconfig.json text (comments and trailing commas allowed, as tsc does).

    An unreadable file gives no aliases; esbuild reports its own error for it.
    """
    if content is None:
        return Aliases()
    try:
        text = _COMMENTS.sub(lambda m: m[1] or "", content.decode("utf-8-sig"))
        data = json.loads(_TRAILING_COMMAS.sub(r"\1", text))
        options = data.get("compilerOptions") or {}
        paths = options.get("paths") or {}
        base_url = options.get("baseUrl")
    except (UnicodeDecodeError, ValueError, AttributeError):
        return Aliases()
    base = posixpath.normpath(posixpath.join("/", base_url)) if isinstance(base_url, str) else None
    return Aliases(tuple(k for k in paths if isinstance(k, str)), base)
