"""``stage-render health``: can this host render? Redis, the bucket, esbuild and the Tailwind
service on Node, one line each."""

from __future__ import annotations

import argparse
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import kombu
import kombu.exceptions
import redis

from bundler.artifacts import SourceFile
from bundler.errors import BundlerError
from bundler.tailwind import TailwindService
from bundler.tailwind3 import TailwindV3
from worker.cli.exits import EXIT_FAILED, EXIT_READY
from worker.errors import StageError
from worker.messages import is_amqp
from worker.render.pipeline import runtime_from_settings
from worker.settings import Settings
from worker.state.connection import connect_redis
from worker.storage import CACHE_REVALIDATE, StoredObject, store_from_settings

__all__ = ["Probe", "add_parser", "run_checks"]

_TIMEOUT_S = 5.0  # a health check that hangs is a failed one


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name:<8} {self.detail}"


def run_checks(settings: Settings) -> list[Probe]:
    return [
        _timed("redis", lambda: _redis(settings)),
        _timed("storage", lambda: _storage(settings)),
        _timed("esbuild", lambda: _esbuild(settings)),
        _timed("tailwind", lambda: _tailwind(settings)),
        _timed("tailwind3", lambda: _tailwind3(settings)),
    ]


def _timed(name: str, check: Callable[[], str]) -> Probe:
    started = time.perf_counter()
    try:
        detail = check()
    except (
        StageError,
        BundlerError,
        redis.RedisError,
        redis.exceptions.RedisClusterException,
        kombu.exceptions.KombuError,
        OSError,
        subprocess.SubprocessError,
        ValueError,
    ) as exc:
        return Probe(name, False, f"{type(exc).__name__}: {exc}")
    return Probe(name, True, f"{detail} ({(time.perf_counter() - started) * 1000:.0f} ms)")


def _redis(settings: Settings) -> str:
    """The store answers PING (every cluster master, for a cluster); the broker connects."""
    pinged = []
    connected = []
    for url in dict.fromkeys([settings.redis_url, settings.effective_broker_url]):
        if is_amqp(url):
            with kombu.Connection(url, connect_timeout=_TIMEOUT_S) as conn:
                conn.ensure_connection(max_retries=1)
            connected.append(_redact(url))
            continue
        client = connect_redis(url)
        try:
            client.ping()
        finally:
            client.close()
        pinged.append(_redact(url))
    return "; ".join(
        [f"PING answered by {', '.join(pinged)}"] + [f"connected to {url}" for url in connected]
    )


def _storage(settings: Settings) -> str:
    store = store_from_settings(settings)
    key = f"health/probe-{uuid.uuid4().hex}.txt"
    body = f"stage-render health probe {time.time()}".encode()
    store.put_many([StoredObject(key, body, "text/plain; charset=utf-8", CACHE_REVALIDATE)])
    try:
        if store.get(key) != body:
            raise ValueError(f"read back different bytes from {key}")
    finally:
        store.delete(key)
    where = f"s3://{settings.s3_bucket}" if settings.s3_bucket else str(settings.artifacts_dir)
    return f"wrote, read and deleted a probe object in {where}"


def _esbuild(settings: Settings) -> str:
    runtime = runtime_from_settings(settings)
    binary = str(runtime.binary)
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=_TIMEOUT_S, check=True
    ).stdout.strip()
    if out != runtime.esbuild_version:
        raise ValueError(f"{binary} is {out!r}, the lock pins {runtime.esbuild_version!r}")
    return f"{binary} {out}"


def _tailwind(settings: Settings) -> str:
    """Node starts the Tailwind service and it compiles a probe naming one utility."""
    runtime = runtime_from_settings(settings)
    with TailwindService(settings.node_binary, runtime.tailwind_service) as service:
        compiled = service.compile(
            "/health.css",
            '@import "tailwindcss";',
            {"/health.tsx": '<p className="flex" />'},
            _TIMEOUT_S,
        )
    if compiled.css is None or ".flex" not in compiled.css:
        raise ValueError("the Tailwind service compiled the probe without its utility")
    return f"{settings.node_binary} compiled a probe with Tailwind {runtime.tailwind_version}"


_V3_PROBE_CONFIG = (
    'module.exports = { theme: { extend: { colors: { probe: "#123456" } } },\n'
    '  plugins: [require("tailwindcss-animate")] };\n'
)


def _tailwind3(settings: Settings) -> str:
    """Deno evaluates a probe config in its sandbox and Tailwind 3 compiles with it."""
    files = {
        "/tailwind.config.js": _V3_PROBE_CONFIG,
        "/health.tsx": '<p className="bg-probe animate-in" />',
    }
    sources = {path: SourceFile(path, text.encode()) for path, text in files.items()}
    v3 = TailwindV3(settings.node_binary)
    try:
        css = v3.compile("/health.css", "@tailwind utilities;", sources, files, _TIMEOUT_S * 3)
    finally:
        v3.close()
    if ".bg-probe" not in css or ".animate-in" not in css:
        raise ValueError("Tailwind 3 compiled the probe without the config's colour or plugin")
    return f"{v3.sandbox.deno} evaluated a probe config, Tailwind 3 compiled with it"


def _redact(url: str) -> str:
    """A URL without its password, fit for a log line."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "health", help="check Redis, the bucket, esbuild and Tailwind; exit 0 or 1"
    )
    parser.set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    probes = run_checks(Settings.from_env())
    for probe in probes:
        print(probe.line())
    return EXIT_READY if all(p.ok for p in probes) else EXIT_FAILED
