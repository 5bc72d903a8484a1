"""Workers killed mid-render (docs/guarantees.md, 1, 2 and 4): nothing is lost, nothing is
half-published. Real worker processes, real Redis, S3 over HTTP (moto)."""

from __future__ import annotations

import hashlib
import json
import signal
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from conftest import TcpProxy, children, kill
from services import wait_for
from stage_samples import HELLO, SHIFTCAL

from worker.models import RenderRecord
from worker.state.connection import connect_redis
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

# Build < soft < hard < visibility, all small, so a whole lost worker is noticed in seconds.
SMALL_LIMITS = {
    "STAGE_BUILD_TIMEOUT_S": "3",
    "STAGE_SOFT_TIME_LIMIT_S": "4",
    "STAGE_HARD_TIME_LIMIT_S": "5",
    "STAGE_VISIBILITY_TIMEOUT_S": "6",
}
NO_REAPER = {"STAGE_REAP_INTERVAL_S": "0"}  # only the broker may bring the message back


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def assert_published(record: RenderRecord) -> dict[str, Any]:
    """Every file the manifest lists is served with the sha256 the manifest gives."""
    assert record.url is not None
    base = record.url.rsplit("/", 1)[0]
    manifest = json.loads(fetch(f"{base}/manifest.json"))
    assert manifest["status"] == "ready" and manifest["inputHash"] == record.input_hash
    assert {f["path"] for f in manifest["files"]} >= {"index.html", *manifest["scripts"]}
    for entry in manifest["files"]:
        body = fetch(f"{base}/{entry['path']}")
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["path"]
    return dict(manifest)


def assert_one_ready_record(store: RedisStores, session_id: str, version: int) -> RenderRecord:
    keys = store.keys.session(session_id)
    assert store.redis.hkeys(keys.renders) == [str(version).encode()]
    assert store.redis.get(keys.version) == str(version).encode()
    record = store.records.get(session_id, version)
    assert record.status == "ready", record.error
    assert store.sessions.status(session_id).live.version == version
    assert store.redis.zscore(store.keys.building, f"{session_id}:{version}") is None
    return record


def wait_status(
    store: RedisStores, session_id: str, version: int, status: str, timeout: float
) -> None:
    wait_for(
        lambda: store.records.get(session_id, version).status == status,
        timeout,
        f"render {version} to be {status}",
    )


def process_tree(pid: int) -> list[int]:
    tree = [pid]
    for child in children(pid):
        tree += process_tree(child)
    return tree


@pytest.fixture
def store(namespace) -> RedisStores:
    return RedisStores(connect_redis(namespace.redis_url), namespace.settings())


@pytest.fixture
def each_store(each_namespace) -> RedisStores:
    return RedisStores(connect_redis(each_namespace.redis_url), each_namespace.settings())


def test_killed_pool_child_render_completes_once(
    each_namespace, start_worker, slow_esbuild, each_store
):
    namespace, store = each_namespace, each_store
    worker = start_worker(namespace, STAGE_ESBUILD_BINARY=slow_esbuild(3), **NO_REAPER)
    with namespace.client() as client:
        session = client.sessions.create(name="killed child")
        client.sessions.push_files(session.id, HELLO)
        version = client.sessions.render(session.id).version
        # esbuild starts 3 s late in every new pool child: the render is reliably mid-build.
        wait_status(store, session.id, version, "building", 20)
        [child] = children(worker.proc.pid)
        kill(child, signal.SIGKILL)
        record = client.sessions.wait_for_render(session.id, version, timeout=45)

    assert record.status == "ready", record.error
    assert record.attempts == 2
    assert child not in children(worker.proc.pid)
    assert_one_ready_record(store, session.id, version)
    assert_published(record)
    log = worker.wait_logged(f"render session={session.id} version={version} outcome=ready")
    assert "WorkerLostError" in log and "signal 9 (SIGKILL)" in log
    assert log.count(f"render session={session.id} version={version} outcome=ready") == 1


def test_killed_worker_render_is_redelivered_to_another_worker(
    each_namespace, start_worker, slow_esbuild, each_store
):
    namespace, store = each_namespace, each_store
    first = start_worker(
        namespace, STAGE_ESBUILD_BINARY=slow_esbuild(2), **SMALL_LIMITS, **NO_REAPER
    )
    visibility_s = float(SMALL_LIMITS["STAGE_VISIBILITY_TIMEOUT_S"])
    with namespace.client() as client:
        session = client.sessions.create(name="killed worker")
        client.sessions.push_files(session.id, HELLO)
        sent = time.monotonic()
        version = client.sessions.render(session.id).version
        wait_status(store, session.id, version, "building", 20)
        # The host is gone: the main process, its pool and their esbuild, all at once.
        tree = process_tree(first.proc.pid)
        for pid in tree:
            kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        first.proc.wait(10)
        second = start_worker(namespace, **SMALL_LIMITS, **NO_REAPER)
        taking = time.monotonic()
        record = client.sessions.wait_for_render(session.id, version, timeout=40)
        ready = time.monotonic()

    print(
        f"\nkill -> ready {ready - killed:.1f} s (sent -> ready {ready - sent:.1f} s, "
        f"visibility timeout {visibility_s:g} s)"
    )
    assert record.status == "ready", record.error
    assert record.attempts == 2
    if namespace.broker_url:
        # RabbitMQ requeues a lost consumer's messages when its connection closes: the
        # render is redelivered as soon as a worker is there to take it, no timeout waited.
        assert ready - taking < visibility_s - 2
    else:
        # Not before the message's visibility timeout ran out, and not long after it.
        assert ready - sent >= visibility_s
        assert visibility_s - 3 <= ready - killed <= visibility_s + 20
    assert_one_ready_record(store, session.id, version)
    assert_published(record)
    assert f"render session={session.id} version={version} outcome=ready" not in first.log
    second.wait_logged(f"render session={session.id} version={version} outcome=ready")


def test_crash_during_upload_never_publishes_a_partial_version(
    namespace, start_worker, store, s3_endpoint, bucket
):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    proxy = TcpProxy(int(s3_endpoint.rsplit(":", 1)[1]))
    try:
        # The worker uploads through the proxy; readers fetch straight from the S3 server.
        worker = start_worker(namespace, STAGE_S3_ENDPOINT_URL=proxy.url, **NO_REAPER)
        with namespace.client() as client:
            session = client.sessions.create(name="crash in upload")
            client.sessions.push_files(session.id, HELLO)
            first = client.sessions.wait_for_render(
                session.id, client.sessions.render(session.id).version, timeout=45
            )
            assert first.status == "ready", first.error
            client.sessions.push_files(session.id, SHIFTCAL)
            proxy.delay_s = 0.8  # uploads crawl: each chunk the worker sends waits 0.8 s
            version = client.sessions.render(session.id).version
            prefix = f"sessions/{session.id}/renders/{version}/"
            [child] = children(worker.proc.pid)

            def some_assets_uploaded() -> bool:
                listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
                names = {obj["Key"][len(prefix) :] for obj in listed}
                assert "index.html" not in names, "missed the window between assets and index"
                return bool(names)

            wait_for(some_assets_uploaded, 30, "the first asset of the new version")
            kill(child, signal.SIGKILL)
            proxy.down()  # the crash also cuts every request the proxy still holds
            names = {
                obj["Key"][len(prefix) :]
                for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            }
            crashed = store.records.get(session.id, version)
            live = getattr(store.sessions.status(session.id).live, "version", None)
            proxy.delay_s = 0
            proxy.up()
            assert names and not names & {"index.html", "manifest.json"}
            assert crashed.status == "building"
            assert live == first.version
            with pytest.raises(urllib.error.HTTPError) as missing:
                fetch(f"{namespace.env['STAGE_PUBLIC_BASE_URL']}/{prefix}index.html")
            missing.value.close()
            assert missing.value.code == 404

            record = client.sessions.wait_for_render(session.id, version, timeout=50)
    finally:
        proxy.close()
        s3.close()

    assert record.status == "ready", record.error
    assert record.attempts == 2
    assert store.sessions.status(session.id).live.version == version
    manifest = assert_published(record)
    stored = {
        obj["Key"][len(prefix) :]
        for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    }
    assert stored == {f["path"] for f in manifest["files"]} | {"manifest.json"}
    assert "WorkerLostError" in worker.log
