"""A gateway in another language: tests/gateway-node (Node.js, the `redis` npm package, the
shipped Lua files and the JSON Schemas, nothing else of the worker) runs the SDK's example
flow against a real worker process: create, scopes, push (text and binary), render, status,
readFile, the page fetched over HTTP, the boot check read. An app is then published
(publishing lives in the Python library) and the Node gateway reads its channels and
fetches the channel's page."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import unicodedata
from typing import Any

import pytest
from services import ROOT, missing

from worker.errors import InvalidInputError
from worker.inputs import validate_path
from worker.settings import Settings

pytestmark = pytest.mark.integration

GATEWAY = ROOT / "tests" / "gateway-node"


def run_node(namespace, *args: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        missing("Node.js", "install it (Debian: apt-get install nodejs)")
    if not (GATEWAY / "node_modules" / "redis").is_dir():
        missing("the Node gateway's packages", "run `make setup` (npm ci in tests/gateway-node)")
    done = subprocess.run(
        [node, "flow.mjs", *args],
        cwd=GATEWAY,
        capture_output=True,
        text=True,
        timeout=90,
        env={"PATH": "/usr/bin:/bin", **namespace.env},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_node_gateway_runs_the_sdk_flow_against_a_real_worker(contract_stack):
    namespace = contract_stack
    seen = run_node(namespace, "session")

    sid = seen["sessionId"]
    assert seen["queued"]["status"] == "queued" and seen["queued"]["version"] == 1
    record = seen["record"]
    assert record["status"] == "ready", record["error"]
    assert seen["check"]["status"] == "passed", seen["check"]
    assert record["url"] == (
        f"{namespace.env['STAGE_PUBLIC_BASE_URL']}/sessions/{sid}/renders/1/index.html"
    )
    status = seen["status"]
    assert status["render"]["version"] == 1 and status["live"]["version"] == 1
    assert [f["path"] for f in status["files"]] == ["/app/App.tsx", "/public/dot.bin"]
    assert status["files"][1]["size"] == 6  # the decoded bytes
    assert status["googleScopes"] == ["https://www.googleapis.com/auth/drive.readonly"]
    assert seen["readBack"] and seen["binaryReadBack"]
    page = seen["page"]
    assert page["status"] == 200 and page["type"].startswith("text/html")
    assert "<title>my-app</title>" in page["body"] and '<div id="root">' in page["body"]

    with namespace.client() as client:  # what the Python side sees of the Node session
        assert client.sessions.read_file(sid, "/public/dot.bin").data == bytes(
            [0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF]
        )
        published = client.apps.publish(sid, name="From Node", author="node@example.com")

    read = run_node(namespace, "channels", published.sid)

    channels = read["channels"]
    assert channels["preview"]["appVersionSid"] == published.app_version_sid
    assert channels["preview"]["revision"] == 1 and channels["production"] is None
    assert read["page"]["status"] == 200 and "<title>my-app</title>" in read["page"]["body"]


PATHS = [
    "/app/App.tsx",
    "/src/components/ui/button.tsx",
    "/public/café.png",
    "/app/a b.ts",
    "/app/../x.tsx",
    "/app/./x.tsx",
    "/app//x.tsx",
    "/app/lib/",
    "app/x.tsx",
    "/app/a%2e.ts",
    "/app\\x.tsx",
    "/app/x\x07.tsx",
    "/app/x\u200b.tsx",
    "/app/\u202egpj.tsx",
    "/app/e\u0301.tsx",
    "/node_modules/react/index.js",
    "/app/node_modules/x.js",
    "/app/ x.ts",
    "/app/x.ts\u00a0",
    "/app/x\ue000.ts",
    "/app/x\U0010ffff.ts",
    "/" + "a" * 256,
    "/" + "a" * 255,
    "/" + "é" * 128 + "/x",
    "/app/😀.tsx",
    "/app/x:y.ts",
    "/app/#x.ts",
    "/",
]


def test_the_node_gateway_applies_the_path_rules_as_the_worker_does():
    """The contract's definition, implemented in JavaScript from the doc, agrees with the
    worker on every path here and on every code point, except those assigned after
    Unicode 14.0 (the worker's database), which only the worker refuses."""
    node = shutil.which("node")
    if node is None:
        missing("Node.js", "install it (Debian: apt-get install nodejs)")
    done = subprocess.run(
        [node, "rules.mjs"],
        cwd=GATEWAY,
        input=json.dumps({"paths": PATHS}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    settings = Settings()
    for path, node_valid in zip(PATHS, seen["valid"], strict=True):
        try:
            validate_path(path, settings)
            worker_valid = True
        except InvalidInputError:
            worker_valid = False
        assert node_valid == worker_valid, ascii(path)

    bitmap = base64.b64decode(seen["forbidden"])
    categories = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
    differ = [
        cp
        for cp in range(0x110000)
        if bool(bitmap[cp >> 3] >> (cp & 7) & 1) != (unicodedata.category(chr(cp)) in categories)
    ]
    assert all(unicodedata.category(chr(cp)) == "Cn" for cp in differ), differ[:10]
    assert len(differ) < 30_000  # what Unicode 15 and later assigned (Node's ICU is newer)


def test_a_node_gateway_whose_message_is_refused_stores_the_render_as_failed(namespace):
    seen = run_node(namespace, "unsent")  # no worker: nothing could take the message anyway

    assert seen["refused"] == "Error: broker down"
    record = seen["record"]
    assert record["status"] == "failed" and record["version"] == 1
    assert record["error"]["kind"] == "infrastructure"
    assert record["error"]["message"].startswith("could not queue")
