"""``stage-render serve``: a local artifact folder over HTTP with the headers S3 would send.

Content-Type and Cache-Control come from the version's manifest.json (the kind of each
file), exactly as the worker set them on upload; anything else is served ``no-cache``.
"""

from __future__ import annotations

import argparse
import functools
import posixpath
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bundler import content_type_for
from worker.cli.exits import EXIT_FAILED, EXIT_READY, EXIT_USAGE
from worker.manifest import MANIFEST, Manifest
from worker.settings import Settings
from worker.storage import cache_control_for

__all__ = ["add_parser", "headers_for", "make_server", "serve"]


def headers_for(root: Path, relative: str) -> tuple[str, str]:
    """(Content-Type, Cache-Control) for a file under ``root``, as the S3 layout has them."""
    content_type = content_type_for(relative)
    folder = Path(root, relative).parent
    for candidate in (folder, *folder.parents):
        manifest = candidate / MANIFEST
        if candidate == root.parent or not candidate.is_relative_to(root):
            break
        if manifest.is_file():
            return content_type, _cache_from_manifest(manifest, candidate, Path(root, relative))
    return content_type, cache_control_for("html")


def _cache_from_manifest(manifest: Path, folder: Path, target: Path) -> str:
    try:
        recorded = Manifest.from_json(manifest.read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return cache_control_for("html")
    kind = recorded.kind_of(target.relative_to(folder).as_posix())
    return cache_control_for(kind, failed=recorded.status == "failed")


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


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="serve a local artifact folder over HTTP")
    parser.add_argument(
        "out",
        type=Path,
        nargs="?",
        default=None,
        help="artifact folder (default: STAGE_ARTIFACTS_DIR)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return serve(args.out or Settings.from_env().artifacts_dir, args.port)


def serve(root: Path, port: int, page: str = "") -> int:
    if not root.is_dir():
        print(f"stage-render: {root} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = make_server(root, port=port)
    except OSError as exc:  # the port is taken, or not ours to bind
        print(f"stage-render: cannot serve on port {port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    host, bound = str(server.server_address[0]), server.server_address[1]
    print(f"serving {root.resolve()} at http://{host}:{bound}/{page}  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_READY
