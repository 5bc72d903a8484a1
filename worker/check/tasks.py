"""The ``stage.check`` task and the checker process that consumes it.

``stage-render checker`` runs a Celery worker for ``STAGE_CHECK_QUEUE`` with this module's
app. Each pool process keeps one Chromium (:class:`worker.check.browser.Chromium`, launched
on its first check) and opens a fresh browser context per check. A check reads the render
record, opens the version from the artifact store (:class:`worker.check.boot.BootChecker`)
and stores the result on the record once (:meth:`RenderRecords.record_check`); it never
changes the record's status or the live version.
"""

from __future__ import annotations

import logging
import posixpath
import time
from dataclasses import dataclass
from typing import Any

from celery import Task

from worker import logs
from worker.check.boot import SCREENSHOT, THUMBNAIL, BootChecker
from worker.check.browser import Chromium
from worker.errors import RenderNotFoundError
from worker.messages import CHECK_TASK_NAME, MalformedMessage, parse_job
from worker.metrics import observe_check
from worker.models import RenderRecord
from worker.process import ProcessContext, TaskProcess
from worker.settings import Settings

__all__ = ["CheckerContext", "app", "check", "run_boot_check", "settings"]

log = logging.getLogger("stage.check")


@dataclass
class CheckerContext(ProcessContext):
    """What one checker process keeps between checks: Redis, the store, its Chromium."""

    checker: BootChecker

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckerContext:
        stores, store = cls.clients(settings)
        return cls(
            settings,
            stores,
            store,
            BootChecker(Chromium(settings.chromium_path), store, settings.check_timeout_s),
        )

    def close(self) -> None:
        self.checker.close()
        super().close()


process = TaskProcess("worker.check.tasks", lambda s: s.check_queue, CheckerContext.from_settings)
settings = process.settings
app = process.app


def run_boot_check(ctx: CheckerContext, session_id: str, version: int) -> RenderRecord | None:
    """Check a ready version and store the result once. None when there is nothing to check.

    A version that is not ready, or a session or version that does not exist, is dropped
    with one log line; a version already checked (a redelivered message) is left alone.
    """
    started = time.perf_counter()
    try:
        record = ctx.redis.records.get(session_id, version)
    except RenderNotFoundError as exc:
        log.error(
            "check dropped session=%s version=%s outcome=unknown-render reason=%s",
            session_id,
            version,
            exc,
        )
        return None
    if record.status != "ready" or record.index_key is None:
        log.error(
            "check dropped session=%s version=%s outcome=not-ready status=%s",
            session_id,
            version,
            record.status,
        )
        return None
    if record.check is not None:
        log.info(
            "check skipped session=%s version=%s outcome=already-%s",
            session_id,
            version,
            record.check.status,
        )
        return record
    index_key = record.index_key.removeprefix(ctx.store.prefix)
    result, _ = ctx.checker.check(index_key)
    seconds = time.perf_counter() - started
    try:
        stored = ctx.redis.records.record_check(session_id, version, result)
        current: RenderRecord | None = ctx.redis.records.get(session_id, version)
    except RenderNotFoundError:  # the session was deleted during the check
        stored, current = False, None
    if current is None or current.status != "ready":
        # Deleted or expired meanwhile: its folder is gone, so are the pictures just stored.
        folder = posixpath.dirname(index_key)
        ctx.store.delete_many(
            [posixpath.join(folder, SCREENSHOT), posixpath.join(folder, THUMBNAIL)]
        )
        log.info(
            "check discarded session=%s version=%s outcome=version-%s",
            session_id,
            version,
            "deleted" if current is None else current.status,
        )
        return current
    if not stored:
        log.info(
            "check discarded session=%s version=%s outcome=another-check-stored-first",
            session_id,
            version,
        )
        return current
    observe_check(result, seconds)
    fields = {
        "event": "check",
        "session": session_id,
        "version": version,
        "taskId": logs.task_id.get(),
        "status": result.status,
        "errors": len(result.errors),
        "blank": result.blank,
        "timingsMs": result.timings_ms,
    }
    log.info(
        "check session=%s version=%s outcome=%s ms=%.0f",
        session_id,
        version,
        result.status,
        seconds * 1000,
        extra={logs.RENDER_FIELDS: fields},
    )
    return current


@app.task(
    name=CHECK_TASK_NAME,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.check_hard_limit_s - 5,
    time_limit=settings.check_hard_limit_s,
)
def check(
    self: Task, session_id: Any = None, version: Any = None, *args: Any, **extra: Any
) -> None:
    """Boot-check ``version`` of ``session_id`` (a ready render)."""
    try:
        job = parse_job(session_id, version, args, extra)
    except MalformedMessage as exc:
        log.error("check dropped: %s", exc)
        return
    logs.task_id.set(self.request.id)
    ctx = process.context()
    try:
        run_boot_check(ctx, job.session_id, job.version)
    finally:
        # After the outcome is stored and announced: the next check finds its context open.
        ctx.checker.prepare()
