"""``stage-render host`` and ``stage-render logs``: the API host that serves published apps'
pages and ``/api/**`` routes, what an app's routes logged, and its data."""

from __future__ import annotations

import argparse
import json
import logging
from typing import TYPE_CHECKING

from worker.cli.exits import EXIT_READY
from worker.logs import use_json
from worker.settings import Settings

if TYPE_CHECKING:
    from worker.host.platform import PlatformModule
    from worker.storage import ArtifactStore

__all__ = ["add_parser"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    host = commands.add_parser(
        "host",
        help="serve published apps: pages and /api/** routes "
        "(a Deno process per app version; STAGE_* settings)",
    )
    host.add_argument("--port", type=int, default=None, help="port (default STAGE_HOST_PORT)")
    host.set_defaults(run=run_host_command)
    logs = commands.add_parser("logs", help="print what an app's API routes logged")
    logs.add_argument("sid", help="the app's sid (app_…)")
    logs.add_argument("--version", default=None, help="one appVersionSid (default: all)")
    logs.add_argument("--lines", type=int, default=100, help="newest N lines (default 100)")
    logs.add_argument("--json", action="store_true", help="one JSON object per line")
    logs.set_defaults(run=run_logs)
    data = commands.add_parser("data", help="an app's @stage/compute documents")
    actions = data.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export", help="print every document of the app, one JSON object per line"
    )
    export.add_argument("sid", help="the app's sid (app_…)")
    export.set_defaults(run=run_data_export)


def run_host_command(args: argparse.Namespace) -> int:
    from worker.host.server import run_host
    from worker.storage import store_from_settings

    overrides = {} if args.port is None else {"host_port": args.port}
    settings = Settings.from_env(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.log_format == "json":
        use_json(logging.getLogger())
    store = store_from_settings(settings)
    run_host(settings, store=store, modules=platform_modules(settings, store))
    return EXIT_READY


def platform_modules(settings: Settings, store: ArtifactStore) -> dict[str, PlatformModule]:
    """The platform modules routes reach through the host's platform endpoint, by name."""
    from worker.host.compute import compute_module
    from worker.host.inference import inference_module

    return {
        "inference": inference_module(settings, store),
        "compute": compute_module(settings),
    }


def run_logs(args: argparse.Namespace) -> int:
    from worker.client import StageClient

    with StageClient.from_env() as client:
        lines = client.apps.logs(args.sid, args.version, limit=args.lines)
    for line in lines:
        if args.json:
            print(json.dumps(line))
        else:
            route = f" {line['route']}" if line.get("route") else ""
            print(f"{line['at']} {line['version']} {line['level']:<5}{route} {line['text']}")
    return EXIT_READY


def run_data_export(args: argparse.Namespace) -> int:
    from worker.client import StageClient

    with StageClient.from_env() as client:
        for line in client.apps.data(args.sid).export():
            print(line)
    return EXIT_READY
