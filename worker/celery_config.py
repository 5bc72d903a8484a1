"""The Celery configuration both sides share: the worker consumes it, the client sends with it."""

from __future__ import annotations

import kombu.exceptions
import redis
from celery import Celery

from worker.errors import BrokerUnavailableError
from worker.settings import Settings

__all__ = ["create_celery", "send_render_message", "TASK_NAME", "CHECK_TASK_NAME"]

#: The contract: task name, queue (``STAGE_QUEUE``), JSON, kwargs session_id and version.
TASK_NAME = "stage.render"
#: The boot check of a ready version: queue ``STAGE_CHECK_QUEUE``, the same kwargs.
CHECK_TASK_NAME = "stage.check"
#: A lost worker's message waits its visibility timeout plus at most this long.
MAX_RESTORE_INTERVAL_S = 10.0


def _restore_interval_s(settings: Settings) -> float:
    """How often a worker requeues messages whose worker was lost (their visibility timed out)."""
    return min(MAX_RESTORE_INTERVAL_S, max(1.0, settings.visibility_timeout_s / 5))


def create_celery(settings: Settings, *, include: list[str] | None = None) -> Celery:
    """A Celery app talking to ``settings``' broker, configured for at-least-once renders."""
    app = Celery("stage", broker=settings.effective_broker_url, include=include or [])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # outcomes live on the render record in Redis
        task_default_queue=settings.queue,
        task_routes={TASK_NAME: {"queue": settings.queue},
                     CHECK_TASK_NAME: {"queue": settings.check_queue}},
        # At least once: ack after the task ran; requeue when the pool child dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=settings.prefetch_multiplier,
        # SIGTERM (a deploy) is Celery's warm shutdown: running renders finish (the hard
        # time limit bounds them). SIGINT/SIGQUIT is a cold shutdown, softened: running
        # renders get this long, then their messages (acked late) go back to the queue.
        worker_soft_shutdown_timeout=settings.soft_shutdown_timeout_s,
        worker_enable_soft_shutdown_on_idle=False,  # nothing running: stop at once
        task_soft_time_limit=settings.soft_time_limit_s,
        task_time_limit=settings.hard_time_limit_s,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout_s,
            # kombu looks for messages of lost workers every interval x throttle seconds
            # (10 x 10 by default): sweep every interval, a few times per visibility timeout.
            "unacked_restore_interval": _restore_interval_s(settings),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker outlives a Redis restart
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_send_sent_event=False,
        worker_send_task_events=True,  # Flower and `celery events` see the workers
    )
    return app


def send_render_message(celery: Celery, settings: Settings, session_id: str,
                        version: int) -> None:
    """Send the contract's message. Raises BrokerUnavailableError when it is not taken."""
    try:
        celery.send_task(TASK_NAME, kwargs={"session_id": session_id, "version": version},
                         queue=settings.queue)
    except (kombu.exceptions.OperationalError, redis.RedisError) as exc:
        raise BrokerUnavailableError(f"could not queue the render: {exc}") from exc
