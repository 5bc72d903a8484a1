"""The collection run: expired versions, idle sessions and deleted sessions' folders.

One run has three passes, each over at most ``STAGE_GC_BATCH`` sessions:

1. **retention**: sessions a render of which ended since their last run (``P gc-due``):
   versions past retention become tombstones (:mod:`worker.lifecycle.retention`), then the objects
   of every expired version not emptied yet (``P session:{id}:trash``) are deleted;
2. **idle**: sessions last active ``STAGE_SESSION_TTL_DAYS`` ago (``P sessions``) are
   deleted, keys then folder, unless the session hash says it was active since (first, a
   step of a SCAN adds sessions a gateway left out of that index);
3. **sweep**: deleted sessions' folders (``P deleted``) are listed and emptied again, for
   a render that was uploading when its session went; a session leaves that list once
   no render of it can still be running (its redeliveries included);
4. **shared**: vendor chunk sets and overlay files that no kept version and no app
   version loads any more (:mod:`worker.lifecycle.shared`).

Every session is worked on under its own short Redis lock, so runs on many hosts at once
share the work and each object is deleted by one of them. Each worker process starts a
thread that runs it every ``STAGE_GC_INTERVAL_S`` (one worker per interval, as the
reaper does); ``stage-render gc`` runs it once.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from redis.exceptions import LockError

from worker.lifecycle.retention import Lifecycle, delete_session, session_folder, versions_to_expire
from worker.lifecycle.shared import collect_unused
from worker.metrics import observe_gc
from worker.process import start_periodic_thread
from worker.state.connection import redis_errors
from worker.state.stores import RedisStores
from worker.storage import ArtifactStore, ListedObject, delete_folder, version_folder

__all__ = ["GcReport", "collect", "start_collector_thread", "SESSION_LOCK_S"]

log = logging.getLogger("stage.gc")

SESSION_LOCK_S = 300.0  # one session's collection is a few store calls; far longer is a dead run
#: Sessions worked on at once: a session's work is a few round trips (Redis, a listing, a
#: delete), so a few in flight keep the store busy while each waits on one.
THREADS = 4
DAY_S = 86400.0


@dataclass
class GcReport:
    """What one run expired and deleted (or, in a dry run, would have)."""

    dry_run: bool = False
    versions_expired: int = 0
    sessions_expired: int = 0
    sessions_swept: int = 0
    objects_deleted: int = 0
    bytes_deleted: int = 0
    shared_deleted: int = 0  # vendor sets and overlay files nothing loads any more
    busy: int = 0  # sessions another collector was working on
    lines: list[str] = field(default_factory=list)  # what was (or would be) done, one each

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self, *, line: str | None = None, objects: list[ListedObject] | None = None, **counts: int
    ) -> None:
        """Count what one session's work did (sessions are worked on in parallel)."""
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)
            if objects:
                self.objects_deleted += len(objects)
                self.bytes_deleted += sum(o.size for o in objects)
            if line is not None:
                self.lines.append(line)

    def line(self) -> str:
        return (
            f"gc versions_expired={self.versions_expired} "
            f"sessions_expired={self.sessions_expired} sessions_swept={self.sessions_swept} "
            f"shared_deleted={self.shared_deleted} "
            f"objects_deleted={self.objects_deleted} bytes_deleted={self.bytes_deleted} "
            f"busy={self.busy}" + (" dry_run=true" if self.dry_run else "")
        )


def collect(
    stores: RedisStores,
    store: ArtifactStore,
    *,
    now: Callable[[], float] = time.time,
    dry_run: bool = False,
) -> GcReport:
    """One collection run; logs one line and counts it in the metrics."""
    started = time.perf_counter()
    report = GcReport(dry_run=dry_run)
    run = _Run(stores, store, now, report)
    run.retention()
    if not dry_run:
        run.index_unlisted()
    run.idle()
    run.sweep()
    run.shared()
    seconds = time.perf_counter() - started
    if not dry_run:
        observe_gc(
            report.versions_expired,
            report.sessions_expired,
            report.objects_deleted,
            report.bytes_deleted,
            seconds,
        )
    log.info("%s ms=%.0f", report.line(), seconds * 1000)
    return report


class _Run:
    def __init__(
        self, stores: RedisStores, store: ArtifactStore, now: Callable[[], float], report: GcReport
    ) -> None:
        self.stores = stores
        self.store = store
        self.settings = stores.settings
        self.lifecycle = Lifecycle(stores)
        self.now = now
        self.report = report

    def retention(self) -> None:
        due = self.lifecycle.due(self.now(), self.settings.gc_batch)
        self._each([(s, functools.partial(self._retain, s, score)) for s, score in due])

    def index_unlisted(self) -> None:
        self.lifecycle.index_unlisted(self.settings.gc_batch)

    def idle(self) -> None:
        cutoff = self.now() - self.settings.session_ttl_days * DAY_S
        idle = self.stores.activity.idle(cutoff, self.settings.gc_batch)
        self._each([(s, functools.partial(self._expire_session, s, cutoff)) for s, _ in idle])

    def sweep(self) -> None:
        # Past this, no render of a deleted session can still run: each attempt ends by the
        # hard limit, and a lost one is redelivered after the visibility timeout.
        grace = self.settings.visibility_timeout_s * (self.settings.render_max_retries + 2)
        deleted = self.lifecycle.deleted(self.settings.gc_batch)
        self._each([(s, functools.partial(self._sweep, s, at, grace)) for s, at in deleted])

    def shared(self) -> None:
        for unit, objects in collect_unused(
            self.stores, self.store, now=self.now(), dry_run=self.report.dry_run
        ):
            self.report.add(
                shared_deleted=1,
                objects=objects,
                line=f"{'would delete' if self.report.dry_run else 'deleted'} "
                f"shared {unit}: {len(objects)} objects",
            )

    def _each(self, work: list[tuple[str, Callable[[], None]]]) -> None:
        """Each session's work under its lock, a few sessions at once."""
        if len(work) <= 1:
            for session_id, job in work:
                self._locked(session_id, job)
            return
        with ThreadPoolExecutor(THREADS, thread_name_prefix="stage-gc") as pool:
            for future in [pool.submit(self._locked, s, job) for s, job in work]:
                future.result()

    def _locked(self, session_id: str, work: Callable[[], None]) -> None:
        lock = self.lifecycle.session_lock(session_id, SESSION_LOCK_S)
        if lock is None:
            self.report.add(busy=1)
            return
        try:
            work()
        finally:
            with redis_errors():
                try:
                    lock.release()
                except LockError:  # expired under us: another run may have taken over
                    log.warning("gc session=%s: its lock expired during the run", session_id)

    def _retain(self, session_id: str, score: float) -> None:
        keep = self.settings.keep_renders
        if self.report.dry_run:
            records, live, newest, pinned = self.lifecycle.read(session_id)
            for version in versions_to_expire(
                records, live=live, newest=newest, keep=keep, pinned=pinned, now=self.now()
            ):
                self._would_delete(
                    f"expire {session_id} version {version}", version_folder(session_id, version)
                )
            return
        for record in self.lifecycle.expire(session_id, keep=keep, now=self.now()):
            self.report.add(versions_expired=1)
            log.debug(
                "gc session=%s version=%s outcome=expired was=%s",
                session_id,
                record.version,
                record.status,
            )
        trash = self.lifecycle.trash(session_id)
        if trash:
            # One listing of the session's versions, one DeleteObjects per 1,000 keys.
            folders = tuple(version_folder(session_id, v) for v in trash)
            doomed = [
                o
                for o in self.store.list_objects(f"sessions/{session_id}/renders/")
                if o.key.startswith(folders)
            ]
            if doomed:
                self.store.delete_many([o.key for o in doomed])
            self.lifecycle.emptied(session_id, trash)
            self.report.add(
                objects=doomed,
                line=f"expired {session_id} versions "
                f"{','.join(map(str, trash))}: "
                f"{len(doomed)} objects deleted",
            )
        self.lifecycle.done(session_id, score)

    def _expire_session(self, session_id: str, cutoff: float) -> None:
        if self.report.dry_run:
            self._would_delete(f"delete idle session {session_id}", session_folder(session_id))
            return
        deleted = delete_session(
            self.lifecycle, self.store, session_id, now=self.now(), idle_before=cutoff
        )
        if deleted is None:
            return  # active since the index said so; the index was moved forward
        self.report.add(
            sessions_expired=int(deleted.found),
            objects=deleted.objects,
            line=f"deleted idle session {session_id}: {len(deleted.objects)} objects deleted",
        )
        log.debug("gc session=%s outcome=idle-deleted objects=%d", session_id, len(deleted.objects))

    def _sweep(self, session_id: str, deleted_at: float, grace_s: float) -> None:
        if self.report.dry_run:
            self._would_delete(f"sweep deleted session {session_id}", session_folder(session_id))
            return
        deleted = delete_folder(self.store, session_folder(session_id))
        self.report.add(
            sessions_swept=1,
            objects=deleted,
            line=f"swept deleted session {session_id}: {len(deleted)} objects deleted"
            if deleted
            else None,
        )
        if self.now() - deleted_at > grace_s:
            self.lifecycle.swept(session_id)

    def _would_delete(self, what: str, folder: str) -> None:
        found = self.store.list_objects(folder)
        self.report.add(
            objects=found,
            line=f"would {what}: {len(found)} objects, {sum(o.size for o in found)} bytes",
        )


def start_collector_thread(
    stores: RedisStores, store: ArtifactStore, node: str
) -> threading.Thread | None:
    """Run :func:`collect` every ``STAGE_GC_INTERVAL_S`` in a daemon thread (0: never)."""
    return start_periodic_thread(
        stores,
        name="gc",
        lock_key=stores.keys.gc_lock,
        interval_s=stores.settings.gc_interval_s,
        node=node,
        work=lambda: collect(stores, store),
        log=log,
    )
