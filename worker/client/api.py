"""The gateway library, mirroring the SDK's ``client.stage.sessions`` and ``client.stage.apps``.

    client = StageClient.from_env()
    session = client.sessions.create(name="shiftcal-preview")
    client.sessions.push_files(session.id, [{"path": "/app/App.tsx", "content": "..."}])
    ticket = client.sessions.render(session.id)
    record = client.sessions.wait_for_render(session.id, ticket.version, timeout=60)

It writes the Redis keys of docs/contract.md and sends ``stage.render`` by name, exactly
as a gateway in another language would.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import redis
from celery import Celery

from worker.client.publishing import App, AppStore, Channels, Publication
from worker.errors import (
    BrokerUnavailableError,
    InfrastructureError,
    InvalidInputError,
    RenderTimeoutError,
    StoreUnavailableError,
)
from worker.inputs import validate_files, validate_name, validate_scopes, validate_session_id
from worker.lifecycle.retention import Lifecycle, delete_session
from worker.messages import create_celery, send_render, send_render_routed
from worker.models import FileContent, RenderError, RenderRecord, Session, SessionStatus
from worker.settings import Settings
from worker.state.connection import connect_redis
from worker.state.stores import RedisStores
from worker.storage import ArtifactStore, store_from_settings

__all__ = ["StageClient", "SessionsAPI", "AppsAPI"]


class SessionsAPI:
    """``client.sessions``: create, push files, set scopes, render, status, read files,
    delete."""

    def __init__(
        self, stores: RedisStores, celery: Celery, settings: Settings, store: ArtifactStore
    ) -> None:
        self._sessions = stores.sessions
        self._records = stores.records
        self._celery = celery
        self._settings = settings
        self._store = store
        self._lifecycle = Lifecycle(stores)
        self._affinity = stores.affinity

    def create(self, name: str) -> Session:
        """Open a session. ``name`` becomes the page title."""
        return self._sessions.create(validate_name(name, self._settings))

    def set_google_scopes(self, session_id: str, scopes: Sequence[str]) -> list[str]:
        """Declare the Google OAuth scopes (https:// URLs) the app will ask for."""
        session_id = validate_session_id(session_id)
        valid = validate_scopes(scopes, self._settings)
        self._sessions.set_google_scopes(session_id, valid)
        return valid

    def push_files(self, session_id: str, files: Sequence[Mapping[str, Any]]) -> None:
        """Write files (``{"path", "content", "encoding"?}``): all of them, or none."""
        session_id = validate_session_id(session_id)
        self._sessions.push_files(session_id, validate_files(files, self._settings))

    def render(self, session_id: str) -> RenderRecord:
        """Ask for a render of the session's files; returns the ``queued`` record."""
        session_id = validate_session_id(session_id)
        record = self._records.request(session_id)
        try:
            holder = self._holder(session_id)
            if holder is None:
                send_render(self._celery, self._settings, session_id, record.version)
            else:
                send_render_routed(self._celery, self._settings, session_id, record.version, holder)
        except BrokerUnavailableError as exc:
            self._records.fail_queued(
                session_id, record.failed(RenderError("infrastructure", str(exc)))
            )
            raise
        return record

    def _holder(self, session_id: str) -> str | None:
        """The live worker holding the session's warm build context, if routing is on."""
        if not self._settings.affinity:
            return None
        try:
            node = self._affinity.holder(session_id)
            return node if node is not None and self._affinity.alive(node) else None
        except StoreUnavailableError:  # the render is queued: send it unrouted
            return None

    def wait_for_render(self, session_id: str, version: int, timeout: float = 60.0) -> RenderRecord:
        """Block until the render is ``ready``, ``failed`` or ``superseded``.

        Raises RenderTimeoutError after ``timeout`` seconds.
        """
        session_id = validate_session_id(session_id)
        record = self._records.wait(session_id, version, timeout)
        if not record.terminal:
            raise RenderTimeoutError(
                f"render {version} of session {session_id} is still "
                f"{record.status} after {timeout:g}s"
            )
        return record

    def wait_for_check(self, session_id: str, version: int, timeout: float = 60.0) -> RenderRecord:
        """Block until the boot check of ready render ``version`` is on its record.

        Returns the record (``record.check`` set). Raises InvalidInputError when the
        render ended without being ready (nothing to check), RenderTimeoutError after
        ``timeout`` seconds.
        """
        session_id = validate_session_id(session_id)
        record = self._records.wait_for_check(session_id, version, timeout)
        if record.check is not None:
            return record
        if record.terminal and record.status != "ready":
            raise InvalidInputError(
                f"render {version} of session {session_id} is "
                f"{record.status}; only a ready render is checked"
            )
        raise RenderTimeoutError(
            f"render {version} of session {session_id} is {record.status} and not checked "
            f"after {timeout:g}s (is a checker consuming {self._settings.check_queue}?)"
        )

    def get_render(self, session_id: str, version: int) -> RenderRecord:
        """One render record by version."""
        session_id = validate_session_id(session_id)
        return self._records.get(session_id, version)

    def status(self, session_id: str) -> SessionStatus:
        """Files, scopes, the newest requested render and the live (newest ready) one."""
        session_id = validate_session_id(session_id)
        return self._sessions.status(session_id)

    def read_file(self, session_id: str, path: str) -> FileContent:
        """A file as pushed: text, or base64 when it was pushed as base64."""
        session_id = validate_session_id(session_id)
        return self._sessions.read_file(session_id, path)

    def delete(self, session_id: str) -> bool:
        """Delete a session: its files, scopes, render records and stored versions.

        Its published apps keep working (they are copies). A render or check still running
        for it writes nothing back. Idempotent: False when there was no such session.
        """
        deleted = delete_session(self._lifecycle, self._store, session_id, now=time.time())
        return deleted is not None and deleted.found


class AppData:
    """``client.apps.data(sid)``: the app's ``@stage/compute`` documents, read from the
    database the API host keeps them in (``STAGE_COMPUTE_DATABASE_URL``, or the SQLite file
    in ``STAGE_HOST_DATA_DIR`` on the host's machine)."""

    def __init__(self, sid: str, settings: Settings) -> None:
        self.sid = sid
        self._settings = settings

    def export(self) -> Iterator[str]:
        """One JSON line per document: ``{"_table", "_id", "_creationTime", …fields}``,
        by table, then oldest first."""
        from worker.host.compute import ComputeUnavailable, export_documents

        try:
            docs = export_documents(self._settings, self.sid)
        except ComputeUnavailable as exc:
            raise InfrastructureError(str(exc)) from None
        return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) for doc in docs)


class AppsAPI:
    """``client.apps``: publish renders as apps, list, archive and delete them, move
    channels, read their data."""

    def __init__(self, apps: AppStore, settings: Settings | None = None) -> None:
        self._apps = apps
        self._settings = settings

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
        """Freeze the session's live render (or ``version``) as a new app version.

        Without ``app_sid`` a new app is created (``name`` and ``author`` required); with it
        the version is added to that app. ``preview`` then points at the new version. A
        version whose boot check failed is refused unless ``force``.
        """
        session_id = validate_session_id(session_id)
        return self._apps.publish(
            session_id,
            name=name,
            description=description,
            author=author,
            version=version,
            app_sid=app_sid,
            force=force,
        )

    def list(self, *, author: str | None = None, status: str | None = None) -> list[App]:
        """Apps, newest first; ``status`` is "active" or "archived"."""
        return self._apps.list(author=author, status=status)

    def get(self, sid: str) -> App:
        return self._apps.get(sid)

    def update(
        self,
        sid: str,
        *,
        status: str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> App:
        """Rename, describe, archive ("archived") or restore ("active") an app."""
        return self._apps.update(sid, status=status, name=name, description=description)

    def channels(self, sid: str) -> Channels:
        """Where ``preview`` and ``production`` point (``production`` is None until promoted)."""
        return self._apps.channels(sid)

    def promote(self, sid: str, app_version_sid: str, channel: str = "production") -> Channels:
        """Point a channel at an app version. Rolling back is promoting an older version."""
        return self._apps.promote(sid, app_version_sid, channel)

    def delete(self, sid: str) -> None:
        """Delete an archived app with every version and pointer; InvalidInputError while it
        is active. Idempotent: an app already gone is not an error."""
        self._apps.delete(sid)

    def data(self, sid: str) -> AppData:
        """The app's ``@stage/compute`` documents (``.export()``); AppNotFoundError if the
        app does not exist."""
        app = self._apps.get(sid)
        return AppData(app.sid, self._settings or Settings.from_env())

    def logs(
        self, sid: str, app_version_sid: str | None = None, limit: int | None = None
    ) -> builtins.list[dict[str, Any]]:
        """What the app's API routes printed (``console.*``, uncaught errors), as the API
        host kept it: the newest lines of each version, oldest first."""
        return self._apps.logs(sid, app_version_sid, limit)


class StageClient:
    """Entry point of the gateway-side library. One per process; it pools connections."""

    def __init__(
        self,
        settings: Settings,
        *,
        redis_client: redis.Redis | None = None,
        celery: Celery | None = None,
        store: ArtifactStore | None = None,
    ) -> None:
        self.settings = settings
        self._redis = redis_client or connect_redis(settings.redis_url)
        self._celery = celery or create_celery(settings)
        stores = RedisStores(self._redis, settings)
        store = store or store_from_settings(settings)
        self.sessions = SessionsAPI(stores, self._celery, settings, store)
        self.apps = AppsAPI(AppStore(stores, store), settings)

    @classmethod
    def from_env(cls, **overrides: Any) -> StageClient:
        """Configured from ``STAGE_*`` variables; ``overrides`` replace fields by name."""
        return cls(Settings.from_env(**overrides))

    def close(self) -> None:
        self._redis.close()
        self._celery.close()

    def __enter__(self) -> StageClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
