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

from worker.errors import RenderNotFoundError
from worker.process import start_periodic_thread
from worker.render.job import record_failure
from worker.retry import RetryPolicy
from worker.state.stores import RedisStores

__all__ = ["Reaped", "reap_stuck", "start_reaper_thread"]

log = logging.getLogger("stage.reaper")


@dataclass(frozen=True)
class Reaped:
    session_id: str
    version: int
    action: str  # "redriven" or "failed"


def reap_stuck(
    stores: RedisStores,
    send: Callable[[str, int], None],
    *,
    now: float | None = None,
    dry_run: bool = False,
) -> list[Reaped]:
    """Re-drive or fail every render building for longer than the visibility timeout."""
    settings = stores.settings
    retry = RetryPolicy.from_settings(settings)
    now = time.time() if now is None else now
    reaped = []
    for session_id, version in stores.building.since(now - settings.visibility_timeout_s):
        try:
            record = stores.records.get(session_id, version)
        except RenderNotFoundError:
            stores.building.forget(session_id, version)
            continue
        if record.status != "building":
            stores.building.forget(session_id, version)
            continue
        decision = retry.decide(record.attempts, "stuck in building")
        action = "redriven" if decision.retry else "failed"
        reaped.append(Reaped(session_id, version, action))
        log.warning(
            "render session=%s version=%s outcome=stuck-building attempts=%d action=%s",
            session_id,
            version,
            record.attempts,
            action,
        )
        if dry_run:
            continue
        if action == "failed":
            record_failure(stores.records, session_id, version, decision.reason)
        else:
            stores.building.mark(session_id, version, now)
            send(session_id, version)
    return reaped


def start_reaper_thread(
    stores: RedisStores, send: Callable[[str, int], None], node: str
) -> threading.Thread | None:
    """Run :func:`reap_stuck` every ``STAGE_REAP_INTERVAL_S`` in a daemon thread (0: never)."""
    return start_periodic_thread(
        stores,
        name="reaper",
        lock_key=stores.keys.reaper_lock,
        interval_s=stores.settings.reap_interval_s,
        node=node,
        work=lambda: reap_stuck(stores, send),
        log=log,
    )
