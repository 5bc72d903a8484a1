"""Deletion and collection racing the work they remove, made to happen at exact moments.

The render and the check run in this process against real Redis and S3 over HTTP (moto's
server); the artifact store they get is the real one, handed a hook (a constructor
argument) that deletes the session at the moment named. Two collectors run at once as two
hosts would: their own Redis client and store each.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence

import boto3
import pytest
import redis
from stage_samples import HELLO

from worker import cli
from worker.client.publishing import AppStore
from worker.lifecycle.collector import GcReport, collect
from worker.lifecycle.retention import Lifecycle
from worker.lifecycle.shared import SharedIndex
from worker.models import RenderRecord
from worker.render.job import WorkerContext, run_job
from worker.render.pipeline import bundler_from_settings
from worker.state.stores import RedisStores
from worker.storage import ArtifactStore, StoredObject, store_from_settings

pytestmark = pytest.mark.integration

QUIET = {"STAGE_CHECK": "false", "STAGE_GC_INTERVAL_S": "0"}


class HookedStore:
    """The real store; ``hook`` runs once, before (or after) the first put of a key
    ending in ``trigger``."""

    def __init__(
        self, store: ArtifactStore, trigger: str, hook: Callable[[], None], *, after: bool = False
    ) -> None:
        self.store = store
        self.prefix = store.prefix
        self.trigger = trigger
        self.hook = hook
        self.after = after
        self._fired = threading.Lock()

    def put_many(self, objects: Sequence[StoredObject]) -> None:
        fire = any(o.key.endswith(self.trigger) for o in objects) and self._fired.acquire(
            blocking=False
        )
        if fire and not self.after:
            self.hook()
        self.store.put_many(objects)
        if fire and self.after:
            self.hook()

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def bucket_keys(ns, prefix: str = "") -> list[str]:
    s3 = boto3.client("s3", endpoint_url=ns.s3_endpoint)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=ns.bucket, Prefix=prefix)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


def session_keys(ns, session_id: str) -> list[bytes]:
    client = redis.Redis.from_url(ns.redis_url)
    try:
        return list(client.scan_iter(match=f"{ns.env['STAGE_KEY_PREFIX']}*{session_id}*"))
    finally:
        client.close()


@pytest.fixture
def stack(namespace):
    """A client, and the stores and bundler a worker process would have, in this process."""
    settings = namespace.settings(**QUIET)
    stores = RedisStores.connect(settings)
    bundler = bundler_from_settings(settings)
    with namespace.client(**QUIET) as client:
        yield client, stores, store_from_settings(settings), bundler
    bundler.close()
    stores.close()


@pytest.mark.parametrize(
    "moment", ["before-the-page-is-uploaded", "after-the-uploads-before-the-record"]
)
def test_a_session_deleted_during_its_render_gets_nothing_written_back(namespace, stack, moment):
    client, stores, store, bundler = stack
    session = client.sessions.create(name="race")
    client.sessions.push_files(session.id, HELLO)
    version = stores.records.request(session.id).version  # the message is ours to run
    hooked = HookedStore(
        store,
        "index.html",
        lambda: client.sessions.delete(session.id),
        after=moment.startswith("after"),
    )
    ctx = WorkerContext(stores.settings, stores, hooked, bundler)

    assert run_job(ctx, session.id, version) is None

    assert bucket_keys(namespace, f"sessions/{session.id}/") == []
    assert session_keys(namespace, session.id) == []
    assert stores.redis.hlen(stores.keys.inputs) == 0
    assert stores.redis.zscore(stores.keys.gc_due, session.id) is None


@pytest.mark.browser
def test_a_session_deleted_during_its_check_gets_no_check_and_no_pictures(namespace, stack):
    from worker.check.boot import BootChecker
    from worker.check.browser import Chromium
    from worker.check.tasks import CheckerContext, run_boot_check

    client, stores, store, bundler = stack
    session = client.sessions.create(name="race")
    client.sessions.push_files(session.id, HELLO)
    version = stores.records.request(session.id).version
    ready = run_job(WorkerContext(stores.settings, stores, store, bundler), session.id, version)
    assert ready is not None and ready.status == "ready"
    # The session goes just as the checker stores its first picture.
    hooked = HookedStore(store, ".png", lambda: client.sessions.delete(session.id))
    outcome: list[object] = []

    def check_once() -> None:
        # A thread of its own: the sync API allows one Playwright per thread, and other
        # modules may hold the session's browser in the main thread.
        checker = BootChecker(
            Chromium(stores.settings.chromium_path), hooked, stores.settings.check_timeout_s
        )
        ctx = CheckerContext(stores.settings, stores, hooked, checker)
        try:
            outcome.append(run_boot_check(ctx, session.id, version))
        finally:
            checker.close()

    thread = threading.Thread(target=check_once, name="check-under-test")
    thread.start()
    thread.join(60)
    assert outcome == [None]

    assert bucket_keys(namespace, f"sessions/{session.id}/") == []
    assert session_keys(namespace, session.id) == []


def _ready_version(
    stores: RedisStores, store: ArtifactStore, session_id: str, files: int
) -> RenderRecord:
    """A ready version with ``files`` objects in its folder, written as a render would."""
    record = stores.records.request(session_id)
    folder = f"sessions/{session_id}/renders/{record.version}/"
    store.put_many(
        [
            StoredObject(f"{folder}file-{n}.js", b"x" * (100 + n), "text/javascript")
            for n in range(files - 1)
        ]
        + [StoredObject(folder + "index.html", b"<html>", "text/html")]
    )
    building = record.started()
    stores.records.transition(session_id, building)
    ready = building.finished(index_key=folder + "index.html", url="u", input_hash="h")
    assert stores.records.transition(session_id, ready)
    return ready


def test_two_collectors_at_once_delete_each_object_once_and_keep_what_is_kept(namespace):
    settings = namespace.settings(STAGE_KEEP_RENDERS="2", **QUIET)
    stores, store = RedisStores.connect(settings), store_from_settings(settings)
    lifecycle = Lifecycle(stores)
    kept = []
    for _ in range(4):  # 8 renders each: 1-6 expire, 7 and 8 (live) stay
        session = stores.sessions.create("busy")
        for version in range(1, 9):
            _ready_version(stores, store, session.id, files=5)
            if version > 6:
                kept += [
                    k for k in bucket_keys(namespace, f"sessions/{session.id}/renders/{version}/")
                ]
        lifecycle.mark_due(session.id, time.time())
    for _ in range(2):  # last active 40 days ago: deleted whole
        session = stores.sessions.create("idle")
        _ready_version(stores, store, session.id, files=5)
        old = time.time() - 40 * 86400
        stores.redis.hset(stores.keys.session(session.id).session, "activeAt", int(old))
        stores.activity.touch(session.id, old)
    assert len(bucket_keys(namespace)) == 4 * 8 * 5 + 2 * 5

    start = threading.Barrier(2)
    reports: list[GcReport] = []

    def host() -> None:
        own_stores = RedisStores.connect(settings)
        own_store = store_from_settings(settings)
        start.wait(10)
        reports.append(collect(own_stores, own_store))
        own_stores.close()

    hosts = [threading.Thread(target=host) for _ in range(2)]
    for thread in hosts:
        thread.start()
    for thread in hosts:
        thread.join(60)

    assert len(reports) == 2
    assert sum(r.objects_deleted for r in reports) == 4 * 6 * 5 + 2 * 5
    assert sum(r.versions_expired for r in reports) == 4 * 6
    assert sum(r.sessions_expired for r in reports) == 2
    assert bucket_keys(namespace) == sorted(kept)
    assert collect(stores, store).objects_deleted == 0  # and nothing was left over
    stores.close()


def test_a_version_being_published_is_not_expired(namespace):
    settings = namespace.settings(STAGE_KEEP_RENDERS="1", **QUIET)
    stores, store = RedisStores.connect(settings), store_from_settings(settings)
    lifecycle = Lifecycle(stores)
    session = stores.sessions.create("pinned")
    for _ in range(3):
        _ready_version(stores, store, session.id, files=2)
    until = time.time() + 60
    assert lifecycle.pin(session.id, 1, until)

    assert [r.version for r in lifecycle.expire(session.id, keep=1, now=time.time())] == [2]
    lifecycle.unpin(session.id, 1, until)
    assert [r.version for r in lifecycle.expire(session.id, keep=1, now=time.time())] == [1]
    assert not lifecycle.pin(session.id, 1, until)  # expired: a publish of it is refused
    stores.close()


def test_gc_dry_run_prints_what_it_would_delete_and_deletes_nothing(namespace, monkeypatch, capsys):
    settings = namespace.settings(STAGE_KEEP_RENDERS="1", **QUIET)
    stores, store = RedisStores.connect(settings), store_from_settings(settings)
    session = stores.sessions.create("dry")
    for _ in range(3):
        _ready_version(stores, store, session.id, files=3)
    Lifecycle(stores).mark_due(session.id, time.time())
    before = bucket_keys(namespace)
    for name, value in {**namespace.env, "STAGE_KEEP_RENDERS": "1"}.items():
        monkeypatch.setenv(name, value)

    assert cli.main(["gc", "--dry-run"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"would expire {session.id} version 1: 3 objects, 207 bytes",
        f"would expire {session.id} version 2: 3 objects, 207 bytes",
        "gc versions_expired=0 sessions_expired=0 sessions_swept=0 shared_deleted=0 "
        "objects_deleted=6 "
        "bytes_deleted=414 busy=0 dry_run=true",
    ]
    assert bucket_keys(namespace) == before
    assert stores.records.get(session.id, 1).status == "ready"
    stores.close()


def _ready_page(
    stores: RedisStores, store: ArtifactStore, session_id: str, shared: list[str], used_at: float
) -> RenderRecord:
    """A ready version whose page loads ``shared``, recorded as the job records it."""
    record = stores.records.request(session_id)
    folder = f"sessions/{session_id}/renders/{record.version}/"
    manifest = {"files": [{"path": "index.html"}], "overlay": shared[0], "vendor": shared[1:]}
    store.put_many(
        [
            StoredObject(folder + "index.html", b"<html>", "text/html"),
            StoredObject(
                folder + "manifest.json", json.dumps(manifest).encode(), "application/json"
            ),
        ]
    )
    building = record.started()
    stores.records.transition(session_id, building)
    ready = building.finished(index_key=folder + "index.html", url="u", input_hash=None)
    assert stores.records.transition(session_id, ready)
    SharedIndex(stores).use(session_id, record.version, shared, used_at)
    return ready


def test_vendor_sets_and_overlays_nothing_loads_are_collected_and_the_rest_kept(namespace):
    settings = namespace.settings(STAGE_KEEP_RENDERS="1", **QUIET)
    stores, store = RedisStores.connect(settings), store_from_settings(settings)
    old, now = time.time() - 40 * 86400, time.time()
    shared = [
        "vendor/stage/overlay-old.js",
        "vendor/stage/overlay-new.js",
        "vendor/oldlock/react-1.js",
        "vendor/oldlock/ui-2.js",
        "vendor/pubset/react-3.js",
        "vendor/newlock/react-4.js",
        "vendor/legacy/react-5.js",
    ]
    store.put_many([StoredObject(k, b"chunk", "text/javascript") for k in shared])
    a = stores.sessions.create("a")
    _ready_page(
        stores, store, a.id, ["vendor/stage/overlay-old.js", "vendor/oldlock/react-1.js"], old
    )
    _ready_page(
        stores, store, a.id, ["vendor/stage/overlay-new.js", "vendor/newlock/react-4.js"], now
    )
    c = stores.sessions.create("c")
    _ready_page(
        stores, store, c.id, ["vendor/stage/overlay-old.js", "vendor/pubset/react-3.js"], old
    )
    AppStore(stores, store).publish(c.id, name="kept", author="user@the-shift.dev")
    _ready_page(
        stores, store, c.id, ["vendor/stage/overlay-new.js", "vendor/newlock/react-4.js"], now
    )
    for session in (a, c):
        Lifecycle(stores).mark_due(session.id, now)

    report = collect(stores, store)

    assert report.versions_expired == 2  # version 1 of each: nothing ready loads oldlock now
    assert report.shared_deleted == 1
    assert bucket_keys(namespace, "vendor/") == sorted(
        k for k in shared if not k.startswith("vendor/oldlock/")
    )
    stores.close()


def test_a_session_a_gateway_left_out_of_the_index_still_expires(namespace):
    settings = namespace.settings(STAGE_GC_BATCH="1000", **QUIET)
    stores, store = RedisStores.connect(settings), store_from_settings(settings)
    # Written as a gateway in another language might: the session hash alone, 40 days old.
    session_id = "gateway-made-session"
    stores.redis.hset(
        stores.keys.session(session_id).session,
        mapping={"name": "legacy", "createdAt": "2020-01-01T00:00:00.000Z", "googleScopes": "[]"},
    )
    store.put_many(
        [StoredObject(f"sessions/{session_id}/renders/1/index.html", b"<html>", "text/html")]
    )

    for _ in range(1000):  # the index is filled a SCAN step per run, over the shared Redis
        collect(stores, store)
        if not stores.redis.exists(stores.keys.session(session_id).session):
            break

    assert bucket_keys(namespace, f"sessions/{session_id}/") == []
    stores.close()
