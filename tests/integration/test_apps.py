"""Published apps and version channels through worker.client, against Redis and S3 over HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import boto3
import pytest
from stage_samples import BROKEN, HELLO

from worker.errors import (
    AppNotFoundError,
    AppVersionNotFoundError,
    InvalidInputError,
    NotFoundError,
)

pytestmark = pytest.mark.integration

AUTHOR = "user@the-shift.dev"


def page(text: str) -> list[dict[str, str]]:
    return [
        {
            "path": "/app/App.tsx",
            "content": f"export default function App() {{ return <h1>{text}</h1>; }}\n",
        }
    ]


def render(client, session_id, files):
    client.sessions.push_files(session_id, files)
    record = client.sessions.wait_for_render(session_id, client.sessions.render(session_id).version)
    return record


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def pointer(client, bucket, sid, channel):
    s3 = boto3.client("s3", endpoint_url=client.settings.s3_endpoint_url)
    body = s3.get_object(Bucket=bucket, Key=f"apps/{sid}/channels/{channel}.json")["Body"]
    return json.loads(body.read())


def publish_first(client, bucket):
    session = client.sessions.create(name="shiftcal-preview")
    assert render(client, session.id, page("first")).status == "ready"
    app = client.apps.publish(
        session.id, name="shiftcal-preview", description="Calendar smoke app", author=AUTHOR
    )
    return client, session, app, bucket


@pytest.fixture
def published(stack, bucket):
    return publish_first(stack[0], bucket)


@pytest.fixture
def published_each(each_stack, bucket):
    """An app published on each configuration in turn."""
    return publish_first(each_stack[0], bucket)


def test_publish_creates_an_app_whose_preview_points_at_the_new_version(published):
    client, session, app, bucket = published
    assert app.sid.startswith("app_") and app.app_version_sid.startswith("ver_")
    current = client.apps.get(app.sid)
    assert (current.name, current.description, current.author, current.status) == (
        "shiftcal-preview",
        "Calendar smoke app",
        AUTHOR,
        "active",
    )
    assert [v.app_version_sid for v in current.versions] == [app.app_version_sid]
    assert current.versions[0].render_version == 1
    channels = client.apps.channels(app.sid)
    assert channels.preview.app_version_sid == app.app_version_sid
    assert channels.production is None
    assert channels.to_dict()["preview"]["appVersionSid"] == app.app_version_sid
    assert channels.to_dict()["production"] is None
    version_url = current.versions[0].url
    assert f"/apps/{app.sid}/versions/{app.app_version_sid}/index.html" in version_url
    assert b"<h1>first</h1>" not in fetch(version_url)  # the text is in the script
    manifest = json.loads(fetch(version_url.rsplit("/", 1)[0] + "/manifest.json"))
    assert manifest["sessionId"] == session.id and manifest["version"] == 1
    assert pointer(client, bucket, app.sid, "preview")["appVersionSid"] == app.app_version_sid


def test_app_version_is_a_copy_that_later_renders_never_change(published):
    client, session, app, _ = published
    frozen = client.apps.get(app.sid).versions[0]
    before = fetch(frozen.url)
    manifest = json.loads(fetch(frozen.url.rsplit("/", 1)[0] + "/manifest.json"))
    assert render(client, session.id, page("second")).status == "ready"
    assert fetch(frozen.url) == before
    for entry in manifest["files"]:
        body = fetch(frozen.url.rsplit("/", 1)[0] + "/" + entry["path"])
        assert len(body) == entry["size"], entry["path"]
    assert client.apps.get(app.sid).versions == [frozen]


def test_promote_and_roll_back_move_production_without_rebuilding(published_each):
    client, session, app, bucket = published_each
    first = app.app_version_sid
    assert render(client, session.id, page("second")).status == "ready"
    second = client.apps.publish(session.id, app_sid=app.sid).app_version_sid
    assert client.apps.channels(app.sid).preview.app_version_sid == second
    assert client.apps.channels(app.sid).production is None

    channels = client.apps.promote(app.sid, second, channel="production")
    assert channels.production.app_version_sid == second
    assert pointer(client, bucket, app.sid, "production")["appVersionSid"] == second
    renders_before = client.sessions.status(session.id).render.version

    channels = client.apps.promote(app.sid, first)  # rollback
    assert channels.production.app_version_sid == first
    assert channels.production.revision == 2
    assert pointer(client, bucket, app.sid, "production")["appVersionSid"] == first
    script = json.loads(fetch(channels.production.url.rsplit("/", 1)[0] + "/manifest.json"))
    assert b"first" in fetch(channels.production.url.rsplit("/", 1)[0] + "/" + script["scripts"][0])
    assert client.sessions.status(session.id).render.version == renders_before
    assert [v.app_version_sid for v in client.apps.get(app.sid).versions] == [second, first]


def test_concurrent_promotes_leave_redis_and_the_pointer_agreeing(published):
    client, session, app, bucket = published
    versions = [app.app_version_sid]
    for text in ("b", "c", "d"):
        render(client, session.id, page(text))
        versions.append(client.apps.publish(session.id, app_sid=app.sid).app_version_sid)
    errors = []

    def promote(avsid):
        try:
            for _ in range(5):
                client.apps.promote(app.sid, avsid)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    production = client.apps.channels(app.sid).production
    stored = pointer(client, bucket, app.sid, "production")
    assert production.revision == 20
    assert (stored["appVersionSid"], stored["revision"]) == (production.app_version_sid, 20)


def test_list_is_newest_first_and_filters_by_author_and_status(published):
    client, session, app, _ = published
    other = client.apps.publish(session.id, name="second app", author="other@example.com")
    mine = client.apps.list(author=AUTHOR)
    assert [a.sid for a in mine] == [app.sid]
    everyone = [a.sid for a in client.apps.list() if a.sid in (app.sid, other.sid)]
    assert everyone == [other.sid, app.sid]


def test_archived_app_is_not_listed_active_and_its_pointers_say_archived(published):
    client, _, app, bucket = published
    archived = client.apps.update(app.sid, status="archived")
    assert archived.status == "archived"
    assert app.sid not in [a.sid for a in client.apps.list(status="active")]
    assert app.sid in [a.sid for a in client.apps.list(status="archived")]
    assert pointer(client, bucket, app.sid, "preview")["status"] == "archived"
    assert client.apps.get(app.sid).versions  # versions are kept
    with pytest.raises(InvalidInputError, match="archived"):
        client.apps.promote(app.sid, app.app_version_sid)
    client.apps.update(app.sid, status="active")
    assert pointer(client, bucket, app.sid, "preview")["status"] == "active"
    client.apps.promote(app.sid, app.app_version_sid)


def test_publishing_a_failed_or_missing_render_is_an_error(published):
    client, session, app, _ = published
    assert render(client, session.id, BROKEN).status == "failed"
    with pytest.raises(InvalidInputError, match="render 2: is failed"):
        client.apps.publish(session.id, app_sid=app.sid, version=2)
    with pytest.raises(NotFoundError):
        client.apps.publish(session.id, app_sid=app.sid, version=99)
    fresh = client.sessions.create(name="never rendered")
    client.sessions.push_files(fresh.id, HELLO)
    with pytest.raises(InvalidInputError, match="has no ready render"):
        client.apps.publish(fresh.id, name="x", author=AUTHOR)


def test_unknown_apps_versions_and_bad_fields_are_named_errors(published):
    client, session, app, _ = published
    with pytest.raises(AppNotFoundError):
        client.apps.get("app_00000000000000000000")
    with pytest.raises(AppNotFoundError):
        client.apps.channels("not-an-app")
    with pytest.raises(AppVersionNotFoundError):
        client.apps.promote(app.sid, "ver_00000000000000000000")
    with pytest.raises(InvalidInputError, match="author 'nobody': must be an e-mail"):
        client.apps.publish(session.id, name="x", author="nobody")
    with pytest.raises(InvalidInputError, match="name: must be a non-empty string"):
        client.apps.publish(session.id, name=" ", author=AUTHOR)
    with pytest.raises(InvalidInputError, match="channel 'staging'"):
        client.apps.promote(app.sid, app.app_version_sid, channel="staging")
    with pytest.raises(InvalidInputError, match="status 'deleted'"):
        client.apps.update(app.sid, status="deleted")
    assert [a.sid for a in client.apps.list(author=AUTHOR)] == [app.sid]
    with pytest.raises(urllib.error.HTTPError):
        fetch(client.apps.get(app.sid).versions[0].url.replace(app.app_version_sid, "ver_x"))
