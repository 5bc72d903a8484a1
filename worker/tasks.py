"""The ``stage.render`` task: a thin shell around :func:`worker.jobs.run_job`."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_init,
    worker_process_shutdown,
    worker_ready,
)

from worker import logs
from worker.celery_app import app, settings
from worker.celery_config import CHECK_TASK_NAME, TASK_NAME, send_render_message
from worker.errors import InfrastructureError
from worker.inputs import SESSION_ID_PATTERN
from worker.jobs import WorkerContext, record_failure, run_job
from worker.metrics import observe_retry, serve_metrics
from worker.pipeline import bundler_from_settings
from worker.reaper import start_reaper_thread
from worker.redis_client import connect_redis
from worker.retry import RetryPolicy
from worker.sessions import RedisStores

__all__ = ["render", "send_render", "send_check"]

log = logging.getLogger("stage.render")

#: Failures that are not the session's code: retried with backoff, then recorded. The soft
#: time limit is Celery's own signal that a render ran too long.
RETRYABLE = (InfrastructureError, SoftTimeLimitExceeded)
RETRY = RetryPolicy.from_settings(settings)

_context: WorkerContext | None = None


def context() -> WorkerContext:
    """This process's clients, created on first use (after the prefork pool forked)."""
    global _context
    if _context is None:
        _context = WorkerContext.from_settings(
            settings, send_check=send_check if settings.check else None)
    return _context


@worker_process_shutdown.connect
def _close_context(**_: Any) -> None:
    if _context is not None:
        _context.close()


def send_render(session_id: str, version: int) -> None:
    """Queue a render by name, as worker.client does."""
    send_render_message(app, settings, session_id, version)


def send_check(session_id: str, version: int) -> None:
    """Queue the boot check of a ready version on ``STAGE_CHECK_QUEUE``, by name."""
    app.send_task(CHECK_TASK_NAME, kwargs={"session_id": session_id, "version": version},
                  queue=settings.check_queue)


@worker_init.connect
def _build_vendor_chunks(**_: Any) -> None:
    # Once, in the main process before the pool forks: children read the disk cache
    # instead of each spending a second on it before their first render.
    if settings.vendor:
        bundler = bundler_from_settings(settings)
        try:
            bundler.load_vendor()
        finally:
            bundler.close()


@worker_ready.connect
def _start_main_process_services(sender: Any = None, **_: Any) -> None:
    # In the worker's main process, which outlives its pool children.
    start_reaper_thread(RedisStores.connect(settings), send_render,
                        node=str(getattr(sender, "hostname", "worker")))
    if settings.metrics_port:
        serve_metrics(settings.metrics_port, connect_redis(settings.effective_broker_url),
                      settings.queue)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: Any) -> None:
    if settings.log_format == "json":
        logs.use_json(logger)


@app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
def render(self: Task, session_id: Any = None, version: Any = None, *args: Any,
           **extra: Any) -> None:
    """Render ``version`` of ``session_id``. The version was assigned by ``render()``."""
    if (args or extra or not isinstance(session_id, str)
            or not SESSION_ID_PATTERN.fullmatch(session_id)
            or not isinstance(version, int) or isinstance(version, bool) or version < 1):
        # Extra positional arguments too: a TypeError would only reach Celery's own log.
        unexpected = sorted(extra) + ([f"{len(args)} more positional"] if args else [])
        log.error("render rejected: malformed message session_id=%r version=%r extra=%r "
                  "(expected kwargs session_id: str, version: int >= 1)",
                  session_id, version, unexpected)
        return
    ctx = context()
    logs.task_id.set(self.request.id)
    try:
        run_job(ctx, session_id, version)
    except RETRYABLE as exc:
        attempts = self.request.retries + 1
        reason = f"{type(exc).__name__}: {exc}"
        if RETRY.exhausted(attempts):
            log.error("render session=%s version=%s outcome=failed kind=infrastructure "
                      "attempts=%d reason=%s", session_id, version, attempts, reason)
            record_failure(ctx.redis.records, session_id, version,
                           f"gave up after {attempts} attempts: {reason}")
            return
        delay = RETRY.delay_s(attempts)
        observe_retry()
        log.warning("render session=%s version=%s outcome=retry attempt=%d in=%.1fs reason=%s",
                    session_id, version, attempts, delay, reason)
        raise self.retry(exc=exc, countdown=delay, max_retries=RETRY.max_retries) from exc
    except Exception as exc:  # a bug here must end the render, not leave it building
        log.exception("render session=%s version=%s outcome=failed kind=infrastructure "
                      "reason=internal error", session_id, version)
        record_failure(ctx.redis.records, session_id, version,
                       f"internal error: {type(exc).__name__}: {exc}")
