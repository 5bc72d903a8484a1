"""``stage-render worker`` and ``stage-render checker``: the two Celery process kinds."""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import TYPE_CHECKING

from worker.cli.exits import EXIT_READY
from worker.settings import Settings

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["add_parser"]

# prometheus_client reads it when first imported, so it is set before importing the app
# (and this module never imports worker.metrics).
_METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def add_parser(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser("worker", help="run the Celery worker (STAGE_* settings)")
    _options(worker, "stage-<pid>@<host>", "pool processes (default: the number of CPUs)")
    worker.set_defaults(run=run_worker)
    checker = commands.add_parser(
        "checker",
        help="run the boot-check worker: each ready "
        "version opened in headless Chromium (STAGE_* settings)",
    )
    _options(
        checker,
        "stage-check-<pid>@<host>",
        "pool processes, one Chromium each (default: the number of CPUs)",
    )
    checker.set_defaults(run=run_checker)


def _options(parser: argparse.ArgumentParser, hostname: str, concurrency: str) -> None:
    parser.add_argument("--concurrency", type=int, default=None, help=concurrency)
    parser.add_argument("--loglevel", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    parser.add_argument("--hostname", default=None, help=f"Celery node name (default: {hostname})")


def run_worker(args: argparse.Namespace) -> int:
    _metrics_folder()
    from worker.render.tasks import app, settings  # reads and validates STAGE_* settings

    return _run(app, args, settings.queue, f"stage-{os.getpid()}@%h")


def run_checker(args: argparse.Namespace) -> int:
    _metrics_folder()
    from worker.check.tasks import app, settings  # reads and validates STAGE_* settings

    return _run(app, args, settings.check_queue, f"stage-check-{os.getpid()}@%h")


def _metrics_folder() -> None:
    # Before anything imports prometheus_client's values: pool children write their
    # metrics to this folder and the main process serves their sum.
    if Settings.from_env().metrics_port:
        os.environ[_METRICS_DIR_ENV] = tempfile.mkdtemp(prefix="stage-metrics-")


def _run(app: Celery, args: argparse.Namespace, queue: str, hostname: str) -> int:
    # Without mingle: at start a node would ask every other node for revoked task ids and
    # wait a second for their answers. Stage revokes nothing, so a node is ready a second
    # sooner, and a fleet's restarts send no broadcast to every node.
    argv = [
        "worker",
        f"--loglevel={args.loglevel}",
        f"--queues={queue}",
        f"--hostname={args.hostname or hostname}",
        "--without-mingle",
    ]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    app.worker_main(argv)
    return EXIT_READY
