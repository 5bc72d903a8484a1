"""A platform module's streamed answer on the platform endpoint: NDJSON lines, and a refusal
midway as a last line the route's shim throws."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn

from tests.services import free_port, wait_for
from worker.host.egress import Egress
from worker.host.platform import CallContext, Grants, PlatformError, Streamed, platform_app

APP = "app_" + "d" * 20


class Counting:
    """Streams 1, 2, 3; ``fail`` stops after 2 with a refusal."""

    async def call(self, context: CallContext, function: str, args: Any) -> Any:
        async def lines() -> AsyncIterator[dict[str, int]]:
            for n in (1, 2, 3):
                if function == "fail" and n == 3:
                    raise PlatformError(502, "the provider went away")
                yield {"n": n}

        return Streamed(lines())


def post(function: str) -> httpx.Response:
    grants = Grants(max_fetches=1)
    token = grants.issue(APP, "ver_1")
    app = platform_app(grants, Egress(hosts={}, max_bytes=1, timeout_s=1), {"count": Counting()})

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://platform"
        ) as client:
            return await client.post(
                f"/v1/apps/{APP}/count/{function}",
                headers={"authorization": f"Bearer {token}"},
                json={},
            )

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, send()).result()


def test_a_streamed_answer_is_one_json_object_a_line():
    answer = post("ok")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line) for line in answer.text.splitlines()] == [
        {"n": 1},
        {"n": 2},
        {"n": 3},
    ]


def test_a_refusal_midway_is_the_last_line():
    lines = [json.loads(line) for line in post("fail").text.splitlines()]
    assert lines == [{"n": 1}, {"n": 2}, {"error": "the provider went away", "status": 502}]


class Endless:
    """Streams 1, 2, 3, … (64 kB a line) for as long as it is read. Every stream is kept referenced, so
    only an explicit close ends one (the garbage collector never does); ``closed`` is set
    by the stream's ``finally``."""

    def __init__(self) -> None:
        self.kept: list[AsyncIterator[dict[str, int]]] = []
        self.closed = threading.Event()

    async def call(self, context: CallContext, function: str, args: Any) -> Any:
        async def lines() -> AsyncIterator[dict[str, int]]:
            try:
                for n in itertools.count(1):  # faster than it is read: the sends wait
                    yield {"n": n, "padding": "x" * 65536}
            finally:
                self.closed.set()

        stream = lines()
        self.kept.append(stream)
        return Streamed(stream)


def test_a_reader_that_goes_away_closes_the_stream_at_once():
    """What a stream's ``finally`` does (an inference call settles its reservation there)
    happens when the reader hangs up, on the endpoint as the host serves it (uvicorn)."""
    grants = Grants(max_fetches=1)
    token = grants.issue(APP, "ver_1")
    module = Endless()
    app = platform_app(grants, Egress(hosts={}, max_bytes=1, timeout_s=1), {"count": module})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    try:
        wait_for(lambda: server.started, 10, "the platform endpoint to listen")
        body = b"{}"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as reader:
            reader.sendall(
                f"POST /v1/apps/{APP}/count/endless HTTP/1.1\r\nHost: platform\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            received = b""
            while b'{"n": 3,' not in received:
                received += reader.recv(4096)
            assert b"200 OK" in received
            assert not module.closed.is_set()  # still streaming while it is read
        assert module.closed.wait(5), "the stream was not closed when its reader went away"
    finally:
        server.should_exit = True
        serving.join(10)
