"""Prometheus metrics of the worker, served on ``STAGE_METRICS_PORT`` when it is set.

Celery's prefork pool runs renders in child processes, so the metrics use
prometheus_client's multiprocess mode: ``stage-render worker`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before anything imports prometheus_client,
children write their values there, and the main process serves the sum.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import kombu.exceptions
import redis
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from worker.models import Check, RenderRecord

__all__ = [
    "observe_outcome",
    "observe_retry",
    "observe_cache_hits",
    "observe_check",
    "observe_gc",
    "serve_metrics",
    "MULTIPROC_ENV",
]

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Renders take tens of milliseconds to tens of seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

RENDERS = Counter(
    "stage_renders_total", "Renders that ended, by status and error kind", ["status", "error_kind"]
)
STAGE_SECONDS = Histogram(
    "stage_render_stage_seconds",
    "Time spent in each render stage (gather, bundle, shell, upload, "
    "record) and in all of them (total)",
    ["stage"],
    buckets=_BUCKETS,
)
UPLOADED_BYTES = Counter("stage_uploaded_bytes", "Bytes written to the artifact store")
CACHE_HITS = Counter(
    "stage_cache_hits_total",
    "Work a render did not redo: vendor chunks "
    "already stored, a version reused for identical inputs",
    ["cache"],
)
CHECKS = Counter(
    "stage_checks_total", "Boot checks stored, by status (passed, failed, error)", ["status"]
)
# A warm check is a few hundred milliseconds; a hung page is killed at STAGE_CHECK_TIMEOUT_S.
CHECK_SECONDS = Histogram(
    "stage_check_seconds",
    "Time one boot check took, screenshots stored",
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 20, 40),
)
RETRIES = Counter(
    "stage_render_retries_total", "Render attempts retried after an infrastructure error"
)

GC_VERSIONS = Counter("stage_gc_versions_expired_total", "Render versions retention expired")
GC_SESSIONS = Counter("stage_gc_sessions_expired_total", "Idle sessions deleted")
GC_OBJECTS = Counter("stage_gc_objects_deleted_total", "Objects the collector deleted")
GC_BYTES = Counter("stage_gc_deleted_bytes", "Bytes of the objects the collector deleted")
GC_SECONDS = Histogram(
    "stage_gc_run_seconds",
    "Time one collection run took",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)


def observe_gc(
    versions: int, sessions: int, objects: int, deleted_bytes: int, seconds: float
) -> None:
    """Count one collection run: what it expired and deleted, and how long it took."""
    GC_VERSIONS.inc(versions)
    GC_SESSIONS.inc(sessions)
    GC_OBJECTS.inc(objects)
    GC_BYTES.inc(deleted_bytes)
    GC_SECONDS.observe(seconds)


def observe_outcome(record: RenderRecord, uploaded_bytes: int = 0) -> None:
    """Count a render that ended, its stage timings and what it uploaded."""
    RENDERS.labels(record.status, record.error.kind if record.error else "").inc()
    for stage, ms in record.timings_ms.items():
        STAGE_SECONDS.labels(stage).observe(ms / 1000)
    if uploaded_bytes:
        UPLOADED_BYTES.inc(uploaded_bytes)


def observe_cache_hits(hits: dict[str, int]) -> None:
    for cache, count in hits.items():
        if count:
            CACHE_HITS.labels(cache).inc(count)


def observe_check(check: Check, seconds: float) -> None:
    """Count a stored boot check and how long it took."""
    CHECKS.labels(check.status).inc()
    CHECK_SECONDS.observe(seconds)


def observe_retry() -> None:
    RETRIES.inc()


class _QueueDepth:
    """``stage_queue_depth``: messages waiting in the render queue, read at scrape time."""

    def __init__(self, depth: Callable[[], int], queue: str) -> None:
        self.depth = depth
        self.queue = queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "stage_queue_depth", "Render messages waiting in the queue", labels=["queue"]
        )
        try:
            depth = self.depth()
        except (redis.RedisError, kombu.exceptions.KombuError, OSError) as exc:
            log.warning("queue depth unavailable: %s", exc)
            return
        family.add_metric([self.queue], depth)
        yield family


def serve_metrics(port: int, depth: Callable[[], int], queue: str) -> None:
    """Serve every process's metrics, plus the queue depth, on ``port`` (main process)."""
    if not os.environ.get(MULTIPROC_ENV):
        raise RuntimeError(f"{MULTIPROC_ENV} must be set before the worker starts")
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(_QueueDepth(depth, queue))
    start_http_server(port, registry=registry)
    log.info("metrics on :%d/metrics", port)
