"""Render records in Redis: request a version, read it, move it along, wait for its end.

A record goes ``queued`` → ``building`` → ``ready`` | ``failed`` | ``superseded``; the
last three are terminal and never change again (the transition script refuses), so a
late or duplicate run cannot overwrite an outcome. ``live`` only moves forward, to a
newer ready version. Each change is one Lua script over the session's keys.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

import redis

from worker.errors import RenderNotFoundError, SessionNotFoundError
from worker.models import TERMINAL_STATUSES, Check, RenderRecord
from worker.state.cluster import Subscription, publish
from worker.state.connection import is_our_bug, load_script, redis_errors
from worker.state.indexes import ActivityIndex, BuildingIndex
from worker.state.keys import Keys, SessionKeys

__all__ = ["RenderRecords", "RECHECK_S", "CHECK_EVENT"]

#: A waiter re-reads the record this often in case an announcement was lost (the worker
#: died between storing the outcome and announcing it; pub/sub keeps nothing).
RECHECK_S = 5.0
#: What the events channel carries when a version's boot check is stored: this + version.
CHECK_EVENT = "check:"


class RenderRecords:
    """Every session's render records. Session ids must be validated by the caller."""

    def __init__(
        self, client: redis.Redis, keys: Keys, building: BuildingIndex, activity: ActivityIndex
    ) -> None:
        self.redis = client
        self._keys = keys
        self._building = building
        self._activity = activity
        self._request = load_script(client, "request_render")
        self._transition = load_script(client, "transition")
        self._fail_queued = load_script(client, "fail_queued")

    def request(self, session_id: str) -> RenderRecord:
        """Assign the next version and store its ``queued`` record."""
        keys = self._session(session_id)
        queued = RenderRecord.queued(0)
        before, after = _split_version(queued)
        with redis_errors():
            version = int(
                self._request(keys=[keys.session, keys.version, keys.renders], args=[before, after])
            )
        if version == 0:
            raise SessionNotFoundError(f"no session {session_id!r}")
        self._activity.touch(session_id, time.time())
        return dataclasses.replace(queued, version=version)

    def get(self, session_id: str, version: int) -> RenderRecord:
        with redis_errors():
            raw = self.redis.hget(self._session(session_id).renders, str(version))
        if raw is None:
            raise RenderNotFoundError(f"session {session_id!r} has no render version {version}")
        return RenderRecord.from_dict(json.loads(raw))

    def transition(self, session_id: str, record: RenderRecord) -> bool:
        """Store ``record`` unless its version already ended; move live forward on ready.

        False when the stored record was already terminal (another run finished first).
        """
        keys = self._session(session_id)
        with redis_errors():
            applied = int(
                self._transition(
                    keys=[keys.renders, keys.live],
                    args=[
                        record.version,
                        json.dumps(record.to_dict()),
                        record.status,
                        *sorted(TERMINAL_STATUSES),
                    ],
                )
            )
        if applied == -1:
            raise RenderNotFoundError(
                f"session {session_id!r} has no render version {record.version}"
            )
        if applied == 1:
            if record.status == "building":
                self._building.mark(session_id, record.version, time.time())
            elif record.terminal:
                self._building.forget(session_id, record.version)
                # Announced last, so a woken waiter finds everything settled.
                with redis_errors():
                    publish(self.redis, keys.events, str(record.version))
        return applied == 1

    def fail_queued(self, session_id: str, record: RenderRecord) -> bool:
        """Store ``record`` (``failed``) only while the stored one is still ``queued``.

        What a gateway does when the render message could not be sent: a worker that got
        the message after all and moved the record on is never overwritten. Announced on
        the events channel like any outcome. False when the record had moved on.
        """
        keys = self._session(session_id)
        with redis_errors():
            applied = int(
                self._fail_queued(
                    keys=[keys.renders], args=[record.version, json.dumps(record.to_dict())]
                )
            )
            if applied == 1:
                publish(self.redis, keys.events, str(record.version))
        if applied == -1:
            raise RenderNotFoundError(
                f"session {session_id!r} has no render version {record.version}"
            )
        return applied == 1

    def newest_version(self, session_id: str) -> int:
        """The highest version requested so far (0 before the first render)."""
        with redis_errors():
            raw = self.redis.get(self._session(session_id).version)
        return int(raw) if raw is not None else 0

    def wait(self, session_id: str, version: int, timeout_s: float) -> RenderRecord:
        """The record once it is terminal, or as it is when ``timeout_s`` has passed.

        One subscription to the session's events for the whole wait: the record is read
        once after subscribing (it may have ended before), again when its version is
        announced, and every :data:`RECHECK_S` should an announcement be lost.
        """
        return self._wait(
            session_id, version, timeout_s, str(version).encode(), lambda record: record.terminal
        )

    def record_check(self, session_id: str, version: int, check: Check) -> bool:
        """Store the boot check of a ready version, once; announce it. False if one was there.

        A compare-and-set on the renders hash (WATCH, re-read, MULTI), so a redelivered
        or duplicate check never overwrites the first one stored.
        """
        keys = self._session(session_id)
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(keys.renders)
                    raw: Any = pipe.hget(keys.renders, str(version))  # watching: runs now
                    if raw is None:
                        raise RenderNotFoundError(
                            f"session {session_id!r} has no render version {version}"
                        )
                    record = RenderRecord.from_dict(json.loads(raw))
                    if record.status != "ready" or record.check is not None:
                        return False
                    pipe.multi()
                    pipe.hset(
                        keys.renders, str(version), json.dumps(record.checked(check).to_dict())
                    )
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue  # another version's record changed meanwhile: read again
            publish(self.redis, keys.events, f"{CHECK_EVENT}{version}")
        return True

    def wait_for_check(self, session_id: str, version: int, timeout_s: float) -> RenderRecord:
        """The record once its check is stored (or it ended other than ready), or as it is
        when ``timeout_s`` passes; waits as :meth:`wait` does."""
        return self._wait(
            session_id,
            version,
            timeout_s,
            f"{CHECK_EVENT}{version}".encode(),
            lambda record: (
                record.check is not None or (record.terminal and record.status != "ready")
            ),
        )

    def _wait(
        self,
        session_id: str,
        version: int,
        timeout_s: float,
        wanted: bytes,
        settled: Callable[[RenderRecord], bool],
    ) -> RenderRecord:
        deadline = time.monotonic() + timeout_s
        channel = self._session(session_id).events
        with redis_errors():
            subscription: Subscription | None = Subscription(self.redis, channel)
        try:
            record = self.get(session_id, version)
            next_read = time.monotonic() + RECHECK_S
            while not settled(record) and (remaining := deadline - time.monotonic()) > 0:
                timeout = max(0.0, min(remaining, next_read - time.monotonic()))
                data, subscription = _next_event(subscription, timeout)
                if data == wanted or time.monotonic() >= next_read:
                    record = self.get(session_id, version)
                    next_read = time.monotonic() + RECHECK_S
                    if subscription is None:
                        subscription = _resubscribe(self.redis, channel)
        finally:
            if subscription is not None:
                subscription.close()
        return record

    def _session(self, session_id: str) -> SessionKeys:
        return self._keys.session(session_id)


def _next_event(
    subscription: Subscription | None, timeout: float
) -> tuple[bytes | None, Subscription | None]:
    """The next event within ``timeout``; a subscription a failover dropped is let go (the
    waiter then reads the record every :data:`RECHECK_S` until it subscribes again)."""
    if subscription is None:
        time.sleep(timeout)
        return None, None
    try:
        return subscription.get(timeout), subscription
    except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
        if is_our_bug(exc):
            raise
        subscription.close()
        return None, None


def _resubscribe(client: redis.Redis, channel: str) -> Subscription | None:
    try:
        return Subscription(client, channel)
    except (redis.RedisError, redis.exceptions.RedisClusterException):
        return None


def _split_version(record: RenderRecord) -> tuple[str, str]:
    """The record's JSON split where the version number goes, for the Lua script to fill."""
    data = record.to_dict()
    data.pop("version")
    rest = json.dumps(data)
    return '{"version": ', ", " + rest[1:]
