"""Shared objects under ``vendor/``: who uses them, and collecting those nobody uses.

Every page loads the runtime overlay (``vendor/stage/overlay-<hash>.js``) and the vendor
chunks of one lock (``vendor/<set>/…``) by relative URL, from session versions and from
published app versions alike. A **unit** is what is kept or collected as one: a vendor set
folder, or one overlay file (content-addressed; a new shell writes a new one).

Session versions are recorded as users when they turn ready (``P shared:<unit>``); a
user stops counting once its version is no longer ready (expired, or its session
deleted). App versions are not recorded: the collector reads their manifests when, and
only when, some unit is a candidate. A unit is a candidate once no version started using
it for ``STAGE_SESSION_TTL_DAYS`` (the lock it belongs to was replaced long ago); it is
deleted when no ready session version and no app version loads it, and otherwise looked
at again one TTL later. Units in the store
that were never recorded (written before this index existed) are left alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import posixpath
from collections.abc import Iterable

from redis.exceptions import LockError
from redis.lock import Lock

from worker.errors import StorageError
from worker.state.connection import redis_errors
from worker.state.stores import RedisStores
from worker.storage import ArtifactStore, ListedObject, delete_folder

__all__ = ["unit_of", "SharedIndex", "UNIT_LOCK_S"]

log = logging.getLogger("stage.gc")

UNIT_LOCK_S = 300.0  # one unit's decision: a few reads and one folder delete


def unit_of(key: str) -> str:
    """``vendor/<set>/<chunk>.js`` → ``vendor/<set>/``; an overlay file is its own unit."""
    parts = key.split("/")
    if len(parts) >= 3 and parts[0] == "vendor" and parts[1] != "stage":
        return f"vendor/{parts[1]}/"
    return key


class SharedIndex:
    """Which ready session versions load which shared units."""

    def __init__(self, stores: RedisStores) -> None:
        self.stores = stores
        self.redis = stores.redis
        self.keys = stores.keys

    def use(self, session_id: str, version: int, shared_keys: Iterable[str], at: float) -> None:
        """Record a version that turned ready as a user of the units its page loads."""
        units = {unit_of(k) for k in shared_keys}
        if not units:
            return
        with redis_errors(), self.redis.pipeline(transaction=False) as pipe:
            for unit in sorted(units):
                pipe.sadd(self.keys.shared(unit), f"{session_id}:{version}")
                pipe.zadd(self.keys.shared_units, {unit: at})
            pipe.execute()

    def candidates(self, unused_since: float, limit: int) -> list[str]:
        """Units no version started using since ``unused_since`` (epoch s), oldest first."""
        with redis_errors():
            found = self.redis.zrangebyscore(
                self.keys.shared_units, "-inf", unused_since, start=0, num=limit
            )
        return [u.decode("utf-8") for u in found]

    def live_users(self, unit: str, *, prune: bool = True) -> list[str]:
        """The unit's recorded users whose version is still ready; the others are dropped
        (when ``prune``)."""
        with redis_errors():
            members = [m.decode("utf-8") for m in self.redis.smembers(self.keys.shared(unit))]
            with self.redis.pipeline(transaction=False) as pipe:
                for member in members:
                    session_id, _, version = member.rpartition(":")
                    pipe.hget(self.keys.session(session_id).renders, version)
                records = pipe.execute()
        live = [
            m
            for m, raw in zip(members, records, strict=True)
            if raw is not None and json.loads(raw).get("status") == "ready"
        ]
        dead = sorted(set(members) - set(live))
        if dead and prune:
            with redis_errors():
                self.redis.srem(self.keys.shared(unit), *dead)
        return live

    def touch(self, unit: str, at: float) -> None:
        with redis_errors():
            self.redis.zadd(self.keys.shared_units, {unit: at})

    def forget(self, unit: str) -> None:
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.keys.shared_units, unit).delete(self.keys.shared(unit))
            pipe.execute()

    def lock(self, unit: str) -> Lock | None:
        lock = self.redis.lock(self.keys.shared_lock(unit), timeout=UNIT_LOCK_S)
        with redis_errors():
            return lock if lock.acquire(blocking=False) else None


def units_published(stores: RedisStores, store: ArtifactStore) -> set[str]:
    """Every unit some app version loads, read from the app versions' manifests."""
    units: set[str] = set()
    with redis_errors():
        sids = [s.decode() for s in stores.redis.zrange(stores.keys.apps, 0, -1)]
        with stores.redis.pipeline(transaction=False) as pipe:
            for sid in sids:
                pipe.hvals(stores.keys.app(sid).versions)
            versions = [json.loads(v) for found in pipe.execute() for v in found]
    for version in versions:
        folder = posixpath.dirname(version["indexKey"].removeprefix(store.prefix))
        try:
            manifest = json.loads(store.get(f"{folder}/manifest.json"))
        except (StorageError, ValueError) as exc:
            raise StorageError(
                f"app version {version.get('appVersionSid')}: its manifest is unreadable ({exc})"
            ) from exc
        overlay = [manifest["overlay"]] if manifest.get("overlay") else []
        units.update(unit_of(k) for k in [*overlay, *(manifest.get("vendor") or [])])
    return units


def collect_unused(
    stores: RedisStores, store: ArtifactStore, *, now: float, dry_run: bool = False
) -> list[tuple[str, list[ListedObject]]]:
    """Delete the units no ready session version and no app version loads (see the module
    doc); in a dry run, only list them. Each deleted unit with its objects."""
    settings = stores.settings
    index = SharedIndex(stores)
    candidates = index.candidates(now - settings.session_ttl_days * 86400.0, settings.gc_batch)
    if not candidates:
        return []
    try:
        published = units_published(stores, store)
    except StorageError as exc:  # what an app loads is unknown: keep every unit this run
        log.warning("gc: shared objects kept this run: %s", exc)
        return []
    done = []
    for unit in candidates:
        lock = index.lock(unit)
        if lock is None:
            continue  # another collector is deciding about it
        try:
            if index.live_users(unit, prune=not dry_run) or unit in published:
                if not dry_run:  # still loaded: looked at again one TTL from now
                    index.touch(unit, now)
                continue
            if dry_run:
                found = (
                    store.list_objects(unit)
                    if unit.endswith("/")
                    else [o for o in store.list_objects(unit) if o.key == unit]
                )
                done.append((unit, found))
                continue
            if unit.endswith("/"):
                deleted = delete_folder(store, unit)
            else:
                deleted = [o for o in store.list_objects(unit) if o.key == unit]
                store.delete_many([unit])
            index.forget(unit)
            done.append((unit, deleted))
            log.debug("gc shared=%s outcome=deleted objects=%d", unit, len(deleted))
        finally:
            with redis_errors(), contextlib.suppress(LockError):
                lock.release()
    return done
