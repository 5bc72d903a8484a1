"""Session affinity: which worker holds a session's warm build context, and who is alive.

A render leaves the session's esbuild context warm in the worker that built it (see
bundler.contexts). The gateway sends the session's next render to that worker's own queue
(``<STAGE_QUEUE>.<node>``) while its heartbeat key lives, and a copy of the message to the
shared queue a few seconds later, so a holder that died or is busy never strands a render.
The two copies are one render: their task ids share a pair id, and the first copy to
claim the version builds it; the other ends without building unless the claimer's worker
is gone.

    P session:{id}:builder  hash    node → the worker node that last built the session;
                                    claim:<version> → "<task id> <node>" of a routed copy
                                    that claimed the version (expires with STAGE_WARM_IDLE_S)
    P worker:<node>         string  the node's heartbeat (expires after
                                    STAGE_WORKER_HEARTBEAT_S unless renewed)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from worker.state.connection import load_script, redis_errors
from worker.state.keys import Keys

__all__ = ["Affinity", "Claim", "routed_pair", "start_heartbeat_thread"]

log = logging.getLogger("stage.affinity")

#: The task ids of the two copies of a routed render: ``<pair id><suffix>``.
HOLDER_SUFFIX = ".holder"
FALLBACK_SUFFIX = ".fallback"


def routed_pair(task_id: str | None) -> str | None:
    """The pair id of a routed copy's task id; None for any other message."""
    for suffix in (HOLDER_SUFFIX, FALLBACK_SUFFIX):
        if task_id and task_id.endswith(suffix):
            return task_id[: -len(suffix)]
    return None


@dataclass(frozen=True)
class Claim:
    """Who claimed a routed version: ``won`` for this copy, else the other copy's task and
    node."""

    won: bool
    task_id: str = ""
    node: str = ""


class Affinity:
    """The builder and heartbeat keys over one Redis client."""

    def __init__(self, client: redis.Redis, keys: Keys, builder_ttl_s: float) -> None:
        self.redis = client
        self.keys = keys
        self.builder_ttl_s = max(1, int(builder_ttl_s))
        self._claim = load_script(client, "claim_routed")

    def _builder(self, session_id: str) -> str:
        return self.keys.session(session_id).builder

    def holder(self, session_id: str) -> str | None:
        """The node that last built ``session_id`` (None: none known)."""
        with redis_errors():
            node = self.redis.hget(self._builder(session_id), "node")
        return node.decode() if isinstance(node, bytes) else node

    def built_by(self, session_id: str, node: str) -> None:
        """Record ``node`` as the session's builder (it holds the warm context now)."""
        key = self._builder(session_id)
        with redis_errors(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, "node", node)
            pipe.expire(key, self.builder_ttl_s)
            pipe.execute()

    def claim(
        self, session_id: str, version: int, task_id: str, node: str, *, force: bool = False
    ) -> Claim:
        """Claim a routed version for this copy (atomically: one copy wins)."""
        with redis_errors():
            reply = self._claim(
                keys=[self._builder(session_id)],
                args=[version, task_id, node, self.builder_ttl_s, "1" if force else ""],
            )
        if int(reply[0]) == 1:
            return Claim(True)
        held = reply[1].decode() if isinstance(reply[1], bytes) else str(reply[1])
        task, _, holder = held.partition(" ")
        return Claim(False, task, holder)

    def beat(self, node: str, ttl_s: float) -> None:
        """Renew ``node``'s heartbeat."""
        with redis_errors():
            self.redis.set(self.keys.worker(node), str(time.time()), px=int(ttl_s * 1000))

    def alive(self, node: str) -> bool:
        with redis_errors():
            return bool(self.redis.exists(self.keys.worker(node)))

    def stop(self, node: str) -> None:
        """Forget ``node``'s heartbeat (it shuts down): no render is routed to it anymore."""
        with redis_errors():
            self.redis.delete(self.keys.worker(node))


def start_heartbeat_thread(affinity: Affinity, node: str, ttl_s: float) -> threading.Thread:
    """Renew ``node``'s heartbeat three times per ``ttl_s`` in a daemon thread."""
    affinity.beat(node, ttl_s)

    def loop() -> None:
        while True:
            time.sleep(ttl_s / 3)
            try:
                affinity.beat(node, ttl_s)
            except Exception:  # the thread must outlive one failed round
                log.exception("heartbeat of %s not renewed", node)

    thread = threading.Thread(target=loop, name="stage-heartbeat", daemon=True)
    thread.start()
    return thread
