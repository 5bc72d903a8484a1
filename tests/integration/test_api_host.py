"""The API host with real processes: a worker renders and publishes apps to S3 (moto over
HTTP), ``stage-render host`` serves their pages and routes, each app version in its own
Deno process; Chromium opens a page whose code calls its route.

One worker, one host and the apps are shared by the module's tests (they take seconds to
set up); each test looks at what it needs and leaves the host serving.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from services import ROOT, HostProcess, WorkerProcess, remove_tree, wait_for

from worker.client import StageClient

pytestmark = [pytest.mark.integration]

HERE = Path(__file__).parent / "host_apps"
TIMEOUT_S = 6  # STAGE_API_TIMEOUT_S for this host: hung routes are killed this soon, and
# two hundred requests at once still finish inside it on a busy two-core machine
MAX_FETCHES = 5
#: Names this host resolves without DNS: a "public" name that points at a private address.
FETCH_HOSTS = "public-name.example=10.20.30.40,rebound.example=127.0.0.1"


def folder_files(name: str, **replace: str) -> list[dict[str, str]]:
    root = HERE / name
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            text = path.read_text("utf-8")
            for old, new in replace.items():
                text = text.replace(old, new)
            files.append({"path": "/" + path.relative_to(root).as_posix(), "content": text})
    return files


@dataclass
class Apps:
    client: StageClient
    host: HostProcess
    tasks: str  # app sid: the tasks app, two versions
    versions: tuple[str, str]
    hostile: str
    many: list[str]  # 20 apps published from one render
    session: str  # the tasks app's session: its live render is served as a preview
    unprovided: str  # an app whose route calls a compute module it does not have
    client_env: dict[str, str]  # the STAGE_* settings of this namespace

    def url(self, sid: str, path: str = "", channel: str = "@preview/") -> str:
        return f"{self.host.url}/{sid}/{channel}{path}"


def render(client: StageClient, session_id: str) -> int:
    ticket = client.sessions.render(session_id)
    record = client.sessions.wait_for_render(session_id, ticket.version, timeout=120)
    assert record.status == "ready", record.error
    return record.version


@pytest.fixture(scope="module")
def apps(module_namespace: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    ns = module_namespace
    logs = tmp_path_factory.mktemp("api-host")
    # Deno runs as an unprivileged user when the tests run as root: its code folder must
    # be reachable by that user, which pytest's private temp folders are not.
    data_dir = Path(tempfile.mkdtemp(prefix="stage-host-"))
    data_dir.chmod(0o755)
    worker = WorkerProcess({**ns.env, "STAGE_CHECK": "false"}, logs / "worker.log", concurrency=2)
    host = HostProcess(
        {
            **ns.env,
            "STAGE_HOST_DATA_DIR": str(data_dir),
            "STAGE_API_TIMEOUT_S": str(TIMEOUT_S),
            "STAGE_API_HEAP_MB": "64",
            "STAGE_API_RSS_MB": "256",
            "STAGE_API_MAX_FETCHES": str(MAX_FETCHES),
            "STAGE_API_FETCH_HOSTS": FETCH_HOSTS,
            "STAGE_HOST_SESSIONS": "true",
            "STAGE_API_MAX_BODY_BYTES": str(1024 * 1024),
        },
        logs / "host.log",
    )
    try:
        worker.wait_ready()
        host.wait_ready()
        with ns.client() as client:
            session = client.sessions.create(name="tasks")
            client.sessions.push_files(session.id, folder_files("tasks"))
            render(client, session.id)
            first = client.apps.publish(session.id, name="tasks", author="dev@example.com")
            client.sessions.push_files(session.id, folder_files("tasks", **{'"one"': '"two"'}))
            render(client, session.id)
            second = client.apps.publish(session.id, app_sid=first.sid)

            hostile = client.sessions.create(name="hostile")
            client.sessions.push_files(hostile.id, folder_files("hostile"))
            render(client, hostile.id)
            bad = client.apps.publish(hostile.id, name="hostile", author="dev@example.com")

            many = client.sessions.create(name="many")
            client.sessions.push_files(many.id, folder_files("many"))
            render(client, many.id)
            sids = [
                client.apps.publish(many.id, name=f"many {i}", author="dev@example.com").sid
                for i in range(20)
            ]
            lacking = client.sessions.create(name="unprovided")
            client.sessions.push_files(lacking.id, folder_files("unprovided"))
            render(client, lacking.id)
            unprovided = client.apps.publish(
                lacking.id, name="unprovided", author="dev@example.com"
            )
            yield Apps(
                client,
                host,
                first.sid,
                (first.app_version_sid, second.app_version_sid),
                bad.sid,
                sids,
                session.id,
                unprovided.sid,
                ns.env,
            )
    finally:
        host.stop()
        worker.stop()
        remove_tree(data_dir)


@pytest.fixture(scope="module")
def http(apps: Apps) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client


def assert_serving(apps: Apps, http: httpx.Client) -> None:
    """The host still answers another app's route."""
    answer = http.get(apps.url(apps.many[0], "api/who"))
    assert answer.status_code == 200, answer.text


@pytest.mark.browser
def test_published_page_calls_its_route_and_shows_the_json_in_chromium(apps, browser):
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(apps.url(apps.tasks))
        tab.wait_for_selector("#absolute[data-done]", timeout=15000)
        assert json.loads(tab.inner_text("#absolute")) == {
            "version": "two",
            "tasks": [{"id": 1, "title": "write the route"}, {"id": 2, "title": "call it"}],
        }
        assert json.loads(tab.inner_text("#relative"))["version"] == "two"
    finally:
        context.close()


def test_promote_and_rollback_change_what_the_route_answers(apps, http):
    first, second = apps.versions
    production = apps.url(apps.tasks, "api/tasks", channel="")
    missing = http.get(production)
    assert missing.status_code == 404
    assert "has no production version yet" in missing.json()["error"]
    apps.client.apps.promote(apps.tasks, second)
    assert http.get(production).json()["version"] == "two"
    apps.client.apps.promote(apps.tasks, first)  # rollback: the next request sees it
    assert http.get(production).json()["version"] == "one"
    pinned = apps.url(apps.tasks, "api/tasks", channel=f"@{second}/")
    assert http.get(pinned).json()["version"] == "two"


def test_a_sessions_live_render_is_served_with_its_routes(apps, http):
    base = f"{apps.host.url}/sessions/{apps.session}/"
    assert http.get(base + "api/tasks").json()["version"] == "two"
    page = http.get(base)
    assert page.status_code == 200
    assert f'<meta name="stage-base" content="/sessions/{apps.session}/">' in page.text
    assert http.get(f"{apps.host.url}/sessions/no-such-session/").status_code == 404


def test_dynamic_routes_and_each_method(apps, http):
    url = apps.url(apps.tasks, "api/tasks/42")
    assert http.get(url + "?full=1").json() == {"method": "GET", "id": "42", "full": "1"}
    for method in ("PUT", "PATCH"):
        answer = http.request(method, url, json={"title": "x"})
        assert answer.json() == {"method": method, "id": "42", "body": {"title": "x"}}
    assert http.delete(url).status_code == 204
    head = http.head(url)
    assert (head.status_code, head.content) == (200, b"")
    created = http.post(apps.url(apps.tasks, "api/tasks"), json={"title": "new"})
    assert (created.status_code, created.json()) == (201, {"created": {"title": "new"}})
    refused = http.post(url)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, PUT, PATCH, DELETE, HEAD"
    assert http.get(apps.url(apps.tasks, "api/nothing")).status_code == 404


def test_uncaught_error_names_the_session_file_and_line(apps, http):
    answer = http.get(apps.url(apps.tasks, "api/tasks/boom"))
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "Error: task boom does not exist",
        "route": "/api/tasks/[id]",
        "at": "/api/tasks/[id].ts:4:11",
        "stack": ["/api/tasks/[id].ts:4:11", "/api/tasks/[id].ts:13:45"],
    }


def test_a_route_calling_a_compute_module_the_app_lacks_says_so(apps, http):
    answer = http.get(apps.url(apps.unprovided, "api/tasks"))
    assert answer.status_code == 404
    assert answer.json()["error"] == (
        'ComputeError: no compute module "tasks": add /compute/tasks.ts'
    )
    assert answer.json()["at"] == "/api/tasks.ts:5:38"


def test_console_output_is_kept_per_app_version(apps, http):
    assert http.get(apps.url(apps.tasks, "api/tasks")).status_code == 200

    def logged() -> bool:
        return any(
            "listing 2 tasks" in line["text"]
            for line in apps.client.apps.logs(apps.tasks, apps.versions[1])
        )

    wait_for(logged, 5, "the route's console line in Redis")
    line = next(
        line for line in apps.client.apps.logs(apps.tasks) if "listing 2 tasks" in line["text"]
    )
    assert (line["version"], line["level"], line["route"]) == (
        apps.versions[1],
        "info",
        "/api/tasks",
    )
    assert f'"app": "{apps.tasks}"' in apps.host.log  # one JSON line per request
    printed = subprocess.run(
        [sys.executable, "-m", "worker.cli", "logs", apps.tasks, "--lines", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("STAGE_")},
            **apps.client_env,
        },
    )
    assert printed.returncode == 0, printed.stderr
    assert f"{apps.versions[1]} info  /api/tasks listing 2 tasks" in printed.stdout


HOSTILE = [
    # (attack, status, what the body says)
    ("read-file", 500, "API routes cannot read files"),
    ("import-file", 500, "API routes cannot"),
    ("fetch-file", 500, "only https:// URLs may be fetched"),
    ("env", 500, "API routes cannot read environment variables"),
    ("process-env", 500, "API routes cannot read environment variables"),
    ("spawn", 500, "API routes cannot start processes"),
    ("fetch-loopback", 500, "127.0.0.1 is a loopback address"),
    ("fetch-localhost", 500, "localhost (127.0.0.1) is a loopback address"),
    ("fetch-metadata", 500, "169.254.169.254 is a cloud metadata address"),
    ("fetch-private-name", 500, "public-name.example (10.20.30.40) is a private address"),
    ("fetch-rebound", 500, "rebound.example (127.0.0.1) is a loopback address"),
    ("fetch-http", 500, "only https:// URLs may be fetched"),
    ("retry-refused", 500, "is a loopback address"),
    ("connect-redis", 500, "API routes cannot open connections"),
    ("fetch-count", 200, f"more than {MAX_FETCHES} fetches in one request"),
    ("local-storage", 500, "API routes cannot use localStorage; keep data in @stage/compute"),
    ("caches", 500, "API routes cannot use caches"),
    ("infinite-loop", 504, f"did not answer within {TIMEOUT_S} s"),
    ("promise-bomb", (502, 504), "the route"),
    ("heap", 502, "ran out of memory (heap limit 64 MB"),
    ("buffer-2gb", (500, 502), ""),
]


@pytest.mark.parametrize(("attack", "status", "says"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_route_is_refused_and_the_host_keeps_serving(apps, http, attack, status, says):
    started = time.monotonic()
    answer = http.get(apps.url(apps.hostile, f"api/hostile/{attack}"))
    assert answer.status_code in (status if isinstance(status, tuple) else (status,)), answer.text
    assert says in answer.text
    for secret in (
        "root:x:0:0",
        "STAGE_REDIS_URL",
        "redis://",
        "AWS_SECRET",
        "Traceback",
        "worker/host",
    ):
        assert secret not in answer.text
    assert time.monotonic() - started < TIMEOUT_S + 5
    assert http.get(apps.url(apps.hostile, "api/ok")).json() == {"ok": True}
    assert_serving(apps, http)


def test_platform_endpoint_refuses_a_token_that_is_not_the_apps(apps, http):
    port = apps.host.platform_port
    answer = http.get(
        apps.url(apps.hostile, "api/hostile/platform"), params={"port": port, "sid": apps.tasks}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": 401, "body": {"error": "no valid platform token"}}


def test_hundred_megabyte_body_is_refused_before_reaching_the_route(apps, http):
    body = b"x" * (100 * 1024 * 1024)
    answer = http.post(apps.url(apps.hostile, "api/ok"), content=body)
    assert answer.status_code == 413
    assert "larger than 1048576 bytes" in answer.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        for _ in range(100):
            yield b"x" * (1024 * 1024)

    streamed = http.post(apps.url(apps.hostile, "api/ok"), content=chunks())
    assert streamed.status_code == 413
    assert_serving(apps, http)


def test_two_hundred_concurrent_requests_across_twenty_apps(apps, http):
    # Started one by one first: twenty cold starts at once on a busy two-core machine can
    # take longer than this host's short deadline, which is not what this test is about.
    for sid in apps.many:
        assert http.get(apps.url(sid, "api/who")).status_code == 200

    async def all_at_once() -> list[tuple[str, httpx.Response]]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(timeout=60, trust_env=False, limits=limits) as client:
            sids = [apps.many[i % 20] for i in range(200)]
            answers = await asyncio.gather(
                *(client.get(apps.url(sid, f"api/who?n={i}")) for i, sid in enumerate(sids))
            )
        return list(zip(sids, answers, strict=True))

    # In a thread of its own: Playwright's sync API keeps an event loop on this one.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        results = thread.submit(asyncio.run, all_at_once()).result()
    by_app: dict[str, set[str]] = {}
    for sid, answer in results:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["path"] == f"/{sid}/@preview/api/who"  # its own request, nobody else's
        by_app.setdefault(sid, set()).add(str(body["process"]))
    assert len(by_app) == 20
    assert all(len(processes) == 1 for processes in by_app.values())  # one process per app
    every = [p for processes in by_app.values() for p in processes]
    assert len(set(every)) == 20  # and no process shared between apps


def test_killing_a_deno_process_mid_request_fails_that_request_cleanly(apps, http):
    sid = apps.many[1]
    assert http.get(apps.url(sid, "api/who")).status_code == 200
    before = set(apps.host.deno_pids())
    answers: list[httpx.Response] = []
    slow = threading.Thread(target=lambda: answers.append(http.get(apps.url(sid, "api/slow"))))
    slow.start()
    time.sleep(0.5)
    pid = next(p for p in apps.host.deno_pids() if _serves(p, sid))
    assert pid in before
    if os.geteuid() == 0:  # a host running as root starts Deno as an unprivileged user
        uid = Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0]
        assert int(uid) == pwd.getpwnam("nobody").pw_uid
    os.kill(pid, signal.SIGKILL)
    slow.join(10)
    assert answers[0].status_code == 502
    assert "the route's process ended while answering" in answers[0].json()["error"]
    again = http.get(apps.url(sid, "api/who"))
    assert again.status_code == 200
    assert _serves(next(p for p in apps.host.deno_pids() if _serves(p, sid)), sid)


def _serves(pid: int, sid: str) -> bool:
    """Whether Deno process ``pid`` runs app ``sid``'s code (its import map is in the app's
    code folder)."""
    try:
        return f"/{sid}/".encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_metrics_count_requests_cold_starts_and_kills(apps, http):
    text = http.get(f"{apps.host.url}/metrics").text
    assert f'stage_host_requests_total{{app="{apps.hostile}",status="504"}}' in text
    assert 'stage_host_kills_total{reason="timeout"}' in text
    assert "stage_host_cold_starts_total" in text
    processes = next(line for line in text.splitlines() if line.startswith("stage_host_processes "))
    assert float(processes.split()[1]) >= 20
