"""The session store in Redis: sessions, files, scopes, render records, versions.

Key layout (``P`` is ``STAGE_KEY_PREFIX``, default ``stage:``; the ``{id}`` braces keep a
session's keys in one Redis Cluster slot). docs/contract.md is the reference.

    P session:{id}            hash   name, createdAt, googleScopes (JSON array)
    P session:{id}:files      hash   path → file bytes
    P session:{id}:binary     set    paths pushed as base64 (read back as base64)
    P session:{id}:version    string version counter; INCR assigns render versions
    P session:{id}:renders    hash   version → render record (JSON, RenderRecord.to_dict())
    P session:{id}:live       string the newest ready version
    P session:{id}:events     pub/sub channel: a version number each time a render ends,
                              "check:<version>" each time a version's boot check is stored
    P building                zset   "<id>:<version>" of renders in building → start time (epoch s)
    P inputs                  hash   input hash → folder of a ready version built from it

Every multi-key change is one Lua script, so a reader never sees half of it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from bundler import SourceFile
from worker.errors import (
    FileNotFoundInSessionError,
    InvalidInputError,
    RenderNotFoundError,
    SessionNotFoundError,
    StoreUnavailableError,
)
from worker.inputs import PushedFile, check_tree, validate_path, validate_session_id
from worker.models import (
    Check,
    FileContent,
    FileInfo,
    RenderRecord,
    Session,
    SessionStatus,
    utc_now,
)
from worker.settings import Settings

__all__ = ["SessionStore", "SessionKeys", "Snapshot", "connect_redis", "redis_errors",
           "CHECK_EVENT"]

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'createdAt', ARGV[2], 'googleScopes', '[]')
return 1
"""
_SET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
# KEYS: session, files, binary. ARGV: max files, max bytes, then (path, content, binary).
_PUSH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local count = redis.call('HLEN', KEYS[2])
local total = 0
for _, path in ipairs(redis.call('HKEYS', KEYS[2])) do
  total = total + redis.call('HSTRLEN', KEYS[2], path)
end
for i = 3, #ARGV, 3 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then count = count + 1 end
  total = total - redis.call('HSTRLEN', KEYS[2], ARGV[i]) + string.len(ARGV[i + 1])
end
if count > tonumber(ARGV[1]) then return {-2, count} end
if total > tonumber(ARGV[2]) then return {-3, total} end
for i = 3, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] == '1' then
    redis.call('SADD', KEYS[3], ARGV[i])
  else
    redis.call('SREM', KEYS[3], ARGV[i])
  end
end
return {count, total}
"""
# KEYS: session, version counter, renders. ARGV: the record's JSON around its version.
_REQUEST = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local version = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], version, ARGV[1] .. version .. ARGV[2])
return version
"""
# KEYS: renders, live. ARGV: version, new record JSON, new status.
# A terminal record never changes again; live only moves forward, to a newer ready version.
_TRANSITION = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
local status = cjson.decode(current)['status']
if status == 'ready' or status == 'failed' or status == 'superseded' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == 'ready' then
  local live = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tonumber(ARGV[1]) > live then redis.call('SET', KEYS[2], ARGV[1]) end
end
return 1
"""


#: What the events channel carries when a version's boot check is stored: this + version.
CHECK_EVENT = "check:"
_RECHECK_S = 1.0  # longest wait between two reads of a record, should a wake-up be lost


def connect_redis(url: str) -> redis.Redis:
    """A Redis client with timeouts, so a dead server is an error and not a hang."""
    return redis.Redis.from_url(
        url,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=15,
        retry_on_timeout=False,
    )


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise StoreUnavailableError(f"Redis did not answer: {exc}") from exc


@dataclass(frozen=True)
class SessionKeys:
    """The Redis keys of one session."""

    session: str
    files: str
    binary: str
    version: str
    renders: str
    live: str
    events: str

    @classmethod
    def of(cls, prefix: str, session_id: str) -> SessionKeys:
        base = f"{prefix}session:{{{session_id}}}"
        return cls(base, f"{base}:files", f"{base}:binary", f"{base}:version",
                   f"{base}:renders", f"{base}:live", f"{base}:events")


@dataclass(frozen=True)
class Snapshot:
    """A session's name, scopes and files, read in one transaction."""

    session_id: str
    name: str
    google_scopes: list[str]
    files: list[SourceFile]


class SessionStore:
    """Sessions in Redis. One instance per process; its client pools connections."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self._create = client.register_script(_CREATE)
        self._set_if_exists = client.register_script(_SET_IF_EXISTS)
        self._push = client.register_script(_PUSH)
        self._request = client.register_script(_REQUEST)
        self._transition = client.register_script(_TRANSITION)

    def keys(self, session_id: str) -> SessionKeys:
        return SessionKeys.of(self.settings.key_prefix, validate_session_id(session_id))

    def create(self, name: str) -> Session:
        session_id = uuid.uuid4().hex
        with redis_errors():
            self._create(keys=[self.keys(session_id).session], args=[name, utc_now()])
        return Session(session_id, name)

    def set_google_scopes(self, session_id: str, scopes: Sequence[str]) -> None:
        keys = self.keys(session_id)
        with redis_errors():
            found = self._set_if_exists(keys=[keys.session],
                                        args=["googleScopes", json.dumps(list(scopes))])
        if not found:
            raise SessionNotFoundError(f"no session {session_id!r}")

    def push_files(self, session_id: str, files: Sequence[PushedFile]) -> None:
        """Store every file or none of them, within the per-session limits."""
        keys = self.keys(session_id)
        with redis_errors():
            check_tree([f.path for f in files], self._paths(keys))
            args: list[Any] = [self.settings.max_files, self.settings.max_session_bytes]
            for f in files:
                args += [f.path, f.content, "1" if f.encoding == "base64" else "0"]
            outcome, value = self._push(keys=[keys.session, keys.files, keys.binary], args=args)
        if outcome == -1:
            raise SessionNotFoundError(f"no session {session_id!r}")
        if outcome == -2:
            raise InvalidInputError(
                f"files: the session would hold {value} files, more than the limit "
                f"{Settings.variable('max_files')}={self.settings.max_files}")
        if outcome == -3:
            raise InvalidInputError(
                f"files: the session would hold {value} bytes, more than the limit "
                f"{Settings.variable('max_session_bytes')}={self.settings.max_session_bytes}")

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
        """Name, scopes and files in one transaction, or None if the session is gone."""
        keys = self.keys(session_id)
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys.session).hgetall(keys.files)
            meta, files = pipe.execute()
        if not meta:
            return None
        sources = sorted((SourceFile(p.decode("utf-8"), c) for p, c in files.items()),
                         key=lambda f: f.path)
        return Snapshot(session_id, meta[b"name"].decode("utf-8"),
                        json.loads(meta.get(b"googleScopes", b"[]")), sources)

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
        by_version = {int(v): RenderRecord.from_dict(json.loads(r))
                      for v, r in zip(wanted, records, strict=True) if r is not None}
        files = sorted((FileInfo(p.decode("utf-8"), s) for p, s in zip(paths, sizes, strict=True)),
                       key=lambda f: f.path)
        return SessionStatus(
            id=session_id,
            name=meta[b"name"].decode("utf-8"),
            files=files,
            google_scopes=json.loads(meta.get(b"googleScopes", b"[]")),
            render=by_version.get(int(newest)) if newest is not None else None,
            live=by_version.get(int(live)) if live is not None else None,
        )

    def request_render(self, session_id: str) -> RenderRecord:
        """Assign the next version and store its ``queued`` record."""
        keys = self.keys(session_id)
        queued = RenderRecord(version=0, status="queued", requested_at=utc_now())
        before, after = _split_version(queued)
        with redis_errors():
            version = int(self._request(keys=[keys.session, keys.version, keys.renders],
                                        args=[before, after]))
        if version == 0:
            raise SessionNotFoundError(f"no session {session_id!r}")
        return RenderRecord.from_dict({**queued.to_dict(), "version": version})

    def get_record(self, session_id: str, version: int) -> RenderRecord:
        keys = self.keys(session_id)
        with redis_errors():
            raw = self.redis.hget(keys.renders, str(version))
        if raw is None:
            raise RenderNotFoundError(f"session {session_id!r} has no render version {version}")
        return RenderRecord.from_dict(json.loads(raw))

    def transition(self, session_id: str, record: RenderRecord) -> bool:
        """Store ``record`` unless its version already ended; move live forward on ready.

        False when the stored record was already ``ready`` or ``failed`` (another run
        finished first), so a late or duplicate run never overwrites an outcome.
        """
        keys = self.keys(session_id)
        with redis_errors():
            applied = int(self._transition(
                keys=[keys.renders, keys.live],
                args=[record.version, json.dumps(record.to_dict()), record.status]))
        if applied == -1:
            raise RenderNotFoundError(
                f"session {session_id!r} has no render version {record.version}")
        if applied == 1:
            # Outside the script on purpose: this key is shared by every session, and a Lua
            # script may only touch keys of one cluster slot. The reaper re-checks records.
            member = f"{session_id}:{record.version}"
            with redis_errors():
                if record.status == "building":
                    self.redis.zadd(self.building_key, {member: time.time()})
                elif record.terminal:
                    self.redis.zrem(self.building_key, member)
                    # Announced last, so a woken waiter finds everything settled; a lost
                    # announcement costs it at most one re-check (wait_for_render).
                    self.redis.publish(keys.events, str(record.version))
        return applied == 1

    @property
    def building_key(self) -> str:
        return f"{self.settings.key_prefix}building"

    def building_since(self, before: float) -> list[tuple[str, int]]:
        """Renders that entered ``building`` before ``before`` (epoch seconds), oldest first."""
        with redis_errors():
            members = self.redis.zrangebyscore(self.building_key, "-inf", before)
        found = []
        for member in members:
            session_id, _, version = member.decode("utf-8").rpartition(":")
            found.append((session_id, int(version)))
        return found

    def mark_building(self, session_id: str, version: int, at: float) -> None:
        """Restart the building clock of a render (the reaper re-drove it)."""
        with redis_errors():
            self.redis.zadd(self.building_key, {f"{session_id}:{version}": at})

    def forget_building(self, session_id: str, version: int) -> None:
        with redis_errors():
            self.redis.zrem(self.building_key, f"{session_id}:{version}")

    def newest_version(self, session_id: str) -> int:
        """The highest version requested so far (0 before the first render)."""
        with redis_errors():
            raw = self.redis.get(self.keys(session_id).version)
        return int(raw) if raw is not None else 0

    def wait_for_outcome(self, session_id: str, version: int, timeout_s: float) -> None:
        """Block until render ``version`` ends or ``timeout_s`` passes (callers re-read)."""
        deadline = time.monotonic() + timeout_s
        with redis_errors():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.keys(session_id).events)
                if self.get_record(session_id, version).terminal:
                    return  # ended before we listened
                # get_message returns None at once for the (ignored) subscribe confirmation
                # and for other versions' outcomes: keep listening until ours or the time.
                while (remaining := deadline - time.monotonic()) > 0:
                    message = pubsub.get_message(timeout=remaining)
                    if message is not None and message.get("data") == str(version).encode():
                        return
            finally:
                pubsub.close()

    def record_check(self, session_id: str, version: int, check: Check) -> bool:
        """Store the boot check of a ready version, once; announce it. False if one was there.

        A compare-and-set on the renders hash (WATCH, re-read, MULTI), so a redelivered
        or duplicate check never overwrites the first one stored.
        """
        keys = self.keys(session_id)
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(keys.renders)
                    raw: Any = pipe.hget(keys.renders, str(version))  # watching: runs now
                    if raw is None:
                        raise RenderNotFoundError(
                            f"session {session_id!r} has no render version {version}")
                    record = RenderRecord.from_dict(json.loads(raw))
                    if record.status != "ready" or record.check is not None:
                        return False
                    checked = dataclasses.replace(record, check=check)
                    pipe.multi()
                    pipe.hset(keys.renders, str(version), json.dumps(checked.to_dict()))
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue  # another version's record changed meanwhile: read again
            self.redis.publish(keys.events, f"{CHECK_EVENT}{version}")
        return True

    def wait_for_check(self, session_id: str, version: int, timeout_s: float) -> RenderRecord:
        """The record once its check is stored, or as it is when ``timeout_s`` passes.

        One subscription for the whole wait; the record is re-read on each announcement
        and at least every second, should an announcement be missed.
        """
        deadline = time.monotonic() + timeout_s
        wanted = f"{CHECK_EVENT}{version}".encode()
        with redis_errors():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.keys(session_id).events)
                while True:
                    record = self.get_record(session_id, version)
                    remaining = deadline - time.monotonic()
                    if record.check is not None or (record.terminal and record.status != "ready") \
                            or remaining <= 0:
                        return record
                    until = time.monotonic() + min(remaining, _RECHECK_S)
                    while (left := until - time.monotonic()) > 0:
                        message = pubsub.get_message(timeout=left)
                        if message is not None and message.get("data") == wanted:
                            break
            finally:
                pubsub.close()

    @property
    def inputs_key(self) -> str:
        return f"{self.settings.key_prefix}inputs"

    def stored_input(self, input_hash: str) -> str | None:
        """The folder of a ready version built from these exact inputs, if one exists."""
        with redis_errors():
            raw = self.redis.hget(self.inputs_key, input_hash)
        return raw.decode("utf-8") if raw is not None else None

    def remember_input(self, input_hash: str, folder: str) -> None:
        with redis_errors():
            self.redis.hsetnx(self.inputs_key, input_hash, folder)

    def live_version(self, session_id: str) -> int | None:
        keys = self.keys(session_id)
        with redis_errors():
            raw = self.redis.get(keys.live)
        return int(raw) if raw is not None else None

    def _paths(self, keys: SessionKeys) -> list[str]:
        return [p.decode("utf-8") for p in self.redis.hkeys(keys.files)]


def _split_version(record: RenderRecord) -> tuple[str, str]:
    """The record's JSON split where the version number goes, for the Lua script to fill."""
    data = record.to_dict()
    data.pop("version")
    rest = json.dumps(data)
    return '{"version": ', ", " + rest[1:]
