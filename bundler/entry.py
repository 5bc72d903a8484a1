"""Which session file the page starts from.

``/app/main.*`` or ``/app/index.*`` mounts itself. Otherwise the default export of
``/app/App.*`` is mounted into ``#root`` by a small generated entry.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from dataclasses import dataclass

from bundler.artifacts import Diagnostic
from bundler.errors import BuildFailed

__all__ = ["Entry", "find_entry", "MOUNT_CANDIDATES", "APP_CANDIDATES", "GENERATED_ENTRY_NAME"]

_SCRIPT_EXTENSIONS = ("tsx", "ts", "jsx", "js")
MOUNT_CANDIDATES = tuple(
    f"/app/{stem}.{ext}" for stem in ("main", "index") for ext in _SCRIPT_EXTENSIONS
)
APP_CANDIDATES = tuple(f"/app/App.{ext}" for ext in ("tsx", "jsx", "ts", "js"))

#: How the generated entry is named in diagnostics and source maps.
GENERATED_ENTRY_NAME = "<stage:entry>"


@dataclass(frozen=True)
class Entry:
    """The file the page starts from, and the generated mount code when there is one."""

    path: str
    mount_source: str | None = None  # set when /app/App.* is mounted for the session


def find_entry(paths: Collection[str]) -> Entry:
    """Pick the entry among ``paths`` (session paths) or fail the build saying where it looked."""
    for candidate in MOUNT_CANDIDATES:
        if candidate in paths:
            return Entry(candidate)
    for candidate in APP_CANDIDATES:
        if candidate in paths:
            return Entry(candidate, _mount_source(candidate))
    looked_for = ", ".join(MOUNT_CANDIDATES + APP_CANDIDATES)
    message = (
        "no entry file: a session needs /app/App.tsx (its default export is mounted into #root) "
        f"or a self-mounting /app/main.tsx or /app/index.tsx; looked for {looked_for}"
    )
    raise BuildFailed(message, [Diagnostic("", 0, 0, message, "")])


def _mount_source(app_path: str) -> str:
    module = "./" + posixpath.basename(app_path)
    return (
        'import { createElement } from "react";\n'
        'import { createRoot } from "react-dom/client";\n'
        f"import App from {module!r};\n"
        'createRoot(document.getElementById("root")).render(createElement(App));\n'
    )
