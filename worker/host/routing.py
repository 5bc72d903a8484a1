"""Which route of an app version answers a path: the manifest's routes, ``[param]`` segments.

``/api/tasks/[id].ts`` is the route ``/api/tasks/[id]`` and answers ``/api/tasks/42`` with
``params = {"id": "42"}``; a route with fixed segments wins over one with a parameter in the
same place (``/api/tasks/new`` before ``/api/tasks/[id]``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

__all__ = ["RouteTable", "RouteEntry", "Match"]

_PARAM = re.compile(r"\[([A-Za-z_$][\w$]*)\]")


@dataclass(frozen=True)
class RouteEntry:
    index: int  # position in the manifest: the harness's name for the route
    route: str
    source: str
    path: str  # the bundle, relative to the version folder
    methods: tuple[str, ...]

    @property
    def segments(self) -> list[str]:
        return self.route.strip("/").split("/")

    def answers(self, method: str) -> bool:
        if "fetch" in self.methods or method in self.methods:
            return True
        return method == "HEAD" and "GET" in self.methods

    @property
    def allow(self) -> str:
        methods = [m for m in self.methods if m != "fetch"]
        return ", ".join(methods + (["HEAD"] if "GET" in methods and "HEAD" not in methods else []))


@dataclass(frozen=True)
class Match:
    entry: RouteEntry
    params: dict[str, str]


class RouteTable:
    """The routes of one app version, from its manifest."""

    def __init__(self, routes: Sequence[dict[str, Any]]) -> None:
        self.entries = [
            RouteEntry(i, r["route"], r["source"], r["path"], tuple(r.get("methods") or ()))
            for i, r in enumerate(routes)
        ]
        # Most fixed segments first, so /api/tasks/new wins over /api/tasks/[id].
        self._ordered = sorted(
            self.entries,
            key=lambda e: (-sum(1 for s in e.segments if not _PARAM.fullmatch(s)), e.index),
        )

    def match(self, path: str) -> Match | None:
        """The route for ``path`` (``/api/tasks/42``), or None."""
        parts = [unquote(p) for p in path.strip("/").split("/")]
        for entry in self._ordered:
            segments = entry.segments
            if len(segments) != len(parts):
                continue
            params: dict[str, str] = {}
            for segment, part in zip(segments, parts, strict=True):
                name = _PARAM.fullmatch(segment)
                if name is not None and part:
                    params[name.group(1)] = part
                elif segment != part:
                    break
            else:
                return Match(entry, params)
        return None
