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
from worker.indexes import BuildingIndex
from worker.inputs import validate_session_id
from worker.keys import Keys, SessionKeys
from worker.models import TERMINAL_STATUSES, Check, RenderRecord
from worker.redis_client import load_script, redis_errors

__all__ = ["RenderRecords", "RECHECK_S", "CHECK_EVENT"]

#: A waiter re-reads the record this often in case an announcement was lost (the worker
#: died between storing the outcome and announcing it; pub/sub keeps nothing).
RECHECK_S = 5.0
#: What the events channel carries when a version's boot check is stored: this + version.
CHECK_EVENT = "check:"


class RenderRecords:
    """Every session's render records. Session ids must be validated by the caller."""

    def __init__(self, client: redis.Redis, keys: Keys, building: BuildingIndex) -> None:
        self.redis = client
        self._keys = keys
        self._building = building
        self._request = load_script(client, "request_render")
        self._transition = load_script(client, "transition")

    def request(self, session_id: str) -> RenderRecord:
        """Assign the next version and store its ``queued`` record."""
        keys = self._session(session_id)
        queued = RenderRecord.queued(0)
        before, after = _split_version(queued)
        with redis_errors():
            version = int(self._request(keys=[keys.session, keys.version, keys.renders],
                                        args=[before, after]))
        if version == 0:
            raise SessionNotFoundError(f"no session {session_id!r}")
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
            applied = int(self._transition(
                keys=[keys.renders, keys.live],
                args=[record.version, json.dumps(record.to_dict()), record.status,
                      *sorted(TERMINAL_STATUSES)]))
        if applied == -1:
            raise RenderNotFoundError(
                f"session {session_id!r} has no render version {record.version}")
        if applied == 1:
            if record.status == "building":
                self._building.mark(session_id, record.version, time.time())
            elif record.terminal:
                self._building.forget(session_id, record.version)
                # Announced last, so a woken waiter finds everything settled.
                with redis_errors():
                    self.redis.publish(keys.events, str(record.version))
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
        return self._wait(session_id, version, timeout_s, str(version).encode(),
                          lambda record: record.terminal)

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
                            f"session {session_id!r} has no render version {version}")
                    record = RenderRecord.from_dict(json.loads(raw))
                    if record.status != "ready" or record.check is not None:
                        return False
                    pipe.multi()
                    pipe.hset(keys.renders, str(version),
                              json.dumps(record.checked(check).to_dict()))
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue  # another version's record changed meanwhile: read again
            self.redis.publish(keys.events, f"{CHECK_EVENT}{version}")
        return True

    def wait_for_check(self, session_id: str, version: int, timeout_s: float) -> RenderRecord:
        """The record once its check is stored (or it ended other than ready), or as it is
        when ``timeout_s`` passes; waits as :meth:`wait` does."""
        return self._wait(session_id, version, timeout_s, f"{CHECK_EVENT}{version}".encode(),
                          lambda record: record.check is not None
                          or (record.terminal and record.status != "ready"))

    def _wait(self, session_id: str, version: int, timeout_s: float, wanted: bytes,
              settled: Callable[[RenderRecord], bool]) -> RenderRecord:
        deadline = time.monotonic() + timeout_s
        with redis_errors():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._session(session_id).events)
                record = self.get(session_id, version)
                next_read = time.monotonic() + RECHECK_S
                while not settled(record) and (remaining := deadline - time.monotonic()) > 0:
                    message = pubsub.get_message(
                        timeout=max(0.0, min(remaining, next_read - time.monotonic())))
                    ours = message is not None and message.get("data") == wanted
                    if ours or time.monotonic() >= next_read:
                        record = self.get(session_id, version)
                        next_read = time.monotonic() + RECHECK_S
            finally:
                pubsub.close()
        return record

    def _session(self, session_id: str) -> SessionKeys:
        return self._keys.session(validate_session_id(session_id))


def _split_version(record: RenderRecord) -> tuple[str, str]:
    """The record's JSON split where the version number goes, for the Lua script to fill."""
    data = record.to_dict()
    data.pop("version")
    rest = json.dumps(data)
    return '{"version": ', ", " + rest[1:]
