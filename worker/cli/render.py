"""``stage-render render DIR``: the embedded default, a folder rendered in this process.

No Redis, no S3: the files of DIR become session files, the version is built with the same
pipeline a worker runs and finished with the same :meth:`BuiltVersion.finish`, and written
to a local artifact folder. ``--check`` runs the boot check in this process.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from worker.cli.exits import EXIT_FAILED, EXIT_READY, EXIT_USAGE
from worker.cli.serve import serve
from worker.errors import InfrastructureError
from worker.inputs import (
    file_payload,
    validate_files,
    validate_name,
    validate_scopes,
    validate_session_id,
)
from worker.logs import ms_since
from worker.models import RenderError, RenderRecord
from worker.render.pipeline import RenderInput, build_version, bundler_from_settings, input_hash
from worker.settings import Settings
from worker.storage import LocalStore

__all__ = ["add_parser", "run"]

_SKIP_DIRS = {"node_modules", ".git", ".stage", "__pycache__"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    render = commands.add_parser("render", help="render a folder in-process (no Redis, no S3)")
    render.add_argument(
        "dir",
        type=Path,
        help="folder whose files become session files (DIR/app/App.tsx → /app/App.tsx)",
    )
    render.add_argument(
        "--out",
        type=Path,
        default=None,
        help="artifact folder (default: STAGE_ARTIFACTS_DIR, .stage/artifacts)",
    )
    render.add_argument("--name", help="session name, the page title (default: DIR's name)")
    render.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="URL",
        help="a Google OAuth scope for window.__STAGE__ (repeatable)",
    )
    render.add_argument("--session", help="session id for the artifact path (default: DIR's name)")
    render.add_argument("--json", action="store_true", help="print the render record as JSON")
    render.add_argument(
        "--open",
        action="store_true",
        help="serve the result on localhost and print its URL (Ctrl-C stops)",
    )
    render.add_argument(
        "--serve",
        action="store_true",
        help="serve the page and its /api/** routes (each route in the Deno "
        "sandbox) on localhost and print its URL (Ctrl-C stops)",
    )
    render.add_argument(
        "--port", type=int, default=0, help="port for --serve (default: any free port)"
    )
    render.add_argument(
        "--check",
        action="store_true",
        help="open the page in headless Chromium after the build: print its "
        "runtime errors, store a screenshot, exit 1 if the check fails",
    )
    render.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    folder: Path = args.dir
    if not folder.is_dir():
        print(f"stage-render: {folder} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    name = validate_name(args.name or folder.resolve().name, settings)
    session_id = validate_session_id(args.session or _slug(folder.resolve().name))
    scopes = validate_scopes(args.scope, settings)
    files = validate_files(_read_folder(folder), settings)
    out = (args.out or settings.artifacts_dir).resolve()
    store = LocalStore(out, public_base_url=settings.public_base_url)
    version = _next_version(out, session_id)

    bundler = bundler_from_settings(settings)
    job = RenderInput(session_id, version, name, scopes, [f.as_source() for f in files])
    record = RenderRecord.queued(version).started()
    progress = None if args.json or not sys.stderr.isatty() else _progress_line
    started = time.perf_counter()
    try:
        digest = input_hash(job, bundler)
        built = build_version(
            job,
            digest=digest,
            bundler=bundler,
            store=store,
            max_output_bytes=settings.max_output_bytes,
            progress=progress,
        )
    except InfrastructureError as exc:
        record = record.failed(
            RenderError("infrastructure", str(exc)), {"total": ms_since(started)}
        )
    else:
        record = built.finish(record, {**built.timings_ms, "total": ms_since(started)})
    finally:
        bundler.close()
    if args.check and record.status == "ready" and record.index_key:
        record = _check(record, store, settings)

    if args.json:
        print(json.dumps(record.to_dict(), indent=2))
    else:
        _report(record, name, out)
        _report_check(record)
    checked_ok = record.check is None or record.check.status == "passed"
    code = EXIT_READY if record.status == "ready" and checked_ok else EXIT_FAILED
    if args.serve and record.status == "ready" and record.index_key:
        return _serve_routes(settings, store, record.index_key, args.port)
    if args.open and record.index_path:
        page = Path(record.index_path).relative_to(out).as_posix()
        serve(out, 0, page)
    return code


def _serve_routes(settings: Settings, store: LocalStore, index_key: str, port: int) -> int:
    """The rendered page and its /api/** routes on one port, as the API host serves them."""
    from worker.host.server import bind, run_host

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    sock = bind("127.0.0.1", port)
    print(
        f"serving the page and its routes at http://127.0.0.1:{sock.getsockname()[1]}"
        "/local/  (Ctrl-C stops)",
        flush=True,
    )
    folder = index_key.removeprefix(store.prefix).removesuffix("index.html")
    with contextlib.suppress(KeyboardInterrupt):
        run_host(settings, folder=folder, store=store, public_socket=sock)
    return EXIT_READY


def _check(record: RenderRecord, store: LocalStore, settings: Settings) -> RenderRecord:
    """The same boot check a checker runs, in this process, against the local folder."""
    from worker.check.boot import BootChecker
    from worker.check.browser import Chromium

    assert record.index_key is not None
    checker = BootChecker(Chromium(settings.chromium_path), store, settings.check_timeout_s)
    try:
        check, _ = checker.check(record.index_key)
    finally:
        checker.close()
    return dataclasses.replace(record, check=check)


def _report_check(record: RenderRecord) -> None:
    check = record.check
    if check is None:
        return
    stream = sys.stdout if check.status == "passed" else sys.stderr
    print(
        f"check {check.status} in {check.timings_ms.get('total', 0):.0f} ms"
        + (f": {check.message}" if check.message else ""),
        file=stream,
    )
    for error in check.errors:
        print(error.format(), file=sys.stderr)
    for url in check.blocked_requests:
        print(f"  blocked: {url}", file=stream)
    if check.unstyled_classes:
        print(f"  unstyled classes: {' '.join(check.unstyled_classes)}", file=stream)
    if check.screenshot_url:
        print(f"  screenshot: {check.screenshot_url}", file=stream)


def _progress_line(stage: str, ms: float) -> None:
    print(f"  {stage:<7} {ms:7.0f} ms", file=sys.stderr, flush=True)


def _report(record: RenderRecord, name: str, out: Path) -> None:
    if record.status == "ready":
        print(
            f"rendered {name!r} version {record.version} in "
            f"{record.timings_ms.get('total', 0):.0f} ms"
        )
        print(f"  page:  {record.index_path}")
        print(f"  open:  {record.url}")
        # The whole folder, not the version's: the page loads the shared vendor chunks
        # and the overlay from vendor/ at its root.
        page = Path(record.index_path or ".").parent.relative_to(out).as_posix()
        print(
            f"  serve: python3 -m http.server --directory {out} 8000"
            f"  →  http://127.0.0.1:8000/{page}/"
        )
        for warning in record.warnings:
            print(warning.format(), file=sys.stderr)
        return
    assert record.error is not None
    print(f"render failed ({record.error.kind}): {record.error.message}", file=sys.stderr)
    if record.index_path:
        print(f"  error page: {record.index_path}", file=sys.stderr)
    for diagnostic in record.error.diagnostics:
        print(diagnostic.format(), file=sys.stderr)
        if diagnostic.line_text:
            print(f"    {diagnostic.line} | {diagnostic.line_text}", file=sys.stderr)
            gutter = " " * (len(str(diagnostic.line)) + 3)
            print(f"    {gutter}{' ' * max(0, diagnostic.column - 1)}^", file=sys.stderr)


def _read_folder(folder: Path) -> list[dict[str, Any]]:
    files = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if name.startswith(".") and not name.startswith(".env"):  # .env: public values
                continue
            path = Path(current) / name
            relative = "/" + path.relative_to(folder).as_posix()
            files.append(file_payload(relative, path.read_bytes()))
    return files


def _next_version(out: Path, session_id: str) -> int:
    renders = out / "sessions" / session_id / "renders"
    existing = [int(p.name) for p in renders.glob("*") if p.name.isdigit()]
    return max(existing, default=0) + 1


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:64]
    return slug or "local"
