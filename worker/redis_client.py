"""The Redis boundary: one client per process, every Redis error mapped once, Lua scripts.

Every call the worker makes to Redis runs inside :func:`redis_errors`, which turns what
the server or the connection says into :class:`StoreUnavailableError` (an infrastructure
error: a render retries it with backoff). That covers a dead or slow server and a server
that answers but cannot serve right now: ``READONLY`` (a failover is under way),
``LOADING`` (a restart is reading its data), ``OOM`` (``maxmemory`` reached),
``MASTERDOWN``, ``BUSY`` and the like. Only a reply that says our own command or script
is wrong (a script error, a wrong number of arguments, a wrong type) passes through as
it is: retrying a bug cannot help, so the render ends as an internal error.

The Lua scripts live in ``worker/lua/`` (package data), one file each, read once per
process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from importlib import resources

import redis
from redis.commands.core import Script

from worker.errors import StoreUnavailableError

__all__ = ["connect_redis", "redis_errors", "load_script", "is_our_bug"]

# Replies whose code says the server is not serving right now. redis-py maps the common
# ones to classes (ReadOnlyError, OutOfMemoryError, BusyLoadingError, ...); these it
# may leave as a plain ResponseError, with the code still at the start of the text.
_SERVER_STATE_CODES = ("READONLY", "OOM", "LOADING", "MASTERDOWN", "BUSY", "MISCONF",
                       "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN")


def connect_redis(url: str) -> redis.Redis:
    """A Redis client with timeouts, so a dead server is an error and not a hang."""
    return redis.Redis.from_url(
        url,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=15,
        retry_on_timeout=False,
    )


def is_our_bug(exc: redis.RedisError) -> bool:
    """True when Redis refused a command or script of ours as wrong, not for its state."""
    if isinstance(exc, redis.DataError):  # redis-py refused the arguments before sending
        return True
    if type(exc) in (redis.ResponseError, redis.exceptions.ExecAbortError):
        return not str(exc).startswith(_SERVER_STATE_CODES)
    return False


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    """Map every Redis error but our own bugs to :class:`StoreUnavailableError`."""
    try:
        yield
    except redis.RedisError as exc:
        if is_our_bug(exc):
            raise
        raise StoreUnavailableError(f"Redis did not serve the request: "
                                    f"{type(exc).__name__}: {exc}") from exc


def load_script(client: redis.Redis, name: str) -> Script:
    """The script ``worker/lua/<name>.lua`` on ``client``: sent by its hash, loaded on a miss."""
    return Script(client, _source(name))


@cache
def _source(name: str) -> str:
    return resources.files("worker").joinpath("lua", f"{name}.lua").read_text("utf-8")
