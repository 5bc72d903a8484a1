"""The app router's files: which ``page`` is which route, inside which layouts.

Next.js's conventions under ``/app/`` (or ``/src/app/``): a folder's ``page.*`` is the route
of its path, its ``layout.*`` wraps every page below it, ``loading.*`` and ``error.*`` wrap
the page of their folder and below, ``not-found.*`` at the top answers an unknown path.
``(group)`` folders do not count in the URL, ``_private`` and ``@slot`` folders hold no
routes, ``[id]`` is a dynamic segment, ``[...slug]`` a catch-all and ``[[...slug]]`` an
optional one. ``route.*`` files are route handlers: server code, never part of the page.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["AppRoute", "app_routes", "app_entry_source", "is_route_handler", "APP_DIRS"]

#: Where an app router project keeps its routes, in the order they are looked for.
APP_DIRS = ("/app", "/src/app")
_EXTENSIONS = (".tsx", ".jsx", ".ts", ".js")
_SPECIAL = ("page", "layout", "loading", "error", "not-found", "route")
_DYNAMIC = re.compile(r"^\[(\[)?(\.\.\.)?([^\[\]]+)\]?\]$")


@dataclass(frozen=True)
class AppRoute:
    """One page: its file, its URL segments and the files that wrap it, outermost first."""

    page: str
    segments: tuple[dict[str, str], ...]
    layouts: tuple[str, ...]
    loading: str | None
    error: str | None

    @property
    def url(self) -> str:
        return "/" + "/".join(
            s["name"] if s["kind"] == "static" else f"[{s['name']}]" for s in self.segments
        )


def _special_files(paths: Collection[str], app_dir: str) -> dict[tuple[str, str], str]:
    """(folder, kind) → file, the first extension winning (``page.tsx`` before ``page.js``)."""
    found: dict[tuple[str, str], str] = {}
    for ext in _EXTENSIONS:
        for path in paths:
            if not path.startswith(app_dir + "/") or not path.endswith(ext):
                continue
            folder, name = posixpath.split(path)
            kind = name[: -len(ext)]
            if kind in _SPECIAL:
                found.setdefault((folder, kind), path)
    return found


def is_route_handler(path: str) -> bool:
    """True for a Next.js route handler (``app/**/route.ts``): server code only."""
    if "/route." not in path:
        return False  # the common answer, without splitting the path
    name = posixpath.basename(path)
    return any(path.startswith(d + "/") for d in APP_DIRS) and any(
        name == "route" + ext for ext in (*_EXTENSIONS, ".mjs")
    )


def _segment(part: str) -> dict[str, str] | None:
    """A folder name as a URL segment; None for one that does not count ((group))."""
    if part.startswith("(") and part.endswith(")"):
        return None
    dynamic = _DYNAMIC.match(part)
    if dynamic is None:
        return {"kind": "static", "name": part}
    optional, rest, name = dynamic.groups()
    if rest and optional:
        return {"kind": "optionalCatchAll", "name": name}
    return {"kind": "catchAll" if rest else "dynamic", "name": name}


def app_routes(paths: Collection[str], app_dir: str) -> list[AppRoute]:
    """Every page under ``app_dir``, sorted by file."""
    special = _special_files(paths, app_dir)
    routes = []
    for (folder, kind), page in sorted(special.items()):
        if kind != "page":
            continue
        parts = [p for p in folder[len(app_dir) :].split("/") if p]
        if any(p.startswith(("_", "@")) for p in parts):
            continue
        segments = tuple(s for s in (_segment(p) for p in parts) if s is not None)
        chain = [app_dir] + [app_dir + "/" + "/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        layouts = tuple(special[(f, "layout")] for f in chain if (f, "layout") in special)
        loading = next(
            (special[(f, "loading")] for f in reversed(chain) if (f, "loading") in special), None
        )
        error = next(
            (special[(f, "error")] for f in reversed(chain) if (f, "error") in special), None
        )
        routes.append(AppRoute(page, segments, layouts, loading, error))
    return routes


def app_entry_source(paths: Collection[str], app_dir: str) -> str:
    """The generated entry of an app router project: every page and layout imported, and the
    router (``stage:next/app``) mounted with the route table."""
    special = _special_files(paths, app_dir)
    routes = app_routes(paths, app_dir)
    names: dict[str, str] = {}
    lines = ['import { mountApp } from "stage:next/app";']

    def module(path: str | None) -> str:
        if path is None:
            return "undefined"
        if path not in names:
            names[path] = f"m{len(names)}"
            lines.append(f"import * as {names[path]} from {json.dumps(path)};")
        return names[path]

    table = []
    for route in routes:
        table.append(
            f"{{ path: {json.dumps(route.page)}, segments: {json.dumps(list(route.segments))}, "
            f"page: {module(route.page)}, "
            f"layouts: [{', '.join(module(p) for p in route.layouts)}], "
            f"loading: {module(route.loading)}, error: {module(route.error)} }}"
        )
    root_layout = special.get((app_dir, "layout"))
    not_found = special.get((app_dir, "not-found"))
    lines.append(
        "mountApp({ routes: [\n  " + ",\n  ".join(table) + "\n], "
        f"rootLayouts: [{module(root_layout) if root_layout else ''}], "
        f"notFound: {module(not_found)} }});"
    )
    return "\n".join(lines) + "\n"
