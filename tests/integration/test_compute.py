"""``@stage/compute`` with real processes: a worker renders and publishes an app with
``/compute`` functions, ``stage-render host`` runs them in Deno processes, and the apps'
documents live in a real database: the embedded SQLite file and PostgreSQL, each test on
both. Apps are published fresh for every run, so their rows never meet another run's.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from services import ROOT, HostProcess, WorkerProcess, remove_tree

from worker.client import StageClient
from worker.settings import Settings

pytestmark = [pytest.mark.integration]

APP = Path(__file__).parent / "host_apps" / "compute"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
MAX_QUERY_DOCS = 60  # STAGE_COMPUTE_MAX_QUERY_DOCS of the hosts: the limit, reached cheaply
MAX_WRITES = 120  # STAGE_COMPUTE_MAX_WRITES
TIMEOUT_S = 3  # STAGE_COMPUTE_TIMEOUT_S
EMPTY_TEXT = '{"text":""}'  # the JSON around the big document's text
ROLES = ("main", "other", "counter", "limits", "kill", "todo")


@dataclass
class Host:
    backend: str
    process: HostProcess
    env: dict[str, str]
    apps: dict[str, str]  # role → app sid
    versions: dict[str, str]  # role → its app version sid
    http: httpx.Client
    stage: Any  # the gateway client (worker.client.StageClient)

    def call(self, role: str, kind: str, module: str, fn: str, **args: Any) -> httpx.Response:
        return self.http.post(
            f"{self.process.url}/{self.apps[role]}/@preview/api/call/{fn}",
            json={"kind": kind, "module": module, "args": args},
        )

    def result(self, role: str, kind: str, module: str, fn: str, **args: Any) -> Any:
        answer = self.call(role, kind, module, fn, **args)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]


def files() -> list[dict[str, str]]:
    return [
        {"path": "/" + p.relative_to(APP).as_posix(), "content": p.read_text("utf-8")}
        for p in sorted(APP.rglob("*"))
        if p.is_file()
    ]


def postgres_answers() -> bool:
    import asyncio

    import asyncpg

    async def ping() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
        await conn.close()

    try:  # on a thread of its own: the browser's event loop may hold this one
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, ping()).result()
    except (OSError, asyncpg.PostgresError):
        return False
    return True


@pytest.fixture(scope="module")
def published(module_namespace: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The compute app rendered once and published once per role (each its own data)."""
    ns = module_namespace
    logs = tmp_path_factory.mktemp("compute")
    worker = WorkerProcess({**ns.env, "STAGE_CHECK": "false"}, logs / "worker.log")
    try:
        worker.wait_ready()
        with ns.client() as stage:
            session = stage.sessions.create(name="compute")
            stage.sessions.push_files(session.id, files())
            ticket = stage.sessions.render(session.id)
            record = stage.sessions.wait_for_render(session.id, ticket.version, timeout=120)
            assert record.status == "ready", record.error
            yield ns, logs, stage, session.id
    finally:
        worker.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def host(published: Any, request: pytest.FixtureRequest) -> Iterator[Host]:
    ns, logs, stage, session_id = published
    backend = request.param
    data_dir = Path(tempfile.mkdtemp(prefix="stage-host-"))
    data_dir.chmod(0o755)  # Deno runs as nobody under root: it must reach its code
    env = {
        **ns.env,
        "STAGE_HOST_DATA_DIR": str(data_dir),
        "STAGE_API_TIMEOUT_S": "10",
        "STAGE_COMPUTE_MAX_QUERY_DOCS": str(MAX_QUERY_DOCS),
        "STAGE_COMPUTE_MAX_WRITES": str(MAX_WRITES),
        "STAGE_COMPUTE_TIMEOUT_S": str(TIMEOUT_S),
    }
    if backend == "postgresql":
        if not postgres_answers():
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL does not answer at {POSTGRES_URL}")
            pytest.skip(f"PostgreSQL does not answer at {POSTGRES_URL} (set TEST_POSTGRES_URL)")
        env["STAGE_COMPUTE_DATABASE_URL"] = POSTGRES_URL
    process = HostProcess(env, logs / f"host-{backend}.log")
    try:
        process.wait_ready()
        published = {
            role: stage.apps.publish(session_id, name=role, author="dev@example.com")
            for role in ROLES
        }
        apps = {role: p.sid for role, p in published.items()}
        versions = {role: p.app_version_sid for role, p in published.items()}
        with httpx.Client(timeout=30, trust_env=False) as http:
            yield Host(backend, process, env, apps, versions, http, stage)
    finally:
        process.stop()
        remove_tree(data_dir)


def test_a_mutation_writes_and_a_query_reads_by_index_and_in_order(host):
    first = host.result("main", "mutation", "todos", "add", title="write the store")
    second = host.result("main", "mutation", "todos", "add", title="ship it")
    done = host.result("main", "mutation", "todos", "complete", id=first)
    assert done["_id"] == first and done["done"] is True and done["title"] == "write the store"
    everything = host.result("main", "query", "todos", "list")
    assert [t["title"] for t in everything] == ["write the store", "ship it"]
    assert everything[0]["_creationTime"] < everything[1]["_creationTime"]
    assert [t["_id"] for t in host.result("main", "query", "todos", "list", done=False)] == [second]
    assert [t["_id"] for t in host.result("main", "query", "todos", "list", done=True)] == [first]


def test_an_index_on_two_fields_orders_by_its_second(host):
    assert host.result("main", "mutation", "limits", "seed", group="g", n=5) == 5
    assert host.result("main", "mutation", "limits", "seed", group="h", n=2) == 2
    assert host.result("main", "query", "limits", "group", group="g") == [1, 2, 3, 4, 5]
    assert host.result("main", "query", "limits", "group", group="g", order="desc") == [
        5,
        4,
        3,
        2,
        1,
    ]
    assert host.result("main", "query", "limits", "group", group="h") == [1, 2]


def test_a_bad_argument_is_a_400_with_the_validators_message(host):
    answer = host.call("main", "mutation", "todos", "add", title="")
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "ComputeError: todos:add: bad arguments: title: a todo needs a title"
    )
    wrong_kind = host.call("main", "query", "todos", "add", title="x")
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["error"] == (
        "ComputeError: todos:add is a mutation; call it with compute.mutation"
    )
    missing = host.call("main", "query", "todos", "nothing")
    assert missing.status_code == 404
    assert missing.json()["error"] == (
        'ComputeError: /compute/todos.ts exports no function "nothing" made with query, '
        "mutation or action (it has add, complete, list)"
    )


def test_two_apps_never_see_each_others_tables(host):
    host.result("main", "mutation", "counter", "increment", name="shared-name")
    assert host.result("other", "query", "counter", "get", name="shared-name") == 0
    assert host.result("other", "query", "todos", "list") == []
    assert host.result("main", "query", "counter", "get", name="shared-name") == 1


def test_fifty_concurrent_increments_of_one_counter_end_at_fifty(host):
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(
            pool.map(
                lambda _: host.call("counter", "mutation", "counter", "increment", name="hits"),
                range(50),
            )
        )
    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers]
    assert sorted(a.json()["result"] for a in answers) == list(range(1, 51))
    assert host.result("counter", "query", "counter", "get", name="hits") == 50


def test_a_mutation_that_throws_half_way_leaves_nothing(host):
    host.result("counter", "mutation", "counter", "increment", name="half")
    answer = host.call("counter", "mutation", "counter", "halfway", name="half")
    assert answer.status_code == 500
    assert answer.json()["error"] == "Error: failed half way"
    assert host.result("counter", "query", "counter", "get", name="half") == 1
    assert host.result("counter", "query", "counter", "get", name="half-extra") == 0
    # The app's lock is free again: the next mutation goes at once.
    assert host.result("counter", "mutation", "counter", "increment", name="half") == 2


def test_an_action_runs_mutations_and_queries(host):
    assert host.result("counter", "action", "counter", "twice", name="acted") == 2


def test_a_deno_process_killed_mid_mutation_commits_nothing(host):
    host.result("kill", "mutation", "counter", "increment", name="k")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(host.call, "kill", "mutation", "counter", "slow", name="k", ms=20_000)

        time.sleep(1.5)  # its first write is made (uncommitted): the app's lock is held
        for pid in host.process.deno_pids():
            os.kill(pid, signal.SIGKILL)
        assert slow.result(timeout=30).status_code >= 500
    # Its first write was never committed, and the app's lock was given back at once.
    assert host.result("kill", "query", "counter", "get", name="k") == 1
    assert host.result("kill", "mutation", "counter", "increment", name="k") == 2


def test_a_host_killed_mid_mutation_commits_nothing_and_another_host_goes_on(host, tmp_path):
    second = HostProcess(host.env, tmp_path / "second-host.log")  # the same database
    try:
        second.wait_ready()
        url = f"{second.url}/{host.apps['kill']}/@preview/api/call"
        body = {"kind": "mutation", "module": "counter", "args": {"name": "hk"}}
        assert host.http.post(f"{url}/increment", json=body).json() == {"result": 1}
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            slow = pool.submit(
                host.http.post,
                f"{url}/slow",
                json={**body, "args": {"name": "hk", "ms": 20_000}},
            )
            time.sleep(1.5)  # its first write is made (uncommitted): the app's lock is held
            second.proc.kill()
            with pytest.raises(httpx.HTTPError):
                slow.result(timeout=30)
    finally:
        second.stop()
    # The database rolled the killed host's transaction back and gave its lock up.
    assert host.result("kill", "query", "counter", "get", name="hk") == 1
    assert host.result("kill", "mutation", "counter", "increment", name="hk") == 2


def test_a_mutation_past_its_deadline_is_rolled_back(host):
    answer = host.call(
        "kill", "mutation", "counter", "slow", name="late", ms=TIMEOUT_S * 1000 + 800
    )
    assert answer.status_code == 409
    assert (
        "no longer open: it was rolled back after 3s (STAGE_COMPUTE_TIMEOUT_S)"
        in (answer.json()["error"])
    )
    assert host.result("kill", "query", "counter", "get", name="late") == 0


def test_each_limit_is_refused_with_its_own_message(host):
    big = host.call("limits", "mutation", "limits", "big", bytes=1024 * 1024 + 10)
    assert big.status_code == 413
    assert big.json()["error"] == (
        f"ComputeError: a document is {1024 * 1024 + 10 + len(EMPTY_TEXT)} bytes as JSON; "
        "at most 1048576 (1 MB)"
    )
    many = host.call("limits", "mutation", "limits", "writes", n=MAX_WRITES + 30)
    assert many.status_code == 400
    assert many.json()["error"] == (
        f"ComputeError: a mutation may write at most {MAX_WRITES} times "
        "(STAGE_COMPUTE_MAX_WRITES); split the work into several mutations"
    )
    assert host.result("limits", "query", "limits", "all") == 0  # nothing of it stayed
    assert host.result("limits", "mutation", "limits", "writes", n=MAX_WRITES) == MAX_WRITES
    too_many = host.call("limits", "query", "limits", "all")
    assert too_many.status_code == 400
    assert too_many.json()["error"] == (
        f"ComputeError: the query matches more than {MAX_QUERY_DOCS} documents "
        "(STAGE_COMPUTE_MAX_QUERY_DOCS); read it in pages with .take(n) and an index range, "
        "or filter on an index"
    )
    assert host.result("limits", "query", "limits", "some", n=3) == [
        MAX_WRITES - 1,
        MAX_WRITES - 2,
        MAX_WRITES - 3,
    ]
    write = host.call("limits", "query", "limits", "writeInQuery")
    assert write.status_code == 500
    assert write.json()["error"] == "TypeError: ctx.db.insert is not a function"
    no_index = host.call("limits", "query", "limits", "noIndex")
    assert no_index.status_code == 400
    assert no_index.json()["error"].startswith(
        "ComputeError: table items has no index 'by_missing'; declare it in /compute/schema.ts"
    )


@pytest.mark.browser
def test_the_todo_page_adds_and_completes_and_a_reload_and_a_promote_keep_them(host, browser):
    context = browser.new_context()
    try:
        tab = context.new_page()
        page = f"{host.process.url}/{host.apps['todo']}/@preview/"
        tab.goto(page)
        tab.wait_for_selector("ul[data-loaded=true]", state="attached", timeout=15000)
        for title in ("buy milk", "write tests"):
            tab.fill("input[aria-label=title]", title)
            tab.click("button[type=submit]")
            tab.wait_for_selector(f"li:has-text('{title}')", timeout=10000)
        tab.click("text=Done buy milk")
        tab.wait_for_selector("li[data-done=true]:has-text('buy milk')", timeout=10000)
        tab.reload()
        tab.wait_for_selector("ul[data-loaded=true] li", timeout=15000)
        shown = tab.eval_on_selector_all(
            "li", "items => items.map(li => [li.firstChild.textContent, li.dataset.done])"
        )
        assert shown == [["buy milk", "true"], ["write tests", "false"]]
        # Production is another version of the same app: the same documents.
        host.stage.apps.promote(host.apps["todo"], host.versions["todo"])
        tab.goto(f"{host.process.url}/{host.apps['todo']}/")
        tab.wait_for_selector("ul[data-loaded=true] li", timeout=15000)
        assert tab.eval_on_selector_all("li", "items => items.length") == 2
        # Another app's page, from the same code: none of them.
        tab.goto(f"{host.process.url}/{host.apps['other']}/@preview/")
        tab.wait_for_selector("ul[data-loaded=true]", state="attached", timeout=15000)
        assert tab.eval_on_selector_all("li", "items => items.length") == 0
    finally:
        context.close()


def test_the_gateway_and_the_cli_export_an_apps_documents_as_json_lines(host):
    assert host.result("main", "mutation", "counter", "increment", name="exported") == 1
    host.result("main", "mutation", "todos", "add", title="export me")
    with StageClient(Settings.from_env(host.env)) as client:
        lines = list(client.apps.data(host.apps["main"]).export())
        assert list(client.apps.data(host.apps["other"]).export()) == []
    docs = [json.loads(line) for line in lines]
    counters = [d for d in docs if d["_table"] == "counters" and d["name"] == "exported"]
    assert len(counters) == 1 and counters[0]["value"] == 1
    assert "export me" in [d["title"] for d in docs if d["_table"] == "todos"]
    assert all(isinstance(d["_id"], str) and d["_creationTime"] > 0 for d in docs)
    printed = subprocess.run(
        [sys.executable, "-m", "worker.cli", "data", "export", host.apps["main"]],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}, **host.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    assert printed.stdout.splitlines() == lines
