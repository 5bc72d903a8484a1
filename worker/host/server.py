"""``stage-render host``: the public ASGI app and the platform endpoint, in one process.

Server and framework: uvicorn (uvloop/httptools when present) runs both ASGI apps on one
asyncio loop; Starlette gives them requests, streaming bodies and responses without
opinions on routing we do not need (the host parses its own paths). The host's work is
waiting — on Redis, the store and Deno processes — so one event loop serves thousands of
concurrent requests, and everything else (Deno processes, the pool, the platform endpoint)
has to live on that loop to share state without locks: that rules out WSGI servers and
thread-per-request frameworks. aiohttp would do as well; Starlette on uvicorn is the ASGI
pair most teams already run and instrument.

The platform endpoint binds 127.0.0.1 on a port chosen at start: Deno processes get it
in ``--allow-net`` and nothing outside the machine can reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import redis
import uvicorn

from worker.host.app import Host, public_app
from worker.host.applogs import AppLogs
from worker.host.catalog import Catalog, FolderCatalog, RedisCatalog, VersionFiles
from worker.host.egress import Egress, parse_hosts
from worker.host.platform import Grants, PlatformModule, platform_app
from worker.host.pool import Pool
from worker.settings import Settings
from worker.state.keys import Keys
from worker.storage import ArtifactStore, store_from_settings

__all__ = ["run_host", "serve_forever", "bind", "HostParts"]

log = logging.getLogger(__name__)


class _InnerServer(uvicorn.Server):
    """A server beside the main one: the main server handles the signals for both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class HostParts:
    host: Host
    pool: Pool
    logs: AppLogs
    egress: Egress
    platform_socket: socket.socket


def bind(address: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # so; without it every answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(
        socket.AF_INET6 if ":" in address else socket.AF_INET,
        socket.SOCK_STREAM,
        socket.IPPROTO_TCP,
    )
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(2048)  # connections queue from now on, before the server has started
    return sock


@contextlib.asynccontextmanager
async def _parts(
    settings: Settings,
    catalog: Catalog,
    store: ArtifactStore,
    modules: Mapping[str, PlatformModule] | None,
    redis_client: redis.Redis | None,
) -> AsyncIterator[HostParts]:
    keys = Keys(settings.key_prefix)
    platform_socket = bind("127.0.0.1", 0)
    platform_url = f"http://127.0.0.1:{platform_socket.getsockname()[1]}"
    grants = Grants(settings.api_max_fetches)
    egress = Egress(
        hosts=parse_hosts(settings.api_fetch_hosts),
        max_bytes=settings.api_max_response_bytes,
        timeout_s=settings.api_timeout_s,
    )
    logs = AppLogs(redis_client, keys if redis_client else None, settings.api_log_lines)
    files = VersionFiles(store)
    pool = Pool(
        settings, files, grants, logs, platform_url, Path(settings.host_data_dir).resolve() / "code"
    )
    host = Host(settings, catalog, files, pool, grants)
    logs.start()
    pool.start()
    try:
        yield HostParts(host, pool, logs, egress, platform_socket)
    finally:
        await pool.close()
        await logs.close()
        await host.close()
        await egress.close()
        await catalog.close()
        platform_socket.close()


async def serve_forever(
    settings: Settings,
    *,
    catalog: Catalog | None = None,
    store: ArtifactStore | None = None,
    modules: Mapping[str, PlatformModule] | None = None,
    public_socket: socket.socket | None = None,
) -> None:
    """Run the host until cancelled or signalled."""
    redis_client = None
    if catalog is None:
        catalog = RedisCatalog(
            settings.redis_url, Keys(settings.key_prefix), sessions=settings.host_sessions
        )
        redis_client = redis.Redis.from_url(settings.redis_url)
    store = store or store_from_settings(settings)
    sock = public_socket or bind(settings.host_bind, settings.host_port)
    for module in (modules or {}).values():
        start = getattr(module, "start", None)
        if start is not None:
            await start()
    async with _parts(settings, catalog, store, modules, redis_client) as parts:
        grants = parts.host.grants
        platform = _InnerServer(
            uvicorn.Config(
                platform_app(grants, parts.egress, modules, settings.api_max_body_bytes),
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
            )
        )
        public = uvicorn.Server(
            uvicorn.Config(
                public_app(parts.host),
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=5,
            )
        )
        log.info(
            "serving apps on http://%s:%d/ (platform endpoint %s:%d)",
            *sock.getsockname()[:2],
            *parts.platform_socket.getsockname()[:2],
        )
        platform_task = asyncio.create_task(platform.serve(sockets=[parts.platform_socket]))
        try:
            await public.serve(sockets=[sock])
        finally:
            # The Deno processes first: they hold connections to the platform endpoint,
            # which would otherwise wait for them to close.
            await parts.pool.close()
            platform.should_exit = True
            await platform_task
            for module in (modules or {}).values():
                close = getattr(module, "aclose", None)
                if close is not None:
                    await close()
    if redis_client is not None:
        redis_client.close()


def run_host(
    settings: Settings,
    *,
    folder: str | None = None,
    store: ArtifactStore | None = None,
    modules: Mapping[str, PlatformModule] | None = None,
    public_socket: socket.socket | None = None,
) -> None:
    """``stage-render host`` (published apps), or one version folder (``render --serve``).

    ``modules``: the platform modules routes may call, by name (``{"inference": …}``).
    """
    catalog = FolderCatalog(folder) if folder is not None else None
    # The standard loop: uvloop with httptools measured no faster here (the route's own
    # hop to Deno and the Redis read are most of a request).
    asyncio.run(
        serve_forever(
            settings, catalog=catalog, store=store, modules=modules, public_socket=public_socket
        )
    )
