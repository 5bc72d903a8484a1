"""Server code of a Next.js app that the page reached: it fails the build, at its line.

A preview page runs only in the browser. Server actions (a ``"use server"`` file, or a
function that starts with the directive) and route handlers (``app/**/route.ts``) run on a
Next.js server: a page that imports them would call code that is not there. Checked against
the browser build's inputs, so a server file nothing imports never fails a render.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence

from bundler.artifacts import Diagnostic, SourceFile
from bundler.nextjs.routes import is_route_handler

__all__ = ["server_only_errors", "at_import"]

_DIRECTIVE = re.compile(r"""^[ \t]*(["'])use server\1[ \t]*;?[ \t]*(?://.*)?$""", re.MULTILINE)
_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*(["'])([^"'\n]+)\1""")
#: Whitespace, a comment or a directive (``"use client";``) at the start of a module.
_LEADING = re.compile(r"""\s*(?:/\*.*?\*/|//[^\n]*|(["'])[^"'\n]*\1[ \t]*;?)|\s+""", re.DOTALL)
_MOVE = "move it into an API route (a file under /api/) and fetch it from the page"


def _line_of(text: str, offset: int) -> tuple[int, str]:
    line = text.count("\n", 0, offset) + 1
    return line, text.splitlines()[line - 1] if text else ""


def _module_level(text: str, offset: int) -> bool:
    """True when the directive at ``offset`` is in the module's prologue: only comments and
    other directives come before it. One pass from the start: hostile text stays linear."""
    position = 0
    while (found := _LEADING.match(text, position)) is not None and found.end() > position:
        position = found.end()
        if position > offset:
            return True
    return False


def server_only_errors(
    inputs: Iterable[str], sources: Mapping[str, SourceFile]
) -> list[Diagnostic]:
    """One diagnostic per server-only file among ``inputs`` (session paths the page bundled)."""
    errors = []
    for path in inputs:
        source = sources.get(path)
        if source is None:
            continue
        if is_route_handler(path):
            errors.append(
                Diagnostic(
                    path,
                    0,
                    0,
                    (
                        f"{path} is a Next.js route handler: it answers requests on a server and "
                        f"cannot run in the page; {_MOVE}"
                    ),
                    "",
                )
            )
            continue
        if b"use server" not in source.content:
            continue  # what the directive needs, looked for without decoding every file
        text = source.content.decode("utf-8", "replace")
        found = _DIRECTIVE.search(text)
        if found is None:
            continue
        line, line_text = _line_of(text, found.start())
        what = (
            'is a server actions file ("use server")'
            if _module_level(text, found.start())
            else 'has a server action (a function that starts with "use server")'
        )
        column = found.start(1) - text.rfind("\n", 0, found.start())
        message = (
            f"{path} {what}: server actions run on a Next.js server, and a preview page "
            f"runs only in the browser; {_MOVE}"
        )
        errors.append(Diagnostic(path, line, column, message, line_text))
    return errors


def at_import(
    diagnostic: Diagnostic, chain: Sequence[str], sources: Mapping[str, SourceFile]
) -> Diagnostic:
    """A diagnostic about a whole file (a route handler), moved to the line of the file that
    imports it, when that line can be found; ``chain`` runs from the entry to the file."""
    if diagnostic.line or len(chain) < 2 or chain[-2] not in sources:
        return diagnostic
    importer, target = chain[-2], posixpath.splitext(diagnostic.file)[0]
    text = sources[importer].content.decode("utf-8", "replace")
    for found in _IMPORT.finditer(text):
        specifier = found.group(2)
        if specifier.startswith("."):
            specifier = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
        elif specifier.startswith("@/"):
            specifier = specifier[1:]
        if posixpath.splitext(specifier)[0] in (target, target.removesuffix("/index")) or (
            specifier.startswith("/") and target.endswith(specifier)
        ):
            line, line_text = _line_of(text, found.start(1))
            column = found.start(1) - text.rfind("\n", 0, found.start(1))  # the quote
            return Diagnostic(
                importer,
                line,
                column,
                diagnostic.message,
                line_text,
                diagnostic.severity,
                diagnostic.import_chain,
            )
    return diagnostic
