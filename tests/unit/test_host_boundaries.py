"""The API host's boundaries that need no process: the platform endpoint's token rules,
which addresses a route may fetch, which route answers a path."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette

from worker.host.egress import Egress, Refused, address_refusal, parse_hosts
from worker.host.platform import CallContext, Grants, PlatformError, platform_app
from worker.host.routing import RouteTable

T = TypeVar("T")
APP_A = "app_" + "a" * 20
APP_B = "app_" + "b" * 20


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result, on an event loop of its own thread (another test's browser
    may hold this thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


class AsgiClient:
    """Requests into an ASGI app in this process (httpx's ASGI transport, no server)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://platform"
            ) as client:
                return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

        return run(send())

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)


class Echo:
    """A platform module that says who it was called for."""

    async def call(self, context: CallContext, function: str, args: object) -> object:
        if function == "refuse":
            raise PlatformError(429, "quota used up")
        return {"app": context.app, "function": function, "args": args}


@pytest.fixture
def platform() -> tuple[AsgiClient, Grants, str, str]:
    grants = Grants(max_fetches=2)
    egress = Egress(hosts=parse_hosts("private.example=10.0.0.7"), max_bytes=1024, timeout_s=1)
    token_a, token_b = grants.issue(APP_A, "ver_1"), grants.issue(APP_B, "ver_2")
    client = AsgiClient(platform_app(grants, egress, {"echo": Echo()}))
    return client, grants, token_a, token_b


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_token_acts_only_as_its_own_app(platform):
    client, _, token_a, token_b = platform
    assert client.get(f"/v1/apps/{APP_A}/whoami", headers=bearer(token_a)).json() == {
        "app": APP_A,
        "version": "ver_1",
    }
    other = client.get(f"/v1/apps/{APP_B}/whoami", headers=bearer(token_a))
    assert other.status_code == 403
    assert other.json() == {"error": f"this process serves app {APP_A}; it cannot act as {APP_B}"}
    called = client.post(f"/v1/apps/{APP_A}/echo/list", headers=bearer(token_b), json=[1])
    assert called.status_code == 403
    for headers in ({}, bearer("forged"), {"authorization": token_a}):
        answer = client.get(f"/v1/apps/{APP_A}/whoami", headers=headers)
        assert (answer.status_code, answer.json()) == (401, {"error": "no valid platform token"})


def test_a_revoked_token_is_refused(platform):
    client, grants, token_a, _ = platform
    grants.revoke(token_a)
    assert client.get(f"/v1/apps/{APP_A}/whoami", headers=bearer(token_a)).status_code == 401


def test_platform_modules_are_called_as_the_tokens_app(platform):
    client, _, token_a, _ = platform
    answer = client.post(
        f"/v1/apps/{APP_A}/echo/list", headers=bearer(token_a), json={"status": "active"}
    )
    assert answer.json() == {"app": APP_A, "function": "list", "args": {"status": "active"}}
    refused = client.post(f"/v1/apps/{APP_A}/echo/refuse", headers=bearer(token_a), json={})
    assert (refused.status_code, refused.json()) == (429, {"error": "quota used up"})
    absent = client.post(f"/v1/apps/{APP_A}/compute/query", headers=bearer(token_a), json={})
    assert (absent.status_code, absent.json()) == (
        501,
        {"error": "@stage/compute is not available on this host"},
    )


def test_fetch_needs_a_live_request_of_the_same_app_and_counts(platform):
    client, grants, token_a, _ = platform
    target = {"x-stage-target": "https://private.example/", "x-stage-method": "GET"}
    outside = client.post(f"/v1/apps/{APP_A}/fetch", headers={**bearer(token_a), **target})
    assert outside.status_code == 429
    assert outside.text == "refused: fetch is only allowed while the route is answering a request"
    other_apps = grants.begin(APP_B)
    borrowed = client.post(
        f"/v1/apps/{APP_A}/fetch",
        headers={**bearer(token_a), **target, "x-stage-request": other_apps},
    )
    assert borrowed.status_code == 429
    mine = grants.begin(APP_A)
    answers = [
        client.post(
            f"/v1/apps/{APP_A}/fetch",
            headers={**bearer(token_a), **target, "x-stage-request": mine},
        )
        for _ in range(3)
    ]
    assert [a.text for a in answers] == [
        "refused: private.example (10.0.0.7) is a private address; API routes may only fetch "
        "public internet addresses"
    ] * 2 + ["refused: more than 2 fetches in one request (STAGE_API_MAX_FETCHES)"]
    grants.end(mine)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("192.168.0.9", "a private address"),
        ("172.16.5.4", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("100.64.0.1", "not a public address"),
        ("0.0.0.0", "a private address"),
        ("224.0.0.1", "a multicast address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_which_addresses_a_route_may_reach(address, why):
    assert address_refusal(address) == why


def test_only_https_urls_to_public_addresses_pass_the_check():
    egress = Egress(
        hosts={"rebind.example": "127.0.0.1", "ok.example": "93.184.215.14"},
        max_bytes=10,
        timeout_s=1,
    )

    async def check(url: str) -> object:
        try:
            return await egress.check(url)
        except Refused as exc:
            return str(exc)

    assert run(check("https://ok.example/x")) == ("ok.example", "93.184.215.14", 443)
    assert run(check("http://ok.example/")) == (
        "refused: only https:// URLs may be fetched from an API route, not http:// ones"
    )
    assert run(check("https://rebind.example:8443/")) == (
        "refused: rebind.example (127.0.0.1) is a loopback address; API routes may only fetch "
        "public internet addresses"
    )
    assert run(check("https://[::1]/")) == (
        "refused: ::1 is a loopback address; API routes may only fetch public internet addresses"
    )


def test_fixed_segments_win_over_parameters_and_params_are_decoded():
    table = RouteTable(
        [
            {
                "route": "/api/tasks/[id]",
                "source": "/api/tasks/[id].ts",
                "path": "server/api/tasks/[id].js",
                "methods": ["GET"],
            },
            {
                "route": "/api/tasks/new",
                "source": "/api/tasks/new.ts",
                "path": "server/api/tasks/new.js",
                "methods": ["POST"],
            },
            {
                "route": "/api",
                "source": "/api/index.ts",
                "path": "server/api/index.js",
                "methods": ["fetch"],
            },
        ]
    )
    new = table.match("/api/tasks/new")
    assert new is not None and new.entry.route == "/api/tasks/new"
    found = table.match("/api/tasks/a%20b")
    assert found is not None and (found.entry.index, found.params) == (0, {"id": "a b"})
    assert table.match("/api/tasks") is None
    assert table.match("/api/tasks/1/2") is None
    root = table.match("/api")
    assert root is not None and root.entry.answers("DELETE")
    assert found.entry.answers("HEAD") and not found.entry.answers("POST")
    assert found.entry.allow == "GET, HEAD"
