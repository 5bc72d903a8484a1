"""Redis restarted under a running worker, and S3 outages (docs/guarantees.md, 6 and 7).
Real worker processes, a Redis server of the test's own, S3 over HTTP through a TCP proxy."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import time
from datetime import datetime

import boto3
import pytest
from services import wait_for
from stage_samples import HELLO

from worker.errors import InfrastructureError
from worker.state.connection import connect_redis
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

NO_REAPER = {"STAGE_REAP_INTERVAL_S": "0"}
BACKOFF_S, BACKOFF_MAX_S = 0.4, 3.0
RETRY_LINE = re.compile(
    r"\[(?P<at>[\d-]+ [\d:,]+): WARNING/[^\]]*\] render session=(?P<sid>\w+) "
    r"version=(?P<version>\d+) outcome=retry attempt=(?P<attempt>\d+) "
    r"in=(?P<delay>[\d.]+)s"
)


def retries(log: str, session_id: str) -> list[tuple[datetime, int, float]]:
    """(logged at, attempt, delay) of every retry the worker logged for the session."""
    return [
        (datetime.strptime(m["at"], "%Y-%m-%d %H:%M:%S,%f"), int(m["attempt"]), float(m["delay"]))
        for m in RETRY_LINE.finditer(log)
        if m["sid"] == session_id
    ]


def stored_keys(s3, bucket: str, prefix: str) -> set[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {obj["Key"][len(prefix) :] for obj in listed}


@pytest.fixture
def s3(s3_endpoint):
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    yield client
    client.close()


def outage_env(proxy, retries_allowed: int) -> dict[str, str]:
    """The worker writes through the proxy; readers go straight to the S3 server."""
    return {
        "STAGE_S3_ENDPOINT_URL": proxy.url,
        "STAGE_RETRY_BACKOFF_S": str(BACKOFF_S),
        "STAGE_RETRY_BACKOFF_MAX_S": str(BACKOFF_MAX_S),
        "STAGE_RENDER_MAX_RETRIES": str(retries_allowed),
        **NO_REAPER,
    }


def test_worker_resumes_consuming_after_redis_restarts(namespace, own_redis, start_worker):
    ns = dataclasses.replace(namespace, redis_url=own_redis.url)  # broker and store on it
    worker = start_worker(ns, **NO_REAPER)
    with ns.client() as client:
        session = client.sessions.create(name="redis restart")
        client.sessions.push_files(session.id, HELLO)
        before = client.sessions.wait_for_render(
            session.id, client.sessions.render(session.id).version, timeout=30
        )
        assert before.status == "ready", before.error

        own_redis.stop()
        # Down long enough for the worker to notice and fail to reconnect at least once.
        wait_for(
            lambda: "Connection to broker lost" in worker.log and "Trying again in" in worker.log,
            20,
            "a failed reconnection attempt",
        )
        with pytest.raises(InfrastructureError):
            client.sessions.render(session.id)  # nothing is accepted while Redis is down
        own_redis.start()
        back = time.monotonic()
        version = client.sessions.render(session.id).version
        after = client.sessions.wait_for_render(session.id, version, timeout=45)
        ready_s = time.monotonic() - back

    print(f"\nRedis back -> render ready: {ready_s:.1f} s")
    wait_for(
        lambda: f"render session={session.id} version={version} outcome=ready" in worker.log,
        10,
        "the outcome line",
    )
    assert worker.proc.poll() is None, "the worker process exited"
    assert after.status == "ready", after.error
    assert after.version == version and version > before.version
    assert client.sessions.status(session.id).live.version == version
    # The session survived the restart (append-only file), and one process did it all.
    assert worker.log.count("Connected to redis://") >= 2


def test_s3_outage_mid_upload_retries_with_backoff_then_is_ready_with_every_object(
    namespace, start_worker, s3_proxy, s3, bucket
):
    worker = start_worker(namespace, **outage_env(s3_proxy, retries_allowed=6))
    with namespace.client() as client:
        session = client.sessions.create(name="s3 outage, recovers")
        client.sessions.push_files(session.id, HELLO)
        prefix = f"sessions/{session.id}/renders/1/"
        s3_proxy.delay_s = 0.5  # uploads crawl, so the outage starts part way through them

        def some_assets_stored() -> bool:
            names = stored_keys(s3, bucket, prefix)
            assert "index.html" not in names, "missed the window between assets and index"
            return bool(names)

        version = client.sessions.render(session.id).version
        wait_for(some_assets_stored, 30, "the first asset of the version")
        s3_proxy.down()
        s3_proxy.delay_s = 0
        partial = stored_keys(s3, bucket, prefix)
        wait_for(lambda: len(retries(worker.log, session.id)) >= 3, 30, "three retries")
        assert client.sessions.get_render(session.id, version).status != "ready"
        s3_proxy.up()
        record = client.sessions.wait_for_render(session.id, version, timeout=40)

    seen = retries(worker.log, session.id)
    print(
        f"\nretry delays (s): {[d for _, _, d in seen]}; stored before the outage: "
        f"{sorted(partial)}"
    )
    assert record.status == "ready", record.error
    assert record.attempts > 3
    assert [attempt for _, attempt, _ in seen] == list(range(1, record.attempts))
    for n, (_, _, delay) in enumerate(seen):
        ceiling = min(BACKOFF_MAX_S, BACKOFF_S * 2**n)
        # base·2^n, capped, times a random 0.5 to 1 (logged to 0.1 s).
        assert 0.5 * ceiling - 0.05 <= delay <= ceiling + 0.05, (n, delay)
    for (at, _, delay), (next_at, _, _) in itertools.pairwise(seen):
        assert (next_at - at).total_seconds() >= delay - 0.1  # the countdown was honoured
    assert "UploadError: could not upload" in worker.log
    # Ready only with every object stored: each file the manifest lists is in the bucket.
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "manifest.json")["Body"].read())
    assert {f["path"] for f in manifest["files"]} | {"manifest.json"} == stored_keys(
        s3, bucket, prefix
    )
    for path in manifest["vendor"]:
        s3.head_object(Bucket=bucket, Key=path)


def test_s3_outage_that_lasts_fails_as_infrastructure_after_bounded_attempts(
    namespace, start_worker, s3_proxy, s3, bucket
):
    max_retries = 2
    worker = start_worker(namespace, **outage_env(s3_proxy, retries_allowed=max_retries))
    store = RedisStores(connect_redis(namespace.redis_url), namespace.settings())
    with namespace.client() as client:
        session = client.sessions.create(name="s3 outage, lasts")
        client.sessions.push_files(session.id, HELLO)
        s3_proxy.down()
        version = client.sessions.render(session.id).version
        statuses: set[str] = set()

        def ended() -> bool:
            statuses.add(store.records.get(session.id, version).status)
            return bool(statuses & {"ready", "failed"})

        wait_for(ended, 40, "the render to end")
        record = store.records.get(session.id, version)
        wait_for(
            lambda: f"version={version} outcome=failed kind=infrastructure ms=" in worker.log,
            10,
            "the outcome line",
        )
        print(f"\nlasting outage: {record.error}")
        ended_log = worker.log
        # Bounded: no further attempt comes once the failure is recorded.
        s3_proxy.up()
        extra = client.sessions.wait_for_render(
            session.id, client.sessions.render(session.id).version, timeout=30
        )

    assert "ready" not in statuses
    assert record.status == "failed"
    assert record.error is not None and record.error.kind == "infrastructure"
    assert record.attempts == max_retries + 1
    assert record.error.message.startswith(f"gave up after {max_retries + 1} attempts: ")
    assert "could not" in record.error.message and bucket in record.error.message
    assert len(retries(ended_log, session.id)) == max_retries
    assert (
        ended_log.count(
            f"render session={session.id} version={version} outcome=failed "
            f"kind=infrastructure attempts={max_retries + 1}"
        )
        == 1
    )
    # Bounded: once S3 is back and the next render is done, this one was never tried again.
    assert worker.log.count(f"version={version} outcome=") == ended_log.count(
        f"version={version} outcome="
    )
    assert store.records.get(session.id, version) == record
    # The next render, once S3 is back.
    assert store.sessions.status(session.id).live.version == extra.version
    assert stored_keys(s3, bucket, f"sessions/{session.id}/renders/{version}/") == set()
