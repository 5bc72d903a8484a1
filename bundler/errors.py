"""Errors the bundler raises.

BundlerError
 ├── BuildFailed        the session's code does not build; carries every diagnostic.
 │                      Reported to the caller, never retried.
 └── BundlerUnavailable the bundler itself failed; retried with backoff by the worker.
      ├── BundlerCrashed  esbuild or the Tailwind service could not start, exited or
      │                   spoke garbage
      └── BundlerTimeout  esbuild or the Tailwind service did not answer within the
                          build timeout and was killed
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bundler.artifacts import Diagnostic

__all__ = [
    "BundlerError",
    "BuildFailed",
    "BundlerUnavailable",
    "BundlerCrashed",
    "BundlerTimeout",
    "DEFAULT_BUILD_TIMEOUT_S",
]

#: When a build becomes :class:`BundlerTimeout`. Generous for a sandbox app (the reference
#: app builds in well under a second) yet short enough that a hung esbuild is killed long
#: before the task's soft time limit.
DEFAULT_BUILD_TIMEOUT_S = 20.0


class BundlerError(Exception):
    """Root of every error the bundler raises."""


class BuildFailed(BundlerError):
    """The files do not build. ``diagnostics`` holds every error (and warning) esbuild saw."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics)

    def __str__(self) -> str:
        lines = [self.message]
        lines += [
            d.format()
            for d in self.diagnostics
            if d.severity == "error" and d.message != self.message
        ]
        return "\n".join(lines)


class BundlerUnavailable(BundlerError):
    """esbuild failed for reasons that are not the session's code."""


class BundlerCrashed(BundlerUnavailable):
    """esbuild could not start, exited, or answered with something unreadable."""

    def __init__(self, command: Sequence[str], exit_code: int | None, output: str) -> None:
        self.command = list(command)
        self.exit_code = exit_code
        self.output = output
        super().__init__(
            f"command: {shlex.join(self.command)}\n"
            f"exit code: {'still running' if exit_code is None else exit_code}\n"
            f"output: {output or '(none)'}"
        )


class BundlerTimeout(BundlerUnavailable):
    """A helper process did not finish within the build timeout; it was killed."""

    def __init__(self, command: Sequence[str], timeout_s: float, tool: str = "esbuild") -> None:
        self.command = list(command)
        self.timeout_s = timeout_s
        super().__init__(
            f"command: {shlex.join(self.command)}\n"
            f"{tool} did not finish within {timeout_s:g}s (build timeout) and was killed"
        )
