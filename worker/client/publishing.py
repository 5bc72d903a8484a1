"""Published apps: immutable app versions copied from renders, reachable through channels.

Redis keys are in :mod:`worker.state.keys` (``P app:{sid}`` …); docs/contract.md is the reference.

Storage: ``apps/<sid>/versions/<appVersionSid>/`` holds a server-side copy of the render's
folder (no rebuild), and ``apps/<sid>/channels/<channel>.json`` a pointer a static host or
edge can follow without Redis. Redis is the source of truth: a channel's revision only
grows, and pointer writes take turns under a Redis lock, each writing what Redis says at
that moment, so concurrent promotes leave both stores showing the same newest revision.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis

from worker.errors import (
    AppNotFoundError,
    AppVersionNotFoundError,
    InvalidInputError,
    StorageError,
)
from worker.inputs import validate_name
from worker.lifecycle.retention import PIN_S, Lifecycle
from worker.manifest import MANIFEST, Manifest
from worker.models import Check, RenderRecord, utc_now
from worker.state.connection import load_script, redis_errors
from worker.state.stores import RedisStores
from worker.storage import (
    CACHE_REVALIDATE,
    ArtifactStore,
    StoredObject,
    delete_folder,
    version_folder,
)

__all__ = ["AppStore", "App", "AppVersion", "Channel", "Channels", "Publication", "CHANNELS"]

CHANNELS = ("preview", "production")
STATUSES = ("active", "archived")
_AUTHOR = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_MAX_AUTHOR = 254  # the longest e-mail address SMTP allows
_MAX_DESCRIPTION = 2000  # a paragraph, not a document
_POINTER_LOCK_S = 30.0  # one pointer PUT; far longer means the writer died holding it


@dataclass(frozen=True)
class AppVersion:
    app_version_sid: str
    sid: str
    session_id: str
    render_version: int
    created_at: str
    index_key: str
    url: str
    input_hash: str | None

    check: Check | None = None  # the render's boot check when it was published

    def to_dict(self) -> dict[str, Any]:
        return {
            "appVersionSid": self.app_version_sid,
            "sid": self.sid,
            "sessionId": self.session_id,
            "renderVersion": self.render_version,
            "createdAt": self.created_at,
            "indexKey": self.index_key,
            "url": self.url,
            "inputHash": self.input_hash,
            "check": self.check.to_dict() if self.check else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AppVersion:
        return cls(
            d["appVersionSid"],
            d["sid"],
            d["sessionId"],
            int(d["renderVersion"]),
            d["createdAt"],
            d["indexKey"],
            d["url"],
            d.get("inputHash"),
            Check.from_dict(d["check"]) if d.get("check") else None,
        )


@dataclass(frozen=True)
class App:
    sid: str
    name: str
    description: str
    author: str
    status: str
    created_at: str
    updated_at: str
    versions: list[AppVersion]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "name": self.name,
            "description": self.description,
            "author": self.author,
            "status": self.status,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "versions": [v.to_dict() for v in self.versions],
        }


@dataclass(frozen=True)
class Publication:
    """What ``apps.publish`` returns: the app and the version this publish created."""

    app: App
    version: AppVersion

    @property
    def sid(self) -> str:
        return self.app.sid

    @property
    def app_version_sid(self) -> str:
        return self.version.app_version_sid

    def to_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "appVersionSid": self.app_version_sid,
            "app": self.app.to_dict(),
            "version": self.version.to_dict(),
        }


@dataclass(frozen=True)
class Channel:
    name: str
    app_version_sid: str
    revision: int
    updated_at: str
    url: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "appVersionSid": self.app_version_sid,
            "revision": self.revision,
            "updatedAt": self.updated_at,
            "url": self.url,
        }


@dataclass(frozen=True)
class Channels:
    sid: str
    preview: Channel | None
    production: Channel | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "preview": self.preview.to_dict() if self.preview else None,
            "production": self.production.to_dict() if self.production else None,
        }


class AppStore:
    """Apps in Redis, their versions and channel pointers in the artifact store."""

    def __init__(self, stores: RedisStores, store: ArtifactStore) -> None:
        self.stores = stores
        self.redis = stores.redis
        self.store = store
        self._keys = stores.keys
        self._promote = load_script(self.redis, "promote")
        self._lifecycle = Lifecycle(stores)

    def publish(
        self,
        session_id: str,
        *,
        name: str | None = None,
        description: str = "",
        author: str | None = None,
        version: int | None = None,
        app_sid: str | None = None,
        force: bool = False,
    ) -> Publication:
        """Freeze a ready render as a new app version and point ``preview`` at it.

        The render's boot check goes with it; one that ``failed`` is refused unless
        ``force`` (a check not run yet, or one that errored, does not block).
        """
        record = self._publishable_render(session_id, version)
        if record.check is not None and record.check.status == "failed" and not force:
            raise InvalidInputError(
                f"session {session_id} render {record.version}: its boot check failed "
                f"({_check_summary(record.check)}); fix the app and render again, or "
                "publish with force=True"
            )
        if app_sid is None:
            fields = {
                "name": self._name(name),
                "description": self._description(description),
                "author": self._author(author),
            }
            sid = "app_" + uuid.uuid4().hex[:20]
        else:
            existing = self.get(app_sid)
            if existing.status == "archived":
                raise InvalidInputError(
                    f"app {app_sid}: archived; update its status to active before publishing to it"
                )
            sid, fields = app_sid, {}
        avsid = "ver_" + uuid.uuid4().hex[:20]
        # Pinned while copying: retention leaves the version (and its folder) alone.
        until = time.time() + PIN_S
        if not self._lifecycle.pin(session_id, record.version, until):
            raise InvalidInputError(
                f"session {session_id} render {record.version}: is no "
                "longer ready (expired or deleted meanwhile)"
            )
        target = f"apps/{sid}/versions/{avsid}/"
        try:
            index_key = self._copy_render(version_folder(session_id, record.version), target)
        except StorageError:
            # Half a copy (the session was deleted meanwhile, or the store failed) is
            # recorded nowhere: take it away rather than leave objects no app names.
            with contextlib.suppress(StorageError):
                delete_folder(self.store, target)
            raise
        finally:
            self._lifecycle.unpin(session_id, record.version, until)
        now = utc_now()
        app_version = AppVersion(
            avsid,
            sid,
            session_id,
            record.version,
            now,
            self.store.prefix + index_key,
            self.store.url_for(index_key),
            record.input_hash,
            record.check,
        )
        keys = self._keys.app(sid)
        # One transaction over the app's own keys (one cluster slot); the list of every app
        # is another slot, so it learns of a new app just after.
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            if fields:
                new_app: dict[str | bytes, str] = {
                    "status": "active",
                    "createdAt": now,
                    "updatedAt": now,
                }
                new_app.update(fields)
                pipe.hset(keys.app, mapping=new_app)
            pipe.hset(keys.versions, avsid, json.dumps(app_version.to_dict()))
            pipe.lpush(keys.order, avsid)
            pipe.execute()
        if fields:
            with redis_errors():
                self.redis.zadd(self._keys.apps, {sid: time.time()})
        self.promote(sid, avsid, channel="preview")
        return Publication(self.get(sid), app_version)

    def get(self, sid: str) -> App:
        keys = self._keys.app(self._sid(sid))
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys.app).lrange(keys.order, 0, -1).hgetall(keys.versions)
            meta, order, versions = pipe.execute()
        if not meta:
            raise AppNotFoundError(f"no app {sid!r}")
        text = {k.decode(): v.decode("utf-8") for k, v in meta.items()}
        return App(
            sid,
            text["name"],
            text.get("description", ""),
            text["author"],
            text["status"],
            text["createdAt"],
            text.get("updatedAt", text["createdAt"]),
            [AppVersion.from_dict(json.loads(versions[v])) for v in order],
        )

    def list(self, *, author: str | None = None, status: str | None = None) -> list[App]:
        """Apps, newest first, by author and status when given."""
        if status is not None and status not in STATUSES:
            raise InvalidInputError(f"status {status!r}: must be one of {', '.join(STATUSES)}")
        with redis_errors():
            sids = [s.decode() for s in self.redis.zrevrange(self._keys.apps, 0, -1)]
        apps = [self.get(sid) for sid in sids]
        return [
            a
            for a in apps
            if (author is None or a.author == author) and (status is None or a.status == status)
        ]

    def update(
        self,
        sid: str,
        *,
        status: str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> App:
        app = self.get(sid)
        fields: dict[str, str] = {}
        if status is not None:
            if status not in STATUSES:
                raise InvalidInputError(f"status {status!r}: must be one of {', '.join(STATUSES)}")
            fields["status"] = status
        if name is not None:
            fields["name"] = self._name(name)
        if description is not None:
            fields["description"] = self._description(description)
        if not fields:
            return app
        with redis_errors():
            changes: dict[str | bytes, str] = {"updatedAt": utc_now()}
            changes.update(fields)
            self.redis.hset(self._keys.app(sid).app, mapping=changes)
        if status is not None and status != app.status:
            for channel in CHANNELS:  # archived pointers say so; active ones point again
                self._sync_pointer(sid, channel)
        return self.get(sid)

    def delete(self, sid: str) -> int:
        """Delete an archived app: its objects (versions, pointers), then its keys.

        Idempotent: an app already gone deletes nothing. Objects go first, so a delete
        cut short leaves an archived app a second delete finishes. How many objects went.
        """
        try:
            app = self.get(sid)
        except AppNotFoundError:
            return 0
        if app.status != "archived":
            raise InvalidInputError(
                f"app {sid}: is {app.status}; archive it (update its "
                "status to archived) before deleting it"
            )
        deleted = delete_folder(self.store, f"apps/{sid}/")
        keys = self._keys.app(sid)
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.app, keys.versions, keys.order, keys.channels)
            pipe.zrem(self._keys.apps, sid)
            pipe.execute()
        return len(deleted)

    def channels(self, sid: str) -> Channels:
        self.get(sid)
        return Channels(sid, self._channel(sid, "preview"), self._channel(sid, "production"))

    def promote(self, sid: str, app_version_sid: str, channel: str = "production") -> Channels:
        """Point ``channel`` at an app version; rollback is promoting an older one."""
        if channel not in CHANNELS:
            raise InvalidInputError(f"channel {channel!r}: must be one of {', '.join(CHANNELS)}")
        keys = self._keys.app(self._sid(sid))
        with redis_errors():
            revision = int(
                self._promote(
                    keys=[keys.app, keys.versions, keys.channels],
                    args=[channel, app_version_sid, utc_now()],
                )
            )
        if revision == -1:
            raise AppNotFoundError(f"no app {sid!r}")
        if revision == -2:
            raise AppVersionNotFoundError(f"app {sid} has no version {app_version_sid!r}")
        if revision == -3:
            raise InvalidInputError(
                f"app {sid}: archived; update its status to active before promoting"
            )
        self._sync_pointer(sid, channel)
        return self.channels(sid)

    def logs(
        self, sid: str, app_version_sid: str | None = None, limit: int | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Console lines of the app's routes as the API host kept them (``at``,
        ``version``, ``level``, ``route``, ``text``), oldest first, of one version or all."""
        versions = (
            [app_version_sid]
            if app_version_sid
            else [v.app_version_sid for v in self.get(sid).versions]
        )
        keys = self._keys.app(self._sid(sid))
        with redis_errors(), self.redis.pipeline(transaction=False) as pipe:
            for version in versions:
                pipe.lrange(keys.logs(version), 0, -1)
            batches = pipe.execute()
        lines = [json.loads(raw) for batch in batches for raw in batch]
        lines.sort(key=lambda line: line["at"])
        return lines[-limit:] if limit else lines

    def _channel(self, sid: str, channel: str) -> Channel | None:
        with redis_errors():
            raw = self.redis.hget(self._keys.app(sid).channels, channel)
        if raw is None:
            return None
        state = json.loads(raw)
        version = self._version(sid, state["appVersionSid"])
        return Channel(
            channel, state["appVersionSid"], int(state["revision"]), state["updatedAt"], version.url
        )

    def _version(self, sid: str, avsid: str) -> AppVersion:
        with redis_errors():
            raw = self.redis.hget(self._keys.app(sid).versions, avsid)
        if raw is None:
            raise AppVersionNotFoundError(f"app {sid} has no version {avsid!r}")
        return AppVersion.from_dict(json.loads(raw))

    def _sync_pointer(self, sid: str, channel: str) -> None:
        """Write the channel's pointer object as Redis has it now.

        Writers take turns (a Redis lock per channel) and each writes what it reads under
        the lock, so the last write shows the newest revision: a promote that lands while
        another writer holds the lock writes again after it.
        """
        lock = self.redis.lock(
            self._keys.app(sid).pointer_lock(channel),
            timeout=_POINTER_LOCK_S,
            blocking_timeout=_POINTER_LOCK_S,
        )
        with redis_errors():
            if not lock.acquire():
                raise StorageError(
                    f"pointer apps/{sid}/channels/{channel}.json: another "
                    f"writer held it for {_POINTER_LOCK_S:g}s"
                )
        try:
            state = self._pointer_state(sid, channel)
            if state is None:
                return
            body = json.dumps(state, indent=2).encode("utf-8")
            self.store.put_many(
                [
                    StoredObject(
                        f"apps/{sid}/channels/{channel}.json",
                        body,
                        "application/json; charset=utf-8",
                        CACHE_REVALIDATE,
                    )
                ]
            )
        finally:
            with redis_errors(), contextlib.suppress(redis.exceptions.LockError):
                lock.release()

    def _pointer_state(self, sid: str, channel: str) -> dict[str, Any] | None:
        current = self._channel(sid, channel)
        if current is None:
            return None
        version = self._version(sid, current.app_version_sid)
        return {
            "sid": sid,
            "channel": channel,
            "appVersionSid": current.app_version_sid,
            "revision": current.revision,
            "status": self.get(sid).status,
            "indexKey": version.index_key,
            "url": version.url,
            "updatedAt": current.updated_at,
        }

    def _publishable_render(self, session_id: str, version: int | None) -> RenderRecord:
        if version is None:
            live = self.stores.sessions.status(session_id).live
            if live is None:
                raise InvalidInputError(f"session {session_id}: has no ready render to publish")
            return live
        record = self.stores.records.get(session_id, version)
        if record.status != "ready":
            raise InvalidInputError(
                f"session {session_id} render {version}: is "
                f"{record.status}; only a ready render can be published"
            )
        return record

    def _copy_render(self, source: str, target: str) -> str:
        """Copy a render's folder under ``target``, index.html and manifest.json last."""
        manifest = Manifest.from_json(self.store.get(source + MANIFEST))
        files = [f.path for f in manifest.files if f.path != "index.html"]
        self.store.copy_many([(source + p, target + p) for p in files])
        self.store.copy_many([(source + "index.html", target + "index.html")])
        self.store.copy_many([(source + MANIFEST, target + MANIFEST)])
        return target + "index.html"

    @staticmethod
    def _sid(sid: Any) -> str:
        if not isinstance(sid, str) or not re.fullmatch(r"app_[0-9a-f]{20}", sid):
            raise AppNotFoundError(f"no app {sid!r}")
        return sid

    def _name(self, name: Any) -> str:
        return validate_name(name, self.stores.settings, field="name")

    @staticmethod
    def _description(description: Any) -> str:
        if not isinstance(description, str) or len(description) > _MAX_DESCRIPTION:
            raise InvalidInputError(
                f"description: must be text of at most {_MAX_DESCRIPTION} characters"
            )
        if any(ord(c) < 32 and c not in "\n\t" for c in description):
            raise InvalidInputError("description: may not contain control characters")
        return description

    @staticmethod
    def _author(author: Any) -> str:
        if (
            not isinstance(author, str)
            or len(author) > _MAX_AUTHOR
            or not _AUTHOR.fullmatch(author)
        ):
            raise InvalidInputError(
                f"author {author!r}: must be an e-mail address like user@example.com"
            )
        return author


def _check_summary(check: Check) -> str:
    """The first thing that went wrong, as a publisher reads it."""
    if check.errors:
        extra = len(check.errors) - 1
        return check.errors[0].format() + (f", and {extra} more error(s)" if extra else "")
    return check.message or "blank page"
