"""Which stored version answers a request, and its files.

A published app's channels are read from Redis on every request (one round trip), so a
promote or rollback answers the next request; the files of a version never change, so
they are read from the store once and kept (a bounded cache).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import redis.asyncio

from worker.state.keys import Keys
from worker.storage import ArtifactStore, version_folder

__all__ = ["Deployment", "Catalog", "RedisCatalog", "FolderCatalog", "VersionFiles", "NotServed"]

APP_SID = re.compile(r"app_[0-9a-f]{20}")
VERSION_SID = re.compile(r"ver_[0-9a-f]{20}")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
FILE_CACHE_BYTES = 64 * 1024 * 1024  # pages and route bundles of the warm versions
MANIFESTS_KEPT = 4096  # a few KB each; versions past it are read again when asked
REDIS_CONNECTIONS = 32  # one channel read is ~0.2 ms: 32 serve thousands per second
REDIS_WAIT_S = 5.0  # a request waits this long for a connection, then gets 503


class NotServed(Exception):
    """Nothing answers here: ``status`` (404, 410) and a message for whoever asked."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Deployment:
    """One stored version as the host serves it."""

    app: str  # an app sid, or "sessions/<id>" for a session's live render
    version: str  # an appVersionSid, or "render-<n>"
    folder: str  # its folder in the store, relative to the store's prefix

    @property
    def key(self) -> str:
        return f"{self.app}/{self.version}"


class Catalog(Protocol):
    async def deployment(self, app: str, selector: str | None) -> Deployment: ...

    async def close(self) -> None: ...


class RedisCatalog:
    """Published apps (channels and versions) and, when enabled, sessions' live renders."""

    def __init__(self, redis_url: str, keys: Keys, *, sessions: bool = False) -> None:
        # Requests wait their turn for a connection rather than fail in a burst.
        pool: redis.asyncio.BlockingConnectionPool = redis.asyncio.BlockingConnectionPool.from_url(
            redis_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_S
        )
        self._redis = redis.asyncio.Redis(connection_pool=pool)
        self._keys = keys
        self._sessions = sessions

    async def close(self) -> None:
        await self._redis.close()

    async def deployment(self, app: str, selector: str | None) -> Deployment:
        """``selector``: None (production), ``preview``, or an appVersionSid."""
        if app.startswith("sessions/"):
            return await self._session(app.removeprefix("sessions/"))
        if not APP_SID.fullmatch(app):
            raise NotServed(404, f"no app {app!r}")
        keys = self._keys.app(app)
        channel = selector or "production"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hget(keys.app, "status")
                if VERSION_SID.fullmatch(channel):
                    pipe.hexists(keys.versions, channel)
                else:
                    pipe.hget(keys.channels, channel)
                status, pointed = await pipe.execute()
        except redis.RedisError as exc:
            raise NotServed(503, f"the app catalog is not reachable ({exc}); try again") from exc
        if status is None:
            raise NotServed(404, f"no app {app}")
        if status == b"archived":
            raise NotServed(410, f"app {app} is archived")
        if VERSION_SID.fullmatch(channel):
            if not pointed:
                raise NotServed(404, f"app {app} has no version {channel}")
            avsid = channel
        elif channel not in ("preview", "production"):
            raise NotServed(
                404, f"@{channel}: open @preview, @<appVersionSid>, or the app itself (production)"
            )
        elif pointed is None:
            hint = "; promote a version, or open @preview/" if channel == "production" else ""
            raise NotServed(404, f"app {app} has no {channel} version yet{hint}")
        else:
            avsid = json.loads(pointed)["appVersionSid"]
        return Deployment(app, avsid, f"apps/{app}/versions/{avsid}/")

    async def _session(self, session_id: str) -> Deployment:
        if not self._sessions or not SESSION_ID.fullmatch(session_id):
            raise NotServed(404, "session previews are not served here (STAGE_HOST_SESSIONS)")
        try:
            live = await self._redis.get(self._keys.session(session_id).live)
        except redis.RedisError as exc:
            raise NotServed(503, f"the session store is not reachable ({exc})") from exc
        if live is None:
            raise NotServed(404, f"session {session_id} has no ready render")
        version = int(live)
        return Deployment(
            f"sessions/{session_id}", f"render-{version}", version_folder(session_id, version)
        )


class FolderCatalog:
    """One version folder, answering under any app name (``stage-render render --serve``)."""

    def __init__(self, folder: str, app: str = "local") -> None:
        self.folder = folder
        self.app = app

    async def deployment(self, app: str, selector: str | None) -> Deployment:
        return Deployment(self.app, self.folder.strip("/").replace("/", "-"), self.folder)

    async def close(self) -> None:
        return None


class VersionFiles:
    """Files of stored versions, read once: versions are immutable."""

    def __init__(self, store: ArtifactStore, max_bytes: int = FILE_CACHE_BYTES) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._manifests: dict[str, dict[str, Any]] = {}

    async def read(self, key: str, *, cache: bool = True) -> bytes:
        """The object at ``key`` (relative to the store's prefix); StorageError if absent."""
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        body = await asyncio.to_thread(self.store.get, key)
        if cache and len(body) <= self.max_bytes // 8:
            self._cache[key] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, dropped = self._cache.popitem(last=False)
                self._bytes -= len(dropped)
        return body

    async def manifest(self, deployment: Deployment) -> dict[str, Any]:
        cached = self._manifests.get(deployment.folder)
        if cached is None:
            raw = await self.read(deployment.folder + "manifest.json", cache=False)
            cached = json.loads(raw)
            if len(self._manifests) < MANIFESTS_KEPT:
                self._manifests[deployment.folder] = cached
        return cached
