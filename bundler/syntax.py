"""Every file's syntax errors, for a build that failed.

esbuild stops following imports at a file it cannot parse, so a failed build reports the
errors of the files it reached: with a syntax error in ``/app/App.tsx``, a broken
``/app/Board.tsx`` that App imports goes unreported until App is fixed. Here each script
file of the session is parsed on its own (esbuild's ``transform`` over the same service)
and its errors join the build's, so an agent sees them all in one render.

Which files: every ``.ts .tsx .js .jsx .mjs .cjs`` file outside ``/api/`` and
``/public/`` (not ``.d.ts``). "The files the page reaches" cannot be known while a file
does not parse (its imports are unknown until it does), which is exactly when this runs;
and it runs only after the build already failed, so a broken file the page never uses
cannot fail a render by itself, it is only listed beside the errors that did. API routes
are parsed by their own build.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence

from bundler.artifacts import Diagnostic, SourceFile
from bundler.diagnostics import PathMap
from bundler.esbuild import EsbuildService
from bundler.requests import SCRIPT_LOADERS

__all__ = ["swept", "parse_errors", "merge"]

_SKIPPED_FOLDERS = ("/api/", "/public/")


def swept(path: str) -> bool:
    """True for a session file whose syntax errors a failed build reports."""
    ext = posixpath.splitext(path)[1]
    return (
        ext in SCRIPT_LOADERS
        and not path.endswith(".d.ts")
        and not path.startswith(_SKIPPED_FOLDERS)
    )


def parse_errors(
    service: EsbuildService,
    files: Iterable[SourceFile],
    paths: PathMap,
    sources: Mapping[str, SourceFile],
    timeout_s: float,
) -> list[Diagnostic]:
    """The syntax errors of every swept file, each parsed on its own."""
    jobs = []
    for f in sorted(files, key=lambda f: f.path):
        if swept(f.path):
            jobs.append(
                (
                    f.content,
                    [
                        "--log-level=silent",
                        "--log-limit=0",
                        f"--loader={SCRIPT_LOADERS[posixpath.splitext(f.path)[1]]}",
                        # Named as the build names session files, so PathMap reads both alike.
                        f"--sourcefile={f.path.lstrip('/')}",
                    ],
                )
            )
    return [
        paths.diagnostic(m, "error", sources)
        for response in service.transform(jobs, timeout_s)
        for m in response.get("errors") or []
    ]


def merge(first: Sequence[Diagnostic], more: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``first`` then each of ``more`` not already there (same file, line, column, message)."""
    seen = {_key(d) for d in first}
    merged = list(first)
    for d in more:
        if _key(d) not in seen:
            seen.add(_key(d))
            merged.append(d)
    return merged


def _key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.file, d.line, d.column, d.message)
