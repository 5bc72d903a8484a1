"""docs/schema/ is current with the dataclasses, and every record a real flow produces
validates against it: the task message the client pushes, the render records in Redis
(queued, ready, failed, checked), status, readFile, and a publish with its app, version
and channels, as stored and as returned."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import redis
from jsonschema import Draft202012Validator
from services import ROOT
from stage_samples import BROKEN, HELLO

from worker.cli.schema_doc import schemas

pytestmark = pytest.mark.integration

SCHEMA_DIR = ROOT / "docs" / "schema"


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMA_DIR / name).read_text("utf-8")))


def valid(name: str, document: Any) -> None:
    errors = sorted(validator(name).iter_errors(document), key=str)
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_the_committed_schemas_are_generated_from_the_code():
    generated = schemas()
    committed = {p.name: json.loads(p.read_text("utf-8")) for p in SCHEMA_DIR.glob("*.json")}
    assert committed == generated, "docs/schema/ is stale: run `make docs`"
    for document in generated.values():
        Draft202012Validator.check_schema(document)


def test_a_schema_refuses_what_the_contract_forbids():
    record = {"version": 1, "status": "queued", "requestedAt": "2026-11-28T14:00:00.120Z"}
    assert list(validator("render-record.json").iter_errors(record))  # fields missing
    with_unknown = {
        "id": "s1",
        "name": "n",
        "files": [],
        "googleScopes": [],
        "render": None,
        "live": None,
        "extra": 1,
    }
    assert list(validator("session-status.json").iter_errors(with_unknown))


def test_the_task_message_the_client_sends_validates(contract_stack):
    # A queue no process consumes: the message stays where the test can read it.
    idle_queue = contract_stack.env["STAGE_QUEUE"] + ".idle"
    raw = redis.Redis.from_url(contract_stack.redis_url)
    with contract_stack.client(STAGE_QUEUE=idle_queue) as client:
        session = client.sessions.create("message")
        client.sessions.push_files(session.id, HELLO)
        queued = client.sessions.render(session.id)
        (message,) = raw.lrange(idle_queue, 0, -1)
    raw.delete(idle_queue, f"_kombu.binding.{idle_queue}")
    raw.close()
    envelope = json.loads(message)
    valid("task-message.json", envelope)
    body = json.loads(base64.b64decode(envelope["body"]))
    schema = schemas()["task-message.json"]
    Draft202012Validator({**schema["$defs"]["body"], "$defs": schema["$defs"]}).validate(body)
    assert body[1] == {"session_id": session.id, "version": queued.version}
    assert (
        envelope["headers"]["id"]
        == envelope["headers"]["root_id"]
        == envelope["properties"]["correlation_id"]
    )


def test_every_record_of_a_render_check_and_publish_flow_validates(contract_stack):
    namespace = contract_stack
    env = namespace.env
    raw = redis.Redis.from_url(namespace.redis_url)
    with namespace.client() as client:
        session = client.sessions.create("schemas")
        valid("session.json", session.to_dict())
        client.sessions.push_files(
            session.id,
            [
                *HELLO,
                {
                    "path": "/public/dot.bin",
                    "content": base64.b64encode(b"\x00\xff").decode(),
                    "encoding": "base64",
                },
            ],
        )
        client.sessions.set_google_scopes(
            session.id, ["https://www.googleapis.com/auth/drive.readonly"]
        )
        queued = client.sessions.render(session.id)
        valid("render-record.json", queued.to_dict())
        ready = client.sessions.wait_for_check(session.id, queued.version, timeout=90)
        assert ready.status == "ready" and ready.check is not None
        valid("render-record.json", ready.to_dict())
        valid("check.json", ready.check.to_dict())

        client.sessions.push_files(session.id, BROKEN)
        failed = client.sessions.render(session.id)
        failed = client.sessions.wait_for_render(session.id, failed.version, timeout=60)
        assert failed.status == "failed" and failed.error and failed.error.kind == "build"
        valid("render-record.json", failed.to_dict())

        status = client.sessions.status(session.id)
        valid("session-status.json", status.to_dict())
        valid("file-content.json", client.sessions.read_file(session.id, "/app/App.tsx").to_dict())
        valid(
            "file-content.json", client.sessions.read_file(session.id, "/public/dot.bin").to_dict()
        )
        renders = raw.hgetall(f"{env['STAGE_KEY_PREFIX']}session:{{{session.id}}}:renders")
        assert len(renders) == 2
        for stored in renders.values():
            valid("render-record.json", json.loads(stored))

        published = client.apps.publish(
            session.id, name="Schemas", author="dev@example.com", version=ready.version
        )
        valid("app.json", published.app.to_dict())
        valid("app-version.json", published.version.to_dict())
        channels = client.apps.promote(published.sid, published.app_version_sid)
        valid("channels.json", channels.to_dict())
        valid("app.json", client.apps.get(published.sid).to_dict())
        app_key = f"{env['STAGE_KEY_PREFIX']}app:{{{published.sid}}}"
        for stored in raw.hvals(f"{app_key}:versions"):
            valid("app-version.json", json.loads(stored))
        entries = raw.hgetall(f"{app_key}:channels")
        assert set(entries) == {b"preview", b"production"}
        for stored in entries.values():
            valid("channel-entry.json", json.loads(stored))
    raw.close()


def test_the_schema_folder_holds_what_the_contract_names():
    contract = (ROOT / "docs" / "contract.md").read_text("utf-8")
    for name in schemas():
        assert f"schema/{name}" in contract, name
    assert Path(SCHEMA_DIR).is_dir()
