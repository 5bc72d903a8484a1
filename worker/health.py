"""``stage-render health``: can this host render? Redis, the bucket, esbuild and the Tailwind
service on Node, one line each."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

from bundler import Runtime
from bundler.errors import BundlerError
from bundler.tailwind import TailwindService
from worker.errors import StageError
from worker.settings import Settings
from worker.storage import CACHE_REVALIDATE, StoredObject, store_from_settings

__all__ = ["Check", "run_checks"]

_TIMEOUT_S = 5.0  # a health check that hangs is a failed one


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name:<8} {self.detail}"


def run_checks(settings: Settings) -> list[Check]:
    return [_timed("redis", lambda: _redis(settings)),
            _timed("storage", lambda: _storage(settings)),
            _timed("esbuild", lambda: _esbuild(settings)),
            _timed("tailwind", lambda: _tailwind(settings))]


def _timed(name: str, check: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail = check()
    except (StageError, BundlerError, redis.RedisError, OSError, subprocess.SubprocessError,
            ValueError) as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}")
    return Check(name, True, f"{detail} ({(time.perf_counter() - started) * 1000:.0f} ms)")


def _redis(settings: Settings) -> str:
    urls = dict.fromkeys([settings.redis_url, settings.effective_broker_url])
    for url in urls:
        client = redis.Redis.from_url(url, socket_timeout=_TIMEOUT_S,
                                      socket_connect_timeout=_TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
    return "PING answered by " + ", ".join(_redact(u) for u in urls)


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
    runtime = Runtime()
    binary = settings.esbuild_binary or str(runtime.binary)
    out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                         timeout=_TIMEOUT_S, check=True).stdout.strip()
    if out != runtime.esbuild_version:
        raise ValueError(f"{binary} is {out!r}, the lock pins {runtime.esbuild_version!r}")
    return f"{binary} {out}"


def _tailwind(settings: Settings) -> str:
    """Node starts the Tailwind service and it compiles a probe naming one utility."""
    with TailwindService(settings.node_binary) as service:
        compiled = service.compile("/health.css", '@import "tailwindcss";',
                                   {"/health.tsx": '<p className="flex" />'}, _TIMEOUT_S)
    if compiled.css is None or ".flex" not in compiled.css:
        raise ValueError("the Tailwind service compiled the probe without its utility")
    return f"{settings.node_binary} compiled a probe with Tailwind {Runtime().tailwind_version}"


def _redact(url: str) -> str:
    """A URL without its password, fit for a log line."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"
