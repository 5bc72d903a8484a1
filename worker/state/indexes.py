"""Indexes shared by every session: renders in ``building`` (for the reaper), ready
versions by input hash (for reuse) and sessions by last activity (for idle expiry).

Each is one key for the whole namespace (``P building``, ``P inputs``), so it is written
outside the per-session Lua scripts: a script may only touch keys of one cluster slot.
"""

from __future__ import annotations

import redis

from worker.state.connection import load_script, redis_errors
from worker.state.keys import Keys

__all__ = ["BuildingIndex", "InputIndex", "ActivityIndex"]


class BuildingIndex:
    """``<id>:<version>`` of every render in ``building`` → when it started (epoch s)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.key = keys.building

    def mark(self, session_id: str, version: int, at: float) -> None:
        """Start (or restart, when the reaper re-drives it) a render's building clock."""
        with redis_errors():
            self.redis.zadd(self.key, {f"{session_id}:{version}": at})

    def forget(self, session_id: str, version: int) -> None:
        with redis_errors():
            self.redis.zrem(self.key, f"{session_id}:{version}")

    def since(self, before: float) -> list[tuple[str, int]]:
        """Renders that entered ``building`` before ``before`` (epoch seconds), oldest first."""
        with redis_errors():
            members = self.redis.zrangebyscore(self.key, "-inf", before)
        found = []
        for member in members:
            session_id, _, version = member.decode("utf-8").rpartition(":")
            found.append((session_id, int(version)))
        return found


class InputIndex:
    """Input hash → the folder of a ready version built from exactly those inputs."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.key = keys.inputs

    def folder_for(self, input_hash: str) -> str | None:
        """The folder of a ready version built from these inputs, if one exists."""
        with redis_errors():
            raw = self.redis.hget(self.key, input_hash)
        return raw.decode("utf-8") if raw is not None else None

    def remember(self, input_hash: str, folder: str) -> None:
        """Record the first ready folder of an input hash (later ones do not replace it)."""
        with redis_errors():
            self.redis.hsetnx(self.key, input_hash, folder)

    def forget(self, input_hash: str, folder: str) -> None:
        """Drop the entry of an input hash if it still names ``folder`` (deleted)."""
        with redis_errors():
            load_script(self.redis, "hdel_if_equal")(keys=[self.key], args=[input_hash, folder])


class ActivityIndex:
    """Session id → its last creation, push or render request (epoch s), oldest first.

    The session hash's ``activeAt`` is the truth (written in the same script as the
    change); this index only finds the candidates for idle expiry.
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.key = keys.sessions

    def touch(self, session_id: str, at: float) -> None:
        with redis_errors():
            self.redis.zadd(self.key, {session_id: at})

    def idle(self, before: float, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` sessions last active before ``before``, oldest first."""
        with redis_errors():
            found = self.redis.zrangebyscore(
                self.key, "-inf", before, start=0, num=limit, withscores=True
            )
        return [(member.decode("utf-8"), score) for member, score in found]

    def forget(self, session_id: str) -> None:
        with redis_errors():
            self.redis.zrem(self.key, session_id)
