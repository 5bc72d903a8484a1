"""The platform endpoint: what a route's sandbox may ask of the host, as its own app only.

It listens on loopback, on a port only the host's Deno processes are allowed to reach.
Every request carries the process's token (``Authorization: Bearer …``, handed to the
process on stdin at start, unreadable by route code afterwards); every path names an app
(``/v1/apps/<sid>/…``) and must name the token's app, so a route can never act as
another app. Outbound fetches must also name a request the host is serving for that
app, and count against that request's limit.

Paths:
    POST /v1/apps/<sid>/fetch              a route's outbound fetch (see worker.host.egress)
    GET  /v1/apps/<sid>/whoami             the token's app and version
    POST /v1/apps/<sid>/<module>/<fn>      a platform module's function (JSON in, JSON out,
                                           or NDJSON lines for a streamed answer)

Platform modules (``@stage/compute``, ``@stage/inference``) plug in as a
:class:`PlatformModule` under their name; a module this host does not have answers 501.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from worker.host.egress import Egress, Refused
from worker.host.metrics import FETCHES

__all__ = [
    "Grants",
    "Grant",
    "PlatformModule",
    "CallContext",
    "PlatformError",
    "Streamed",
    "Encoded",
    "platform_app",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grant:
    """What one process's token stands for; ``process`` tells two processes apart."""

    app: str
    version: str
    process: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class _Serving:
    app: str
    fetches: int = 0


@dataclass(frozen=True)
class CallContext:
    """Who a platform module function is called for: the app is the token's, never the
    caller's say-so."""

    app: str
    version: str
    request_id: str | None
    process: str = ""  # the calling process (Grant.process): what it holds ends with it


class PlatformError(Exception):
    """A platform module's refusal: ``status`` and a message for the route's author."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Encoded:
    """A module function's answer already encoded as JSON (sent as is)."""

    body: bytes


@dataclass(frozen=True)
class Streamed:
    """A module function's answer sent as it is made: one JSON object per line
    (``application/x-ndjson``). A PlatformError raised while streaming becomes a last line
    ``{"error": message, "status": status}``."""

    lines: AsyncIterator[Any]


class PlatformModule(Protocol):
    """A module behind ``@stage/<name>``: ``call`` returns JSON (or :class:`Streamed`) and
    raises PlatformError to refuse. A module with a ``start()`` coroutine has it awaited
    before the host serves, one with ``aclose()`` when the host stops, and one with
    ``process_ended(grant)`` is told when a process's token is revoked (it stopped)."""

    async def call(self, context: CallContext, function: str, args: Any) -> Any: ...


@dataclass
class Grants:
    """Tokens of running processes, and the requests the host is serving right now."""

    max_fetches: int
    _tokens: dict[str, Grant] = field(default_factory=dict)
    _serving: dict[str, _Serving] = field(default_factory=dict)
    #: Called with the grant of each process whose token is revoked.
    ended: list[Callable[[Grant], None]] = field(default_factory=list)

    def issue(self, app: str, version: str) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = Grant(app, version)
        return token

    def revoke(self, token: str) -> None:
        grant = self._tokens.pop(token, None)
        if grant is not None:
            for listener in self.ended:
                listener(grant)

    def grant(self, authorization: str | None) -> Grant | None:
        scheme, _, token = (authorization or "").partition(" ")
        return self._tokens.get(token) if scheme.lower() == "bearer" else None

    def begin(self, app: str) -> str:
        request_id = secrets.token_hex(12)
        self._serving[request_id] = _Serving(app)
        return request_id

    def end(self, request_id: str) -> None:
        self._serving.pop(request_id, None)

    def count_fetch(self, app: str, request_id: str | None) -> str | None:
        """None when a fetch may go, else why not."""
        serving = self._serving.get(request_id or "")
        if serving is None or serving.app != app:
            return "fetch is only allowed while the route is answering a request"
        serving.fetches += 1
        if serving.fetches > self.max_fetches:
            return f"more than {self.max_fetches} fetches in one request (STAGE_API_MAX_FETCHES)"
        return None


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _ndjson(lines: AsyncIterator[Any]) -> AsyncGenerator[bytes, None]:
    try:
        async for item in lines:
            yield json.dumps(item).encode() + b"\n"
            # Once the reader has gone, sending returns at once: without a pause here, lines
            # that are ready at once would keep the loop from ever noticing it had gone.
            await asyncio.sleep(0)
    except PlatformError as exc:
        yield json.dumps({"error": str(exc), "status": exc.status}).encode() + b"\n"
    finally:
        close = getattr(lines, "aclose", None)
        if close is not None:
            await close()


class _ClosingStream(StreamingResponse):
    """A streamed answer whose lines are closed as soon as the response ends, however it
    ends. A reader that goes away (a route that stopped reading) ends the response while
    the lines wait at a ``yield``; without this, what their ``finally`` does (an
    inference call's settlement) would wait for the garbage collector."""

    body_iterator: AsyncGenerator[bytes, None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()


def platform_app(
    grants: Grants,
    egress: Egress,
    modules: Mapping[str, PlatformModule] | None = None,
    max_body_bytes: int = 5 * 1024 * 1024,
) -> Starlette:
    """The endpoint's ASGI app."""
    installed = dict(modules or {})
    for module in installed.values():
        ended = getattr(module, "process_ended", None)
        if ended is not None:
            grants.ended.append(ended)

    def authorize(request: Request) -> Grant | Response:
        grant = grants.grant(request.headers.get("authorization"))
        if grant is None:
            return _error(401, "no valid platform token")
        sid = request.path_params["sid"]
        if sid != grant.app:
            return _error(403, f"this process serves app {grant.app}; it cannot act as {sid}")
        return grant

    async def body_of(request: Request) -> bytes | Response:
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > max_body_bytes:
                return _error(413, f"body larger than {max_body_bytes} bytes")
        return bytes(data)

    async def whoami(request: Request) -> Response:
        grant = authorize(request)
        if isinstance(grant, Response):
            return grant
        return JSONResponse({"app": grant.app, "version": grant.version})

    async def fetch(request: Request) -> Response:
        grant = authorize(request)
        if isinstance(grant, Response):
            return grant
        why = grants.count_fetch(grant.app, request.headers.get("x-stage-request"))
        if why is not None:
            FETCHES.labels("refused").inc()
            return Response(f"refused: {why}", 429, headers={"x-stage-refused": "limit"})
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        target = request.headers.get("x-stage-target", "")
        method = request.headers.get("x-stage-method", "GET")
        headers = {
            k: v
            for k, v in request.headers.items()
            if not k.startswith("x-stage-") and k != "authorization"
        }
        try:
            answer = await egress.fetch(method, target, headers, body)
        except Refused as exc:
            FETCHES.labels("refused").inc()
            log.info("app %s: fetch %s %s", grant.app, target, exc)
            return Response(str(exc), 403, headers={"x-stage-refused": "address"})
        except ConnectionError as exc:
            FETCHES.labels("failed").inc()
            return Response(str(exc), 502, headers={"x-stage-refused": "network"})
        FETCHES.labels("sent").inc()
        return Response(answer.body, answer.status, headers=dict(answer.headers))

    async def call(request: Request) -> Response:
        grant = authorize(request)
        if isinstance(grant, Response):
            return grant
        name, function = request.path_params["module"], request.path_params["function"]
        module = installed.get(name)
        if module is None:
            return _error(501, f"@stage/{name} is not available on this host")
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        try:
            args = json.loads(body or b"null")
        except ValueError:
            return _error(400, "the arguments are not JSON")
        context = CallContext(
            grant.app, grant.version, request.headers.get("x-stage-request"), grant.process
        )
        try:
            result = await module.call(context, function, args)
        except PlatformError as exc:
            return _error(exc.status, str(exc))
        if isinstance(result, Encoded):
            return Response(result.body, media_type="application/json")
        if isinstance(result, Streamed):
            return _ClosingStream(_ndjson(result.lines), media_type="application/x-ndjson")
        return JSONResponse(result)

    return Starlette(
        routes=[
            Route("/v1/apps/{sid}/whoami", whoami, methods=["GET"]),
            Route("/v1/apps/{sid}/fetch", fetch, methods=["POST"]),
            Route("/v1/apps/{sid}/{module}/{function}", call, methods=["POST"]),
        ]
    )
