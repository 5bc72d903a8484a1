"""The public side of the API host: each app's page and its ``/api/**`` routes, one origin.

    /<app sid>/                    the production channel's version
    /<app sid>/@preview/           the preview channel's version
    /<app sid>/@<appVersionSid>/   one version
    /sessions/<id>/                a session's live render (STAGE_HOST_SESSIONS only)
    …/api/<path>                   the version's route, answered by its Deno process
    …/<file>                       the version's files from the store (never ``server/``)
    /vendor/…                      the shared vendor chunks the pages load
    /healthz, /metrics             the host itself

The channel is read from Redis on every request, so promote and rollback answer the next
one. ``index.html`` gets the version's base path as a ``<meta>`` and a small script
(``runtime/page-base.js``) that sends ``fetch("/api/x")`` to ``<base>api/x``; relative
``fetch("api/x")`` resolves there by itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from html import escape
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bundler.artifacts import content_type_for
from worker.errors import StorageError
from worker.host.applogs import log_request
from worker.host.catalog import Catalog, Deployment, NotServed, VersionFiles
from worker.host.egress import HOP_HEADERS
from worker.host.metrics import LATENCY, REQUESTS
from worker.host.platform import Grants
from worker.host.pool import Pool
from worker.host.routing import RouteTable
from worker.host.sandbox import RUNTIME_DIR, SandboxError
from worker.host.upstream import TooLarge, UpstreamError
from worker.settings import Settings
from worker.storage import CACHE_IMMUTABLE, CACHE_REVALIDATE, cache_control_for

__all__ = ["public_app"]

_PAGE_BASE = (RUNTIME_DIR / "page-base.js").read_text(encoding="utf-8")


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": message, **extra}, status_code=status, headers={"cache-control": "no-store"}
    )


class _TooLarge(Exception):
    pass


class Host:
    """What a request needs: where versions are, their files, and the warm processes."""

    def __init__(
        self, settings: Settings, catalog: Catalog, files: VersionFiles, pool: Pool, grants: Grants
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.files = files
        self.pool = pool
        self.grants = grants
        self._tables: dict[str, RouteTable] = {}

    async def close(self) -> None:
        return None

    async def routes(self, deployment: Deployment) -> RouteTable:
        table = self._tables.get(deployment.folder)
        if table is None:
            manifest = await self.files.manifest(deployment)
            table = RouteTable(manifest.get("routes") or [])
            self._tables[deployment.folder] = table
        return table

    async def serve(
        self, request: Request, app: str, selector: str | None, base: str, rest: str
    ) -> Response:
        try:
            deployment = await self.catalog.deployment(app, selector)
        except NotServed as exc:
            return _error(exc.status, str(exc))
        if rest == "api" or rest.startswith("api/"):
            return await self.route(request, deployment, base, "/" + rest)
        return await self.page_file(deployment, base, rest)

    async def page_file(self, deployment: Deployment, base: str, rest: str) -> Response:
        path = rest or "index.html"
        if path.endswith("/"):
            path += "index.html"
        if path.startswith("server/") or ".." in path.split("/"):
            return _error(404, f"no file {path}")
        try:
            manifest = await self.files.manifest(deployment)
        except StorageError:
            return _error(404, f"{deployment.app}: version {deployment.version} is not stored")
        kinds = {f["path"]: f.get("kind", "asset") for f in manifest.get("files", [])}
        if path not in kinds:
            return _error(404, f"no file {path}")
        try:
            body = await self.files.read(deployment.folder + path)
        except StorageError:
            return _error(404, f"no file {path}")
        if path == "index.html":
            body = _with_base(body, base)
        failed = manifest.get("status") == "failed"
        return Response(
            body,
            media_type=content_type_for(path),
            headers={"cache-control": cache_control_for(kinds[path], failed=failed)},
        )

    async def route(
        self, request: Request, deployment: Deployment, base: str, path: str
    ) -> Response:
        started = time.perf_counter()
        status, route_name = 500, None
        extra: dict[str, Any] = {}
        try:
            table = await self.routes(deployment)
            found = table.match(path)
            if found is None:
                status = 404
                return _error(404, f"no route {path} in this version")
            route_name = found.entry.route
            if not found.entry.answers(request.method):
                status = 405
                refusal = _error(
                    405, f"{route_name} does not answer {request.method}", allow=found.entry.allow
                )
                refusal.headers["allow"] = found.entry.allow
                return refusal
            response = await self._forward(
                request, deployment, base, found.entry.index, found.params, path, extra
            )
            status = response.status_code
            return response
        finally:
            ms = (time.perf_counter() - started) * 1000
            REQUESTS.labels(deployment.app, str(status)).inc()
            LATENCY.observe(ms / 1000)
            log_request(
                deployment.app, deployment.version, route_name, request.method, status, ms, **extra
            )

    async def _forward(
        self,
        request: Request,
        deployment: Deployment,
        base: str,
        index: int,
        params: dict[str, str],
        path: str,
        extra: dict[str, Any],
    ) -> Response:
        """The route's answer; ``extra`` gets what the request line should say besides."""
        settings = self.settings
        try:
            body = await _read_capped(request, settings.api_max_body_bytes)
        except _TooLarge:
            return _error(
                413,
                f"the request body is larger than {settings.api_max_body_bytes} "
                "bytes (STAGE_API_MAX_BODY_BYTES)",
            )
        except ClientDisconnect:
            return _error(400, "the client went away while sending the body")
        try:
            process, cold = await self.pool.acquire(deployment)
        except SandboxError as exc:
            return _error(500, f"this version's API routes could not start: {exc}")
        except StorageError as exc:
            return _error(500, f"this version's route code could not be read: {exc}")
        if cold:  # the cold start's own cost: spawn to listening
            extra.update(cold=True, start_ms=process.start_ms)
        request_id = self.grants.begin(deployment.app)
        # No accept-encoding: Deno would compress for loopback; the host's server may
        # compress for the client instead.
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k not in HOP_HEADERS and k != "accept-encoding" and not k.startswith("x-stage-")
        ]
        query = f"?{request.url.query}" if request.url.query else ""
        public_url = f"{request.url.scheme}://{request.url.netloc}{base}{path.lstrip('/')}{query}"
        headers += [
            ("x-stage-key", process.key),
            ("x-stage-route", str(index)),
            ("x-stage-params", json.dumps(params)),
            ("x-stage-url", public_url),
            ("x-stage-request", request_id),
        ]
        process.inflight += 1
        try:
            async with asyncio.timeout(settings.api_timeout_s):
                status, answer_headers, data = await process.upstream.request(
                    request.method, path, headers, body, settings.api_max_response_bytes
                )
        except TimeoutError:
            await self.pool.stop(process, "timeout")
            return _error(
                504,
                f"the route did not answer within {settings.api_timeout_s:g} s "
                "(STAGE_API_TIMEOUT_S); its process was stopped and starts "
                "again on the next request",
            )
        except TooLarge:
            return _error(
                502,
                f"the route's response is larger than "
                f"{settings.api_max_response_bytes} bytes "
                "(STAGE_API_MAX_RESPONSE_BYTES)",
            )
        except (UpstreamError, OSError):
            await asyncio.sleep(0.05)  # let the process's exit and last words arrive
            if process.alive and process.stop_reason is None:
                return _error(502, "the route's process did not answer")
            reason = process.stop_reason
            await self.pool.stop(process, "exited")
            why = (
                "it was stopped" if reason in ("evicted", "shutdown", "idle") else process.explain()
            )
            return _error(
                502,
                f"the route's process ended while answering: {why}; the next "
                "request starts it again",
            )
        finally:
            process.inflight -= 1
            process.last_used = time.monotonic()
            self.grants.end(request_id)
        response = Response(data, status)
        response.raw_headers = [
            *(
                (k, v)
                for k, v in answer_headers
                if k.decode("latin-1") not in HOP_HEADERS and k not in (b"date", b"server")
            ),
            (b"content-length", str(len(data)).encode()),
        ]
        return response


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _TooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > cap:
            raise _TooLarge
    return bytes(data)


def _with_base(html: bytes, base: str) -> bytes:
    """index.html with the base path its routes live under, before any of its scripts."""
    tag = (
        f'<meta name="stage-base" content="{escape(base)}"><script>{_PAGE_BASE}</script>'
    ).encode()
    head = html.find(b"<head>")
    if head < 0:
        return tag + html
    return html[: head + 6] + tag + html[head + 6 :]


def _split(path: str) -> tuple[str, str | None, str, str] | None:
    """``/app_x/@preview/a/b`` → (app, selector, base, rest); None for other paths."""
    parts = path.lstrip("/").split("/")
    if parts[0] == "sessions" and len(parts) >= 2:
        app, parts = f"sessions/{parts[1]}", parts[2:]
        base = f"/sessions/{app.split('/')[1]}/"
    elif parts[0]:
        app, parts, base = parts[0], parts[1:], f"/{parts[0]}/"
    else:
        return None
    selector = None
    if parts and parts[0].startswith("@"):
        selector = parts[0][1:]
        base += parts[0] + "/"
        parts = parts[1:]
    return app, selector, base, "/".join(parts)


def public_app(host: Host) -> Starlette:
    async def dispatch(request: Request) -> Response:
        path = request.url.path
        if path == "/healthz":
            return JSONResponse({"ok": True, "processes": len(host.pool.processes)})
        if path == "/metrics":
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
        if path.startswith("/vendor/"):
            return await _vendor(host, path.removeprefix("/"))
        split = _split(path)
        if split is None:
            return _error(404, "open /<app sid>/ for an app's production version")
        app, selector, base, rest = split
        # /app_x or /app_x/@preview: the page's relative URLs need the trailing slash.
        depth = 1 + path.startswith("/sessions/") + (selector is not None)
        if not rest and path.rstrip("/").count("/") == depth and not path.endswith("/"):
            return RedirectResponse(base, status_code=308)
        return await host.serve(request, app, selector, base, rest)

    return Starlette(
        routes=[
            Route(
                "/{path:path}",
                dispatch,
                methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            )
        ]
    )


async def _vendor(host: Host, key: str) -> Response:
    if ".." in key.split("/"):
        return _error(404, "no such file")
    try:
        body = await host.files.read(key)
    except StorageError:
        return _error(404, f"no file /{key}")
    cache = CACHE_IMMUTABLE if key.count("/") >= 2 else CACHE_REVALIDATE
    return Response(body, media_type=content_type_for(key), headers={"cache-control": cache})
