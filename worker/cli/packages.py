"""``stage-render packages``: the npm packages pages may import, with their versions."""

from __future__ import annotations

import argparse
import json

from worker.cli.exits import EXIT_READY

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("packages", help="list the npm packages pages may import")
    listing = parser.add_mutually_exclusive_group()
    listing.add_argument("--json", action="store_true", help="as a JSON object name → version")
    listing.add_argument(
        "--markdown", action="store_true", help="as docs/packages.md (for an agent's prompt)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bundler.packages import allowlist, allowlist_markdown
    from worker.render.pipeline import runtime_from_settings
    from worker.settings import Settings

    runtime = runtime_from_settings(Settings.from_env())
    if args.markdown:
        print(allowlist_markdown(runtime), end="")
    elif args.json:
        print(json.dumps(dict(allowlist(runtime)), indent=2))
    else:
        for name, version in allowlist(runtime):
            print(f"{name} {version}")
    return EXIT_READY
