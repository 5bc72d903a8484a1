"""The parts of a session's ``/tsconfig.json`` the import rules must know: path aliases.

esbuild itself honours the whole file; the import rules only need to tell an alias such
as ``@/components/Button`` (resolved by esbuild to a session file) from an npm package.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass

__all__ = ["Aliases", "read_aliases"]

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
