"""The Redis boundary: one client per process, every Redis error mapped once, Lua scripts.

Every call the worker makes to Redis runs inside :func:`redis_errors`, which turns what
the server or the connection says into :class:`StoreUnavailableError` (an infrastructure
error: a render retries it with backoff). That covers a dead or slow server and a server
that answers but cannot serve right now: ``READONLY`` (a failover is under way),
``LOADING`` (a restart is reading its data), ``OOM`` (``maxmemory`` reached),
``MASTERDOWN``, ``BUSY`` and the like. Only a reply that says our own command or script
is wrong (a script error, a wrong number of arguments, a wrong type) passes through as
it is: retrying a bug cannot help, so the render ends as an internal error.

The Lua scripts live in ``worker/state/lua/`` (package data), one file each, read once per
process.

``STAGE_REDIS_URL=redis+cluster://…`` makes :func:`connect_redis` return a Redis Cluster
client (:mod:`worker.state.cluster`); everything above this module is the same for both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from importlib import resources

import redis
from redis.commands.core import Script
from redis.exceptions import (  # type: ignore[attr-defined]  # types-redis predates them
    CrossSlotTransactionError,
    InvalidPipelineStack,
)

from worker.errors import StoreUnavailableError
from worker.state.cluster import connect_cluster, is_cluster_url

__all__ = ["connect_redis", "redis_errors", "load_script", "is_our_bug"]

# Replies whose code says the server is not serving right now. redis-py maps the common
# ones to classes (ReadOnlyError, OutOfMemoryError, BusyLoadingError, ...); these it
# may leave as a plain ResponseError, with the code still at the start of the text.
_SERVER_STATE_CODES = (
    "READONLY",
    "OOM",
    "LOADING",
    "MASTERDOWN",
    "BUSY",
    "MISCONF",
    "NOREPLICAS",
    "TRYAGAIN",
    "CLUSTERDOWN",
)


# Refusals that say our keys or pipeline were wrong for a cluster: a bug, never retried.
_OUR_CLUSTER_BUGS = (
    redis.exceptions.ClusterCrossSlotError,
    CrossSlotTransactionError,
    InvalidPipelineStack,
)


def connect_redis(url: str) -> redis.Redis:
    """A Redis client with timeouts, so a dead server is an error and not a hang.

    A ``redis+cluster://`` URL gives a Redis Cluster client.
    """
    if is_cluster_url(url):
        return connect_cluster(url)
    return redis.Redis.from_url(
        url,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=15,
        retry_on_timeout=False,
    )


def is_our_bug(exc: redis.RedisError | redis.exceptions.RedisClusterException) -> bool:
    """True when Redis refused a command or script of ours as wrong, not for its state."""
    if isinstance(exc, (redis.DataError, *_OUR_CLUSTER_BUGS)):  # refused before or as sent
        return True
    if type(exc) in (redis.ResponseError, redis.exceptions.ExecAbortError):
        return not str(exc).startswith(_SERVER_STATE_CODES)
    return False


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    """Map every Redis error but our own bugs to :class:`StoreUnavailableError`."""
    try:
        yield
    # The cluster client's own errors (no node reachable, a slot not covered) sit outside
    # RedisError.
    except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
        if is_our_bug(exc):
            raise
        raise StoreUnavailableError(
            f"Redis did not serve the request: {type(exc).__name__}: {exc}"
        ) from exc


def load_script(client: redis.Redis, name: str) -> Script:
    """The script ``lua/<name>.lua`` on ``client``: sent by its hash, loaded on a miss."""
    return Script(client, _source(name))


@cache
def _source(name: str) -> str:
    return resources.files("worker.state").joinpath("lua", f"{name}.lua").read_text("utf-8")
