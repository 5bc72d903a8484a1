"""The host image: `stage-render host` in a container (compose's service), Deno from the
image's own wheel, serving a route of an app a worker rendered and published."""

from __future__ import annotations

import httpx
import pytest
from conftest import COMPOSE, compose_env
from podman import BUILD_TIMEOUT_S, Container
from services import free_port

pytestmark = [pytest.mark.image, pytest.mark.timeout(BUILD_TIMEOUT_S + 300)]

HOST_SERVICE = COMPOSE["services"]["host"]
ROUTE = "export function GET() { return Response.json({ from: 'the host image' }); }\n"


def test_host_container_serves_a_published_apps_route(podman, bases, namespace, stack):
    client, _ = stack
    image = podman.build(HOST_SERVICE["build"]["target"], bases)
    assert podman.config(image)["User"] == "10001:10001"
    session = client.sessions.create(name="host image")
    client.sessions.push_files(
        session.id,
        [
            {"path": "/app/App.tsx", "content": "export default () => <h1>hi</h1>;\n"},
            {"path": "/api/hello.ts", "content": ROUTE},
        ],
    )
    ticket = client.sessions.render(session.id)
    assert client.sessions.wait_for_render(session.id, ticket.version).status == "ready"
    sid = client.apps.publish(session.id, name="host image", author="dev@example.com").sid

    port = free_port()
    env = {
        **compose_env(namespace),
        **{k: str(v) for k, v in HOST_SERVICE["environment"].items() if k.startswith("STAGE_HOST")},
        "STAGE_HOST_PORT": str(port),
        "STAGE_HOST_BIND": "127.0.0.1",
    }
    container = Container(podman, image, env, HOST_SERVICE["command"])
    try:
        container.wait_logged("serving apps on", timeout=60)
        url = f"http://127.0.0.1:{port}/{sid}/@preview/api/hello"
        answer = httpx.get(url, timeout=60)
        assert answer.status_code == 200, f"{answer.text}\n{container.log}"
        assert answer.json() == {"from": "the host image"}
    finally:
        container.remove()
