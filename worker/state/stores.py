"""Everything the worker and the client keep in Redis, over one client per process."""

from __future__ import annotations

import redis

from worker.settings import Settings
from worker.state.affinity import Affinity
from worker.state.connection import connect_redis
from worker.state.indexes import ActivityIndex, BuildingIndex, InputIndex
from worker.state.keys import Keys
from worker.state.records import RenderRecords
from worker.state.sessions import SessionStore

__all__ = ["RedisStores"]


class RedisStores:
    """Everything the worker and the client keep in Redis, over one client.

    One per process: ``sessions`` (session data), ``records`` (render records),
    ``building`` (renders in building, for the reaper), ``inputs`` (ready versions by
    input hash, for reuse), ``activity`` (sessions by last activity, for idle expiry) and
    ``affinity`` (which worker holds a session's warm build context).
    """

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self.activity = ActivityIndex(client, self.keys)
        self.sessions = SessionStore(client, settings, self.keys, self.activity)
        self.building = BuildingIndex(client, self.keys)
        self.inputs = InputIndex(client, self.keys)
        self.records = RenderRecords(client, self.keys, self.building, self.activity)
        self.affinity = Affinity(client, self.keys, settings.warm_idle_s)

    @classmethod
    def connect(cls, settings: Settings) -> RedisStores:
        """Stores over a new client of ``STAGE_REDIS_URL``."""
        return cls(connect_redis(settings.redis_url), settings)

    def close(self) -> None:
        self.redis.close()
