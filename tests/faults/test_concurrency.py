"""Concurrent renders of one session across worker processes, and the compare-and-set that
keeps the live version moving forward only (docs/guarantees.md, 5). Real worker processes,
real Redis, S3 over HTTP (moto)."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from services import wait_for

from worker.models import RenderRecord, utc_now
from worker.state.connection import connect_redis
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

RENDERS = 50


def app_source(n: int) -> str:
    return f"export default function App() {{\n  return <h1>push {n}</h1>;\n}}\n"


@pytest.fixture
def store(namespace) -> RedisStores:
    return RedisStores(connect_redis(namespace.redis_url), namespace.settings())


def advance(store: RedisStores, session_id: str, record: RenderRecord, status: str) -> bool:
    return store.records.transition(
        session_id,
        dataclasses.replace(
            record,
            status=status,
            started_at=utc_now(),
            attempts=1,
            finished_at=utc_now() if status in ("ready", "failed") else None,
        ),
    )


# On RabbitMQ and the cluster, 30 renders with coalescing: the same race, in less time.
@pytest.mark.parametrize(
    ("each_namespace", "coalesce", "renders"),
    [
        pytest.param("single-redis", "0", RENDERS, id="single-redis-every-version-built"),
        pytest.param("single-redis", "1", RENDERS, id="single-redis-coalescing"),
        pytest.param("cluster+rabbitmq", "1", 30, id="cluster+rabbitmq-coalescing"),
    ],
    indirect=["each_namespace"],
)
def test_concurrent_renders_of_one_session_get_unique_versions_and_live_is_the_newest(
    each_namespace, start_worker, coalesce, renders
):
    namespace = each_namespace
    store = RedisStores(connect_redis(namespace.redis_url), namespace.settings())
    workers = [start_worker(namespace, STAGE_COALESCE=coalesce) for _ in range(2)]
    with namespace.client() as client:
        session = client.sessions.create(name="fifty at once")
        client.sessions.push_files(session.id, [{"path": "/app/App.tsx", "content": app_source(0)}])
        start = threading.Barrier(renders)

        def push_then_render(n: int) -> int:
            start.wait(30)
            # Pushes land between renders: each render sees some consistent file set.
            client.sessions.push_files(
                session.id, [{"path": "/app/App.tsx", "content": app_source(n)}]
            )
            return client.sessions.render(session.id).version

        began = time.monotonic()
        with ThreadPoolExecutor(renders) as pool:
            versions = list(pool.map(push_then_render, range(1, renders + 1)))
        records = [
            client.sessions.wait_for_render(session.id, v, timeout=50)
            for v in range(1, renders + 1)
        ]
        elapsed = time.monotonic() - began
        status = client.sessions.status(session.id)

    outcomes = Counter(r.status for r in records)
    print(
        f"\n{renders} concurrent renders across 2 workers (coalesce={coalesce}): "
        f"{elapsed:.1f} s wall time, {dict(outcomes)}"
    )
    assert sorted(versions) == list(range(1, renders + 1))  # unique and gap-free
    # Every version ended; with coalescing off every one was built.
    allowed = {"ready", "superseded"} if coalesce == "1" else {"ready"}
    assert set(outcomes) <= allowed, [(r.version, r.status, r.error) for r in records]
    assert records[-1].status == "ready"
    assert all(r.attempts <= 1 for r in records)
    keys = store.keys.session(session.id)
    assert sorted(int(v) for v in store.redis.hkeys(keys.renders)) == list(range(1, renders + 1))
    assert store.redis.get(keys.version) == str(renders).encode()
    assert store.sessions.status(session.id).live.version == renders
    assert status.live is not None and status.live.version == renders
    assert status.render is not None and status.render.version == renders
    assert not [
        m
        for m in store.redis.zrange(store.keys.building, 0, -1)
        if m.decode().startswith(session.id + ":")
    ]
    # Each version's outcome was stored exactly once, and both processes took part.
    lines = [
        f"render session={session.id} version={r.version} outcome={r.status} " for r in records
    ]
    wait_for(
        lambda: all(line in "".join(w.log for w in workers) for line in lines),
        10,
        "the outcome lines, which follow the stored records",
    )
    logs = [w.log for w in workers]
    for line in lines:
        assert sum(log.count(line) for log in logs) == 1, line
    assert all(f"render session={session.id} version=" in log for log in logs)


def test_late_ready_of_an_older_version_never_replaces_the_live_one(namespace, store):
    session = store.sessions.create("compare and set")
    first, second = store.records.request(session.id), store.records.request(session.id)
    assert advance(store, session.id, first, "building")
    assert advance(store, session.id, second, "building")

    assert advance(store, session.id, second, "ready")
    assert store.sessions.status(session.id).live.version == 2
    # Version 1 finishes late: its record is stored, live stays on the newer version.
    assert advance(store, session.id, first, "ready")
    assert store.records.get(session.id, 1).status == "ready"
    assert store.sessions.status(session.id).live.version == 2
    # A terminal record never changes again: a duplicate run cannot overwrite it.
    assert not advance(store, session.id, second, "failed")
    assert store.records.get(session.id, 2).status == "ready"


def test_ready_outcomes_racing_in_any_order_leave_the_highest_version_live(namespace, store):
    session = store.sessions.create("racing outcomes")
    records = [store.records.request(session.id) for _ in range(30)]
    for record in records:
        assert advance(store, session.id, record, "building")
    random.Random(4).shuffle(records)
    done = threading.Event()
    seen: list[int] = []

    def watch() -> None:
        while not done.is_set():
            seen.append(getattr(store.sessions.status(session.id).live, "version", 0))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(10) as pool:
            applied = list(pool.map(lambda r: advance(store, session.id, r, "ready"), records))
    finally:
        done.set()
        watcher.join()

    assert all(applied)
    assert store.sessions.status(session.id).live.version == 30
    assert seen == sorted(seen), "live moved backwards"
    assert {store.records.get(session.id, r.version).status for r in records} == {"ready"}
