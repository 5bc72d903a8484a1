"""The worker re-checks what a session holds: a gateway that stores what the input rules
forbid (a raw ``HSET``, no validation) gets a **build** error that names the path and the
rule, from a real worker process: never ``infrastructure``, never retried, never ``ready``.
A correct push through the client then mends the session."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from stage_samples import HELLO

from worker.client import StageClient

pytestmark = pytest.mark.integration

CODE = b"export const x = 1;\n"

FORBIDDEN_PATHS = {
    "dot-dot": ("/app/../x.tsx", 'paths may not contain ".."'),
    "dot": ("/app/./x.tsx", 'paths may not contain "."'),
    "empty segment": ("/app//x.tsx", "empty segments"),
    "trailing slash": ("/app/lib/", "empty segments"),
    "relative": ("app/x.tsx", "paths must be absolute"),
    "percent": ("/app/a%2e.ts", "paths may not contain '%'"),
    "backslash": ("/app\\x.tsx", "paths may not contain '\\\\'"),
    "control": ("/app/x\x07.tsx", "control or invisible characters (found U+0007)"),
    "newline": ("/app/x\n.tsx", "control or invisible characters (found U+000A)"),
    "zero width": ("/app/x\u200b.tsx", "control or invisible characters (found U+200B)"),
    "bidi override": ("/app/\u202egpj.tsx", "control or invisible characters (found U+202E)"),
    "not NFC": ("/app/e\u0301.tsx", "Unicode NFC form"),
    "npm package": ("/node_modules/react/index.js", "may not contain node_modules"),
    "nested node_modules": ("/app/node_modules/zod/index.js", "may not contain node_modules"),
    "over-long": ("/app/" + "a" * 300 + ".tsx", "longer than the limit STAGE_MAX_PATH_LENGTH=256"),
}


@pytest.fixture(scope="module")
def stack(contract_stack) -> Iterator[tuple[StageClient, redis.Redis]]:
    """A client and a raw connection, over the shared worker (each test its own session)."""
    raw = redis.Redis.from_url(contract_stack.redis_url)
    with contract_stack.client() as client:
        yield client, raw
    raw.close()


def files_key(client: StageClient, session_id: str) -> str:
    return client.settings.key_prefix + f"session:{{{session_id}}}:files"


def render_after(
    client: StageClient, raw: redis.Redis, field: bytes | str, value: bytes = CODE
) -> tuple[str, dict]:
    session = client.sessions.create("stored by a careless gateway")
    client.sessions.push_files(session.id, HELLO)
    raw.hset(files_key(client, session.id), field, value)  # what no client would store
    ticket = client.sessions.render(session.id)
    record = client.sessions.wait_for_render(session.id, ticket.version, timeout=60)
    return session.id, record.to_dict()


@pytest.mark.parametrize("path, rule", list(FORBIDDEN_PATHS.values()), ids=list(FORBIDDEN_PATHS))
def test_a_stored_forbidden_path_fails_the_render_as_a_build_error_naming_it(stack, path, rule):
    client, raw = stack
    _, record = render_after(client, raw, path.encode("utf-8"))

    assert record["status"] == "failed"
    error = record["error"]
    assert error["kind"] == "build", error
    shown = ascii(path)[1:-1]
    assert f'"{shown[:80]}' in error["message"] and rule in error["message"], error["message"]
    assert error["message"].startswith(
        "the session's stored data breaks the contract's input rules"
    )
    assert [d["file"] for d in error["diagnostics"]] == [path]
    assert record["attempts"] == 1  # never retried
    assert record["url"].endswith("/index.html")  # the error page says why, as for any build


def test_a_stored_path_that_is_not_utf8_is_a_build_error(stack):
    client, raw = stack
    session_id, record = render_after(client, raw, b"/app/\xff.tsx")
    assert record["error"]["kind"] == "build"
    assert "/app/\\xff.tsx" in [f.path for f in client.sessions.status(session_id).files]
    assert '"/app/\\xff.tsx": paths must be UTF-8 text' in record["error"]["message"]


def test_a_stored_file_that_is_also_a_folder_is_a_build_error(stack):
    client, raw = stack
    _, record = render_after(client, raw, "/app/App.tsx/x.ts")
    assert record["error"]["kind"] == "build"
    assert (
        '"/app/App.tsx/x.ts": "/app/App.tsx" is a file, so it cannot also be a folder'
        in record["error"]["message"]
    )


@pytest.mark.parametrize(
    "field, value, rule",
    [
        ("name", "tab\x00name", "name: may not contain control characters"),
        ("googleScopes", "not json", "googleScopes is not a JSON array"),
        ("googleScopes", json.dumps(["http://example.com/scope"]), "is not an https:// URL"),
    ],
)
def test_a_stored_name_or_scope_that_breaks_the_rules_is_a_build_error(stack, field, value, rule):
    client, raw = stack
    session = client.sessions.create("fine so far")
    client.sessions.push_files(session.id, HELLO)
    raw.hset(client.settings.key_prefix + f"session:{{{session.id}}}", field, value)
    ticket = client.sessions.render(session.id)
    record = client.sessions.wait_for_render(session.id, ticket.version, timeout=60)
    assert record.status == "failed" and record.error is not None
    assert record.error.kind == "build" and rule in record.error.message, record.error


def test_a_correct_push_mends_the_session(stack):
    client, raw = stack
    session_id, record = render_after(client, raw, "/node_modules/react/index.js")
    assert record["error"]["kind"] == "build"

    client.sessions.push_files(session_id, HELLO)  # the gateway, fixed, pushes again
    assert [f.path for f in client.sessions.status(session_id).files] == ["/app/App.tsx"]
    ticket = client.sessions.render(session_id)
    mended = client.sessions.wait_for_render(session_id, ticket.version, timeout=60)
    assert mended.status == "ready", mended.error
