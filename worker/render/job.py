"""A render job against Redis: read the record, build the version, record the outcome.

The Celery task is a thin wrapper around :func:`run_job`; infrastructure errors propagate
out of it so the task can retry them, build errors are recorded here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bundler import Bundler
from worker import logs
from worker.errors import (
    ClaimedByOtherCopy,
    RenderNotFoundError,
    StoredInputError,
    StoreUnavailableError,
)
from worker.lifecycle.retention import Lifecycle
from worker.lifecycle.shared import SharedIndex
from worker.logs import ms_since
from worker.metrics import observe_cache_hits, observe_outcome
from worker.models import RenderError, RenderRecord
from worker.process import ProcessContext
from worker.render.pipeline import (
    RenderInput,
    build_version,
    bundler_from_settings,
    input_hash,
    store_refused_version,
)
from worker.retry import RetryPolicy
from worker.settings import Settings
from worker.state.affinity import routed_pair
from worker.state.records import RenderRecords
from worker.storage import delete_folder, version_folder

__all__ = ["WorkerContext", "run_job", "record_failure"]

log = logging.getLogger("stage.render")

#: Why an attempt that never recorded an outcome ended.
WORKER_LOST = (
    "the worker running each one was lost (killed, out of memory or past the hard time limit)"
)


@dataclass
class WorkerContext(ProcessContext):
    """A render process's clients: Redis, storage and the bundler (esbuild, Tailwind).

    ``send_check`` queues the boot check of a version that turned ready (None: no checks).
    """

    bundler: Bundler
    send_check: Callable[[str, int], None] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, send_check: Callable[[str, int], None] | None = None
    ) -> WorkerContext:
        stores, store = cls.clients(settings)
        return cls(settings, stores, store, bundler_from_settings(settings), send_check)

    def close(self) -> None:
        self.bundler.close()
        super().close()


def run_job(
    ctx: WorkerContext,
    session_id: str,
    version: int,
    *,
    node: str | None = None,
    task_id: str | None = None,
) -> RenderRecord | None:
    """Run one render job to a terminal record. None when there is nothing to render.

    Safe to run twice, at once or after a crash: a version that already ended is left
    alone, and the outcome is stored only if no other run stored one first. A session
    deleted while its render runs gets nothing written back (every record write is
    conditional on the record being there).

    ``node`` (the worker node) is recorded as the session's builder. The two copies of a
    routed render (``task_id`` of worker.state.affinity's pair form) build it once: the
    copy that claims it first; the other raises ClaimedByOtherCopy while the claimer's
    worker is alive, and takes over once it is not.
    """
    try:
        return _run_job(ctx, session_id, version, node, task_id)
    except RenderNotFoundError:
        _session_gone(ctx, session_id, version)
        return None


def _run_job(
    ctx: WorkerContext, session_id: str, version: int, node: str | None, task_id: str | None
) -> RenderRecord | None:
    started = time.perf_counter()
    records = ctx.redis.records
    try:
        record = records.get(session_id, version)
    except RenderNotFoundError as exc:
        if Lifecycle(ctx.redis).was_deleted(session_id):
            log.info(
                "render skipped session=%s version=%s outcome=session-deleted", session_id, version
            )
            return None
        log.error(
            "render skipped session=%s version=%s outcome=unknown-render reason=%s",
            session_id,
            version,
            exc,
        )
        return None
    if record.terminal:
        log.info(
            "render skipped session=%s version=%s outcome=already-%s",
            session_id,
            version,
            record.status,
        )
        return record

    pair = routed_pair(task_id)
    if pair is not None and node and task_id:
        affinity = ctx.redis.affinity
        claim = affinity.claim(session_id, version, task_id, node)
        if not claim.won:
            if routed_pair(claim.task_id) == pair and affinity.alive(claim.node):
                raise ClaimedByOtherCopy(claim.node)
            log.warning(
                "render session=%s version=%s taken over from %s (its worker is gone)",
                session_id,
                version,
                claim.node,
            )
            affinity.claim(session_id, version, task_id, node, force=True)

    if (
        ctx.settings.coalesce
        and record.status == "queued"
        and _newer_pending(records, session_id, record)
    ):
        return _store_outcome(records, session_id, record.superseded({"total": ms_since(started)}))

    if record.attempts:
        # Each attempt that ended without an outcome lost its worker (killed, out of memory,
        # past the hard time limit); redelivering it again forever would loop.
        decision = RetryPolicy.from_settings(ctx.settings).decide(record.attempts, WORKER_LOST)
        if not decision.retry:
            log.error(
                "render session=%s version=%s outcome=failed kind=infrastructure "
                "reason=gave up after %d attempts that lost their worker",
                session_id,
                version,
                record.attempts,
            )
            return _store_outcome(
                records,
                session_id,
                record.failed(
                    RenderError("infrastructure", decision.reason), {"total": ms_since(started)}
                ),
            )

    building = record.started()
    write_started = time.perf_counter()
    if not records.transition(session_id, building):
        return records.get(session_id, version)
    timings = {"record": ms_since(write_started)}
    if node and ctx.settings.warm_contexts:  # this worker will hold the warm context
        try:
            ctx.redis.affinity.built_by(session_id, node)
        except StoreUnavailableError as exc:  # only routing is lost: renders go anywhere
            log.warning("builder of session=%s not recorded: %s", session_id, exc)

    gather_started = time.perf_counter()
    try:
        snapshot = ctx.redis.sessions.snapshot(session_id)
    except StoredInputError as exc:  # a gateway stored what the rules forbid
        timings["gather"] = ms_since(gather_started)
        return _store_refused(ctx, session_id, building, exc, timings, started)
    timings["gather"] = ms_since(gather_started)
    if snapshot is None:
        return _store_outcome(
            records,
            session_id,
            building.failed(
                RenderError(
                    "infrastructure", f"session {session_id} disappeared before its render ran"
                ),
                {**timings, "total": ms_since(started)},
            ),
        )

    job = RenderInput(session_id, version, snapshot.name, snapshot.google_scopes, snapshot.files)
    digest = input_hash(job, ctx.bundler)
    reuse = ctx.redis.inputs.folder_for(digest) if ctx.settings.dedupe else None
    built = build_version(
        job,
        digest=digest,
        bundler=ctx.bundler,
        store=ctx.store,
        max_output_bytes=ctx.settings.max_output_bytes,
        reuse=reuse,
    )
    observe_cache_hits(built.cache_hits)
    if reuse is not None and not built.cache_hits.get("dedupe"):
        ctx.redis.inputs.forget(digest, reuse)  # its folder is gone (expired or deleted)
    outcome = built.finish(building, {**timings, **built.timings_ms, "total": ms_since(started)})
    stored = _store_outcome(records, session_id, outcome, built.uploaded_bytes)
    if stored is outcome:  # this run's outcome was stored
        Lifecycle(ctx.redis).mark_due(session_id, time.time())
        if outcome.status == "ready":
            # Only now: an entry written before could outlive a session deleted meanwhile.
            if ctx.settings.dedupe:
                ctx.redis.inputs.remember(digest, built.folder)
            SharedIndex(ctx.redis).use(session_id, version, built.shared, time.time())
            _queue_check(ctx, session_id, version)
    return stored


def _store_refused(
    ctx: WorkerContext,
    session_id: str,
    building: RenderRecord,
    exc: StoredInputError,
    timings: dict[str, float],
    started: float,
) -> RenderRecord:
    """A build error for a session whose stored data breaks the input rules: its page says
    which path and which rule, as any failed build's does; nothing of it is built."""
    built = store_refused_version(
        session_id, building.version, str(exc), exc.path, bundler=ctx.bundler, store=ctx.store
    )
    return _store_outcome(
        ctx.redis.records,
        session_id,
        built.finish(building, {**timings, **built.timings_ms, "total": ms_since(started)}),
        built.uploaded_bytes,
    )


def _session_gone(ctx: WorkerContext, session_id: str, version: int) -> None:
    """The session (or this version) was deleted while the render ran: nothing is written
    back, and whatever this run uploaded is deleted so no object outlives the session."""
    removed = len(delete_folder(ctx.store, version_folder(session_id, version)))
    log.info(
        "render session=%s version=%s outcome=session-deleted objects_removed=%d",
        session_id,
        version,
        removed,
    )


def _queue_check(ctx: WorkerContext, session_id: str, version: int) -> None:
    """Ask for the boot check of a version now ready; the render never waits on it."""
    if ctx.send_check is None:
        return
    try:
        ctx.send_check(session_id, version)
    except Exception as exc:  # the render is ready and stays ready whatever the broker says
        log.warning(
            "check not queued session=%s version=%s reason=%s: %s",
            session_id,
            version,
            type(exc).__name__,
            exc,
        )


def _newer_pending(records: RenderRecords, session_id: str, record: RenderRecord) -> bool:
    """A newer render of the session is waiting: building this one would be wasted.

    The newer one reads the session's files when it runs, so it shows everything this
    one would have shown, and more.
    """
    newest = records.newest_version(session_id)
    if newest <= record.version:
        return False
    try:
        return not records.get(session_id, newest).terminal
    except RenderNotFoundError:
        return False


def record_failure(records: RenderRecords, session_id: str, version: int, message: str) -> None:
    """Record an infrastructure failure (after the last retry) unless the version ended."""
    try:
        record = records.get(session_id, version)
    except RenderNotFoundError:
        return
    if not record.terminal:
        _store_outcome(records, session_id, record.failed(RenderError("infrastructure", message)))


def _store_outcome(
    records: RenderRecords, session_id: str, record: RenderRecord, uploaded_bytes: int = 0
) -> RenderRecord:
    if not records.transition(session_id, record):
        log.info(
            "render discarded session=%s version=%s outcome=another-run-finished-first",
            session_id,
            record.version,
        )
        return records.get(session_id, record.version)
    observe_outcome(record, uploaded_bytes)
    fields = {
        "event": "render",
        "session": session_id,
        "version": record.version,
        "taskId": logs.task_id.get(),
        "status": record.status,
        "errorKind": record.error.kind if record.error else None,
        "attempts": record.attempts,
        "timingsMs": record.timings_ms,
    }
    log.info(
        "render session=%s version=%s outcome=%s%s ms=%.0f",
        session_id,
        record.version,
        record.status,
        f" kind={record.error.kind}" if record.error else "",
        record.timings_ms.get("total", 0.0),
        extra={logs.RENDER_FIELDS: fields},
    )
    return record
