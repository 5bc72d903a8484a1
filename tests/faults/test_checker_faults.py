"""A checker whose Chromium or whose own process dies mid-check loses nothing and checks
once; messages that name nothing checkable are dropped. Real processes throughout."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest
from conftest import children, kill
from services import wait_for
from stage_samples import HELLO

from worker.check.boot import BootChecker
from worker.check.browser import Chromium
from worker.messages import CHECK_TASK_NAME
from worker.models import Check
from worker.storage import LocalStore

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# Changes the DOM every 20 ms, so a check spends its whole settle window (3 s) on it:
# time enough to kill something while the page is open. Otherwise a working app.
TICKING = [
    {
        "path": "/app/App.tsx",
        "content": (
            'import { useEffect, useState } from "react";\n'
            "export default function App() {\n"
            "  const [n, setN] = useState(0);\n"
            "  useEffect(() => {\n"
            "    const timer = setInterval(() => setN(x => x + 1), 20);\n"
            "    return () => clearInterval(timer);\n"
            "  }, []);\n"
            "  return <h1>Ticks: {n}</h1>;\n"
            "}\n"
        ),
    }
]


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def open_page(checker_pid: int) -> tuple[int, int]:
    """(Chromium's browser process, the pool child that owns it) once a page is open."""
    found: dict[str, int] = {}

    def page_open() -> bool:
        for child in children(checker_pid):
            below = descendants(child)
            browsers = [
                p
                for p in below
                if "--remote-debugging-pipe" in command_line(p) and "--type=" not in command_line(p)
            ]
            renderers = [p for p in below if "--type=renderer" in command_line(p)]
            if browsers and renderers:
                found.update(browser=browsers[0], child=child)
                return True
        return False

    wait_for(page_open, 30, "a page open in the checker's Chromium")
    return found["browser"], found["child"]


def render_ready(client, files) -> tuple[str, int]:
    session = client.sessions.create(name="checker-faults")
    client.sessions.push_files(session.id, files)
    version = client.sessions.render(session.id).version
    assert client.sessions.wait_for_render(session.id, version, timeout=60).status == "ready"
    return session.id, version


def test_killed_chromium_is_replaced_and_the_check_retried(namespace, start_worker):
    start_worker(namespace)
    checker = start_worker(namespace, command="checker")
    with namespace.client() as client:
        session_id, version = render_ready(client, TICKING)
        browser, _ = open_page(checker.proc.pid)
        time.sleep(0.5)  # inside the check's settle window
        kill(browser)

        record = client.sessions.wait_for_check(session_id, version, timeout=60)

    assert record.check is not None and record.check.status == "passed", record.check
    log = checker.wait_logged(f"check session={session_id} version={version} outcome=passed")
    assert "Chromium died during the check" in log and "(attempt 1 of 2)" in log
    assert "launches=2" in log  # a new browser served the retry
    assert log.count(f"check session={session_id} version={version} outcome=") == 1


def test_killed_checker_process_is_redelivered_and_checks_once(namespace, start_worker):
    start_worker(namespace)
    checker = start_worker(namespace, command="checker")
    with namespace.client() as client:
        session_id, version = render_ready(client, TICKING)
        _, pool_child = open_page(checker.proc.pid)
        kill(pool_child)  # SIGKILL: the message was not acked, Celery requeues it

        record = client.sessions.wait_for_check(session_id, version, timeout=90)
        assert record.check is not None and record.check.status == "passed", record.check
        line = f"check session={session_id} version={version} outcome="
        log = checker.wait_logged(line + "passed")
        assert "Worker exited prematurely: signal 9 (SIGKILL)" in log  # then redelivered

        # A duplicate message after the result is stored changes nothing.
        client._celery.send_task(
            CHECK_TASK_NAME,
            kwargs={"session_id": session_id, "version": version},
            queue=namespace.env["STAGE_CHECK_QUEUE"],
        )
        log = checker.wait_logged(
            f"check skipped session={session_id} version={version} outcome=already-passed"
        )
        assert log.count(line) == 1
        again = client.sessions.get_render(session_id, version)
        assert again.check == record.check
        records = client.sessions._records
        assert records.record_check(session_id, version, Check("failed")) is False
        assert records.get(session_id, version).check == record.check


def test_messages_for_nothing_checkable_are_dropped_with_one_line(namespace, start_worker):
    checker = start_worker(namespace, command="checker")
    queue = namespace.env["STAGE_CHECK_QUEUE"]
    with namespace.client() as client:
        session = client.sessions.create(name="never-rendered")
        queued = client.sessions.render(session.id)  # no render worker: it stays queued
        for session_id, version in ((session.id, queued.version), ("no-such-session", 1)):
            client._celery.send_task(
                CHECK_TASK_NAME, kwargs={"session_id": session_id, "version": version}, queue=queue
            )
        client._celery.send_task(
            CHECK_TASK_NAME, kwargs={"session_id": "x", "version": "1"}, queue=queue
        )
        log = checker.wait_logged("check dropped: malformed message")
        log = checker.wait_logged("outcome=unknown-render")
        log = checker.wait_logged(
            f"check dropped session={session.id} version=1 outcome=not-ready status=queued"
        )
        assert log.count("check dropped") == 3
        assert client.sessions.get_render(session.id, 1).check is None


def test_check_false_sends_no_check_message(namespace, start_worker):
    worker = start_worker(namespace, STAGE_CHECK="false")
    with namespace.client() as client:
        session_id, version = render_ready(client, HELLO)
        worker.wait_logged(f"render session={session_id} version={version} outcome=ready")
        queue = namespace.env["STAGE_CHECK_QUEUE"]
        assert client._redis.llen(queue) == 0
        assert client.sessions.get_render(session_id, version).check is None


def test_check_true_queues_one_message_by_name_with_json_kwargs(namespace, start_worker):
    start_worker(namespace)  # no checker: the message waits in the queue
    with namespace.client() as client:
        session_id, version = render_ready(client, HELLO)
        queue = namespace.env["STAGE_CHECK_QUEUE"]
        wait_for(lambda: client._redis.llen(queue) == 1, 10, "the check message")
        message = json.loads(client._redis.lindex(queue, 0))
    assert message["headers"]["task"] == CHECK_TASK_NAME
    assert message["content-type"] == "application/json"
    body = json.loads(__import__("base64").b64decode(message["body"]))
    assert body[0] == [] and body[1] == {"session_id": session_id, "version": version}


def test_a_chromium_that_never_starts_is_an_error_not_a_failure(tmp_path: Path):
    store = LocalStore(tmp_path)
    checker = BootChecker(Chromium(tmp_path / "no-chromium"), store, timeout_s=5)

    check, report = checker.check("sessions/s/renders/1/index.html")

    assert report is None
    assert check.status == "error"
    assert check.message == (
        f"no Chromium at {tmp_path / 'no-chromium'} (STAGE_CHROMIUM_PATH); "
        "Debian: apt-get install chromium"
    )
    assert list(tmp_path.iterdir()) == []  # nothing stored
