"""Logs per app: one JSON line per route request, and each app version's console output.

Request lines go to the host's log (logger ``worker.host.requests``, one JSON object per
line: app, version, route, method, status, ms). Console lines (``console.*`` in a route,
uncaught errors, what the process prints) are kept per app version, the newest
``STAGE_API_LOG_LINES``, in Redis (``P app:{sid}:logs:<appVersionSid>``, a list of JSON
lines) so any client reads them: ``client.apps.logs(sid)``, ``stage-render logs SID``.
Lines are written in batches a few times a second, never on a request's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict, deque
from typing import Any

import redis

from worker.models import utc_now
from worker.state.keys import Keys

__all__ = ["AppLogs", "log_request"]

request_log = logging.getLogger("worker.host.requests")
FLUSH_INTERVAL_S = 0.25  # console lines reach Redis this soon after they are printed
_MAX_PENDING = 2000  # per app version between flushes; a flood loses its oldest lines


def log_request(
    app: str, version: str, route: str | None, method: str, status: int, ms: float, **extra: Any
) -> dict[str, Any]:
    """Write one request's JSON line to the host's log, and return it."""
    line = {
        "at": utc_now(),
        "app": app,
        "version": version,
        "route": route,
        "method": method,
        "status": status,
        "ms": round(ms, 2),
        **extra,
    }
    request_log.info(json.dumps(line))
    return line


class AppLogs:
    """Console lines of app versions: the newest kept in memory, written to Redis."""

    def __init__(self, redis_client: redis.Redis | None, keys: Keys | None, max_lines: int) -> None:
        self._redis = redis_client
        self._keys = keys
        self.max_lines = max_lines
        self.recent: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=max_lines))
        self._pending: dict[tuple[str, str], deque[str]] = defaultdict(
            lambda: deque(maxlen=_MAX_PENDING)
        )
        self._task: asyncio.Task[None] | None = None

    def add(self, app: str, version: str, level: str, text: str, route: str | None = None) -> None:
        line = {"at": utc_now(), "version": version, "level": level, "route": route, "text": text}
        self.recent[f"{app}/{version}"].append(line)
        if self._redis is not None and not app.startswith("sessions/"):
            self._pending[(app, version)].append(json.dumps(line))

    def start(self) -> None:
        if self._redis is not None:
            self._task = asyncio.get_running_loop().create_task(self._flush_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self.flush)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            try:
                await asyncio.to_thread(self.flush)
            except redis.RedisError as exc:  # lines wait for the next flush
                logging.getLogger(__name__).warning("app logs not written: %s", exc)

    def flush(self) -> None:
        if self._redis is None or self._keys is None or not self._pending:
            return
        batch, self._pending = self._pending, defaultdict(lambda: deque(maxlen=_MAX_PENDING))
        with self._redis.pipeline(transaction=False) as pipe:
            for (app, version), lines in batch.items():
                key = self._keys.app(app).logs(version)
                pipe.rpush(key, *lines)
                pipe.ltrim(key, -self.max_lines, -1)
            pipe.execute()
