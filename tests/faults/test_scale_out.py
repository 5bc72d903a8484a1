"""The scale-out deployment under failure: RabbitMQ as the broker, a Redis Cluster as the
store. A cluster master killed during a stream of renders, RabbitMQ restarted during one,
the broker's queues as RabbitMQ keeps them, and a retry's countdown on a quorum queue.
Real clusters started by the tests, real worker processes, S3 over HTTP (moto)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from clusters import RabbitNode, RedisClusterServers
from conftest import TcpProxy
from services import ROOT, missing, wait_for
from stage_samples import HELLO

from worker.client import StageClient
from worker.errors import BrokerUnavailableError
from worker.messages import queue_depth_reader
from worker.models import Check, RenderRecord, utc_now
from worker.render.reaper import reap_stuck
from worker.state.connection import connect_redis
from worker.state.keys import Keys
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

QUIET = {"STAGE_CHECK": "0", "STAGE_COALESCE": "0"}  # every render built, no boot checks
SESSIONS = 4
RENDERS_PER_SESSION = 5


def page(session: int, n: int) -> list[dict[str, str]]:
    return [
        {
            "path": "/app/App.tsx",
            "content": (
                f"export default function App() {{ return <h1>session {session} push {n}</h1>; }}\n"
            ),
        }
    ]


def session_key(client: StageClient, session_id: str) -> str:
    return Keys(client.settings.key_prefix).session(session_id).session


def rabbitmqctl(*args: str) -> list[list[str]]:
    """Rows of a ``rabbitmqctl list_…`` answer on the machine's broker."""
    out = subprocess.run(
        ["rabbitmqctl", "-q", "--no-table-headers", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def render_stream(
    client: StageClient,
    session_ids: list[str],
    per_session: int,
    sent: list[tuple[str, int]],
    paced_s: float = 0.0,
) -> None:
    """Push and render each session in turn, ``per_session`` times, recording what was sent.

    A send the broker refused (it was down) is sent again as a new render, as a gateway
    retrying would; the refused version is recorded failed and not counted as sent.
    """
    for n in range(per_session):
        for i, session_id in enumerate(session_ids):
            client.sessions.push_files(session_id, page(i, n))
            while True:
                try:
                    sent.append((session_id, client.sessions.render(session_id).version))
                    break
                except BrokerUnavailableError:
                    time.sleep(0.5)
            time.sleep(paced_s)


def ready_lines(logs: str) -> Counter[str]:
    """How many times each ``session=… version=…`` was logged ready."""
    return Counter(
        line.split(" outcome=")[0].split("] render ", 1)[1]
        for line in logs.splitlines()
        if "] render session=" in line and " outcome=ready" in line
    )


def assert_each_ready_once(
    client: StageClient, sent: list[tuple[str, int]], logs: Callable[[], str]
) -> list[RenderRecord]:
    records = [client.sessions.wait_for_render(s, v, timeout=120) for s, v in sent]
    assert [(r.version, r.status) for r in records if r.status != "ready"] == []
    # A render's line is written just after its record turns ready.
    wait_for(lambda: len(ready_lines(logs())) >= len(sent), 10, "every outcome line")
    ready = ready_lines(logs())
    assert all(ready[f"session={s} version={v}"] == 1 for s, v in sent), ready
    for session_id in {s for s, _ in sent}:
        newest = max(v for s, v in sent if s == session_id)
        status = client.sessions.status(session_id)
        assert status.live is not None and status.live.version == newest
        assert status.render is not None and status.render.version == newest
    return records


def test_rabbitmq_queues_are_durable_quorum_and_a_message_waits_for_a_worker(
    cluster_namespace, start_worker
):
    ns = cluster_namespace
    vhost = ns.broker_url.rsplit("/", 1)[1]
    worker = start_worker(ns, **QUIET)
    worker.stop()  # it declared both queues; now nobody consumes
    with ns.client(**QUIET) as client:
        session = client.sessions.create(name="waits in rabbitmq")
        client.sessions.push_files(session.id, HELLO)
        version = client.sessions.render(session.id).version
        depth = queue_depth_reader(ns.settings(), ns.env["STAGE_QUEUE"])()
        queues = {
            row[0]: row[1:]
            for row in rabbitmqctl("list_queues", "-p", vhost, "name", "type", "durable")
        }
        confirming = [
            row for row in rabbitmqctl("list_channels", "vhost", "confirm") if row[0] == vhost
        ]
        start_worker(ns, **QUIET)
        record = client.sessions.wait_for_render(session.id, version, timeout=60)

    assert queues[ns.env["STAGE_QUEUE"]] == ["quorum", "true"]
    assert queues[ns.env["STAGE_CHECK_QUEUE"]] == ["quorum", "true"]
    # Counted by the broker itself (rabbitmqctl's counts lag by a stats interval); this is
    # also what stage_queue_depth reports.
    assert depth == 1
    assert ["true"] in [row[1:] for row in confirming]  # the sender publishes with confirms
    assert record.status == "ready", record.error


def test_health_pings_every_cluster_master_and_rabbitmq(cluster_namespace):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli", "health"],
        env={**clean, **cluster_namespace.env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    vhost = cluster_namespace.broker_url.rsplit("/", 1)[1]
    assert "ok   redis    PING answered by redis+cluster://127.0.0.1:" in result.stdout
    assert f"; connected to amqp://***@127.0.0.1:5672/{vhost} (" in result.stdout


def test_retry_countdown_on_a_quorum_queue_comes_back_and_ends_ready(
    cluster_namespace, start_worker, s3_endpoint
):
    ns = cluster_namespace
    proxy = TcpProxy(int(s3_endpoint.rsplit(":", 1)[1]))
    try:
        proxy.down()
        worker = start_worker(
            ns,
            STAGE_S3_ENDPOINT_URL=proxy.url,
            STAGE_RETRY_BACKOFF_S="0.5",
            STAGE_RETRY_BACKOFF_MAX_S="1",
            **QUIET,
        )
        with ns.client(**QUIET) as client:
            session = client.sessions.create(name="retried on quorum")
            client.sessions.push_files(session.id, HELLO)
            version = client.sessions.render(session.id).version
            worker.wait_logged("outcome=retry attempt=2", timeout=60)
            proxy.up()
            record = client.sessions.wait_for_render(session.id, version, timeout=60)
    finally:
        proxy.close()
    assert record.status == "ready", record.error
    assert record.attempts >= 3
    assert "Native delayed delivery will not be available" not in worker.log


@pytest.mark.timeout(240)  # starts a cluster of its own and waits out an election
def test_cluster_master_killed_during_renders_every_render_ready_once(
    cluster_namespace, start_worker
):
    try:
        cluster = RedisClusterServers()
    except FileNotFoundError as exc:
        missing("Redis Cluster", str(exc))
    try:
        # A cluster of its own: the one the other tests share stays whole.
        ns = dataclasses.replace(cluster_namespace, redis_url=cluster.start())
        workers = [start_worker(ns, **QUIET) for _ in range(2)]
        with ns.client(**QUIET) as client:
            session_ids = [client.sessions.create(name=f"failover {i}").id for i in range(SESSIONS)]
            victim = cluster.master_of(session_key(client, session_ids[0]))
            sent: list[tuple[str, int]] = []
            stream = threading.Thread(
                target=render_stream, args=(client, session_ids, RENDERS_PER_SESSION, sent, 0.1)
            )
            stream.start()
            wait_for(lambda: len(sent) >= SESSIONS, 60, "the first renders to be sent")
            killed = time.monotonic()
            cluster.kill(victim)
            promoted = cluster.wait_failed_over(victim, session_key(client, session_ids[0]))
            failover_s = time.monotonic() - killed
            stream.join(180)
            assert not stream.is_alive()
            records = assert_each_ready_once(client, sent, lambda: "".join(w.log for w in workers))
        print(
            f"\nmaster :{victim} killed; :{promoted} took over in {failover_s:.1f} s; "
            f"{len(records)} renders ready, "
            f"{sum(r.attempts > 1 for r in records)} retried"
        )
        assert len(sent) == SESSIONS * RENDERS_PER_SESSION
        assert promoted != victim
    finally:
        cluster.stop()


@pytest.mark.timeout(240)  # starts a RabbitMQ node, and starts it again
def test_rabbitmq_restarted_during_renders_loses_none(cluster_namespace, start_worker):
    try:
        node = RabbitNode()
        node.start()
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        missing("a RabbitMQ node of the test's own", str(exc))
    try:
        # A broker of its own: restarting it touches nobody else's queues.
        ns = dataclasses.replace(cluster_namespace, broker_url=node.url)
        worker = start_worker(ns, concurrency=2, **QUIET)
        with ns.client(**QUIET) as client:
            session_ids = [
                client.sessions.create(name=f"broker restart {i}").id for i in range(SESSIONS)
            ]
            sent: list[tuple[str, int]] = []
            render_stream(client, session_ids, 3, sent)  # queued and in flight
            node.stop()
            wait_for(
                lambda: "Connection to broker lost" in worker.log,
                30,
                "the worker to notice the broker is gone",
            )
            node.start()
            render_stream(client, session_ids, 2, sent)  # after the restart
            records = assert_each_ready_once(client, sent, lambda: worker.log)
        print(
            f"\n{len(records)} renders across a RabbitMQ restart, all ready; "
            f"{worker.log.count('outcome=already-ready')} redelivered after their outcome "
            "and skipped"
        )
        assert len(sent) == SESSIONS * 5
    finally:
        node.remove()


@pytest.fixture
def cluster_store(cluster_namespace) -> RedisStores:
    return RedisStores(connect_redis(cluster_namespace.redis_url), cluster_namespace.settings())


def test_indexes_and_reaper_scan_work_across_cluster_slots(cluster_namespace, cluster_store):
    """The two indexes shared by every session, read and written from a cluster client."""
    store = cluster_store
    sessions = [store.sessions.create(f"index {i}").id for i in range(6)]
    for session_id in sessions:
        record = store.records.request(session_id)
        store.records.transition(
            session_id, dataclasses.replace(record, status="building", attempts=1)
        )
    assert {s for s, _ in store.building.since(time.time() + 1)} == set(sessions)
    reaped = reap_stuck(store, lambda *_: None, now=time.time() + 10_000, dry_run=True)
    assert {(r.session_id, r.action) for r in reaped} == {(s, "redriven") for s in sessions}
    # One reaper per interval: the lock is one key, in a slot of its own.
    assert store.redis.set(store.keys.reaper_lock, "a", nx=True, px=5000)
    assert not store.redis.set(store.keys.reaper_lock, "b", nx=True, px=5000)
    store.inputs.remember("hash-1", "sessions/x/renders/1/")
    assert store.inputs.folder_for("hash-1") == "sessions/x/renders/1/"


def test_check_is_stored_once_and_announced_on_a_sharded_channel(cluster_store):
    """The checker's compare-and-set (WATCH, MULTI on one slot) and the sharded event a
    waiter wakes on, on the cluster, without Chromium."""
    store = cluster_store
    session_id = store.sessions.create("checked on the cluster").id
    record = store.records.request(session_id)
    ready = dataclasses.replace(
        record,
        status="ready",
        attempts=1,
        started_at=utc_now(),
        finished_at=utc_now(),
        index_key="x/index.html",
    )
    assert store.records.transition(session_id, ready)

    def check_later() -> None:
        time.sleep(0.5)
        assert store.records.record_check(session_id, record.version, Check("passed"))

    started = time.monotonic()
    later = threading.Thread(target=check_later)
    later.start()
    checked = store.records.wait_for_check(session_id, record.version, timeout_s=10)
    woke_s = time.monotonic() - started
    later.join()
    assert checked.check is not None and checked.check.status == "passed"
    assert woke_s < 3  # the event woke it, not the 5 s re-read
    assert store.records.record_check(session_id, record.version, Check("failed")) is False
    assert store.records.get(session_id, record.version).check.status == "passed"
