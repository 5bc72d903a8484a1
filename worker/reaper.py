"""Finds renders stuck in ``building`` and re-drives or fails them.

A render is in ``building`` while a worker runs it. If that worker is lost, the broker
redelivers the message after the visibility timeout; a render still ``building`` past
``STAGE_VISIBILITY_TIMEOUT_S`` lost its message too (its worker died after the ack, or
its outcome could not be written). The reaper sends such a render again, or records it
``failed`` (kind ``infrastructure``) once it has used all its attempts.

Every worker process runs it in a background thread every ``STAGE_REAP_INTERVAL_S``; a
Redis lock lets one of them act per interval. ``stage-render reap`` runs it once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from worker.errors import InvalidInputError, RenderNotFoundError, StoreUnavailableError
from worker.jobs import record_failure
from worker.sessions import SessionStore

__all__ = ["Reaped", "reap_stuck", "start_reaper_thread"]

log = logging.getLogger("stage.reaper")


@dataclass(frozen=True)
class Reaped:
    session_id: str
    version: int
    action: str  # "redriven" or "failed"


def reap_stuck(sessions: SessionStore, send: Callable[[str, int], None], *,
               now: float | None = None, dry_run: bool = False) -> list[Reaped]:
    """Re-drive or fail every render building for longer than the visibility timeout."""
    settings = sessions.settings
    now = time.time() if now is None else now
    reaped = []
    for session_id, version in sessions.building_since(now - settings.visibility_timeout_s):
        try:
            record = sessions.get_record(session_id, version)
        except (RenderNotFoundError, InvalidInputError):
            sessions.forget_building(session_id, version)
            continue
        if record.status != "building":
            sessions.forget_building(session_id, version)
            continue
        action = "failed" if record.attempts >= settings.render_max_retries + 1 else "redriven"
        reaped.append(Reaped(session_id, version, action))
        log.warning("render session=%s version=%s outcome=stuck-building attempts=%d action=%s",
                    session_id, version, record.attempts, action)
        if dry_run:
            continue
        if action == "failed":
            record_failure(sessions, session_id, version,
                           f"stuck in building after {record.attempts} attempts")
        else:
            sessions.mark_building(session_id, version, now)
            send(session_id, version)
    return reaped


def start_reaper_thread(sessions: SessionStore, send: Callable[[str, int], None],
                        node: str) -> threading.Thread | None:
    """Run :func:`reap_stuck` every ``STAGE_REAP_INTERVAL_S`` in a daemon thread (0: never)."""
    interval = sessions.settings.reap_interval_s
    if interval <= 0:
        return None
    lock_key = f"{sessions.settings.key_prefix}reaper-lock"

    def loop() -> None:
        while True:
            time.sleep(interval)
            try:
                # One worker per interval: the lock expires by itself, nobody releases it.
                if sessions.redis.set(lock_key, node, nx=True, px=int(interval * 1000)):
                    reap_stuck(sessions, send)
            except (StoreUnavailableError, redis.RedisError) as exc:
                log.warning("reaper skipped a round: %s", exc)
            except Exception:  # the thread must outlive one bad round
                log.exception("reaper round failed")

    thread = threading.Thread(target=loop, name="stage-reaper", daemon=True)
    thread.start()
    return thread
