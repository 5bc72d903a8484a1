"""esbuild hanging or crashing, compile errors, and poison messages (docs/guarantees.md, 8
and 10). Real worker processes, real Redis, S3 over HTTP (moto)."""

from __future__ import annotations

import re
import shlex
import time
import uuid
from pathlib import Path

import pytest
from conftest import processes_running, write_script
from services import wait_for
from stage_samples import BROKEN, BROKEN_COLUMN, BROKEN_LINE, HELLO

from bundler import Runtime
from worker.messages import TASK_NAME, create_celery
from worker.state.connection import connect_redis
from worker.state.stores import RedisStores

pytestmark = pytest.mark.integration

# Build timeout < soft < hard < visibility; a hung esbuild is killed well before the soft limit.
LIMITS = {
    "STAGE_BUILD_TIMEOUT_S": "1",
    "STAGE_SOFT_TIME_LIMIT_S": "5",
    "STAGE_HARD_TIME_LIMIT_S": "7",
    "STAGE_VISIBILITY_TIMEOUT_S": "9",
}
# One retry, soon; no vendor chunks (they would need a working esbuild at start); no reaper.
FAULTY_ESBUILD = {
    **LIMITS,
    "STAGE_RENDER_MAX_RETRIES": "1",
    "STAGE_RETRY_BACKOFF_S": "0.2",
    "STAGE_VENDOR": "0",
    "STAGE_REAP_INTERVAL_S": "0",
}


@pytest.fixture
def store(namespace) -> RedisStores:
    return RedisStores(connect_redis(namespace.redis_url), namespace.settings())


def render_and_wait(client, files, timeout: float = 40):
    session = client.sessions.create(name="esbuild faults")
    client.sessions.push_files(session.id, files)
    version = client.sessions.render(session.id).version
    return session.id, client.sessions.wait_for_render(session.id, version, timeout=timeout)


def test_hanging_esbuild_is_killed_by_the_build_timeout_and_leaves_no_orphan(
    namespace, start_worker, tmp_path: Path
):
    # exec replaces the shell: the hung process is "sleep <unique>", found by that command line.
    marker = f"{time.time_ns() % 10**9}.{uuid.uuid4().int % 10**6}"
    binary = str(write_script(tmp_path / "esbuild-hangs", f"exec sleep {marker}\n"))
    worker = start_worker(namespace, STAGE_ESBUILD_BINARY=binary, **FAULTY_ESBUILD)
    with namespace.client() as client:
        session = client.sessions.create(name="hangs")
        client.sessions.push_files(session.id, HELLO)
        version = client.sessions.render(session.id).version
        wait_for(lambda: bool(processes_running(f"sleep {marker}")), 20, "the hung esbuild")
        record = client.sessions.wait_for_render(session.id, version, timeout=30)
        left = processes_running(f"sleep {marker}") + processes_running(binary)

    assert record.status == "failed"
    assert record.error is not None and record.error.kind == "infrastructure"
    assert record.attempts == 2
    assert record.error.message.startswith("gave up after 2 attempts: BundlerServiceError: ")
    assert "esbuild did not finish within 1s (build timeout) and was killed" in record.error.message
    assert left == [], "an esbuild process outlived its build"
    log = worker.log
    assert log.count(f"render session={session.id} version={version} outcome=retry") == 1
    assert "SoftTimeLimitExceeded" not in log and "TimeLimitExceeded" not in log


def test_crashing_esbuild_fails_as_infrastructure_with_command_exit_code_and_output(
    namespace, start_worker, crashing_esbuild
):
    start_worker(namespace, STAGE_ESBUILD_BINARY=crashing_esbuild, **FAULTY_ESBUILD)
    with namespace.client() as client:
        _, record = render_and_wait(client, HELLO)

    command = shlex.join([crashing_esbuild, f"--service={Runtime().esbuild_version}", "--ping"])
    assert record.status == "failed" and record.attempts == 2
    assert record.error is not None and record.error.kind == "infrastructure"
    assert record.error.message == (
        f"gave up after 2 attempts: BundlerServiceError: command: {command}\n"
        "exit code: 2\n"
        "output: esbuild exited during a build\n"
        "panic: runtime error: index out of range"
    )


def test_compile_error_fails_at_once_and_is_never_retried(namespace, start_worker):
    worker = start_worker(namespace, STAGE_REAP_INTERVAL_S="0")
    with namespace.client() as client:
        session_id, first = render_and_wait(client, HELLO)
        client.sessions.push_files(session_id, BROKEN)
        version = client.sessions.render(session_id).version
        record = client.sessions.wait_for_render(session_id, version, timeout=30)
        live = client.sessions.status(session_id).live
    # The outcome line follows the stored record: wait for it, then for anything after it.
    wait_for(
        lambda: f"version={version} outcome=failed kind=build" in worker.log, 10, "the outcome line"
    )

    assert first.status == "ready", first.error
    assert record.status == "failed" and record.attempts == 1
    assert record.error is not None and record.error.kind == "build"
    [diagnostic] = [d for d in record.error.diagnostics if d.severity == "error"]
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == (
        "/app/App.tsx",
        BROKEN_LINE,
        BROKEN_COLUMN,
    )
    assert live is not None and live.version == first.version  # the previous one stays live
    assert "outcome=retry" not in worker.log
    assert worker.log.count(f"render session={session_id} version={version} outcome=") == 1


def task_lines(log: str) -> list[str]:
    """Lines about renders (other namespaces' workers also say hello on the event bus)."""
    return [
        line
        for line in log.splitlines()
        if TASK_NAME in line or "] render " in line or "invalid task message" in line
    ]


def namespace_state(store: RedisStores) -> dict[bytes, bytes]:
    """Every key of the namespace with its serialised value, but the workers' heartbeats
    (a running worker rewrites its own every few seconds; they hold no session's state)."""
    heartbeat = (store.settings.key_prefix + "worker:").encode()
    keys = store.redis.scan_iter(match=store.settings.key_prefix + "*", count=1000)
    return {key: store.redis.dump(key) for key in keys if not key.startswith(heartbeat)}


def test_poison_messages_are_dropped_with_one_log_line_each_and_touch_nothing(
    namespace, start_worker, store
):
    worker = start_worker(namespace, STAGE_REAP_INTERVAL_S="0")
    settings = namespace.settings()
    with namespace.client() as client:
        owner, _ = render_and_wait(client, HELLO)  # has version 1
        other = client.sessions.create(name="no renders").id
        client.sessions.push_files(other, HELLO)
    malformed = "render rejected: malformed message"
    # (args, kwargs) sent → the one line that must say why the message was dropped.
    poison = [
        (
            (),
            {"session_id": "nosuchsession0001", "version": 1},
            "render skipped session=nosuchsession0001 version=1 outcome=unknown-render",
        ),
        ((), {}, f"{malformed} session_id=None version=None extra=[]"),
        ((), {"session_id": 12345, "version": "7"}, f"{malformed} session_id=12345 version='7'"),
        (
            (),
            {"session_id": owner, "version": 1, "evil": "x"},
            f"{malformed} session_id='{owner}' version=1 extra=['evil']",
        ),
        (
            (owner, 1, "x"),
            {},
            f"{malformed} session_id='{owner}' version=1 extra=['1 more positional']",
        ),
        ((), {"session_id": "../../etc", "version": 2}, f"{malformed} session_id='../../etc'"),
        (
            (),
            {"session_id": owner, "version": True},
            f"{malformed} session_id='{owner}' version=True",
        ),
        ((), {"session_id": owner, "version": -3}, f"{malformed} session_id='{owner}' version=-3"),
        (
            (),
            {"session_id": owner, "version": 99},  # never requested
            f"render skipped session={owner} version=99 outcome=unknown-render",
        ),
        (
            (),
            {"session_id": other, "version": 1},  # the other session's version
            f"render skipped session={other} version=1 outcome=unknown-render",
        ),
    ]
    not_json = "Received invalid task message: Refusing to deserialize untrusted content"
    # The first render's task ends just after its record is ready (the boot check is queued,
    # the reuse index and the collector's indexes written in between): count, and take the
    # namespace's state, from after its "succeeded" line.
    succeeded = re.compile(rf"Task {re.escape(TASK_NAME)}\[[^\]]+\] succeeded")
    wait_for(lambda: succeeded.search(worker.log) is not None, 10, "the first render's end")
    before = namespace_state(store)
    received = worker.log.count(f"Task {TASK_NAME}[")
    celery = create_celery(settings)
    try:
        for args, kwargs, _ in poison:
            celery.send_task(TASK_NAME, args=args, kwargs=kwargs, queue=settings.queue)
        celery.send_task(
            TASK_NAME,
            kwargs={"session_id": owner, "version": 1},
            queue=settings.queue,
            serializer="pickle",
        )
    finally:
        celery.close()
    lines = [line for _, _, line in poison] + [not_json]

    wait_for(lambda: all(line in worker.log for line in lines), 20, "every poison line")
    settled = task_lines(worker.log)
    time.sleep(3)  # the window in which a hot loop or a redelivery would show
    log = worker.log

    assert task_lines(log) == settled, "the worker kept at the poison messages"
    for line in lines:
        assert log.count(line) == 1, line
    assert log.count(f"Task {TASK_NAME}[") - received == 2 * len(poison)  # received, succeeded
    assert "outcome=retry" not in log
    assert log.count("Traceback") == 1  # Celery's own, for the message it could not decode
    assert store.redis.llen(settings.queue) == 0
    assert namespace_state(store) == before  # nothing recorded against any session
    # The worker is not wedged: the owner's next render is served.
    with namespace.client() as client:
        version = client.sessions.render(owner).version
        assert client.sessions.wait_for_render(owner, version, timeout=30).status == "ready"
