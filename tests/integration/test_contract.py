"""docs/contract.md, followed by a gateway that is not Python: raw Redis commands and a
hand-built Celery message, no worker.client and no Celery on the sending side."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import redis
from stage_samples import HELLO

pytestmark = pytest.mark.integration


def envelope(queue: str, session_id: str, version: int) -> str:
    """The message of docs/contract.md §2, built by hand."""
    task_id = str(uuid.uuid4())
    kwargs = {"session_id": session_id, "version": version}
    body = [[], kwargs, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    return json.dumps(
        {
            "body": base64.b64encode(json.dumps(body).encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": "stage.render",
                "id": task_id,
                "root_id": task_id,
                "parent_id": None,
                "group": None,
                "retries": 0,
                "eta": None,
                "expires": None,
                "timelimit": [None, None],
                "argsrepr": "()",
                "kwargsrepr": repr(kwargs),
                "origin": "gateway-in-another-language",
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": "",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def test_gateway_writing_keys_and_pushing_the_message_gets_a_render(namespace, start_worker):
    start_worker(namespace)
    env = namespace.env
    prefix, queue = env["STAGE_KEY_PREFIX"], env["STAGE_QUEUE"]
    r = redis.Redis.from_url(namespace.redis_url)
    sid = "gw-" + uuid.uuid4().hex[:12]
    base = f"{prefix}session:{{{sid}}}"
    scope = "https://www.googleapis.com/auth/drive.readonly"

    r.hset(
        base,
        mapping={
            "name": "from another gateway",
            "createdAt": "2026-11-28T14:00:00Z",
            "googleScopes": json.dumps([scope]),
        },
    )
    r.hset(f"{base}:files", "/app/App.tsx", HELLO[0]["content"].encode())
    version = r.incr(f"{base}:version")
    queued = {"version": version, "status": "queued", "requestedAt": "2026-11-28T14:00:01Z"}
    r.hset(f"{base}:renders", str(version), json.dumps(queued))
    r.lpush(queue, envelope(queue, sid, version))

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = json.loads(r.hget(f"{base}:renders", str(version)))
        if record["status"] in ("ready", "failed"):
            break
        time.sleep(0.05)
    assert record["status"] == "ready", record
    assert record["indexKey"] == f"sessions/{sid}/renders/1/index.html"
    assert record["url"] == f"{env['STAGE_PUBLIC_BASE_URL']}/{record['indexKey']}"
    assert int(r.get(f"{base}:live")) == 1

    with namespace.client() as client:  # and the Python client reads what it wrote
        status = client.sessions.status(sid)
        assert status.live.version == 1 and status.google_scopes == [scope]
        assert status.to_dict()["files"] == [
            {"path": "/app/App.tsx", "size": len(HELLO[0]["content"])}
        ]
