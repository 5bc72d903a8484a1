"""Session data in Redis: a session's name, Google scopes and files.

Render records live in :mod:`worker.state.records`, the shared indexes in
:mod:`worker.state.indexes`, every key in :mod:`worker.state.keys`.
:class:`worker.state.stores.RedisStores` holds all of them over one client, so a process
builds them once. Every multi-key change is one Lua script, so a reader never sees half of
it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from bundler import SourceFile
from worker.errors import (
    FileNotFoundInSessionError,
    InvalidInputError,
    SessionNotFoundError,
)
from worker.inputs import PushedFile, check_tree, validate_path
from worker.models import FileContent, FileInfo, RenderRecord, Session, SessionStatus, utc_now
from worker.settings import Settings
from worker.state.connection import load_script, redis_errors
from worker.state.indexes import ActivityIndex
from worker.state.keys import Keys, SessionKeys
from worker.state.recheck import broken_paths, check_stored

__all__ = ["SessionStore", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """A session's name, scopes and files, read in one transaction."""

    name: str
    google_scopes: list[str]
    files: list[SourceFile]


class SessionStore:
    """Sessions: create, set scopes, push and read files, snapshot, status."""

    def __init__(
        self, client: redis.Redis, settings: Settings, keys: Keys, activity: ActivityIndex
    ) -> None:
        self.redis = client
        self.settings = settings
        self._keys = keys
        self._activity = activity
        self._create = load_script(client, "create_session")
        self._set_if_exists = load_script(client, "set_if_exists")
        self._push = load_script(client, "push_files")

    def keys(self, session_id: str) -> SessionKeys:
        return self._keys.session(session_id)

    def create(self, name: str) -> Session:
        session_id = uuid.uuid4().hex
        with redis_errors():
            self._create(keys=[self.keys(session_id).session], args=[name, utc_now()])
        self._activity.touch(session_id, time.time())
        return Session(session_id, name)

    def set_google_scopes(self, session_id: str, scopes: Sequence[str]) -> None:
        keys = self.keys(session_id)
        with redis_errors():
            found = self._set_if_exists(
                keys=[keys.session], args=["googleScopes", json.dumps(list(scopes))]
            )
        if not found:
            raise SessionNotFoundError(f"no session {session_id!r}")

    def push_files(self, session_id: str, files: Sequence[PushedFile]) -> None:
        """Store every file or none of them, within the per-session limits.

        Stored paths that break the path rules (written by a gateway that did not check
        them; no render can use them) are removed in the same step, so a correct push
        mends such a session.
        """
        keys = self.keys(session_id)
        with redis_errors():
            stored = self.redis.hkeys(keys.files)
            broken = broken_paths(stored, self.settings)
            check_tree(
                [f.path for f in files], [p.decode("utf-8") for p in stored if p not in broken]
            )
            args: list[Any] = [
                self.settings.max_files,
                self.settings.max_session_bytes,
                len(broken),
                *broken,
            ]
            for f in files:
                args += [f.path, f.content, "1" if f.encoding == "base64" else "0"]
            outcome, value = self._push(keys=[keys.session, keys.files, keys.binary], args=args)
        if outcome == -1:
            raise SessionNotFoundError(f"no session {session_id!r}")
        if outcome == -2:
            raise InvalidInputError(
                f"files: the session would hold {value} files, more than the limit "
                f"{Settings.variable('max_files')}={self.settings.max_files}"
            )
        if outcome == -3:
            raise InvalidInputError(
                f"files: the session would hold {value} bytes, more than the limit "
                f"{Settings.variable('max_session_bytes')}={self.settings.max_session_bytes}"
            )
        self._activity.touch(session_id, time.time())

    def read_file(self, session_id: str, path: str) -> FileContent:
        keys = self.keys(session_id)
        path = validate_path(path, self.settings)
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.exists(keys.session).hget(keys.files, path).sismember(keys.binary, path)
            exists, content, binary = pipe.execute()
        if not exists:
            raise SessionNotFoundError(f"no session {session_id!r}")
        if content is None:
            raise FileNotFoundInSessionError(f'"{path}": no such file in session {session_id!r}')
        if binary:
            return FileContent(path, base64.b64encode(content).decode("ascii"), "base64")
        return FileContent(path, content.decode("utf-8"))

    def snapshot(self, session_id: str) -> Snapshot | None:
        """Name, scopes and files in one transaction, or None if the session is gone.

        Everything read is checked against the input rules again (a gateway may have
        stored it unchecked): raises :class:`worker.input_recheck.StoredInputError`.
        """
        keys = self.keys(session_id)
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys.session).hgetall(keys.files)
            meta, files = pipe.execute()
        if not meta:
            return None
        stored = check_stored(meta, files, self.settings)
        return Snapshot(stored.name, stored.google_scopes, stored.files)

    def status(self, session_id: str) -> SessionStatus:
        keys = self.keys(session_id)
        with redis_errors():
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(keys.session).get(keys.version).get(keys.live).hkeys(keys.files)
                meta, newest, live, paths = pipe.execute()
                if not meta:
                    raise SessionNotFoundError(f"no session {session_id!r}")
            with self.redis.pipeline(transaction=False) as pipe:
                for path in paths:
                    pipe.hstrlen(keys.files, path)
                sizes = pipe.execute()
            wanted = [v for v in (newest, live) if v is not None]
            records = self.redis.hmget(keys.renders, wanted) if wanted else []
        by_version = {
            int(v): RenderRecord.from_dict(json.loads(r))
            for v, r in zip(wanted, records, strict=True)
            if r is not None
        }
        # A path a gateway stored unchecked may not be UTF-8: shown escaped, not an error.
        files = sorted(
            (
                FileInfo(p.decode("utf-8", "backslashreplace"), s)
                for p, s in zip(paths, sizes, strict=True)
            ),
            key=lambda f: f.path,
        )
        return SessionStatus(
            id=session_id,
            name=meta[b"name"].decode("utf-8"),
            files=files,
            google_scopes=json.loads(meta.get(b"googleScopes", b"[]")),
            render=by_version.get(int(newest)) if newest is not None else None,
            live=by_version.get(int(live)) if live is not None else None,
        )
