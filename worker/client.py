"""The gateway side of the contract, mirroring the SDK's ``client.stage.sessions``.

    client = StageClient.from_env()
    session = client.sessions.create(name="shiftcal-preview")
    client.sessions.push_files(session.id, [{"path": "/app/App.tsx", "content": "..."}])
    ticket = client.sessions.render(session.id)
    record = client.sessions.wait_for_render(session.id, ticket.version, timeout=60)

It writes the Redis keys of docs/contract.md and sends ``stage.render`` by name, exactly
as a gateway in another language would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis
from celery import Celery

from worker.celery_config import create_celery, send_render_message
from worker.errors import BrokerUnavailableError, InvalidInputError, RenderTimeoutError
from worker.inputs import validate_files, validate_name, validate_scopes
from worker.models import FileContent, RenderError, RenderRecord, Session, SessionStatus
from worker.publishing import App, AppStore, Channels, Publication
from worker.redis_client import connect_redis
from worker.sessions import RedisStores
from worker.settings import Settings
from worker.storage import ArtifactStore, store_from_settings

__all__ = ["StageClient", "SessionsAPI", "AppsAPI"]

class SessionsAPI:
    """``client.sessions``: create, push files, set scopes, render, status, read files."""

    def __init__(self, stores: RedisStores, celery: Celery, settings: Settings) -> None:
        self._sessions = stores.sessions
        self._records = stores.records
        self._celery = celery
        self._settings = settings

    def create(self, name: str) -> Session:
        """Open a session. ``name`` becomes the page title."""
        return self._sessions.create(validate_name(name, self._settings))

    def set_google_scopes(self, session_id: str, scopes: Sequence[str]) -> list[str]:
        """Declare the Google OAuth scopes (https:// URLs) the app will ask for."""
        valid = validate_scopes(scopes, self._settings)
        self._sessions.set_google_scopes(session_id, valid)
        return valid

    def push_files(self, session_id: str, files: Sequence[Mapping[str, Any]]) -> None:
        """Write files (``{"path", "content", "encoding"?}``): all of them, or none."""
        self._sessions.push_files(session_id, validate_files(files, self._settings))

    def render(self, session_id: str) -> RenderRecord:
        """Ask for a render of the session's files; returns the ``queued`` record."""
        record = self._records.request(session_id)
        try:
            send_render_message(self._celery, self._settings, session_id, record.version)
        except BrokerUnavailableError as exc:
            self._records.transition(session_id, record.failed(
                RenderError("infrastructure", str(exc))))
            raise
        return record

    def wait_for_render(self, session_id: str, version: int,
                        timeout: float = 60.0) -> RenderRecord:
        """Block until the render is ``ready``, ``failed`` or ``superseded``.

        Raises RenderTimeoutError after ``timeout`` seconds.
        """
        record = self._records.wait(session_id, version, timeout)
        if not record.terminal:
            raise RenderTimeoutError(f"render {version} of session {session_id} is still "
                                     f"{record.status} after {timeout:g}s")
        return record

    def wait_for_check(self, session_id: str, version: int,
                       timeout: float = 60.0) -> RenderRecord:
        """Block until the boot check of ready render ``version`` is on its record.

        Returns the record (``record.check`` set). Raises InvalidInputError when the
        render ended without being ready (nothing to check), RenderTimeoutError after
        ``timeout`` seconds.
        """
        record = self._records.wait_for_check(session_id, version, timeout)
        if record.check is not None:
            return record
        if record.terminal and record.status != "ready":
            raise InvalidInputError(f"render {version} of session {session_id} is "
                                    f"{record.status}; only a ready render is checked")
        raise RenderTimeoutError(
            f"render {version} of session {session_id} is {record.status} and not checked "
            f"after {timeout:g}s (is a checker consuming {self._settings.check_queue}?)")

    def get_render(self, session_id: str, version: int) -> RenderRecord:
        """One render record by version."""
        return self._records.get(session_id, version)

    def status(self, session_id: str) -> SessionStatus:
        """Files, scopes, the newest requested render and the live (newest ready) one."""
        return self._sessions.status(session_id)

    def read_file(self, session_id: str, path: str) -> FileContent:
        """A file as pushed: text, or base64 when it was pushed as base64."""
        return self._sessions.read_file(session_id, path)


class AppsAPI:
    """``client.apps``: publish renders as apps, list and archive them, move channels."""

    def __init__(self, apps: AppStore) -> None:
        self._apps = apps

    def publish(self, session_id: str, *, name: str | None = None, description: str = "",
                author: str | None = None, version: int | None = None,
                app_sid: str | None = None, force: bool = False) -> Publication:
        """Freeze the session's live render (or ``version``) as a new app version.

        Without ``app_sid`` a new app is created (``name`` and ``author`` required); with it
        the version is added to that app. ``preview`` then points at the new version. A
        version whose boot check failed is refused unless ``force``.
        """
        return self._apps.publish(session_id, name=name, description=description,
                                  author=author, version=version, app_sid=app_sid,
                                  force=force)

    def list(self, *, author: str | None = None, status: str | None = None) -> list[App]:
        """Apps, newest first; ``status`` is "active" or "archived"."""
        return self._apps.list(author=author, status=status)

    def get(self, sid: str) -> App:
        return self._apps.get(sid)

    def update(self, sid: str, *, status: str | None = None, name: str | None = None,
               description: str | None = None) -> App:
        """Rename, describe, archive ("archived") or restore ("active") an app."""
        return self._apps.update(sid, status=status, name=name, description=description)

    def channels(self, sid: str) -> Channels:
        """Where ``preview`` and ``production`` point (``production`` is None until promoted)."""
        return self._apps.channels(sid)

    def promote(self, sid: str, app_version_sid: str, channel: str = "production") -> Channels:
        """Point a channel at an app version. Rolling back is promoting an older version."""
        return self._apps.promote(sid, app_version_sid, channel)


class StageClient:
    """Entry point of the gateway-side library. One per process; it pools connections."""

    def __init__(self, settings: Settings, *, redis_client: redis.Redis | None = None,
                 celery: Celery | None = None, store: ArtifactStore | None = None) -> None:
        self.settings = settings
        self._redis = redis_client or connect_redis(settings.redis_url)
        self._celery = celery or create_celery(settings)
        stores = RedisStores(self._redis, settings)
        self.sessions = SessionsAPI(stores, self._celery, settings)
        self.apps = AppsAPI(AppStore(stores, store or store_from_settings(settings)))

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
