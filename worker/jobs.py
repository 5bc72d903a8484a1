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
from worker.errors import InvalidInputError, RenderNotFoundError
from worker.metrics import observe_cache_hits, observe_outcome
from worker.models import RenderError, RenderRecord
from worker.pipeline import RenderInput, build_version, bundler_from_settings, input_hash
from worker.records import RenderRecords
from worker.retry import RetryPolicy
from worker.sessions import RedisStores
from worker.settings import Settings
from worker.storage import ArtifactStore, store_from_settings

__all__ = ["WorkerContext", "run_job", "record_failure"]

log = logging.getLogger("stage.render")


@dataclass
class WorkerContext:
    """The clients one worker process uses for every job: Redis, storage, esbuild.

    ``send_check`` queues the boot check of a version that turned ready (None: no checks).
    """

    settings: Settings
    redis: RedisStores
    store: ArtifactStore
    bundler: Bundler
    send_check: Callable[[str, int], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings,
                      send_check: Callable[[str, int], None] | None = None) -> WorkerContext:
        return cls(
            settings=settings,
            redis=RedisStores.connect(settings),
            store=store_from_settings(settings),
            bundler=bundler_from_settings(settings),
            send_check=send_check,
        )

    def close(self) -> None:
        self.bundler.close()


def run_job(ctx: WorkerContext, session_id: str, version: int) -> RenderRecord | None:
    """Run one render job to a terminal record. None when there is nothing to render.

    Safe to run twice, at once or after a crash: a version that already ended is left
    alone, and the outcome is stored only if no other run stored one first.
    """
    started = time.perf_counter()
    records = ctx.redis.records
    try:
        record = records.get(session_id, version)
    except (RenderNotFoundError, InvalidInputError) as exc:
        log.error("render skipped session=%s version=%s outcome=unknown-render reason=%s",
                  session_id, version, exc)
        return None
    if record.terminal:
        log.info("render skipped session=%s version=%s outcome=already-%s",
                 session_id, version, record.status)
        return record

    if ctx.settings.coalesce and record.status == "queued" and _newer_pending(records,
                                                                              session_id,
                                                                              record):
        return _store_outcome(records, session_id,
                              record.superseded({"total": _ms_since(started)}))

    if RetryPolicy.from_settings(ctx.settings).exhausted(record.attempts):
        # Each attempt that ended without an outcome lost its worker (killed, out of memory,
        # past the hard time limit); redelivering it again would loop for ever.
        log.error("render session=%s version=%s outcome=failed kind=infrastructure "
                  "reason=gave up after %d attempts that lost their worker",
                  session_id, version, record.attempts)
        return _store_outcome(records, session_id, record.failed(RenderError(
            "infrastructure", f"gave up after {record.attempts} attempts: the worker running "
            "each one was lost (killed, out of memory or past the hard time limit)"),
            {"total": _ms_since(started)}))

    building = record.started()
    write_started = time.perf_counter()
    if not records.transition(session_id, building):
        return records.get(session_id, version)
    timings = {"record": _ms_since(write_started)}

    gather_started = time.perf_counter()
    snapshot = ctx.redis.sessions.snapshot(session_id)
    timings["gather"] = _ms_since(gather_started)
    if snapshot is None:
        return _store_outcome(records, session_id, building.failed(RenderError(
            "infrastructure", f"session {session_id} disappeared before its render ran"),
            {**timings, "total": _ms_since(started)}))

    job = RenderInput(session_id, version, snapshot.name, snapshot.google_scopes, snapshot.files)
    digest = input_hash(job, ctx.bundler)
    reuse = ctx.redis.inputs.folder_for(digest) if ctx.settings.dedupe else None
    built = build_version(job, digest=digest, bundler=ctx.bundler, store=ctx.store,
                          max_output_bytes=ctx.settings.max_output_bytes, reuse=reuse)
    observe_cache_hits(built.cache_hits)
    if built.error is None and ctx.settings.dedupe:
        ctx.redis.inputs.remember(digest, built.folder)
    outcome = building.finished(
        error=built.error, timings_ms={**timings, **built.timings_ms,
                                       "total": _ms_since(started)},
        input_hash=digest, index_key=built.index_key, url=built.url,
        index_path=built.index_path, warnings=built.warnings)
    stored = _store_outcome(records, session_id, outcome, built.uploaded_bytes)
    if stored is outcome and outcome.status == "ready":  # this run's outcome was stored
        _queue_check(ctx, session_id, version)
    return stored


def _queue_check(ctx: WorkerContext, session_id: str, version: int) -> None:
    """Ask for the boot check of a version now ready; the render never waits on it."""
    if ctx.send_check is None:
        return
    try:
        ctx.send_check(session_id, version)
    except Exception as exc:  # the render is ready and stays ready whatever the broker says
        log.warning("check not queued session=%s version=%s reason=%s: %s",
                    session_id, version, type(exc).__name__, exc)


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
    except (RenderNotFoundError, InvalidInputError):
        return
    if not record.terminal:
        _store_outcome(records, session_id, record.failed(RenderError("infrastructure",
                                                                      message)))


def _store_outcome(records: RenderRecords, session_id: str, record: RenderRecord,
                   uploaded_bytes: int = 0) -> RenderRecord:
    if not records.transition(session_id, record):
        log.info("render discarded session=%s version=%s outcome=another-run-finished-first",
                 session_id, record.version)
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
    log.info("render session=%s version=%s outcome=%s%s ms=%.0f", session_id, record.version,
             record.status, f" kind={record.error.kind}" if record.error else "",
             record.timings_ms.get("total", 0.0), extra={logs.RENDER_FIELDS: fields})
    return record


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
