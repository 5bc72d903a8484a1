"""What a session keeps, and how it stops keeping the rest.

Kept: the live version, the newest ``STAGE_KEEP_RENDERS`` versions and any version a
publish is copying (pinned). Every other version that has ended is expired: its record
becomes a tombstone (``status: "expired"``, when and why) and its folder is deleted from
the store. A session with no push and no render for ``STAGE_SESSION_TTL_DAYS`` is
deleted with every record and object, as ``sessions.delete`` deletes one on purpose.
Published app versions are copies under ``apps/`` and are never touched here.

Each decision is one Lua script over the session's keys, so it holds against a render,
a check or a publish running at the same moment; the object deletes follow it (see
:mod:`worker.lifecycle.collector` for the periodic run that drives this).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from redis.lock import Lock

from worker.inputs import validate_session_id
from worker.models import TERMINAL_STATUSES, RenderRecord, utc_now
from worker.state.connection import load_script, redis_errors
from worker.state.stores import RedisStores
from worker.storage import ArtifactStore, ListedObject, delete_folder, version_folder

__all__ = [
    "versions_to_expire",
    "expiry_reason",
    "Lifecycle",
    "DeletedSession",
    "delete_session",
    "session_folder",
    "PIN_S",
]

log = logging.getLogger("stage.gc")

#: How long a publish may take to copy a version before retention may take it again.
PIN_S = 600.0


def session_folder(session_id: str) -> str:
    """Everything a session stored, under one prefix."""
    return f"sessions/{session_id}/"


def expiry_reason(keep: int) -> str:
    return f"retention: not live and older than the newest {keep} renders of the session"


def versions_to_expire(
    records: Mapping[int, RenderRecord],
    *,
    live: int,
    newest: int,
    keep: int,
    pinned: Mapping[int, float],
    now: float,
) -> list[int]:
    """The versions retention expires: ended, not live, not among the newest ``keep``
    (by version number, up to ``newest``), not pinned past ``now``, not expired already.

    A version still queued or building is left for a later run: it may yet write its
    folder, and its outcome must not be lost.
    """
    return sorted(
        v
        for v, r in records.items()
        if r.terminal
        and r.status != "expired"
        and v != live
        and v <= newest - keep
        and pinned.get(v, 0.0) <= now
    )


@dataclass(frozen=True)
class DeletedSession:
    """What deleting one session removed."""

    session_id: str
    found: bool  # the session's keys were still there
    objects: list[ListedObject] = field(default_factory=list)


class Lifecycle:
    """The Redis side of retention and deletion, over one process's stores."""

    def __init__(self, stores: RedisStores) -> None:
        self.stores = stores
        self.redis = stores.redis
        self.keys = stores.keys
        self._expire = load_script(self.redis, "expire_renders")
        self._pin = load_script(self.redis, "pin_render")
        self._delete = load_script(self.redis, "delete_session")
        self._zrem_if = load_script(self.redis, "zrem_if_not_newer")
        self._hdel_if = load_script(self.redis, "hdel_if_equal")

    # -- retention ---------------------------------------------------------------------

    def read(self, session_id: str) -> tuple[dict[int, RenderRecord], int, int, dict[int, float]]:
        """A session's records, live version, newest version and pins, in one transaction."""
        keys = self.keys.session(validate_session_id(session_id))
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys.renders).get(keys.live).get(keys.version).hgetall(keys.pins)
            raw, live, newest, pins = pipe.execute()
        records = {int(v): RenderRecord.from_dict(json.loads(r)) for v, r in raw.items()}
        return (
            records,
            int(live or 0),
            int(newest or 0),
            {int(v): float(until) for v, until in pins.items()},
        )

    def expire(self, session_id: str, *, keep: int, now: float) -> list[RenderRecord]:
        """Turn the versions :func:`versions_to_expire` names into tombstones; the records
        as they were for those the script expired (it checks every rule again)."""
        records, live, newest, pinned = self.read(session_id)
        chosen = versions_to_expire(
            records, live=live, newest=newest, keep=keep, pinned=pinned, now=now
        )
        if not chosen:
            return []
        at, reason = utc_now(), expiry_reason(keep)
        args: list[str | int | float] = [now, keep, json.dumps(sorted(TERMINAL_STATUSES))]
        for version in chosen:
            args += [version, json.dumps(records[version].expired(at, reason).to_dict())]
        keys = self.keys.session(session_id)
        with redis_errors():
            done = self._expire(
                keys=[keys.renders, keys.live, keys.version, keys.pins, keys.trash], args=args
            )
        expired = [records[int(v)] for v in done]
        for record in expired:
            if record.input_hash is not None:  # no later render may copy a deleted folder
                self.stores.inputs.forget(
                    record.input_hash, version_folder(session_id, record.version)
                )
        return expired

    def trash(self, session_id: str) -> list[int]:
        """Expired versions whose objects are not deleted yet."""
        with redis_errors():
            members = self.redis.smembers(self.keys.session(session_id).trash)
        return sorted(int(v) for v in members)

    def emptied(self, session_id: str, versions: list[int]) -> None:
        """Expired versions whose objects are deleted now."""
        with redis_errors():
            self.redis.srem(self.keys.session(session_id).trash, *map(str, versions))

    def pin(self, session_id: str, version: int, until: float) -> bool:
        """Keep a ready version from retention until ``until`` (a publish copying it).
        False when it is not ready any more (expired, or its session deleted)."""
        keys = self.keys.session(validate_session_id(session_id))
        with redis_errors():
            return bool(self._pin(keys=[keys.renders, keys.pins], args=[version, repr(until)]))

    def unpin(self, session_id: str, version: int, until: float) -> None:
        """Drop the pin :meth:`pin` set with ``until`` (not a later publish's)."""
        with redis_errors():
            self._hdel_if(
                keys=[self.keys.session(session_id).pins], args=[str(version), repr(until)]
            )

    # -- what the collector looks at -----------------------------------------------------

    def mark_due(self, session_id: str, at: float) -> None:
        """A render of the session ended: retention has something to look at."""
        with redis_errors():
            self.redis.zadd(self.keys.gc_due, {session_id: at})

    def due(self, before: float, limit: int) -> list[tuple[str, float]]:
        with redis_errors():
            found = self.redis.zrangebyscore(
                self.keys.gc_due, "-inf", before, start=0, num=limit, withscores=True
            )
        return [(m.decode("utf-8"), score) for m, score in found]

    def done(self, session_id: str, score: float) -> None:
        """Retention ran for the session as of ``score`` (a later mark stays)."""
        with redis_errors():
            self._zrem_if(keys=[self.keys.gc_due], args=[session_id, score])

    def deleted(self, limit: int) -> list[tuple[str, float]]:
        """Deleted sessions whose folders are still swept, oldest first."""
        with redis_errors():
            found = self.redis.zrange(self.keys.deleted, 0, limit - 1, withscores=True)
        return [(m.decode("utf-8"), score) for m, score in found]

    def was_deleted(self, session_id: str) -> bool:
        """The session was deleted recently (its folder is still being swept)."""
        with redis_errors():
            return self.redis.zscore(self.keys.deleted, session_id) is not None

    def swept(self, session_id: str) -> None:
        with redis_errors():
            self.redis.zrem(self.keys.deleted, session_id)

    def session_lock(self, session_id: str, timeout_s: float) -> Lock | None:
        """The lock of one session's collection, or None when another collector holds it."""
        lock = self.redis.lock(self.keys.session(session_id).gc_lock, timeout=timeout_s)
        with redis_errors():
            return lock if lock.acquire(blocking=False) else None

    def index_unlisted(self, count: int) -> int:
        """Add sessions missing from the activity index (written by a gateway that does not
        maintain it, or before it existed), ``count`` keys of a SCAN per call, resumed where
        the last call stopped. Their ``activeAt``, else ``createdAt``, is their activity."""
        session_prefix = f"{self.keys.prefix}session:{{"
        with redis_errors():
            cursor = int(self.redis.get(self.keys.gc_scan) or 0)
            cursor, found = self.redis.scan(cursor, match=session_prefix + "*}", count=count)
            self.redis.set(self.keys.gc_scan, cursor)
            ids = [k.decode("utf-8")[len(session_prefix) : -1] for k in found]
            with self.redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.zscore(self.keys.sessions, session_id)
                    pipe.hmget(self.keys.session(session_id).session, "activeAt", "createdAt")
                replies = pipe.execute()
        added = 0
        for session_id, score, (active, created) in zip(
            ids, replies[::2], replies[1::2], strict=True
        ):
            if score is not None or (active is None and created is None):
                continue
            at = float(active) if active is not None else _epoch(created.decode("utf-8"))
            with redis_errors():
                added += int(self.redis.zadd(self.keys.sessions, {session_id: at}, nx=True))
        return added

    # -- deletion ------------------------------------------------------------------------

    def delete_keys(
        self, session_id: str, *, now: float, idle_before: float | None = None
    ) -> bool | None:
        """Delete the session's keys (only if idle since ``idle_before`` when given).

        True deleted, False there was no session, None it was active since. The session
        is marked deleted first, so its folder is swept again after renders in flight
        end (one may still be uploading).
        """
        keys = self.keys.session(validate_session_id(session_id))
        with redis_errors():
            self.redis.zadd(self.keys.deleted, {session_id: now})
            reply = self._delete(
                keys=[
                    keys.session,
                    keys.renders,
                    keys.files,
                    keys.binary,
                    keys.version,
                    keys.live,
                    keys.pins,
                    keys.trash,
                ],
                args=["" if idle_before is None else idle_before],
            )
        outcome = int(reply[0])
        if outcome == -1:
            with redis_errors():
                self._zrem_if(keys=[self.keys.deleted], args=[session_id, now])
            self.stores.activity.touch(session_id, float(reply[1]))  # the index was behind
            return None
        with redis_errors():
            self.redis.zrem(self.keys.gc_due, session_id)
            self.redis.delete(keys.builder)  # expires by itself too
        self.stores.activity.forget(session_id)
        for input_hash, version in zip(reply[1::2], reply[2::2], strict=True):
            self.stores.inputs.forget(input_hash.decode(), version_folder(session_id, int(version)))
        return outcome == 1


def _epoch(iso: str) -> float:
    """``2026-11-28T14:00:00.123Z`` as epoch seconds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def delete_session(
    lifecycle: Lifecycle,
    store: ArtifactStore,
    session_id: str,
    *,
    now: float,
    idle_before: float | None = None,
) -> DeletedSession | None:
    """Delete a session's keys, then its folder. None when it was active since
    ``idle_before``. Idempotent: a second delete finds nothing and deletes nothing."""
    found = lifecycle.delete_keys(session_id, now=now, idle_before=idle_before)
    if found is None:
        return None
    return DeletedSession(session_id, found, delete_folder(store, session_folder(session_id)))
