"""A render job against the session store: read the record, build, record the outcome.

The Celery task is a thin wrapper around :func:`run_render`; infrastructure errors
propagate out of it so the task can retry them, build errors are recorded here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from bundler import Bundler
from worker import logs
from worker.errors import InvalidInputError, RenderNotFoundError
from worker.metrics import observe_cache_hits, observe_outcome
from worker.models import RenderError, RenderRecord, utc_now
from worker.render import RenderInput, bundler_from_settings, input_hash, render_snapshot
from worker.sessions import SessionStore, connect_redis
from worker.settings import Settings
from worker.storage import ArtifactStore, store_from_settings

__all__ = ["WorkerContext", "run_render", "record_failure"]

log = logging.getLogger("stage.render")


@dataclass
class WorkerContext:
    """The clients one worker process uses for every job: Redis, storage, esbuild.

    ``send_check`` queues the boot check of a version that turned ready (None: no checks).
    """

    settings: Settings
    sessions: SessionStore
    store: ArtifactStore
    bundler: Bundler
    pid: int
    send_check: Callable[[str, int], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings,
                      send_check: Callable[[str, int], None] | None = None) -> WorkerContext:
        return cls(
            settings=settings,
            sessions=SessionStore(connect_redis(settings.redis_url), settings),
            store=store_from_settings(settings),
            bundler=bundler_from_settings(settings),
            pid=os.getpid(),
            send_check=send_check,
        )

    def close(self) -> None:
        self.bundler.close()


def run_render(ctx: WorkerContext, session_id: str, version: int) -> RenderRecord | None:
    """Run one render job to a terminal record. None when there is nothing to render.

    Safe to run twice, at once or after a crash: a version that already ended is left
    alone, and the outcome is stored only if no other run stored one first.
    """
    started = time.perf_counter()
    try:
        record = ctx.sessions.get_record(session_id, version)
    except (RenderNotFoundError, InvalidInputError) as exc:
        log.error("render skipped session=%s version=%s outcome=unknown-render reason=%s",
                  session_id, version, exc)
        return None
    if record.terminal:
        log.info("render skipped session=%s version=%s outcome=already-%s",
                 session_id, version, record.status)
        return record

    if ctx.settings.coalesce and record.status == "queued" and _newer_pending(ctx, session_id,
                                                                              record):
        superseded = dataclasses.replace(record, status="superseded", finished_at=utc_now(),
                                         timings_ms={"total": _ms_since(started)})
        return _store_outcome(ctx.sessions, session_id, superseded)

    allowed = ctx.settings.render_max_retries + 1
    if record.attempts >= allowed:
        # Each attempt that ended without an outcome lost its worker (killed, out of memory,
        # past the hard time limit); redelivering it again would loop for ever.
        log.error("render session=%s version=%s outcome=failed kind=infrastructure "
                  "reason=gave up after %d attempts that lost their worker",
                  session_id, version, record.attempts)
        return _finish(ctx, session_id, record, started, RenderError(
            "infrastructure", f"gave up after {record.attempts} attempts: the worker running "
            "each one was lost (killed, out of memory or past the hard time limit)"), {})

    building = dataclasses.replace(record, status="building", started_at=utc_now(),
                                   attempts=record.attempts + 1)
    write_started = time.perf_counter()
    if not ctx.sessions.transition(session_id, building):
        return ctx.sessions.get_record(session_id, version)
    timings = {"record": _ms_since(write_started)}

    gather_started = time.perf_counter()
    snapshot = ctx.sessions.snapshot(session_id)
    timings["gather"] = _ms_since(gather_started)
    if snapshot is None:
        return _finish(ctx, session_id, building, started, RenderError(
            "infrastructure", f"session {session_id} disappeared before its render ran"),
            timings)

    job = RenderInput(session_id, version, snapshot.name, snapshot.google_scopes, snapshot.files)
    reuse = ctx.sessions.stored_input(input_hash(job, ctx.bundler)) if ctx.settings.dedupe \
        else None
    rendered = render_snapshot(job, bundler=ctx.bundler, store=ctx.store,
                               max_output_bytes=ctx.settings.max_output_bytes, reuse=reuse)
    observe_cache_hits(rendered.cache_hits)
    if rendered.error is None and ctx.settings.dedupe:
        folder = rendered.index_key.removeprefix(ctx.store.prefix).removesuffix("index.html")
        ctx.sessions.remember_input(rendered.input_hash, folder)
    outcome = dataclasses.replace(
        building,
        status="failed" if rendered.error else "ready",
        error=rendered.error,
        finished_at=utc_now(),
        timings_ms={**timings, **rendered.timings_ms, "total": _ms_since(started)},
        input_hash=rendered.input_hash,
        index_key=rendered.index_key,
        url=rendered.url,
        index_path=rendered.index_path,
        warnings=rendered.warnings,
    )
    stored = _store_outcome(ctx.sessions, session_id, outcome, rendered.uploaded_bytes)
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


def _newer_pending(ctx: WorkerContext, session_id: str, record: RenderRecord) -> bool:
    """A newer render of the session is waiting: building this one would be wasted.

    The newer one reads the session's files when it runs, so it shows everything this
    one would have shown, and more.
    """
    newest = ctx.sessions.newest_version(session_id)
    if newest <= record.version:
        return False
    try:
        return not ctx.sessions.get_record(session_id, newest).terminal
    except RenderNotFoundError:
        return False


def record_failure(sessions: SessionStore, session_id: str, version: int, message: str) -> None:
    """Record an infrastructure failure (after the last retry) unless the version ended."""
    try:
        record = sessions.get_record(session_id, version)
    except (RenderNotFoundError, InvalidInputError):
        return
    if record.terminal:
        return
    failed = dataclasses.replace(record, status="failed", finished_at=utc_now(),
                                 error=RenderError("infrastructure", message))
    _store_outcome(sessions, session_id, failed)


def _finish(ctx: WorkerContext, session_id: str, building: RenderRecord, started: float,
            error: RenderError, timings: dict[str, float]) -> RenderRecord:
    failed = dataclasses.replace(building, status="failed", finished_at=utc_now(), error=error,
                                 timings_ms={**timings, "total": _ms_since(started)})
    return _store_outcome(ctx.sessions, session_id, failed)


def _store_outcome(sessions: SessionStore, session_id: str, record: RenderRecord,
                   uploaded_bytes: int = 0) -> RenderRecord:
    if not sessions.transition(session_id, record):
        log.info("render discarded session=%s version=%s outcome=another-run-finished-first",
                 session_id, record.version)
        return sessions.get_record(session_id, record.version)
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
