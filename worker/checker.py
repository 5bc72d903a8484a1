"""The ``stage.check`` task and the checker process that consumes it.

``stage-render checker`` runs a Celery worker for ``STAGE_CHECK_QUEUE`` with this module's
app. Each pool process keeps one Chromium (:class:`worker.browser.Chromium`, launched on
its first check) and opens a fresh browser context per check. A check reads the render
record, opens the version from the artifact store (:func:`worker.check.run_check`) and
stores the result on the record once (:meth:`RenderRecords.record_check`); it never
changes the record's status or the live version.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from celery import Task
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_process_shutdown,
    worker_ready,
)

from worker import logs
from worker.browser import Chromium
from worker.celery_config import CHECK_TASK_NAME, create_celery
from worker.check import BootChecker
from worker.errors import InvalidInputError, RenderNotFoundError
from worker.inputs import SESSION_ID_PATTERN
from worker.metrics import observe_check, serve_metrics
from worker.models import RenderRecord
from worker.redis_client import connect_redis
from worker.sessions import RedisStores
from worker.settings import Settings
from worker.storage import ArtifactStore, store_from_settings

__all__ = ["app", "settings", "check", "CheckerContext", "run_boot_check"]

log = logging.getLogger("stage.check")

settings = Settings.from_env()
app = create_celery(settings, include=["worker.checker"])


@dataclass
class CheckerContext:
    """What one checker process keeps between checks: Redis, the store, its Chromium."""

    settings: Settings
    redis: RedisStores
    store: ArtifactStore
    checker: BootChecker

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckerContext:
        store = store_from_settings(settings)
        return cls(settings, RedisStores.connect(settings), store,
                   BootChecker(Chromium(settings.chromium_path), store,
                               settings.check_timeout_s))

    def close(self) -> None:
        self.checker.close()
        self.redis.close()


_context: CheckerContext | None = None


def context() -> CheckerContext:
    """This process's context, created on first use (after the prefork pool forked)."""
    global _context
    if _context is None:
        _context = CheckerContext.from_settings(settings)
    return _context


@worker_process_shutdown.connect
def _close_context(**_: Any) -> None:
    if _context is not None:
        _context.close()


@worker_ready.connect
def _serve_metrics(**_: Any) -> None:
    if settings.metrics_port:
        serve_metrics(settings.metrics_port, connect_redis(settings.effective_broker_url),
                      settings.check_queue)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: Any) -> None:
    if settings.log_format == "json":
        logs.use_json(logger)


def run_boot_check(ctx: CheckerContext, session_id: str, version: int) -> RenderRecord | None:
    """Check a ready version and store the result once. None when there is nothing to check.

    A version that is not ready, or a session or version that does not exist, is dropped
    with one log line; a version already checked (a redelivered message) is left alone.
    """
    started = time.perf_counter()
    try:
        record = ctx.redis.records.get(session_id, version)
    except (RenderNotFoundError, InvalidInputError) as exc:
        log.error("check dropped session=%s version=%s outcome=unknown-render reason=%s",
                  session_id, version, exc)
        return None
    if record.status != "ready" or record.index_key is None:
        log.error("check dropped session=%s version=%s outcome=not-ready status=%s",
                  session_id, version, record.status)
        return None
    if record.check is not None:
        log.info("check skipped session=%s version=%s outcome=already-%s",
                 session_id, version, record.check.status)
        return record
    index_key = record.index_key.removeprefix(ctx.store.prefix)
    result, _ = ctx.checker.check(index_key)
    seconds = time.perf_counter() - started
    if not ctx.redis.records.record_check(session_id, version, result):
        log.info("check discarded session=%s version=%s outcome=another-check-stored-first",
                 session_id, version)
        return ctx.redis.records.get(session_id, version)
    observe_check(result, seconds)
    fields = {"event": "check", "session": session_id, "version": version,
              "taskId": logs.task_id.get(), "status": result.status,
              "errors": len(result.errors), "blank": result.blank,
              "timingsMs": result.timings_ms}
    log.info("check session=%s version=%s outcome=%s ms=%.0f", session_id, version,
             result.status, seconds * 1000, extra={logs.RENDER_FIELDS: fields})
    return ctx.redis.records.get(session_id, version)


def _prepare_next(ctx: CheckerContext) -> None:
    # After the outcome is stored and announced: the next check finds its context open.
    ctx.checker.prepare()


@app.task(name=CHECK_TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
          soft_time_limit=settings.check_hard_limit_s - 5,
          time_limit=settings.check_hard_limit_s)
def check(self: Task, session_id: Any = None, version: Any = None, *args: Any,
          **extra: Any) -> None:
    """Boot-check ``version`` of ``session_id`` (a ready render)."""
    if (args or extra or not isinstance(session_id, str)
            or not SESSION_ID_PATTERN.fullmatch(session_id)
            or not isinstance(version, int) or isinstance(version, bool) or version < 1):
        unexpected = sorted(extra) + ([f"{len(args)} more positional"] if args else [])
        log.error("check dropped: malformed message session_id=%r version=%r extra=%r "
                  "(expected kwargs session_id: str, version: int >= 1)",
                  session_id, version, unexpected)
        return
    logs.task_id.set(self.request.id)
    ctx = context()
    try:
        run_boot_check(ctx, session_id, version)
    finally:
        _prepare_next(ctx)
