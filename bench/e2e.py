"""The worker end to end, through ``worker.client``: latency of one render, and throughput.

Latency is the wall time from ``sessions.render()`` to ``wait_for_render()`` returning a
``ready`` record. Before each render App.tsx gets a new start literal (pushed, untimed),
so neither the dedupe cache nor a coalesced render can answer for it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bench.gen_apps import BenchApp
from bench.services import BenchError
from worker.client import StageClient
from worker.models import RenderRecord

__all__ = ["Sample", "latency", "prepare", "render_all"]

RENDER_TIMEOUT_S = 120.0  # a 1,000-module render takes well under a second; this is a hang
_variants = itertools.count(1)  # every render in a run gets content no earlier one had


@dataclass(frozen=True)
class Sample:
    """One render as the gateway saw it, with the worker's own stage timings."""

    e2e_ms: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    queued_ms: float = 0.0  # requestedAt → startedAt: waiting for a worker to pick it up


def latency(
    client: StageClient,
    app: BenchApp,
    renders: int,
    warmup: int,
    between: Callable[[dict[str, str]], None] | None = None,
) -> list[Sample]:
    """``renders`` renders of ``app`` one after another, after ``warmup`` uncounted ones.

    ``between`` is called after each counted render with its files (untimed here): the
    side-by-side references of :class:`bench.baselines.SideBySide`."""
    session = client.sessions.create(name=f"bench {app.name}")
    client.sessions.push_files(session.id, _payload(app.files))
    samples = []
    for index in range(warmup + renders):
        files = app.variant(next(_variants))
        app_tsx = files[app.app_file]
        client.sessions.push_files(session.id, [{"path": app.app_file, "content": app_tsx}])
        started = time.perf_counter()
        ticket = client.sessions.render(session.id)
        record = client.sessions.wait_for_render(session.id, ticket.version, RENDER_TIMEOUT_S)
        e2e_ms = (time.perf_counter() - started) * 1000
        _check_ready(record, app)
        if index >= warmup:
            samples.append(Sample(e2e_ms, dict(record.timings_ms), _queued_ms(record)))
            if between is not None:
                between(files)
    return samples


def prepare(client: StageClient, app: BenchApp, renders: int) -> list[str]:
    """``renders`` sessions, each holding its own variant of ``app``, not rendered yet.

    One render per session, so coalescing never supersedes any: each one is built.
    """
    sessions = []
    for _ in range(renders):
        session = client.sessions.create(name=f"bench throughput {app.name}")
        client.sessions.push_files(session.id, _payload(app.variant(next(_variants))))
        sessions.append(session.id)
    return sessions


def render_all(client: StageClient, app: BenchApp, sessions: list[str]) -> float:
    """Ask for a render of every session at once; seconds until the last one is ready."""
    started = time.perf_counter()
    tickets = [(sid, client.sessions.render(sid).version) for sid in sessions]
    for sid, version in tickets:
        _check_ready(client.sessions.wait_for_render(sid, version, RENDER_TIMEOUT_S), app)
    return time.perf_counter() - started


def _payload(files: dict[str, str]) -> list[dict[str, str]]:
    return [{"path": path, "content": text} for path, text in files.items()]


def _check_ready(record: RenderRecord, app: BenchApp) -> None:
    # A failed or superseded render measures nothing: stop rather than count it.
    if record.status != "ready":
        detail = record.error.message if record.error else ""
        raise BenchError(f"{app.name}: render {record.version} ended {record.status} {detail}")


def _queued_ms(record: RenderRecord) -> float:
    if not record.started_at:
        return 0.0
    requested = datetime.fromisoformat(record.requested_at.replace("Z", "+00:00"))
    started = datetime.fromisoformat(record.started_at.replace("Z", "+00:00"))
    return (started - requested).total_seconds() * 1000
