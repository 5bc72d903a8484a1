"""What the two Celery process kinds share: settings, the app, one context per pool process,
and the same hooks.

``stage-render worker`` (:mod:`worker.render.tasks`) and ``stage-render checker``
(:mod:`worker.check.tasks`) each build one :class:`TaskProcess` at import: it reads and
validates the ``STAGE_*`` settings once, creates the Celery app, and connects the hooks
both need — the pool process's context is created on its first task (after the prefork
pool forked) and closed when the process shuts down, log lines follow ``STAGE_LOG_FORMAT``,
and the main process serves metrics on ``STAGE_METRICS_PORT``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_process_shutdown,
    worker_ready,
)

from worker import logs
from worker.errors import StoreUnavailableError
from worker.messages import create_celery, queue_depth_reader
from worker.metrics import serve_metrics
from worker.settings import Settings
from worker.state.connection import redis_errors
from worker.state.stores import RedisStores
from worker.storage import ArtifactStore, store_from_settings

__all__ = ["ProcessContext", "TaskProcess", "start_periodic_thread"]


@dataclass
class ProcessContext:
    """The clients one pool process uses for every task: Redis and the artifact store."""

    settings: Settings
    redis: RedisStores
    store: ArtifactStore

    @staticmethod
    def clients(settings: Settings) -> tuple[RedisStores, ArtifactStore]:
        """Redis stores and the artifact store, created once per process."""
        return RedisStores.connect(settings), store_from_settings(settings)

    def close(self) -> None:
        self.redis.close()


C = TypeVar("C", bound=ProcessContext)


class TaskProcess(Generic[C]):
    """One kind of Celery process: its settings, app, per-process context and hooks.

    ``queue`` is the queue this kind consumes (its depth is served with the metrics);
    ``on_ready`` runs in the main process once the worker is ready.
    """

    def __init__(
        self,
        module: str,
        queue: Callable[[Settings], str],
        make_context: Callable[[Settings], C],
        on_ready: Callable[[Any], None] | None = None,
    ) -> None:
        self.settings = Settings.from_env()
        self.app = create_celery(self.settings, include=[module])
        self.queue = queue(self.settings)
        self._make_context = make_context
        self._on_ready = on_ready
        self._context: C | None = None
        # weak=False: the bound methods would otherwise be collected with nothing holding them.
        worker_process_shutdown.connect(self._close, weak=False)
        worker_ready.connect(self._ready, weak=False)
        after_setup_logger.connect(self._log_format, weak=False)
        after_setup_task_logger.connect(self._log_format, weak=False)

    def context(self) -> C:
        """This process's context, created on first use (after the prefork pool forked)."""
        if self._context is None:
            self._context = self._make_context(self.settings)
        return self._context

    def _close(self, **_: Any) -> None:
        if self._context is not None:
            self._context.close()

    def _ready(self, sender: Any = None, **_: Any) -> None:
        # In the worker's main process, which outlives its pool children.
        if getattr(sender, "app", self.app) is not self.app:
            return  # the other kind's worker, started in this interpreter (tests)
        if self._on_ready is not None:
            self._on_ready(sender)
        if self.settings.metrics_port:
            serve_metrics(
                self.settings.metrics_port,
                queue_depth_reader(self.settings, self.queue),
                self.queue,
            )

    def _log_format(self, logger: logging.Logger, **_: Any) -> None:
        if self.settings.log_format == "json":
            logs.use_json(logger)


def start_periodic_thread(
    stores: RedisStores,
    *,
    name: str,
    lock_key: str,
    interval_s: float,
    node: str,
    work: Callable[[], object],
    log: logging.Logger,
) -> threading.Thread | None:
    """Run ``work`` every ``interval_s`` in a daemon thread of this process (0: never), on
    one node of all that run it per interval: a Redis lock that expires by itself, which
    nobody releases. A round that fails is logged; the thread outlives it."""
    if interval_s <= 0:
        return None

    def loop() -> None:
        while True:
            time.sleep(interval_s)
            try:
                with redis_errors():
                    acting = stores.redis.set(lock_key, node, nx=True, px=int(interval_s * 1000))
                if acting:
                    work()
            except StoreUnavailableError as exc:
                log.warning("%s skipped a round: %s", name, exc)
            except Exception:  # the thread must outlive one bad round
                log.exception("%s round failed", name)

    thread = threading.Thread(target=loop, name=f"stage-{name}", daemon=True)
    thread.start()
    return thread
