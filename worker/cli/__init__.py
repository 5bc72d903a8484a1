"""``stage-render``: render a folder in-process, or run the Celery worker, checker or tools.

    stage-render render DIR [--out OUT] [--name NAME] [--scope URL]... [--json] [--check]
    stage-render worker [--concurrency N] [--loglevel L]
    stage-render checker [--concurrency N] [--loglevel L]
    stage-render reap [--dry-run]
    stage-render gc [--dry-run]
    stage-render health
    stage-render serve [OUT] [--port P]
    stage-render packages [--json | --markdown]
    stage-render host [--port P]
    stage-render logs SID [--version V] [--lines N] [--json]
    stage-render data export SID

``render`` is the embedded default: no Redis, no S3, artifacts in a local folder.
Exit codes: 0 ready, 1 the render (or with ``--check``, its boot check) failed or a
service (Redis, the broker, storage) did not serve, in one line and never a traceback, 2
usage or input errors. Each command is one module of this package; ``main`` only
dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from worker.cli import gc, health, host, packages, reap, render, run_workers, serve
from worker.cli.exits import EXIT_FAILED, EXIT_USAGE
from worker.errors import ConfigError, InfrastructureError, InvalidInputError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except (ConfigError, InvalidInputError) as exc:
        print(f"stage-render: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InfrastructureError as exc:  # Redis, the broker or storage did not serve
        print(f"stage-render: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="stage-render", description=summary)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (render, run_workers, reap, gc, health, serve, packages, host):
        command.add_parser(commands)
    return parser
