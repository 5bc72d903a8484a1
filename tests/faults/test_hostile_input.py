"""Hostile input and what may leave the worker (docs/guarantees.md, "Input and output
safety"): limits, fuzzed paths and scopes against real Redis, escaped pages, the CSP in
Chromium, and artifacts scanned for backend code and secrets in S3 over HTTP (moto)."""

from __future__ import annotations

import base64
import json
import posixpath
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import ClassVar

import boto3
import pytest
import redis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stage_samples import HELLO

from bundler import Diagnostic, Page
from bundler.shell import DEFAULT_TITLE, csp_hash, error_html, index_html
from worker.client import StageClient
from worker.errors import InvalidInputError

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HOSTILE = [
    "</script><script>window.__pwned=1</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</title><script>1</script>",
    "<!--",
    "</style>",
    "&lt;b&gt;&amp;",
    "'; alert(1); //",
    "</pre><script>",
    "\u2028\u2029",
    "${x}`",
]
hostile_text = st.lists(
    st.sampled_from(HOSTILE) | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    max_size=4,
).map("".join)


@pytest.fixture
def namespace_state(namespace) -> Iterator[Callable[[], dict[bytes, bytes]]]:
    """Every key of the namespace with its serialised value, read when called, but the
    workers' heartbeats (rewritten by a running worker every few seconds, no session's)."""
    client = redis.Redis.from_url(namespace.redis_url)
    prefix = namespace.env["STAGE_KEY_PREFIX"]
    heartbeat = (prefix + "worker:").encode()
    yield lambda: {
        k: client.dump(k)
        for k in client.scan_iter(match=prefix + "*", count=1000)
        if not k.startswith(heartbeat)
    }
    client.close()


@pytest.fixture
def client(namespace) -> Iterator[StageClient]:
    """One client for every example of a fuzz test (each example opens its own session)."""
    with namespace.client() as opened:
        yield opened


def push(path: str, size: int, *, binary: bool = False) -> dict[str, str]:
    if binary:
        return {
            "path": path,
            "content": base64.b64encode(b"\0" * size).decode(),
            "encoding": "base64",
        }
    return {"path": path, "content": "x" * size}


LIMITS = {  # id: (setting, value, what is already stored, the request that breaks the limit)
    "files-per-session": (
        "MAX_FILES",
        3,
        [push("/app/App.tsx", 1), push("/app/a.ts", 1)],
        lambda c, s: c.sessions.push_files(s, [push("/b.ts", 1), push("/c.ts", 1)]),
        "files: the session would hold 4 files, more than the limit STAGE_MAX_FILES=3",
    ),
    "files-per-push": (
        "MAX_FILES",
        3,
        [],
        lambda c, s: c.sessions.push_files(s, [push(f"/{n}.ts", 1) for n in range(4)]),
        "files: 4 files in one push, more than the limit STAGE_MAX_FILES=3",
    ),
    "bytes-per-file": (
        "MAX_FILE_BYTES",
        100,
        [push("/app/at-limit.txt", 100)],
        lambda c, s: c.sessions.push_files(s, [push("/a.png", 101, binary=True)]),
        '"/a.png": 101 bytes, more than the limit STAGE_MAX_FILE_BYTES=100',
    ),
    "bytes-per-session": (
        "MAX_SESSION_BYTES",
        150,
        [push("/a.txt", 90), push("/a.txt", 140)],
        lambda c, s: c.sessions.push_files(s, [push("/b.txt", 11)]),
        "files: the session would hold 151 bytes, more than the limit STAGE_MAX_SESSION_BYTES=150",
    ),
    "path-length": (
        "MAX_PATH_LENGTH",
        20,
        [push("/app/" + "x" * 15, 1)],
        lambda c, s: c.sessions.push_files(s, [push("/app/" + "y" * 16, 1)]),
        "path is 21 characters, longer than the limit STAGE_MAX_PATH_LENGTH=20",
    ),
    "scopes-per-session": (
        "MAX_SCOPES",
        2,
        [],
        lambda c, s: c.sessions.set_google_scopes(
            s, [f"https://www.googleapis.com/auth/{n}" for n in "abc"]
        ),
        "googleScopes: 3 scopes, more than the limit STAGE_MAX_SCOPES=2",
    ),
    "name-length": (
        "MAX_NAME_LENGTH",
        10,
        [],
        lambda c, s: c.sessions.create("n" * 11),
        "name: 11 characters, more than the limit STAGE_MAX_NAME_LENGTH=10",
    ),
}


@pytest.mark.parametrize("limit", list(LIMITS))
def test_exceeding_a_limit_names_it_and_stores_nothing(namespace, namespace_state, limit):
    setting, value, stored, request, message = LIMITS[limit]
    with namespace.client(**{f"STAGE_{setting}": str(value)}) as client:
        session = client.sessions.create(name="limits")
        for item in stored:  # at or under the limit: accepted
            client.sessions.push_files(session.id, [item])
        client.sessions.set_google_scopes(session.id, ["https://www.googleapis.com/auth/x"])
        before, status = namespace_state(), client.sessions.status(session.id)
        with pytest.raises(InvalidInputError) as rejected:
            request(client, session.id)
        assert namespace_state() == before
        assert client.sessions.status(session.id) == status
    assert message in str(rejected.value)


def test_build_output_over_the_limit_fails_as_a_build_error_and_publishes_no_assets(
    namespace, start_worker, bucket
):
    start_worker(namespace, STAGE_MAX_OUTPUT_BYTES="1000")
    with namespace.client() as client:
        session = client.sessions.create(name="too big")
        client.sessions.push_files(session.id, HELLO)
        record = client.sessions.wait_for_render(
            session.id, client.sessions.render(session.id).version, timeout=40
        )
        live = client.sessions.status(session.id).live
    s3 = boto3.client("s3", endpoint_url=namespace.s3_endpoint)
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    s3.close()

    assert record.status == "failed" and record.attempts == 1
    assert record.error is not None and record.error.kind == "build"
    named = re.fullmatch(
        r"the build output is (\d+) bytes, more than the limit "
        r"STAGE_MAX_OUTPUT_BYTES=1000",
        record.error.message,
    )
    assert named and int(named[1]) > 1000, record.error.message
    assert live is None
    prefix = f"sessions/{session.id}/renders/{record.version}/"
    assert stored == {prefix + "index.html", prefix + "manifest.json"}  # the error page only


def acceptable(path: str, max_length: int) -> bool:
    """An oracle written apart from worker.inputs: what a safe stored path looks like."""
    segments = path[1:].split("/")
    return (
        path.startswith("/")
        and len(path) <= max_length
        and posixpath.normpath(path) == path
        and all(s and s not in (".", "..") for s in segments)
        and "\\" not in path
        and not any(
            unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp")
            for c in path
        )
        and unicodedata.normalize("NFC", path) == path
    )


TRICKS = st.sampled_from(
    [
        "..",
        ".",
        "",
        "node_modules",
        " a",
        "caf\u00e9",
        "cafe\u0301",
        "\u202egnp.exe",
        "a\u200bb",
        "\x00",
        "\x1f",
        "\n",
        "a\\b",
        "c:",
        "%2e%2e",
        "\uff0f",
        "\ufb01",
        "\U0001f600",
        "\ud800",
        "x" * 256,
    ]
)
SEGMENTS = (
    st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True)
    | TRICKS
    | st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
)
PATHS = (
    st.lists(SEGMENTS, min_size=1, max_size=5).map(lambda segs: "/" + "/".join(segs))
    | st.builds(
        lambda lead, segs: lead + "/".join(segs),
        st.sampled_from(["", "./", "//", "\\", "/app/App.tsx/"]),
        st.lists(SEGMENTS, max_size=3),
    )
    | st.text(max_size=30)
)


@FUZZ
@given(path=PATHS, content=st.text(st.characters(blacklist_categories=("Cs",)), max_size=30))
@example(path="/app/lib/util.ts", content="export const x = 1;")
@example(path="/app/App.tsx/x", content="")  # App.tsx is a file, not a folder
@example(path="/app/../../etc/passwd", content="")
def test_fuzzed_paths_read_back_exactly_or_store_nothing(client, namespace_state, path, content):
    session_id = client.sessions.create(name="fuzz").id
    client.sessions.push_files(session_id, [{"path": "/app/App.tsx", "content": "x"}])
    before = namespace_state()
    try:
        client.sessions.push_files(session_id, [{"path": path, "content": content}])
    except InvalidInputError as exc:
        assert namespace_state() == before
        assert ascii(path)[1:-1][:20] in str(exc) or path[:20] in str(exc), str(exc)
        return
    assert acceptable(path, client.settings.max_path_length), path
    assert client.sessions.read_file(session_id, path).content == content
    paths = [f.path for f in client.sessions.status(session_id).files]
    assert sorted(paths) == sorted({"/app/App.tsx", path})


@FUZZ
@given(
    scope=st.sampled_from(
        [
            "https://www.googleapis.com/auth/calendar",
            "http://x.example",
            "javascript:alert(1)",
            "https://",
            "https:///x",
            "//evil.example",
            "https://a.example/\n",
            "HTTPS://A.EXAMPLE",
        ]
    )
    | st.text(max_size=40)
    | st.builds("https://{}".format, st.text(max_size=20))
)
@example(scope="https://[")  # urlsplit raises ValueError: it must become InvalidInputError
def test_fuzzed_scopes_are_https_urls_or_store_nothing(client, namespace_state, scope):
    session_id = client.sessions.create(name="fuzz").id
    before = namespace_state()
    try:
        client.sessions.set_google_scopes(session_id, [scope])
    except InvalidInputError:
        assert namespace_state() == before
        return
    assert client.sessions.status(session_id).google_scopes == [scope]
    assert scope.lower().startswith("https://") and len(scope) > len("https://")
    assert not any(c.isspace() or unicodedata.category(c)[0] == "C" for c in scope)


class Parsed(HTMLParser):
    """Elements of a page, and the text inside each, as a browser's tokenizer sees them."""

    VOID: ClassVar[set[str]] = {"meta", "link", "br", "img", "input"}

    def __init__(self, html: bytes) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html.decode("utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            cls = dict(attrs).get("class")
            self._open.append(f"{tag}.{cls.split()[0]}" if cls else tag)

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop().split(".")[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text[self._open[-1]] = self.text.get(self._open[-1], "") + data


@settings(max_examples=150, deadline=None)
@given(
    name=hostile_text.filter(str.strip),
    message=hostile_text,
    file=hostile_text,
    diagnostic=hostile_text,
    line_text=hostile_text,
)
def test_error_page_escapes_every_session_text(name, message, file, diagnostic, line_text):
    page = Parsed(
        error_html(
            [Diagnostic(file, 3, 2, diagnostic, line_text)], message=message, version=7, name=name
        )
    )

    assert {tag for tag, _ in page.tags} <= {
        "html",
        "head",
        "meta",
        "link",
        "title",
        "style",
        "body",
        "main",
        "h1",
        "p",
        "section",
        "div",
        "pre",
        "span",
    }
    assert page.text["title"] == f"Build failed · {name.strip()}"
    assert page.text["p.summary"] == (
        f"Version 7 of “{name.strip()}” did not build: {message}. "
        "The previous ready version stays live."
    )
    assert page.text.get("div.message", "") == diagnostic
    [section] = [attrs for tag, attrs in page.tags if tag == "section"]
    assert section["data-file"] == file
    if line_text:
        assert page.text["pre"] == line_text + "\n"


@settings(max_examples=100, deadline=None)
@given(name=hostile_text, scopes=st.lists(hostile_text, max_size=3))
def test_shell_escapes_name_and_scopes_and_allows_only_the_config_script(name, scopes):
    shell = Page(entry="/app/App.tsx", scripts=["app-X.js"], styles=["app-X.css"])
    page = Parsed(index_html(shell, session_id="s1", version=2, name=name, google_scopes=scopes))

    assert {tag for tag, _ in page.tags} <= {
        "html",
        "head",
        "meta",
        "link",
        "title",
        "script",
        "body",
        "div",
    }
    inline = page.text["script"]
    assert [attrs.get("src") for tag, attrs in page.tags if tag == "script"] == [None, "app-X.js"]
    assert inline.startswith("window.__STAGE__ = ") and inline.endswith(";")
    config = json.loads(inline[len("window.__STAGE__ = ") : -1])
    assert config == {"sessionId": "s1", "version": 2, "googleScopes": scopes}
    assert page.text.get("title", "") == (name.strip() or DEFAULT_TITLE)
    [csp] = [a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert f"script-src 'self' {csp_hash(inline)};" in csp
    assert "style-src 'self' 'unsafe-inline';" in csp  # styles may be inline, scripts never
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


@pytest.mark.browser
def test_csp_blocks_scripts_the_app_injects_at_runtime(stack, browser):
    client, _ = stack
    files = [
        {
            "path": "/app/App.tsx",
            "content": (
                'const s = document.createElement("script");\n'
                "s.textContent = \"window.__injected = 'inline'\";\n"
                "document.head.appendChild(s);\n"
                "let evalBlocked = false;\n"
                "try { (0, eval)(\"window.__injected = 'eval'\"); } catch { evalBlocked = true; }\n"
                "(window as any).__appRan = { evalBlocked };\n"
                'export default function App() { return <p id="ok">ran</p>; }\n'
            ),
        }
    ]
    session = client.sessions.create(name="csp")
    client.sessions.push_files(session.id, files)
    record = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert record.status == "ready", record.error
    context = browser.new_context()
    try:
        tab = context.new_page()
        console: list[str] = []
        tab.on("console", lambda m: console.append(m.text))
        tab.goto(record.url, wait_until="load")
        tab.locator("#ok").wait_for()
        ran, injected = tab.evaluate("[window.__appRan, window.__injected]")
        config = tab.evaluate("window.__STAGE__")
    finally:
        context.close()

    assert ran == {"evalBlocked": True}  # the app ran, and eval was refused
    assert injected is None
    assert config["sessionId"] == session.id  # the config block is allowed by its hash
    assert any("Content Security Policy" in line for line in console), console


def test_artifacts_hold_no_backend_code_environment_values_or_credentials(
    namespace, start_worker, bucket
):
    secret, api_marker = f"secret-{uuid.uuid4().hex}", f"api-only-{uuid.uuid4().hex}"
    start_worker(
        namespace,
        AWS_SECRET_ACCESS_KEY=secret,
        DATABASE_URL=f"postgres://app:{secret}@db.internal/app",
    )
    files = [
        {
            "path": "/app/App.tsx",
            "content": (
                "export default function App() {\n"
                "  const env = [process.env.AWS_SECRET_ACCESS_KEY, process.env.DATABASE_URL];\n"
                '  return <p onClick={() => fetch("/api/secret")}>{String(env)}</p>;\n'
                "}\n"
            ),
        },
        {
            "path": "/api/secret.ts",
            "content": (
                "export default async function handler(): Promise<Response> {\n"
                f'  return new Response("{api_marker}" + process.env.AWS_SECRET_ACCESS_KEY);\n'
                "}\n"
            ),
        },
    ]
    with namespace.client() as client:
        session = client.sessions.create(name="secrets")
        client.sessions.push_files(session.id, files)
        record = client.sessions.wait_for_render(
            session.id, client.sessions.render(session.id).version, timeout=40
        )
    assert record.status == "ready", record.error
    s3 = boto3.client("s3", endpoint_url=namespace.s3_endpoint)
    try:
        folder = f"sessions/{session.id}/renders/{record.version}/"
        manifest = json.loads(
            s3.get_object(Bucket=bucket, Key=folder + "manifest.json")["Body"].read()
        )
        server = {folder + f["path"] for f in manifest["files"] if f["kind"] == "server"}
        bodies = {
            o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
        }
    finally:
        s3.close()

    assert len(bodies) > 3 and server  # index, manifest, script, vendor chunks; the route
    assert not [key for key, body in bodies.items() if secret.encode() in body]
    assert not [
        key for key, body in bodies.items() if api_marker.encode() in body and key not in server
    ]
    assert all(api_marker.encode() in bodies[key] for key in server)  # the scan can see it
