"""The same render run twice at once, a deploy's SIGTERM, and renders left in ``building``
(docs/guarantees.md, 3 and 9). Real worker processes, real Redis, S3 over HTTP (moto)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from conftest import kill
from services import wait_for
from stage_samples import HELLO

from worker.messages import TASK_NAME
from worker.models import RenderRecord, utc_now
from worker.state.connection import connect_redis
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NO_REAPER = {"STAGE_REAP_INTERVAL_S": "0"}
#: How a run of a render ends in its worker's log: it stored the outcome, or another run had.
OUTCOMES = ("ready", "another-run-finished-first", "already-ready")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def assert_published(record: RenderRecord) -> None:
    """Every file the manifest lists is served with the sha256 the manifest gives."""
    assert record.url is not None
    base = record.url.rsplit("/", 1)[0]
    manifest = json.loads(fetch(f"{base}/manifest.json"))
    assert manifest["status"] == "ready" and manifest["inputHash"] == record.input_hash
    assert {f["path"] for f in manifest["files"]} >= {"index.html", *manifest["scripts"]}
    for entry in manifest["files"]:
        body = fetch(f"{base}/{entry['path']}")
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["path"]


def new_session(client, name: str) -> str:
    session = client.sessions.create(name=name)
    client.sessions.push_files(session.id, HELLO)
    return session.id


def stuck_render(store: RedisStores, session_id: str, attempts: int, since: float) -> int:
    """A render left in ``building`` since ``since`` by a worker that is gone: no message."""
    queued = store.records.request(session_id)
    building = dataclasses.replace(
        queued, status="building", started_at=utc_now(), attempts=attempts
    )
    assert store.records.transition(session_id, building)
    store.building.mark(session_id, queued.version, at=since)
    return queued.version


def reap(namespace) -> str:
    """``stage-render reap`` as an operator or a cron job runs it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
    done = subprocess.run(
        [sys.executable, "-m", "worker.cli", "reap"],
        cwd=ROOT,
        env={**clean, **namespace.env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


@pytest.fixture
def store(namespace) -> RedisStores:
    return RedisStores(connect_redis(namespace.redis_url), namespace.settings())


def test_same_render_twice_at_once_stores_one_version(
    namespace, start_worker, slow_esbuild, store, s3_endpoint, bucket
):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    # Every PUT is kept, so the two runs' uploads can be compared afterwards.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    slow = slow_esbuild(3)
    workers = [start_worker(namespace, STAGE_ESBUILD_BINARY=slow, **NO_REAPER) for _ in range(2)]
    with namespace.client() as client:
        session_id = new_session(client, "twice")
        version = client.sessions.render(session_id).version
        wait_for(
            lambda: store.records.get(session_id, version).status == "building",
            20,
            "the first run to start",
        )
        # A duplicate delivery of the same job, taken by the other (idle) worker.
        client._celery.send_task(
            TASK_NAME,
            kwargs={"session_id": session_id, "version": version},
            queue=namespace.env["STAGE_QUEUE"],
        )
        record = client.sessions.wait_for_render(session_id, version, timeout=40)

    def outcomes() -> list[str]:
        line = f" session={session_id} version={version} outcome="
        return sorted(
            o
            for w in workers
            for o in OUTCOMES
            if f"{line}{o}\n" in w.log or f"{line}{o} " in w.log
        )

    wait_for(lambda: len(outcomes()) == 2, 30, "both runs to end")
    print(f"\nthe two runs ended: {outcomes()}")
    assert record.status == "ready", record.error
    # Both ran (the second started while the first was building); one stored the outcome.
    assert outcomes() == ["another-run-finished-first", "ready"]
    keys = store.keys.session(session_id)
    assert store.redis.hkeys(keys.renders) == [str(version).encode()]
    assert store.redis.get(keys.version) == str(version).encode()
    assert store.records.get(session_id, version) == record
    assert store.sessions.status(session_id).live.version == version
    assert_published(record)

    folder = f"sessions/{session_id}/renders/{version}/"
    listed = s3.list_object_versions(Bucket=bucket, Prefix=f"sessions/{session_id}/")
    uploads: dict[str, list[bytes]] = {}
    for v in listed["Versions"]:
        body = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"]
        uploads.setdefault(v["Key"].removeprefix(folder), []).append(body.read())
    s3.close()
    manifests = [json.loads(m) for m in uploads.pop("manifest.json")]
    assert len(manifests) == 2 and all(len(bodies) == 2 for bodies in uploads.values())
    assert {f["path"] for f in manifests[0]["files"]} == set(uploads)
    # Both runs uploaded byte-identical files; only the manifests' createdAt differ.
    assert all(first == second for first, second in uploads.values())
    for manifest in manifests:
        del manifest["createdAt"]
    assert manifests[0] == manifests[1]


def test_sigterm_lets_the_in_flight_render_finish(namespace, start_worker, slow_esbuild, store):
    worker = start_worker(namespace, STAGE_ESBUILD_BINARY=slow_esbuild(3), **NO_REAPER)
    with namespace.client() as client:
        session_id = new_session(client, "deploy")
        version = client.sessions.render(session_id).version
        wait_for(
            lambda: store.records.get(session_id, version).status == "building",
            20,
            "the render to start",
        )
        kill(worker.proc.pid, signal.SIGTERM)
        later = client.sessions.render(session_id).version  # sent during the deploy
        assert worker.proc.wait(40) == 0
        record = store.records.get(session_id, version)
        assert store.records.get(session_id, later).status == "queued"
        successor = start_worker(namespace, **NO_REAPER)
        assert client.sessions.wait_for_render(session_id, later, timeout=30).status == "ready"

    assert record.status == "ready", record.error
    assert record.attempts == 1
    assert store.sessions.status(session_id).live.version == later
    assert store.redis.zcard(store.keys.building) == 0
    assert_published(record)
    log = worker.log  # the worker has exited: its log is complete
    assert "Warm shutdown" in log
    assert log.index("Warm shutdown") < log.index(f"version={version} outcome=ready")
    successor.wait_logged(f"version={later} outcome=ready")


def test_sigquit_requeues_a_render_longer_than_the_soft_shutdown(
    namespace, start_worker, slow_esbuild, store
):
    worker = start_worker(
        namespace,
        STAGE_ESBUILD_BINARY=slow_esbuild(4),
        STAGE_SOFT_SHUTDOWN_TIMEOUT_S="1",
        **NO_REAPER,
    )
    with namespace.client() as client:
        session_id = new_session(client, "slow deploy")
        version = client.sessions.render(session_id).version
        wait_for(
            lambda: store.records.get(session_id, version).status == "building",
            20,
            "the render to start",
        )
        kill(worker.proc.pid, signal.SIGQUIT)  # a cold shutdown, softened
        worker.proc.wait(30)
        assert store.records.get(session_id, version).status == "building"  # not finished
        successor = start_worker(namespace, **NO_REAPER)
        record = client.sessions.wait_for_render(session_id, version, timeout=40)
    assert record.status == "ready" and record.attempts == 2
    successor.wait_logged(f"version={version} outcome=ready")
    assert f"version={version} outcome=ready" not in worker.log


def test_reap_redrives_a_stuck_render_and_fails_an_exhausted_one(namespace, start_worker, store):
    start_worker(namespace, **NO_REAPER)
    allowed = namespace.settings().render_max_retries + 1
    long_ago = time.time() - namespace.settings().visibility_timeout_s - 60
    with namespace.client() as client:
        stuck_id = new_session(client, "stuck")
        stuck = stuck_render(store, stuck_id, attempts=1, since=long_ago)
        spent_id = new_session(client, "spent")
        spent = stuck_render(store, spent_id, attempts=allowed, since=long_ago)
        fresh_id = new_session(client, "fresh")  # building, but not for long: left alone
        fresh = stuck_render(store, fresh_id, attempts=1, since=time.time())

        output = reap(namespace)
        redriven = client.sessions.wait_for_render(stuck_id, stuck, timeout=30)

    assert f"{stuck_id} version {stuck}: redriven" in output
    assert f"{spent_id} version {spent}: failed" in output
    assert fresh_id not in output
    assert redriven.status == "ready", redriven.error
    assert redriven.attempts == 2
    assert store.sessions.status(stuck_id).live.version == stuck
    assert_published(redriven)
    failed = store.records.get(spent_id, spent)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.kind == "infrastructure"
    assert failed.error.message == f"gave up after {allowed} attempts: stuck in building"
    assert store.sessions.status(spent_id).live is None
    assert store.records.get(fresh_id, fresh).status == "building"
    assert store.building.since(time.time()) == [(fresh_id, fresh)]


def test_reaper_thread_redrives_a_stuck_render_on_its_own(namespace, start_worker, store):
    limits = {
        "STAGE_BUILD_TIMEOUT_S": "3",
        "STAGE_SOFT_TIME_LIMIT_S": "4",
        "STAGE_HARD_TIME_LIMIT_S": "5",
        "STAGE_VISIBILITY_TIMEOUT_S": "6",
    }
    worker = start_worker(namespace, STAGE_REAP_INTERVAL_S="1", **limits)
    visibility_s = float(limits["STAGE_VISIBILITY_TIMEOUT_S"])
    with namespace.client() as client:
        session_id = new_session(client, "reaped")
        stuck_at = time.time()
        version = stuck_render(store, session_id, attempts=1, since=stuck_at)
        record = client.sessions.wait_for_render(session_id, version, timeout=30)
        ended = time.time()

    print(
        f"\nstuck -> ready {ended - stuck_at:.1f} s (visibility timeout {visibility_s:g} s, "
        f"reap interval 1 s)"
    )
    assert record.status == "ready", record.error
    assert record.attempts == 2
    # Not before it had been building for a whole visibility timeout, and soon after.
    assert visibility_s <= ended - stuck_at <= visibility_s + 15
    assert store.redis.zcard(store.keys.building) == 0
    assert_published(record)
    assert (
        f"render session={session_id} version={version} outcome=stuck-building "
        "attempts=1 action=redriven"
    ) in worker.log
