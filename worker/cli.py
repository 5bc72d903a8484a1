"""``stage-render``: render a folder in-process, or run the Celery worker or checker.

    stage-render render DIR [--out OUT] [--name NAME] [--scope URL]... [--json] [--check]
    stage-render worker [--concurrency N] [--loglevel L]
    stage-render checker [--concurrency N] [--loglevel L]
    stage-render reap [--dry-run]
    stage-render health
    stage-render serve [OUT] [--port P]
    stage-render packages [--json | --markdown]

``render`` is the embedded default: no Redis, no S3, artifacts in a local folder.
Exit codes: 0 ready, 1 the render (or with ``--check``, its boot check) failed or a
service (Redis, the broker, storage) did not serve, in one line and never a traceback, 2
usage or input errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worker.errors import ConfigError, InfrastructureError, InvalidInputError
from worker.inputs import (
    file_payload,
    validate_files,
    validate_name,
    validate_scopes,
    validate_session_id,
)
from worker.models import RenderError, RenderRecord
from worker.pipeline import RenderInput, build_version, bundler_from_settings, input_hash
from worker.sessions import RedisStores
from worker.settings import Settings
from worker.storage import LocalStore

__all__ = ["main"]

EXIT_READY, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# prometheus_client reads it when first imported, so it is set before importing the app.
_METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
_SKIP_DIRS = {"node_modules", ".git", ".stage", "__pycache__"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            return _render(args)
        if args.command == "reap":
            return _reap(args)
        if args.command == "health":
            return _health()
        if args.command == "serve":
            return _serve(args.out or Settings.from_env().artifacts_dir, args.port)
        if args.command == "checker":
            return _checker(args)
        if args.command == "packages":
            return _packages(args)
        return _worker(args)
    except (ConfigError, InvalidInputError) as exc:
        print(f"stage-render: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InfrastructureError as exc:  # Redis, the broker or storage did not serve
        print(f"stage-render: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stage-render", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render a folder in-process (no Redis, no S3)")
    render.add_argument("dir", type=Path, help="folder whose files become session files "
                        "(DIR/app/App.tsx → /app/App.tsx)")
    render.add_argument("--out", type=Path, default=None,
                        help="artifact folder (default: STAGE_ARTIFACTS_DIR, .stage/artifacts)")
    render.add_argument("--name", help="session name, the page title (default: DIR's name)")
    render.add_argument("--scope", action="append", default=[], metavar="URL",
                        help="a Google OAuth scope for window.__STAGE__ (repeatable)")
    render.add_argument("--session", help="session id for the artifact path (default: DIR's name)")
    render.add_argument("--json", action="store_true", help="print the render record as JSON")
    render.add_argument("--open", action="store_true",
                        help="serve the result on localhost and print its URL (Ctrl-C stops)")
    render.add_argument("--check", action="store_true",
                        help="open the page in headless Chromium after the build: print its "
                        "runtime errors, store a screenshot, exit 1 if the check fails")
    worker = commands.add_parser("worker", help="run the Celery worker (STAGE_* settings)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="pool processes (default: the number of CPUs)")
    worker.add_argument("--loglevel", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    worker.add_argument("--hostname", default=None,
                        help="Celery node name (default: stage-<pid>@<host>)")
    checker = commands.add_parser("checker", help="run the boot-check worker: each ready "
                                  "version opened in headless Chromium (STAGE_* settings)")
    checker.add_argument("--concurrency", type=int, default=None,
                         help="pool processes, one Chromium each (default: the number of CPUs)")
    checker.add_argument("--loglevel", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    checker.add_argument("--hostname", default=None,
                         help="Celery node name (default: stage-check-<pid>@<host>)")
    reap = commands.add_parser("reap", help="re-drive or fail renders stuck in building")
    reap.add_argument("--dry-run", action="store_true", help="list them, change nothing")
    commands.add_parser("health", help="check Redis, the bucket, esbuild and Tailwind; exit 0 or 1")
    serve = commands.add_parser("serve", help="serve a local artifact folder over HTTP")
    serve.add_argument("out", type=Path, nargs="?", default=None,
                       help="artifact folder (default: STAGE_ARTIFACTS_DIR)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any)")
    packages = commands.add_parser("packages", help="list the npm packages pages may import")
    listing = packages.add_mutually_exclusive_group()
    listing.add_argument("--json", action="store_true", help="as a JSON object name → version")
    listing.add_argument("--markdown", action="store_true",
                         help="as docs/packages.md (for an agent's prompt)")
    return parser


def _packages(args: argparse.Namespace) -> int:
    from bundler import Runtime
    from bundler.packages import allowlist, allowlist_markdown

    runtime = Runtime()
    if args.markdown:
        print(allowlist_markdown(runtime), end="")
    elif args.json:
        print(json.dumps(dict(allowlist(runtime)), indent=2))
    else:
        for name, version in allowlist(runtime):
            print(f"{name} {version}")
    return EXIT_READY


def _health() -> int:
    from worker.health import run_checks

    checks = run_checks(Settings.from_env())
    for check in checks:
        print(check.line())
    return EXIT_READY if all(c.ok for c in checks) else EXIT_FAILED


def _serve(root: Path, port: int, page: str = "") -> int:
    from worker.serve import make_server

    if not root.is_dir():
        print(f"stage-render: {root} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = make_server(root, port=port)
    except OSError as exc:  # the port is taken, or not ours to bind
        print(f"stage-render: cannot serve on port {port}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_FAILED
    host, bound = str(server.server_address[0]), server.server_address[1]
    print(f"serving {root.resolve()} at http://{host}:{bound}/{page}  (Ctrl-C stops)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_READY


def _reap(args: argparse.Namespace) -> int:
    from worker.reaper import reap_stuck
    from worker.tasks import send_render, settings

    reaped = reap_stuck(RedisStores.connect(settings), send_render, dry_run=args.dry_run)
    for item in reaped:
        print(f"{item.session_id} version {item.version}: "
              f"{'would be ' if args.dry_run else ''}{item.action}")
    if not reaped:
        print("no render is stuck in building")
    return EXIT_READY


def _render(args: argparse.Namespace) -> int:
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
    job = RenderInput(session_id, version, name, scopes,
                      [f.as_source() for f in files])
    record = RenderRecord.queued(version).started()
    progress = None if args.json or not sys.stderr.isatty() else _progress_line
    started = time.perf_counter()
    try:
        digest = input_hash(job, bundler)
        built = build_version(job, digest=digest, bundler=bundler, store=store,
                              max_output_bytes=settings.max_output_bytes, progress=progress)
    except InfrastructureError as exc:
        record = record.failed(RenderError("infrastructure", str(exc)),
                               {"total": _ms(started)})
    else:
        record = record.finished(
            error=built.error, timings_ms={**built.timings_ms, "total": _ms(started)},
            input_hash=digest, index_key=built.index_key, url=built.url,
            index_path=built.index_path, warnings=built.warnings)
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
    if args.open and record.index_path:
        page = Path(record.index_path).relative_to(out).as_posix()
        _serve(out, 0, page)
    return code


def _check(record: RenderRecord, store: LocalStore, settings: Settings) -> RenderRecord:
    """The same boot check a checker runs, in this process, against the local folder."""
    from worker.browser import Chromium
    from worker.check import BootChecker

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
    print(f"check {check.status} in {check.timings_ms.get('total', 0):.0f} ms"
          + (f": {check.message}" if check.message else ""), file=stream)
    for error in check.errors:
        print(error.format(), file=sys.stderr)
    for url in check.blocked_requests:
        print(f"  blocked: {url}", file=stream)
    if check.screenshot_url:
        print(f"  screenshot: {check.screenshot_url}", file=stream)


def _progress_line(stage: str, ms: float) -> None:
    print(f"  {stage:<7} {ms:7.0f} ms", file=sys.stderr, flush=True)


def _report(record: RenderRecord, name: str, out: Path) -> None:
    if record.status == "ready":
        print(f"rendered {name!r} version {record.version} in "
              f"{record.timings_ms.get('total', 0):.0f} ms")
        print(f"  page:  {record.index_path}")
        print(f"  open:  {record.url}")
        # The whole folder, not the version's: the page loads the shared vendor chunks
        # and the overlay from vendor/ at its root.
        page = Path(record.index_path or ".").parent.relative_to(out).as_posix()
        print(f"  serve: python3 -m http.server --directory {out} 8000"
              f"  →  http://127.0.0.1:8000/{page}/")
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
            if name.startswith("."):
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


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _checker(args: argparse.Namespace) -> int:
    if Settings.from_env().metrics_port:
        os.environ[_METRICS_DIR_ENV] = tempfile.mkdtemp(prefix="stage-metrics-")
    from worker.checker import app, settings  # reads and validates STAGE_* settings

    argv = ["worker", f"--loglevel={args.loglevel}", f"--queues={settings.check_queue}",
            f"--hostname={args.hostname or f'stage-check-{os.getpid()}@%h'}"]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    app.worker_main(argv)
    return EXIT_READY


def _worker(args: argparse.Namespace) -> int:
    if Settings.from_env().metrics_port:
        # Before anything imports prometheus_client: pool children write their metrics
        # to this folder and the main process serves their sum.
        folder = Path(tempfile.mkdtemp(prefix="stage-metrics-"))
        os.environ[_METRICS_DIR_ENV] = str(folder)
    from worker.celery_app import app, settings  # reads and validates STAGE_* settings

    argv = ["worker", f"--loglevel={args.loglevel}", f"--queues={settings.queue}",
            f"--hostname={args.hostname or f'stage-{os.getpid()}@%h'}"]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    app.worker_main(argv)
    return EXIT_READY


if __name__ == "__main__":
    sys.exit(main())
