"""Session affinity with real worker processes: a session's renders go to the worker that
holds its warm build context; when that worker dies, another one builds the next render
once the delayed shared copy arrives. Each render is built exactly once. On one Redis and
on RabbitMQ with a Redis Cluster."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import children
from services import WorkerProcess, wait_for

from worker.client import StageClient
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

FALLBACK_S = 3.0
ENV = {
    "STAGE_CHECK": "0",
    "STAGE_COALESCE": "0",
    "STAGE_AFFINITY_FALLBACK_S": str(FALLBACK_S),
    "STAGE_WORKER_HEARTBEAT_S": "6",
}


def files(n: int) -> list[dict[str, str]]:
    return [
        {"path": "/app/Title.tsx", "content": "export const title = 'warm';\n"},
        {
            "path": "/app/App.tsx",
            "content": (
                'import { title } from "./Title";\n'
                f"export default function App() {{ return <h1>{{title}} {n}</h1>; }}\n"
            ),
        },
    ]


def ready_in(worker: WorkerProcess, session_id: str) -> set[int]:
    """Versions of ``session_id`` this worker stored ready."""
    found = re.findall(rf"render session={session_id} version=(\d+) outcome=ready", worker.log)
    return {int(v) for v in found}


def built_by(workers: list[WorkerProcess], session_id: str, version: int) -> WorkerProcess:
    """The one worker that logged ``version`` ready (the line follows the record closely)."""
    wait_for(
        lambda: any(version in ready_in(w, session_id) for w in workers),
        10,
        f"version {version} ready in a worker log",
    )
    (worker,) = [w for w in workers if version in ready_in(w, session_id)]
    return worker


def render(client: StageClient, session_id: str, n: int, timeout: float = 30) -> int:
    client.sessions.push_files(session_id, files(n))
    record = client.sessions.render(session_id)
    done = client.sessions.wait_for_render(session_id, record.version, timeout=timeout)
    assert done.status == "ready", done
    return record.version


def kill_tree(worker: WorkerProcess) -> None:
    """SIGKILL the worker and its pool children, as a lost machine would stop them."""
    pid = worker.proc.pid
    for child in children(pid):
        os.kill(child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    worker.proc.wait(10)


def test_renders_land_on_the_holder_and_move_on_when_it_dies(
    each_namespace: Any, start_worker: Callable[..., WorkerProcess]
) -> None:
    workers = [start_worker(each_namespace, **ENV) for _ in range(2)]
    stores = RedisStores.connect(each_namespace.settings(**ENV))
    with each_namespace.client(**ENV) as client:
        session_id = client.sessions.create("warm routing").id
        first = render(client, session_id, 0)
        holder_node = stores.affinity.holder(session_id)
        holder = built_by(workers, session_id, first)
        other = next(w for w in workers if w is not holder)
        assert holder_node is not None and holder_node.startswith("test-")
        assert stores.affinity.alive(holder_node)

        versions = [render(client, session_id, n) for n in range(1, 5)]
        assert all(built_by(workers, session_id, v) is holder for v in versions)
        # Each built once: one attempt per version, and the holder's warm context was used.
        for version in [first, *versions]:
            assert stores.records.get(session_id, version).attempts == 1
        # The delayed shared copies came too, and found their render done.
        wait_for(
            lambda: (
                f"session={session_id} version={versions[-1]} outcome=already-ready"
                in holder.log + other.log
            ),
            FALLBACK_S + 10,
            "the shared copy of the last render to be skipped",
        )

        kill_tree(holder)
        started = time.monotonic()
        after = render(client, session_id, 5, timeout=FALLBACK_S + 20)
        waited = time.monotonic() - started
        assert built_by(workers, session_id, after) is other
        assert waited >= FALLBACK_S - 0.5  # it was the delayed shared copy that built it
        assert stores.records.get(session_id, after).attempts == 1
        # The survivor holds the context now: the next render goes straight to it.
        assert stores.affinity.holder(session_id) != holder_node
        started = time.monotonic()
        last = render(client, session_id, 6)
        assert built_by(workers, session_id, last) is other
        assert time.monotonic() - started < FALLBACK_S
        wait_for(lambda: not stores.affinity.alive(holder_node), 10, "heartbeat expiry")


def test_both_copies_arriving_at_once_build_the_render_once(
    each_namespace: Any, start_worker: Callable[..., WorkerProcess]
) -> None:
    env = {**ENV, "STAGE_AFFINITY_FALLBACK_S": "0"}  # the shared copy comes at once
    workers = [start_worker(each_namespace, **env) for _ in range(2)]
    stores = RedisStores.connect(each_namespace.settings(**env))
    with each_namespace.client(**env) as client:
        session_id = client.sessions.create("copies").id
        versions = [render(client, session_id, n) for n in range(6)]
        for version in versions:
            assert stores.records.get(session_id, version).attempts == 1
            built_by(workers, session_id, version)  # by one of them, not both
        logs = "".join(w.log for w in workers)
        assert "render discarded" not in logs
