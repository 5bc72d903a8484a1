"""The whole flow through worker.client, a real worker process, Redis and S3 over HTTP."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.request

import pytest
import redis
from stage_samples import BROKEN, BROKEN_COLUMN, BROKEN_LINE, HELLO, SHIFTCAL

from worker.client import StageClient
from worker.errors import InvalidInputError, RenderTimeoutError, SessionNotFoundError
from worker.models import RenderError, RenderRecord
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

SCOPE = "https://www.googleapis.com/auth/drive.readonly"


def fetch(url: str) -> tuple[bytes, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return (
            response.read(),
            response.headers["Content-Type"],
            response.headers.get("Cache-Control", ""),
        )


def test_full_example_renders_version_one_with_files_and_scopes(each_stack):
    client, _ = each_stack
    session = client.sessions.create(name="shiftcal-preview")
    client.sessions.push_files(session.id, HELLO)
    client.sessions.set_google_scopes(session.id, [SCOPE])

    ticket = client.sessions.render(session.id)
    assert (ticket.version, ticket.status) == (1, "queued")
    record = client.sessions.wait_for_render(session.id, ticket.version, timeout=60)
    assert record.status == "ready", record.error

    status = client.sessions.status(session.id)
    assert status.render is not None and status.render.version == 1
    assert status.live is not None and status.live.version == 1
    assert [f.path for f in status.files] == ["/app/App.tsx"]
    assert status.google_scopes == [SCOPE]
    assert client.sessions.read_file(session.id, "/app/App.tsx").content == HELLO[0]["content"]
    assert status.render.index_key == f"sessions/{session.id}/renders/1/index.html"
    assert status.render.url == f"{client.settings.public_base_url}/{status.render.index_key}"

    html, content_type, cache = fetch(status.render.url)
    assert content_type == "text/html; charset=utf-8"
    assert cache == "no-cache"
    assert b'"googleScopes": ["https://www.googleapis.com/auth/drive.readonly"]' in html
    assert f'"sessionId": "{session.id}"'.encode() in html


def test_manifest_lists_every_uploaded_asset_with_its_hash_and_type(stack):
    client, _ = stack
    session = client.sessions.create(name="manifest")
    client.sessions.push_files(session.id, SHIFTCAL)
    record = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert record.status == "ready", record.error

    base = record.url.rsplit("/", 1)[0]
    manifest = json.loads(fetch(f"{base}/manifest.json")[0])
    assert manifest["version"] == 1 and manifest["inputHash"] == record.input_hash
    assert manifest["entry"] == "/app/App.tsx"
    by_path = {f["path"]: f for f in manifest["files"]}
    assert set(manifest["scripts"]) | set(manifest["styles"]) | {"index.html"} <= set(by_path)
    for path, entry in by_path.items():
        body, content_type, cache = fetch(f"{base}/{path}")
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], path
        assert content_type == entry["contentType"], path
        if path.startswith("assets/"):
            assert cache == "public, max-age=31536000, immutable"
    assert by_path[manifest["scripts"][0]]["contentType"] == "text/javascript; charset=utf-8"
    assert by_path[manifest["styles"][0]]["contentType"] == "text/css; charset=utf-8"


def test_syntax_error_fails_with_location_and_previous_version_stays_live(stack):
    client, _ = stack
    session = client.sessions.create(name="broken later")
    client.sessions.push_files(session.id, HELLO)
    good = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert good.status == "ready"

    client.sessions.push_files(session.id, BROKEN)
    bad = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)

    assert bad.status == "failed" and bad.version == 2
    assert bad.error is not None and bad.error.kind == "build"
    assert bad.attempts == 1  # build errors are never retried
    [diagnostic] = bad.error.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == (
        "/app/App.tsx",
        BROKEN_LINE,
        BROKEN_COLUMN,
    )
    assert diagnostic.line_text == "  return <h1>{greeting world}</h1>;"
    assert diagnostic.message == 'Expected "}" but found "world"'
    status = client.sessions.status(session.id)
    assert status.render is not None and status.render.version == 2
    assert status.live is not None and status.live.version == 1
    assert status.to_dict()["render"]["error"]["diagnostics"][0]["lineText"] == (
        diagnostic.line_text
    )


def test_versions_are_assigned_at_render_time_and_live_is_the_newest_ready(stack):
    client, _ = stack
    session = client.sessions.create(name="versions")
    client.sessions.push_files(session.id, HELLO)
    tickets = [client.sessions.render(session.id) for _ in range(3)]
    assert [t.version for t in tickets] == [1, 2, 3]
    records = [client.sessions.wait_for_render(session.id, t.version) for t in tickets]
    # Older renders still queued behind a newer one may be superseded, never the newest.
    assert {r.status for r in records[:2]} <= {"ready", "superseded"}
    assert records[2].status == "ready"
    assert client.sessions.status(session.id).live.version == 3


def test_without_coalescing_every_render_is_built(namespace, start_worker):
    start_worker(namespace, STAGE_COALESCE="0")
    with namespace.client() as client:
        session = client.sessions.create(name="versions")
        client.sessions.push_files(session.id, HELLO)
        tickets = [client.sessions.render(session.id) for _ in range(3)]
        records = [client.sessions.wait_for_render(session.id, t.version) for t in tickets]
    assert [r.status for r in records] == ["ready"] * 3
    assert len({r.input_hash for r in records}) == 1  # same files, same input hash


def test_record_carries_timings_for_every_stage(stack):
    client, _ = stack
    session = client.sessions.create(name="timings")
    client.sessions.push_files(session.id, HELLO)
    record = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert set(record.timings_ms) == {
        "record",
        "gather",
        "bundle",
        "css",
        "shell",
        "upload",
        "total",
    }
    assert all(value >= 0 for value in record.timings_ms.values())
    stages = sum(v for k, v in record.timings_ms.items() if k != "total")
    assert stages <= record.timings_ms["total"]


def test_push_with_one_bad_file_stores_nothing(stack):
    client, _ = stack
    session = client.sessions.create(name="all or nothing")
    with pytest.raises(InvalidInputError, match=r'"/app/\.\./secret\.ts": paths may not contain'):
        client.sessions.push_files(
            session.id,
            [
                {"path": "/app/App.tsx", "content": "export default () => null;"},
                {"path": "/app/../secret.ts", "content": "x"},
            ],
        )
    assert client.sessions.status(session.id).files == []


def test_session_limits_are_checked_against_files_already_stored(namespace):
    with namespace.client(STAGE_MAX_FILES="2") as client:
        session = client.sessions.create(name="limits")
        client.sessions.push_files(
            session.id, [{"path": "/a.ts", "content": "1"}, {"path": "/b.ts", "content": "2"}]
        )
        with pytest.raises(
            InvalidInputError,
            match=r"3 files, more than the limit "
            r"STAGE_MAX_FILES=2",
        ):
            client.sessions.push_files(session.id, [{"path": "/c.ts", "content": "3"}])
        client.sessions.push_files(session.id, [{"path": "/a.ts", "content": "replaced"}])
        assert client.sessions.read_file(session.id, "/a.ts").content == "replaced"
        assert [f.path for f in client.sessions.status(session.id).files] == ["/a.ts", "/b.ts"]


def test_unknown_session_is_a_lookup_error(namespace):
    with namespace.client() as client:
        for call in (
            client.sessions.status,
            client.sessions.render,
            lambda sid: client.sessions.push_files(sid, HELLO),
            lambda sid: client.sessions.set_google_scopes(sid, [SCOPE]),
        ):
            with pytest.raises(SessionNotFoundError) as caught:
                call("0123456789abcdef")
            assert isinstance(caught.value, LookupError)


def test_message_for_a_version_never_requested_records_nothing(stack):
    client, worker = stack
    session = client.sessions.create(name="poison")
    client.sessions.push_files(session.id, HELLO)
    client._celery.send_task(
        "stage.render", kwargs={"session_id": session.id, "version": 7}, queue=client.settings.queue
    )
    client._celery.send_task("stage.render", kwargs={"session": "x"}, queue=client.settings.queue)
    # The next real render is processed after both poison messages (one worker, FIFO).
    record = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert record.version == 1 and record.status == "ready"
    assert f"session={session.id} version=7 outcome=unknown-render" in worker.log
    assert "render rejected: malformed message" in worker.log
    assert client.sessions.status(session.id).render.version == 1


def test_same_message_twice_leaves_one_unchanged_record(stack):
    client, worker = stack
    session = client.sessions.create(name="twice")
    client.sessions.push_files(session.id, HELLO)
    first = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    client._celery.send_task(
        "stage.render", kwargs={"session_id": session.id, "version": 1}, queue=client.settings.queue
    )
    second_ticket = client.sessions.render(session.id)
    client.sessions.wait_for_render(session.id, second_ticket.version)
    # The second render goes to the worker's own queue (it holds the session's warm
    # context), which it may take before the duplicate on the shared queue.
    worker.wait_logged(f"session={session.id} version=1 outcome=already-ready")
    assert client.sessions.get_render(session.id, 1) == first


class CountingRedis(redis.Redis):
    """A real client that counts record reads and subscriptions (given to StageClient)."""

    reads = 0
    subscriptions = 0

    def hget(self, name, key):  # type: ignore[no-untyped-def, override]
        self.reads += 1
        return super().hget(name, key)

    def pubsub(self, **kwargs):  # type: ignore[no-untyped-def, override]
        self.subscriptions += 1
        return super().pubsub(**kwargs)


def test_waiting_subscribes_once_and_wakes_on_its_own_outcome(namespace):
    # No worker: the render stays queued. A waiter sleeps on the events channel with one
    # subscription, instead of re-subscribing and re-reading the record every second.
    counting = CountingRedis.from_url(namespace.redis_url)
    with StageClient(namespace.settings(), redis_client=counting) as client:
        session = client.sessions.create(name="waiting")
        client.sessions.push_files(session.id, HELLO)
        version = client.sessions.render(session.id).version
        counting.reads = counting.subscriptions = 0
        started = time.monotonic()
        with pytest.raises(RenderTimeoutError):
            client.sessions.wait_for_render(session.id, version, timeout=2.5)
        assert time.monotonic() - started >= 2.5
        assert (counting.subscriptions, counting.reads) == (1, 1)

        # Another version's outcome on the channel does not wake this waiter; its own
        # outcome does, at once.
        other = client.sessions.render(session.id).version
        stores = RedisStores(counting, namespace.settings())
        outcome: list[RenderRecord] = []
        waiter = threading.Thread(
            target=lambda: outcome.append(
                client.sessions.wait_for_render(session.id, version, timeout=4)
            )
        )
        counting.reads = 0
        waiter.start()
        time.sleep(0.3)
        counting.publish(stores.keys.session(session.id).events, str(other))
        waiter.join(0.5)
        assert waiter.is_alive() and counting.reads == 1
        failed = stores.records.get(session.id, version).failed(
            RenderError("infrastructure", "stored by the test")
        )
        assert stores.records.transition(session.id, failed)
        waiter.join(1.0)
        assert not waiter.is_alive()
        assert outcome == [failed]
