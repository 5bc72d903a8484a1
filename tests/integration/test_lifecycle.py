"""What a session keeps: retention, idle expiry and deletion, with a real worker process,
real Redis and S3 over HTTP (moto's server). The collector runs in the test process with
its clock injected; the module's worker runs with its own collector off. The tests share
one namespace (and worker), so each looks only at its own sessions and apps."""

from __future__ import annotations

import json
import time
import urllib.request

import boto3
import pytest
import redis
from services import WorkerProcess, free_port, wait_for

from worker.errors import InvalidInputError, SessionNotFoundError
from worker.lifecycle.collector import collect
from worker.state.stores import RedisStores
from worker.storage import store_from_settings

pytestmark = pytest.mark.integration

AUTHOR = "user@the-shift.dev"
DAY_S = 86400.0
QUIET = {"STAGE_GC_INTERVAL_S": "0", "STAGE_CHECK": "false"}


@pytest.fixture(scope="module")
def ns(module_namespace, tmp_path_factory):
    """The module's namespace, with one worker process rendering in it."""
    worker = WorkerProcess(
        {**module_namespace.env, **QUIET}, tmp_path_factory.mktemp("lifecycle") / "worker.log"
    )
    try:
        worker.wait_ready()
        module_namespace.worker = worker
        yield module_namespace
    finally:
        worker.stop()


def page(text: str) -> list[dict[str, str]]:
    return [
        {
            "path": "/app/App.tsx",
            "content": f"export default function App() {{ return <h1>{text}</h1>; }}\n",
        }
    ]


def render(client, session_id, text):
    client.sessions.push_files(session_id, page(text))
    record = client.sessions.wait_for_render(session_id, client.sessions.render(session_id).version)
    assert record.status == "ready", record
    return record


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def keys_in_bucket(ns, prefix: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=ns.s3_endpoint)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=ns.bucket, Prefix=prefix)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


def redis_keys_of(ns, session_id: str) -> list[bytes]:
    client = redis.Redis.from_url(ns.redis_url)
    try:
        return list(client.scan_iter(match=f"{ns.env['STAGE_KEY_PREFIX']}*{session_id}*"))
    finally:
        client.close()


def run_gc(ns, now: float | None = None, **extra: str):
    settings = ns.settings(**extra)
    stores = RedisStores.connect(settings)
    try:
        return collect(
            stores,
            store_from_settings(settings),
            now=(lambda: now) if now is not None else time.time,
        )
    finally:
        stores.close()


def serves(version_url: str) -> None:
    """The page of an app version and every file its manifest lists answer over HTTP."""
    folder = version_url.rsplit("/", 1)[0]
    assert b'<div id="root">' in fetch(version_url)
    manifest = json.loads(fetch(folder + "/manifest.json"))
    for entry in manifest["files"]:
        assert len(fetch(folder + "/" + entry["path"])) == entry["size"], entry["path"]
    base = folder.rsplit("/apps/", 1)[0]
    for chunk in [manifest["overlay"], *manifest["vendor"]]:
        assert fetch(f"{base}/{chunk}")


def test_thirty_renders_keep_exactly_the_live_and_newest_five(ns):
    with ns.client(**QUIET) as client:
        session = client.sessions.create(name="retention")
        for n in range(1, 31):
            render(client, session.id, f"edit {n}")
            if n == 3:
                app = client.apps.publish(session.id, name="third", author=AUTHOR)

        report = run_gc(ns, STAGE_KEEP_RENDERS="5")

        assert report.versions_expired == 25
        listed = keys_in_bucket(ns, f"sessions/{session.id}/renders/")
        assert {int(k.split("/")[3]) for k in listed} == {26, 27, 28, 29, 30}
        assert report.objects_deleted == 25 * len(listed) // 5
        for version in range(1, 26):
            record = client.sessions.get_render(session.id, version)
            assert record.status == "expired" and record.url is None
            assert record.expired_at and "newest 5 renders" in record.expired_reason
        assert client.sessions.wait_for_render(session.id, 3, timeout=1).status == "expired"
        status = client.sessions.status(session.id)
        assert (status.render.version, status.live.version) == (30, 30)
        serves(client.apps.get(app.sid).versions[0].url)

        again = run_gc(ns, STAGE_KEEP_RENDERS="5")  # nothing left to do
        assert (again.versions_expired, again.objects_deleted) == (0, 0)


def test_idle_session_past_its_ttl_is_deleted_and_its_app_still_serves(ns):
    with ns.client(**QUIET) as client:
        session = client.sessions.create(name="idle")
        render(client, session.id, "first")
        app = client.apps.publish(session.id, name="idle", author=AUTHOR)
        client.apps.promote(app.sid, app.app_version_sid, channel="production")
        assert keys_in_bucket(ns, f"sessions/{session.id}/")

        run_gc(ns, now=time.time() + 29 * DAY_S)
        assert client.sessions.status(session.id).live.version == 1

        report = run_gc(ns, now=time.time() + 31 * DAY_S)

        assert report.sessions_expired >= 1
        with pytest.raises(SessionNotFoundError):
            client.sessions.status(session.id)
        assert redis_keys_of(ns, session.id) == []
        assert keys_in_bucket(ns, f"sessions/{session.id}/") == []
        channels = client.apps.channels(app.sid)
        serves(channels.preview.url)
        serves(channels.production.url)


def test_a_push_after_the_index_was_read_keeps_the_session(ns):
    """The idle decision is re-checked in Redis against the session's own activeAt."""
    with ns.client(**QUIET) as client:
        session = client.sessions.create(name="busy")
        old = time.time() - 40 * DAY_S
        client._redis.zadd(f"{ns.env['STAGE_KEY_PREFIX']}sessions", {session.id: old})
        run_gc(ns)
        assert client.sessions.status(session.id).name == "busy"


def test_deleting_a_session_is_idempotent_and_leaves_its_apps(ns):
    with ns.client(**QUIET) as client:
        session = client.sessions.create(name="gone")
        render(client, session.id, "page")
        app = client.apps.publish(session.id, name="kept", author=AUTHOR)

        assert client.sessions.delete(session.id) is True
        assert client.sessions.delete(session.id) is False

        with pytest.raises(SessionNotFoundError):
            client.sessions.status(session.id)
        with pytest.raises(SessionNotFoundError):
            client.sessions.render(session.id)
        assert redis_keys_of(ns, session.id) == []
        assert keys_in_bucket(ns, f"sessions/{session.id}/") == []
        serves(client.apps.get(app.sid).versions[0].url)


def test_an_app_is_deleted_only_once_archived(ns):
    with ns.client(**QUIET) as client:
        session = client.sessions.create(name="app")
        render(client, session.id, "page")
        app = client.apps.publish(session.id, name="doomed", author=AUTHOR)

        with pytest.raises(InvalidInputError, match="archive it"):
            client.apps.delete(app.sid)
        client.apps.update(app.sid, status="archived")
        client.apps.delete(app.sid)
        client.apps.delete(app.sid)  # again: nothing to do, no error

        assert keys_in_bucket(ns, f"apps/{app.sid}/") == []
        assert app.sid not in [a.sid for a in client.apps.list()]
        assert redis_keys_of(ns, app.sid) == []
        assert client.sessions.status(session.id).live.version == 1  # the session stays


def test_delete_racing_a_worker_render_leaves_nothing_either_way(ns):
    with ns.client(**QUIET) as client:
        sessions = []
        for delay_s in (0.0, 0.05, 0.1, 0.2, 0.4):
            session = client.sessions.create(name="race")
            client.sessions.push_files(session.id, page("racing"))
            client.sessions.render(session.id)
            time.sleep(delay_s)  # somewhere before, during or after the render
            client.sessions.delete(session.id)
            sessions.append(session.id)
        # Every render ended, one way or the other, before anything is looked at.
        for session_id in sessions:
            ns.worker.wait_logged(f"session={session_id}", timeout=30)
        for session_id in sessions:
            assert redis_keys_of(ns, session_id) == []
            assert keys_in_bucket(ns, f"sessions/{session_id}/") == []


def test_the_worker_collects_on_its_own_and_counts_it(namespace, start_worker):
    port = free_port()
    worker = start_worker(
        namespace,
        STAGE_GC_INTERVAL_S="1",
        STAGE_KEEP_RENDERS="1",
        STAGE_CHECK="false",
        STAGE_METRICS_PORT=str(port),
    )
    with namespace.client() as client:
        session = client.sessions.create(name="periodic")
        for n in range(3):
            render(client, session.id, f"edit {n}")

        wait_for(
            lambda: client.sessions.get_render(session.id, 2).status == "expired",
            20,
            "the worker's collector to expire versions 1 and 2",
        )
        assert client.sessions.get_render(session.id, 1).status == "expired"
        # The tombstone is written first, the objects deleted just after.
        wait_for(
            lambda: (
                {k.split("/")[3] for k in keys_in_bucket(namespace, f"sessions/{session.id}/")}
                == {"3"}
            ),
            10,
            "the expired folders to go",
        )

    def metric(name: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            lines = reply.read().decode().splitlines()
        return sum(float(line.rpartition(" ")[2]) for line in lines if line.startswith(name))

    wait_for(lambda: metric("stage_gc_versions_expired_total") == 2, 10, "the gc metrics")
    assert metric("stage_gc_objects_deleted_total") >= 2 * 4
    assert metric("stage_gc_deleted_bytes_total") > 0
    assert "gc versions_expired=" in worker.log
