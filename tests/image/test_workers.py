"""Worker containers of the image, run as compose runs them, against the tests' Redis and
S3 server: they render, they finish a render on SIGTERM, and a render of a container
killed outright completes on the other one."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WORKER_SERVICE, grace_s
from podman import BUILD_TIMEOUT_S, ROOT
from services import wait_for

from bundler import Runtime
from worker.state.stores import RedisStores

pytestmark = [
    pytest.mark.image,
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.timeout(BUILD_TIMEOUT_S + 300),
]

SESSIONS = 20
# Build < soft < hard < visibility, small, so a lost container is noticed in seconds; the
# build timeout still outlasts a slow esbuild's start.
SMALL_LIMITS = {
    "STAGE_BUILD_TIMEOUT_S": "14",
    "STAGE_SOFT_TIME_LIMIT_S": "15",
    "STAGE_HARD_TIME_LIMIT_S": "16",
    "STAGE_VISIBILITY_TIMEOUT_S": "17",
}
NO_REAPER = {"STAGE_REAP_INTERVAL_S": "0"}  # only the broker may bring a message back
IN_IMAGE_ESBUILD = Path("/app") / Runtime().binary.relative_to(ROOT)


def app(title: str) -> list[dict[str, str]]:
    """A heading styled with a Tailwind class: the image compiles Tailwind with its Node."""
    return [
        {
            "path": "/app/App.tsx",
            "content": (
                "export default function App() {\n"
                f'  return <h1 className="text-3xl">{title}</h1>;\n'
                "}\n"
            ),
        }
    ]


def outcome(session_id: str, version: int, status: str = "ready") -> str:
    """A pattern of the render's log line; with compose's JSON logs it is the message."""
    return re.escape(f"render session={session_id} version={version} outcome={status}")


@pytest.fixture
def slow_esbuild(tmp_path: Path):
    """A volume option and the in-image path of an esbuild that starts ``seconds`` late in
    each new process, then is the image's own: a render stays mid-build that long."""
    folder = tmp_path / "slow-esbuild"
    folder.mkdir()
    folder.chmod(0o755)  # the container's user 10001 reads it

    def make(seconds: float) -> tuple[str, str]:
        script = folder / f"esbuild-{seconds:g}"
        script.write_text(f'#!/bin/sh\nsleep {seconds}\nexec "{IN_IMAGE_ESBUILD}" "$@"\n')
        script.chmod(0o755)
        return f"--volume={folder}:/opt/slow-esbuild:ro", f"/opt/slow-esbuild/{script.name}"

    return make


@pytest.fixture
def store(namespace) -> Iterator[RedisStores]:
    stores = RedisStores.connect(namespace.settings())
    yield stores
    stores.close()


def wait_status(
    store: RedisStores, session_id: str, version: int, status: str, timeout: float
) -> None:
    wait_for(
        lambda: store.records.get(session_id, version).status == status,
        timeout,
        f"render {version} to be {status}",
    )


def test_two_worker_containers_render_sessions_that_open_in_chromium(
    namespace, start_container, browser
):
    containers = [start_container(namespace), start_container(namespace)]
    started = time.monotonic()
    with namespace.client() as client:
        tickets = []
        for index in range(SESSIONS):
            session = client.sessions.create(name=f"preview {index}")
            client.sessions.push_files(session.id, app(f"Preview {index}"))
            tickets.append((index, session.id, client.sessions.render(session.id).version))
        records = [
            (index, client.sessions.wait_for_render(session_id, version, timeout=90))
            for index, session_id, version in tickets
        ]
    print(f"\n{SESSIONS} renders on two containers in {time.monotonic() - started:.1f} s")

    context = browser.new_context()
    try:
        tab = context.new_page()
        for index, record in records:
            assert record.status == "ready", record.error
            response = tab.goto(record.url, wait_until="load")
            assert response is not None and response.ok, record.url
            heading = tab.locator("h1")
            heading.wait_for()
            assert heading.inner_text() == f"Preview {index}"
            # text-3xl (1.875rem), not an unstyled h1's 2em
            assert heading.evaluate("e => getComputedStyle(e).fontSize") == "30px"
    finally:
        context.close()
    logs = [container.log for container in containers]
    for _, session_id, version in tickets:
        assert sum(bool(re.search(outcome(session_id, version), log)) for log in logs) == 1
    assert all("outcome" in log for log in logs), "one container rendered nothing"


def test_stopped_container_finishes_its_render(namespace, start_container, slow_esbuild, store):
    volume, esbuild = slow_esbuild(4)
    container = start_container(namespace, volume, STAGE_ESBUILD_BINARY=esbuild, **NO_REAPER)
    with namespace.client() as client:
        session = client.sessions.create(name="stopped mid-render")
        client.sessions.push_files(session.id, app("Stopped"))
        version = client.sessions.render(session.id).version
        wait_status(store, session.id, version, "building", 30)
        # compose's grace period: SIGTERM, then SIGKILL only if the worker is still there.
        took_s = container.stop(grace_s(WORKER_SERVICE))
        record = client.sessions.wait_for_render(session.id, version, timeout=10)

    assert record.status == "ready", record.error
    assert record.attempts == 1
    assert took_s < grace_s(WORKER_SERVICE)
    assert container.exit_code() == 0
    assert re.search(outcome(session.id, version), container.log)


def test_killed_container_render_completes_on_the_other(
    namespace, start_container, slow_esbuild, store
):
    # The render stays in the first container's esbuild start while the second one starts.
    volume, esbuild = slow_esbuild(10)
    first = start_container(
        namespace, volume, STAGE_ESBUILD_BINARY=esbuild, **SMALL_LIMITS, **NO_REAPER
    )
    with namespace.client() as client:
        session = client.sessions.create(name="killed mid-render")
        client.sessions.push_files(session.id, app("Killed"))
        version = client.sessions.render(session.id).version
        wait_status(store, session.id, version, "building", 30)
        second = start_container(namespace, **SMALL_LIMITS, **NO_REAPER)
        first.kill()
        killed = time.monotonic()
        record = client.sessions.wait_for_render(session.id, version, timeout=60)
        print(
            f"\nkill -> ready {time.monotonic() - killed:.1f} s (visibility timeout "
            f"{SMALL_LIMITS['STAGE_VISIBILITY_TIMEOUT_S']} s)"
        )

    assert record.status == "ready", record.error
    assert record.attempts == 2
    assert not first.running() and first.exit_code() == 137
    assert not re.search(outcome(session.id, version), first.log)
    second.wait_logged(outcome(session.id, version), timeout=10)
