"""The ``stage.render`` task and the render worker process that consumes it.

``stage-render worker`` runs a Celery worker for ``STAGE_QUEUE`` with this module's app. The
task is a thin shell: it parses the message (:func:`worker.messages.parse_job`), runs the
job (:func:`worker.render.job.run_job`) and, when the job meets an infrastructure error,
asks the one retry decision (:meth:`worker.retry.RetryPolicy.decide`) whether to try again.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import celeryd_after_setup, worker_init, worker_shutdown

from worker import logs, messages
from worker.errors import ClaimedByOtherCopy, InfrastructureError
from worker.lifecycle.collector import start_collector_thread
from worker.messages import (
    TASK_NAME,
    MalformedMessage,
    parse_job,
    retry_countdown_s,
    worker_queue,
)
from worker.metrics import observe_retry
from worker.process import TaskProcess
from worker.render.job import WorkerContext, record_failure, run_job
from worker.render.pipeline import bundler_from_settings
from worker.render.reaper import start_reaper_thread
from worker.retry import RetryPolicy
from worker.settings import Settings
from worker.state.affinity import start_heartbeat_thread
from worker.state.stores import RedisStores
from worker.storage import store_from_settings

__all__ = ["app", "render", "send_check", "send_render", "settings"]

log = logging.getLogger("stage.render")

#: Failures that are not the session's code: retried with backoff, then recorded. The soft
#: time limit is Celery's own signal that a render ran too long.
RETRYABLE = (InfrastructureError, SoftTimeLimitExceeded)


def _start_main_process_services(sender: Any) -> None:
    # In the worker's main process, which outlives its pool children.
    node = str(getattr(sender, "hostname", "worker"))
    stores = RedisStores.connect(settings)
    start_reaper_thread(stores, send_render, node=node)
    start_collector_thread(stores, store_from_settings(settings), node=node)
    start_heartbeat_thread(stores.affinity, node, settings.worker_heartbeat_s)


def _context(settings: Settings) -> WorkerContext:
    return WorkerContext.from_settings(settings, send_check=send_check if settings.check else None)


process = TaskProcess(
    "worker.render.tasks", lambda s: s.queue, _context, on_ready=_start_main_process_services
)
settings = process.settings
app = process.app
RETRY = RetryPolicy.from_settings(settings)


def send_render(session_id: str, version: int) -> None:
    """Queue a render by name, as worker.client does."""
    messages.send_render(app, settings, session_id, version)


def send_check(session_id: str, version: int) -> None:
    """Queue the boot check of a ready version on ``STAGE_CHECK_QUEUE``, by name."""
    messages.send_check(app, settings, session_id, version)


@celeryd_after_setup.connect
def _consume_own_queue(sender: Any = None, instance: Any = None, **_: Any) -> None:
    # Each render worker node also consumes <STAGE_QUEUE>.<node>: renders routed to it
    # because it holds their session's warm build context.
    if instance is not None and instance.app is app and settings.affinity:
        instance.app.amqp.queues.select_add(worker_queue(settings, str(sender)))


@worker_shutdown.connect
def _stop_heartbeat(sender: Any = None, **_: Any) -> None:
    # A worker that stops is no longer routed to (its key would otherwise live on a while).
    if getattr(sender, "app", None) is not app:
        return
    try:
        RedisStores.connect(settings).affinity.stop(str(sender.hostname))
    except Exception:  # shutting down: the key expires by itself
        log.warning("heartbeat of %s not removed", getattr(sender, "hostname", "?"))


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


@app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
def render(
    self: Task, session_id: Any = None, version: Any = None, *args: Any, **extra: Any
) -> None:
    """Render ``version`` of ``session_id``. The version was assigned by ``render()``."""
    try:
        job = parse_job(session_id, version, args, extra)
    except MalformedMessage as exc:
        log.error("render rejected: %s", exc)
        return
    ctx = process.context()
    logs.task_id.set(self.request.id)
    try:
        run_job(
            ctx, job.session_id, job.version, node=self.request.hostname, task_id=self.request.id
        )
    except ClaimedByOtherCopy as exc:
        # Looked at again once the claimer's heartbeat would have run out if it died.
        log.info(
            "render session=%s version=%s outcome=claimed-by-other-copy node=%s",
            job.session_id,
            job.version,
            exc.node,
        )
        render.apply_async(
            kwargs={"session_id": job.session_id, "version": job.version},
            task_id=self.request.id,
            queue=settings.queue,
            countdown=retry_countdown_s(settings, settings.worker_heartbeat_s),
        )
    except RETRYABLE as exc:
        attempts = self.request.retries + 1
        decision = RETRY.decide(attempts, f"{type(exc).__name__}: {exc}")
        if not decision.retry:
            log.error(
                "render session=%s version=%s outcome=failed kind=infrastructure "
                "attempts=%d reason=%s",
                job.session_id,
                job.version,
                attempts,
                decision.reason,
            )
            record_failure(ctx.redis.records, job.session_id, job.version, decision.reason)
            return
        observe_retry()
        log.warning(
            "render session=%s version=%s outcome=retry attempt=%d in=%.1fs reason=%s",
            job.session_id,
            job.version,
            attempts,
            decision.delay_s,
            decision.reason,
        )
        raise self.retry(
            exc=exc,
            countdown=retry_countdown_s(settings, decision.delay_s),
            max_retries=RETRY.max_retries,
        ) from exc
    except Exception as exc:  # a bug here must end the render, not leave it building
        log.exception(
            "render session=%s version=%s outcome=failed kind=infrastructure reason=internal error",
            job.session_id,
            job.version,
        )
        record_failure(
            ctx.redis.records,
            job.session_id,
            job.version,
            f"internal error: {type(exc).__name__}: {exc}",
        )
