"""The messages that start work: task names, queues, the Celery app both sides share, parsing
and sending.

The contract (docs/contract.md): task ``stage.render`` on ``STAGE_QUEUE`` and
``stage.check`` on ``STAGE_CHECK_QUEUE``, JSON, keyword arguments ``session_id`` (str) and
``version`` (int ≥ 1). A message is checked once, here, when a task receives it
(:func:`parse_job`); inside, the session id and version travel as trusted values.

The transport is one Redis (the embedded default) or RabbitMQ, chosen by
``STAGE_BROKER_URL``.

Both give the same at-least-once renders: late acks, and a message requeued when its
worker is lost. They differ in how a lost worker is noticed. Redis has no consumer
acknowledgements of its own, so kombu redelivers an unacked message after the visibility
timeout. RabbitMQ acknowledges per delivery: a lost consumer's messages go back to the
queue the moment its connection closes, with no timeout to tune.

On RabbitMQ the render and check queues are durable and, by default, quorum queues
(replicated over the cluster's nodes with Raft, so they survive the loss of a node;
``STAGE_BROKER_QUEUE_TYPE=classic`` for servers older than 3.8). Messages are persistent
and publisher confirms are on, so a send returns only once the broker has the message
safely. A quorum queue cannot hold a message back, so a retry's countdown rides Celery's
native delayed delivery (exchanges and queues it declares on the broker, beside ours),
which needs each queue behind a topic exchange.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import kombu
import kombu.exceptions
import redis
from celery import Celery, bootsteps
from kombu import Exchange, Queue

from worker.errors import BrokerUnavailableError, MalformedMessage
from worker.inputs import SESSION_ID_PATTERN
from worker.settings import Settings
from worker.state.affinity import FALLBACK_SUFFIX, HOLDER_SUFFIX
from worker.state.connection import connect_redis

log = logging.getLogger("stage.messages")

__all__ = [
    "CHECK_TASK_NAME",
    "TASK_NAME",
    "Job",
    "MalformedMessage",
    "create_celery",
    "declare_queues_at_start",
    "is_amqp",
    "parse_job",
    "queue_depth_reader",
    "retry_countdown_s",
    "send_check",
    "send_render",
    "send_render_routed",
    "worker_queue",
    "transport_conf",
]

#: The contract: task name, queue (``STAGE_QUEUE``), JSON, kwargs session_id and version.
TASK_NAME = "stage.render"
#: The boot check of a ready version: queue ``STAGE_CHECK_QUEUE``, the same kwargs.
CHECK_TASK_NAME = "stage.check"


@dataclass(frozen=True)
class Job:
    """One render (or check) of one version of one session, as a valid message names it."""

    session_id: str
    version: int


def parse_job(session_id: Any, version: Any, args: tuple[Any, ...], extra: dict[str, Any]) -> Job:
    """The job a task message names, or MalformedMessage saying what was wrong.

    Extra positional or keyword arguments are malformed too: a TypeError would only reach
    Celery's own log.
    """
    if (
        args
        or extra
        or not isinstance(session_id, str)
        or not SESSION_ID_PATTERN.fullmatch(session_id)
        or not isinstance(version, int)
        or isinstance(version, bool)
        or version < 1
    ):
        unexpected = sorted(extra) + ([f"{len(args)} more positional"] if args else [])
        raise MalformedMessage(
            f"malformed message session_id={session_id!r} version={version!r} "
            f"extra={unexpected!r} (expected kwargs session_id: str, version: int >= 1)"
        )
    return Job(session_id, version)


def create_celery(settings: Settings, *, include: list[str] | None = None) -> Celery:
    """A Celery app talking to ``settings``' broker, configured for at-least-once renders."""
    app = Celery("stage", broker=settings.effective_broker_url, include=include or [])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # outcomes live on the render record in Redis
        task_default_queue=settings.queue,
        task_routes={
            TASK_NAME: {"queue": settings.queue},
            CHECK_TASK_NAME: {"queue": settings.check_queue},
        },
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
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker outlives a Redis restart
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_send_sent_event=False,
        worker_send_task_events=True,  # Flower and `celery events` see the workers
        # Redis: the visibility timeout; RabbitMQ: durable quorum queues, publisher confirms.
        **transport_conf(settings),
    )
    declare_queues_at_start(app, settings)
    return app


def _send(celery: Celery, name: str, queue: str, job: Job, what: str) -> None:
    try:
        celery.send_task(
            name, kwargs={"session_id": job.session_id, "version": job.version}, queue=queue
        )
    except (kombu.exceptions.OperationalError, redis.RedisError, OSError) as exc:
        raise BrokerUnavailableError(f"could not queue the {what}: {exc}") from exc


def send_render(celery: Celery, settings: Settings, session_id: str, version: int) -> None:
    """Send ``stage.render``. Raises BrokerUnavailableError when the broker does not take it."""
    _send(celery, TASK_NAME, settings.queue, Job(session_id, version), "render")


def worker_queue(settings: Settings, node: str) -> Queue:
    """A render worker node's own queue, ``<STAGE_QUEUE>.<node>``: renders of the sessions
    whose warm build context it holds. Declared alike by the worker and the gateway. On
    RabbitMQ it is a classic queue that expires once no worker consumed it for a minute
    (its messages have copies on the shared queue)."""
    name = f"{settings.queue}.{node}"
    if not is_amqp(settings.effective_broker_url):
        return Queue(name, Exchange(name, type="direct"), routing_key=name)
    return Queue(
        name,
        Exchange(name, type="direct", durable=True, auto_delete=True),
        routing_key=name,
        durable=True,
        queue_arguments={"x-queue-type": "classic", "x-expires": _WORKER_QUEUE_EXPIRES_MS},
    )


def send_render_routed(
    celery: Celery, settings: Settings, session_id: str, version: int, node: str
) -> None:
    """Send ``stage.render`` to ``node``'s own queue and, ``STAGE_AFFINITY_FALLBACK_S``
    later, a copy to the shared queue; whichever starts first builds it (see
    worker.state.affinity). Raises BrokerUnavailableError when the shared copy is refused."""
    pair = uuid.uuid4().hex
    kwargs = {"session_id": session_id, "version": version}
    try:  # the shared copy first: it alone is enough
        celery.send_task(
            TASK_NAME,
            kwargs=kwargs,
            queue=settings.queue,
            task_id=pair + FALLBACK_SUFFIX,
            countdown=retry_countdown_s(settings, settings.affinity_fallback_s),
        )
    except (kombu.exceptions.OperationalError, redis.RedisError, OSError) as exc:
        raise BrokerUnavailableError(f"could not queue the render: {exc}") from exc
    try:
        celery.send_task(
            TASK_NAME,
            kwargs=kwargs,
            queue=worker_queue(settings, node),
            task_id=pair + HOLDER_SUFFIX,
        )
    except (kombu.exceptions.OperationalError, redis.RedisError, OSError) as exc:
        log.warning("render not routed to %s (the shared copy stays): %s", node, exc)


def send_check(celery: Celery, settings: Settings, session_id: str, version: int) -> None:
    """Send ``stage.check`` for a ready version on ``STAGE_CHECK_QUEUE``."""
    _send(celery, CHECK_TASK_NAME, settings.check_queue, Job(session_id, version), "check")


# The transport: Redis (the default) or RabbitMQ.

AMQP_SCHEMES = ("amqp", "amqps")
_WORKER_QUEUE_EXPIRES_MS = 60_000
# kombu's Redis transport keeps one list per priority step beside the queue's own.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
_CONNECT_TIMEOUT_S = 5.0
#: Redis: a lost worker's message waits its visibility timeout plus at most this long.
MAX_RESTORE_INTERVAL_S = 10.0


def is_amqp(url: str) -> bool:
    return urlsplit(url).scheme in AMQP_SCHEMES


def retry_countdown_s(settings: Settings, delay_s: float) -> float:
    """The countdown to give a retry of ``delay_s``.

    Native delayed delivery counts whole seconds from 1 (it refuses a countdown below one
    second, and the message would be rejected, not retried): on RabbitMQ a delay is rounded
    up to whole seconds.
    """
    if is_amqp(settings.effective_broker_url):
        return float(max(1, math.ceil(delay_s)))
    return delay_s


def _restore_interval_s(settings: Settings) -> float:
    """How often a worker requeues messages whose worker was lost (their visibility timed out)."""
    return min(MAX_RESTORE_INTERVAL_S, max(1.0, settings.visibility_timeout_s / 5))


def transport_conf(settings: Settings) -> dict[str, Any]:
    """The broker-specific part of the Celery configuration."""
    if not is_amqp(settings.effective_broker_url):
        return {
            "broker_transport_options": {
                "visibility_timeout": settings.visibility_timeout_s,
                # kombu looks for messages of lost workers every interval x throttle seconds
                # (10 x 10 by default): sweep every interval, a few times per visibility timeout.
                "unacked_restore_interval": _restore_interval_s(settings),
                "unacked_restore_throttle": 1,
            }
        }
    arguments = {"x-queue-type": settings.broker_queue_type}
    return {
        "task_queues": [
            Queue(
                name,
                Exchange(name, type="topic", durable=True),
                routing_key=name,
                durable=True,
                queue_arguments=arguments,
            )
            for name in (settings.queue, settings.check_queue)
        ],
        "task_default_delivery_mode": "persistent",
        "broker_transport_options": {"confirm_publish": True},
        # A quorum queue has no global QoS; Celery then sets the prefetch per consumer.
        "worker_detect_quorum_queues": True,
    }


class _DeclareQueues(bootsteps.StartStopStep):
    """Declares every queue of the contract (exchange, queue, binding) before the worker
    consumes: delayed delivery binds each of them, and a render worker otherwise declares
    only the queue it consumes. Runs before the consumer starts (the consumer is last)."""

    def start(self, worker: Any) -> None:
        with worker.app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=None, interval_start=1, interval_step=1, interval_max=5
            )
            channel = conn.default_channel
            for queue in worker.app.amqp.queues.values():
                queue.bind(channel).declare()


def declare_queues_at_start(app: Celery, settings: Settings) -> None:
    """On RabbitMQ, have a worker of ``app`` declare every queue before it consumes."""
    if is_amqp(settings.effective_broker_url):
        app.steps["worker"].add(_DeclareQueues)


def queue_depth_reader(settings: Settings, queue: str) -> Callable[[], int]:
    """A function that counts the messages waiting in ``queue`` on the broker."""
    url = settings.effective_broker_url
    if is_amqp(url):

        def amqp_depth() -> int:
            with kombu.Connection(url, connect_timeout=_CONNECT_TIMEOUT_S) as conn:
                _, count, _ = conn.default_channel.queue_declare(queue=queue, passive=True)
                return int(count)

        return amqp_depth

    client = connect_redis(url)

    def redis_depth() -> int:
        with client.pipeline(transaction=False) as pipe:
            for suffix in _PRIORITY_SUFFIXES:
                pipe.llen(queue + suffix)
            return int(sum(pipe.execute()))

    return redis_depth
