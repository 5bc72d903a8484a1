"""``stage-render serve``: a local artifact folder over HTTP with the headers S3 would send.

Content-Type and Cache-Control come from the version's manifest.json (the kind of each
file), exactly as the worker set them on upload; anything else is served ``no-cache``.
"""

from __future__ import annotations

import functools
import json
import posixpath
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bundler import content_type_for
from worker.storage import cache_control_for

__all__ = ["make_server", "headers_for"]


def headers_for(root: Path, relative: str) -> tuple[str, str]:
    """(Content-Type, Cache-Control) for a file under ``root``, as the S3 layout has them."""
    content_type = content_type_for(relative)
    folder = Path(root, relative).parent
    for candidate in (folder, *folder.parents):
        manifest = candidate / "manifest.json"
        if candidate == root.parent or not candidate.is_relative_to(root):
            break
        if manifest.is_file():
            return content_type, _cache_from_manifest(manifest, candidate, Path(root, relative))
    return content_type, cache_control_for("html")


def _cache_from_manifest(manifest: Path, folder: Path, target: Path) -> str:
    try:
        data = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError):
        return cache_control_for("html")
    relative = target.relative_to(folder).as_posix()
    if relative in ("index.html", "manifest.json"):
        kind = "html"
    else:
        kinds = {f["path"]: f.get("kind", "asset") for f in data.get("files", [])}
        kind = kinds.get(relative, "html")
    return cache_control_for(kind, failed=data.get("status") == "failed")


class _Handler(SimpleHTTPRequestHandler):
    root: Path

    def end_headers(self) -> None:
        relative = posixpath.normpath(self.path.split("?", 1)[0]).lstrip("/")
        if relative.endswith("/") or (self.root / relative).is_dir():
            relative = posixpath.join(relative, "index.html")
        _, cache = headers_for(self.root, relative)
        self.send_header("Cache-Control", cache)
        super().end_headers()

    def guess_type(self, path: Any) -> str:
        return content_type_for(str(path))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if isinstance(code, HTTPStatus) and code >= HTTPStatus.BAD_REQUEST:
            super().log_request(code, size)  # a quiet server, but say what was missing


def make_server(root: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server for ``root`` (call ``serve_forever``); port 0 picks a free one."""
    handler = type("Handler", (_Handler,), {"root": root.resolve()})
    return ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(root)))
