"""Redis answering but not serving: out of memory, or a read-only replica mid-failover.

Both are the server's state, not the session's code: the render retries with backoff and
ends ready once Redis serves again. A real worker process; the session store on a
redis-server of the test's own, the broker on the shared Redis.
"""

from __future__ import annotations

import re

import pytest
import redis
from services import wait_for
from stage_samples import HELLO

from worker.state.connection import redis_errors

pytestmark = pytest.mark.integration

RETRY_ENV = {
    "STAGE_REAP_INTERVAL_S": "0",
    "STAGE_RETRY_BACKOFF_S": "0.3",
    "STAGE_RETRY_BACKOFF_MAX_S": "1",
    "STAGE_RENDER_MAX_RETRIES": "20",
}


def retry_reasons(log: str, session_id: str) -> list[str]:
    pattern = (
        rf"render session={session_id} version=\d+ outcome=retry attempt=\d+ in=[\d.]+s "
        r"reason=(.*)"
    )
    return re.findall(pattern, log)


def store_env(namespace, store_url: str) -> dict[str, str]:
    return {"STAGE_REDIS_URL": store_url, "STAGE_BROKER_URL": namespace.redis_url}


def queued_render(namespace, store_url: str) -> tuple[str, int]:
    with namespace.client(**store_env(namespace, store_url)) as client:
        session = client.sessions.create(name="redis states")
        client.sessions.push_files(session.id, HELLO)
        return session.id, client.sessions.render(session.id).version


def wait_ready(namespace, store_url: str, session_id: str, version: int):
    with namespace.client(**store_env(namespace, store_url)) as client:
        return client.sessions.wait_for_render(session_id, version, timeout=45)


def test_render_retries_while_redis_is_out_of_memory_and_ends_ready(
    namespace, own_redis, start_worker
):
    session_id, version = queued_render(namespace, own_redis.url)
    server = redis.Redis(port=own_redis.port)
    server.config_set("maxmemory", 1)  # every write is refused with OOM from here on
    worker = start_worker(namespace, **store_env(namespace, own_redis.url), **RETRY_ENV)

    wait_for(lambda: len(retry_reasons(worker.log, session_id)) >= 2, 30, "two retries")
    server.config_set("maxmemory", 0)
    record = wait_ready(namespace, own_redis.url, session_id, version)

    assert record.status == "ready", record.error
    reasons = retry_reasons(worker.log, session_id)
    assert all(
        r.startswith(
            "StoreUnavailableError: Redis did not serve the request: "
            "OutOfMemoryError: command not allowed when used memory > "
            "'maxmemory'"
        )
        for r in reasons
    ), reasons
    assert "internal error" not in worker.log


def test_render_retries_while_its_redis_is_a_read_only_replica_and_ends_ready(
    namespace, own_redis, another_redis, start_worker
):
    session_id, version = queued_render(namespace, own_redis.url)
    # Fail over the way an operator would: the other server takes a copy, becomes the
    # primary, and the test's server follows it as a read-only replica.
    primary, replica = redis.Redis(port=another_redis.port), redis.Redis(port=own_redis.port)
    primary.replicaof("127.0.0.1", own_redis.port)
    wait_for(lambda: primary.info("replication")["master_link_status"] == "up", 20, "a copy")
    primary.replicaof("no", "one")
    replica.replicaof("127.0.0.1", another_redis.port)
    wait_for(
        lambda: replica.info("replication").get("master_link_status") == "up",
        20,
        "the test's server to follow the other",
    )
    worker = start_worker(namespace, **store_env(namespace, own_redis.url), **RETRY_ENV)

    wait_for(lambda: len(retry_reasons(worker.log, session_id)) >= 2, 30, "two retries")
    replica.replicaof("no", "one")  # promoted back: writable again
    record = wait_ready(namespace, own_redis.url, session_id, version)

    assert record.status == "ready", record.error
    reasons = retry_reasons(worker.log, session_id)
    assert all(
        r.startswith(
            "StoreUnavailableError: Redis did not serve the request: "
            "ReadOnlyError: You can't write against a read only replica."
        )
        for r in reasons
    ), reasons
    assert "internal error" not in worker.log


def test_a_bug_in_our_own_script_is_not_mistaken_for_an_outage(own_redis):
    client = redis.Redis(port=own_redis.port)
    with pytest.raises(redis.ResponseError, match="Wrong number of args") as info, redis_errors():
        client.eval("return redis.call('SET')", 0)
    assert type(info.value) is redis.ResponseError  # not retried: the render ends at once
