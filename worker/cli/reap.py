"""``stage-render reap``: re-drive or fail renders stuck in ``building``, once."""

from __future__ import annotations

import argparse

from worker.cli.exits import EXIT_READY

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("reap", help="re-drive or fail renders stuck in building")
    parser.add_argument("--dry-run", action="store_true", help="list them, change nothing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from worker.render.reaper import reap_stuck
    from worker.render.tasks import send_render, settings
    from worker.state.stores import RedisStores

    reaped = reap_stuck(RedisStores.connect(settings), send_render, dry_run=args.dry_run)
    for item in reaped:
        print(
            f"{item.session_id} version {item.version}: "
            f"{'would be ' if args.dry_run else ''}{item.action}"
        )
    if not reaped:
        print("no render is stuck in building")
    return EXIT_READY
