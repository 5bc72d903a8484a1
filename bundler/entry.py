"""Which session file the page starts from.

The first of these that the session has, in this order:

1. the file named by ``/index.html``'s ``<script type="module" src="…">`` (a Vite
   project's ``/src/main.tsx``), which mounts itself;
2. ``/app/main.*`` or ``/app/index.*``, which mounts itself;
3. ``/app/App.*``, whose default export is mounted into ``#root`` by a small generated entry;
4. ``/src/main.*`` or ``/src/index.*`` (Vite, Create React App), mounting itself;
5. ``/src/App.*``, mounted like ``/app/App.*``;
6. ``/main.*`` or ``/index.*`` at the root (Sandpack's ``/index.js``), mounting itself;
7. ``/App.*`` at the root, mounted;
8. ``/app/page.*`` or ``/src/app/page.*``: a Next.js app router project (as v0 writes it),
   whose generated entry mounts every ``page`` under that folder inside its layouts (see
   bundler.nextjs).

Self-mounting files are tried as ``.tsx .ts .jsx .js``, ``App`` files as ``.tsx .jsx .ts
.js``. ``/app/`` comes before ``/src/`` so sessions made for the original layout keep their
entry. An ``/index.html`` whose module script names no session file fails the build.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from dataclasses import dataclass

from bundler.artifacts import Diagnostic
from bundler.errors import BuildFailed
from bundler.index_html import INDEX_HTML, IndexHtml
from bundler.nextjs import APP_DIRS, app_entry_source

__all__ = ["Entry", "find_entry", "CANDIDATES", "GENERATED_ENTRY_NAME"]

_MOUNT_EXTENSIONS = ("tsx", "ts", "jsx", "js")
_APP_EXTENSIONS = ("tsx", "jsx", "ts", "js")


def _self_mounting(folder: str) -> tuple[tuple[str, bool], ...]:
    return tuple(
        (f"{folder}/{stem}.{ext}", False) for stem in ("main", "index") for ext in _MOUNT_EXTENSIONS
    )


def _mounted(folder: str) -> tuple[tuple[str, bool], ...]:
    return tuple((f"{folder}/App.{ext}", True) for ext in _APP_EXTENSIONS)


#: (path, mounted by the generated entry?) in the order they are tried, after /index.html.
CANDIDATES = (
    *_self_mounting("/app"),
    *_mounted("/app"),
    *_self_mounting("/src"),
    *_mounted("/src"),
    *_self_mounting(""),
    *_mounted(""),
    *((f"{folder}/page.{ext}", True) for folder in APP_DIRS for ext in _APP_EXTENSIONS),
)

#: How the generated entry is named in diagnostics and source maps.
GENERATED_ENTRY_NAME = "<stage:entry>"


@dataclass(frozen=True)
class Entry:
    """The file the page starts from, and the generated mount code when there is one."""

    path: str
    mount_source: str | None = None  # set when an App.* file is mounted for the session


def find_entry(paths: Collection[str], index_html: IndexHtml | None = None) -> Entry:
    """Pick the entry among ``paths`` (session paths) or fail the build saying where it looked.

    ``index_html`` is the session's ``/index.html`` as read for the shell, if it has one.
    """
    if index_html is not None and index_html.entry_src is not None:
        if index_html.entry is not None and index_html.entry in paths:
            return Entry(index_html.entry)
        message = (
            f'{INDEX_HTML} loads <script type="module" src="{index_html.entry_src}">, '
            "but no session file has that path; push it or point src at the entry "
            "file (e.g. /src/main.tsx)"
        )
        raise BuildFailed(message, [Diagnostic(INDEX_HTML, 0, 0, message, "")])
    for candidate, mounted in CANDIDATES:
        if candidate in paths:
            folder, name = posixpath.split(candidate)
            if name.startswith("page.") and folder in APP_DIRS:
                return Entry(candidate, app_entry_source(paths, folder))
            return Entry(candidate, _mount_source(candidate) if mounted else None)
    looked_for = ", ".join(path for path, _ in CANDIDATES)
    message = (
        "no entry file: a session needs /app/App.tsx (its default export is mounted into "
        "#root), a self-mounting /app/main.tsx or /app/index.tsx, the same in /src/ or at "
        '/, a Next.js-style /app/page.tsx, or an /index.html whose <script type="module" '
        "src> names its entry; "
        f"looked for {looked_for}"
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
