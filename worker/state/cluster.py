"""Redis Cluster as the state store, chosen by the URL: ``redis+cluster://host:port[,host:port…]``.

The listed nodes are startup nodes; the client learns the rest of the cluster from them
and follows it as it changes. Every key of one session (one app) carries its id as a hash
tag, ``{id}``, so a Lua script or a transaction over them stays within one slot; the two
indexes shared by every session are single keys, written outside any script.

A failover is infrastructure, never a lost render. redis-py follows ``MOVED`` and ``ASK``
redirects itself and retries ``TRYAGAIN``, ``CLUSTERDOWN`` and lost connections with the
backoff below, refreshing its slot map as it goes; what still fails after that budget
becomes :class:`~worker.errors.StoreUnavailableError` at :func:`worker.redis_client.redis_errors`
and the render retries it with its own, longer backoff.

Session events use sharded pub/sub on a cluster (``SPUBLISH``/``SSUBSCRIBE``): the channel
carries the session's hash tag, so an event travels only within the shard that holds the
session, where a plain ``PUBLISH`` would be copied to every node of the cluster.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

from worker.errors import ConfigError

__all__ = [
    "CLUSTER_SCHEMES",
    "is_cluster_url",
    "connect_cluster",
    "is_cluster",
    "publish",
    "Subscription",
]

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
# 0.1, 0.2, 0.4 … capped at 2 s, 8 times: ~9 s, longer than an election takes with a
# cluster-node-timeout of a few seconds. Longer outages are the render's retries' to ride out.
_RETRIES = 8
_BACKOFF_BASE_S = 0.1
_BACKOFF_CAP_S = 2.0


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def startup_nodes(url: str) -> tuple[list[ClusterNode], dict[str, Any]]:
    """The nodes listed in a cluster URL, and the connection options it carries."""
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    options: dict[str, Any] = {"ssl": parts.scheme == "rediss+cluster"}
    if credentials:
        username, _, password = credentials.partition(":")
        options["username"] = unquote(username) or None
        options["password"] = unquote(password) or None
    nodes = []
    for host_port in filter(None, hosts.split(",")):
        host, _, port = host_port.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"each cluster node must be host:port, not {host_port!r}")
        nodes.append(ClusterNode(host.strip("[]"), int(port)))
    if not nodes:
        raise ConfigError("names no cluster node (host:port,host:port…)")
    return nodes, options


def connect_cluster(url: str) -> redis.Redis:
    """A cluster client with timeouts and a failover-sized retry budget.

    Typed as :class:`redis.Redis`: it serves every command the stores use, so callers keep
    one type whatever the deployment.
    """
    nodes, options = startup_nodes(url)
    client: Any = RedisCluster(
        startup_nodes=nodes,
        retry=Retry(ExponentialBackoff(cap=_BACKOFF_CAP_S, base=_BACKOFF_BASE_S), _RETRIES),
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=15,
        **options,
    )
    return cast(redis.Redis, client)


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster)


def publish(client: redis.Redis, channel: str, message: str) -> None:
    """Announce ``message`` on a session's channel: sharded on a cluster."""
    if is_cluster(client):
        cast(Any, client).spublish(channel, message)  # types-redis predates it
    else:
        client.publish(channel, message)


class Subscription:
    """One channel's messages: sharded pub/sub on a cluster, plain pub/sub otherwise."""

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self._sharded = is_cluster(client)
        self._pubsub = cast(Any, client.pubsub(ignore_subscribe_messages=True))
        try:
            if self._sharded:
                self._pubsub.ssubscribe(channel)
            else:
                self._pubsub.subscribe(channel)
        except BaseException:
            self._pubsub.close()
            raise

    def get(self, timeout: float) -> bytes | None:
        """The next message's data, or None when none came within ``timeout`` seconds."""
        if self._sharded:
            message = self._pubsub.get_sharded_message(
                ignore_subscribe_messages=True, timeout=timeout
            )
        else:
            message = self._pubsub.get_message(timeout=timeout)
        if message is None:
            return None
        data = message.get("data")
        return data if isinstance(data, bytes) else None

    def close(self) -> None:
        self._pubsub.close()
