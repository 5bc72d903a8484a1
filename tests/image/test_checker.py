"""The checker image: Debian's Chromium runs as the worker user with its own sandbox on."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from conftest import COMPOSE, compose_env
from podman import BUILD_TIMEOUT_S

pytestmark = [pytest.mark.image, pytest.mark.timeout(BUILD_TIMEOUT_S + 300)]

# No --no-sandbox anywhere: as a non-root user Chromium refuses to start without a sandbox.
HEADLESS = [
    "chromium",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]


def test_chromium_prints_the_dom_of_a_page_as_the_worker_user(podman, checker_image, in_image):
    assert podman.config(checker_image)["User"] == "10001:10001"
    assert podman.config(checker_image)["Cmd"] == COMPOSE["services"]["checker"]["command"]
    page = "data:text/html,<title>check</title><p id=greeting>Hello from Stage</p>"
    result = in_image(
        "sh", "-c", 'id -u && exec "$@"', "sh", *HEADLESS, "--dump-dom", page, image=checker_image
    )
    assert result.returncode == 0, result.stderr
    uid, dom = result.stdout.split("\n", 1)
    assert uid == "10001"
    assert '<p id="greeting">Hello from Stage</p>' in dom, result.stdout + result.stderr


def test_chromium_renderers_run_in_their_own_sandbox_namespace(checker_image, in_image):
    # While a page is open, list each process's user namespace and command line.
    script = (
        '"$@" >/dev/null 2>&1 & sleep 5; '
        "for p in /proc/[0-9]*; do "
        'echo "$(readlink $p/ns/user) $(tr "\\0" " " < $p/cmdline)"; done; '
        "kill $!"
    )
    result = in_image(
        "sh",
        "-c",
        script,
        "sh",
        *HEADLESS,
        "--remote-debugging-port=0",
        "data:text/html,<p>sandboxed</p>",
        image=checker_image,
    )
    namespaces: dict[str, set[str]] = defaultdict(set)
    for line in result.stdout.splitlines():
        match = re.match(r"(user:\[\d+\]) \S*chromium( --type=(\S+))?", line)
        if match:
            namespaces[match.group(3) or "browser"].add(match.group(1))
    assert namespaces["browser"] and namespaces["renderer"], result.stdout + result.stderr
    # The renderers are in a user namespace of their own: the sandbox's first layer.
    assert not namespaces["renderer"] & namespaces["browser"], dict(namespaces)


def test_checker_container_checks_a_rendered_page(
    namespace, checker_image, start_container, podman
):
    """A worker container renders, the checker container (compose's command and
    environment) opens the page in its Chromium and records a clean check."""
    from podman import Container
    from services import wait_for

    start_container(namespace)
    checker_service = COMPOSE["services"]["checker"]
    checker = Container(
        podman,
        checker_image,
        compose_env(namespace),
        checker_service["command"],
        f"--shm-size={checker_service['shm_size']}",
    )
    try:
        checker.wait_ready()
        with namespace.client() as client:
            session = client.sessions.create(name="checked")
            client.sessions.push_files(
                session.id,
                [
                    {
                        "path": "/app/App.tsx",
                        "content": "export default function App() { return <h1>Checked</h1>; }\n",
                    }
                ],
            )
            version = client.sessions.render(session.id).version
            record = client.sessions.wait_for_render(session.id, version, timeout=60)
            assert record.status == "ready", record.error

            def checked() -> bool:
                return client.sessions.status(session.id).to_dict()["render"]["check"] is not None

            try:
                wait_for(checked, 60, "the checker's verdict on the render record")
            except TimeoutError as exc:
                raise AssertionError(f"{exc}; the checker's log:\n{checker.log[-4000:]}") from exc
            check = client.sessions.status(session.id).to_dict()["render"]["check"]
        assert check["status"] == "passed", check
        assert check["errors"] == [] and not check["blank"], check
    finally:
        checker.remove()
