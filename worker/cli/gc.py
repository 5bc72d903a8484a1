"""``stage-render gc``: expire old render versions, delete idle sessions and sweep deleted
ones, once (workers do it every ``STAGE_GC_INTERVAL_S``)."""

from __future__ import annotations

import argparse

from worker.cli.exits import EXIT_READY

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "gc",
        help="expire old render versions, delete idle sessions "
        "and sweep deleted ones, once (workers do it every "
        "STAGE_GC_INTERVAL_S)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be deleted, change nothing"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from worker.lifecycle.collector import collect
    from worker.settings import Settings
    from worker.state.stores import RedisStores
    from worker.storage import store_from_settings

    settings = Settings.from_env()
    stores = RedisStores.connect(settings)
    try:
        report = collect(stores, store_from_settings(settings), dry_run=args.dry_run)
    finally:
        stores.close()
    for line in report.lines:
        print(line)
    print(report.line())
    return EXIT_READY
