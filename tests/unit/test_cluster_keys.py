"""Redis Cluster rules the key layout and the cluster URL must keep, without a server."""

from __future__ import annotations

import re
from dataclasses import astuple
from importlib import resources

import pytest
import redis
from redis.crc import key_slot

from worker.errors import ConfigError, StoreUnavailableError
from worker.settings import Settings
from worker.state.cluster import is_cluster_url, startup_nodes
from worker.state.connection import redis_errors
from worker.state.keys import Keys

SESSION = "0123456789abcdef0123456789abcdef"
SID = "app_0123456789abcdef0123"


@pytest.mark.parametrize("prefix", ["stage:", "stage-test-1234:"])
def test_every_key_of_a_session_or_an_app_is_in_one_slot(prefix):
    keys = Keys(prefix)
    session = astuple(keys.session(SESSION))
    app = keys.app(SID)
    assert {key_slot(k.encode()) for k in session} == {key_slot(session[0].encode())}
    app_keys = [
        *astuple(app),
        app.pointer_lock("preview"),
        app.pointer_lock("production"),
        app.inference("2026-01-31"),
    ]
    assert {key_slot(k.encode()) for k in app_keys} == {key_slot(app.app.encode())}


def test_sessions_spread_over_slots():
    keys = Keys("stage:")
    slots = {key_slot(keys.session(f"{n:032x}").session.encode()) for n in range(64)}
    assert len(slots) > 32


def test_a_prefix_with_braces_is_refused_as_it_would_pin_every_key_to_one_slot():
    with pytest.raises(ConfigError, match=r"STAGE_KEY_PREFIX='\{stage\}:': may not contain"):
        Settings.from_env({"STAGE_KEY_PREFIX": "{stage}:"})


def test_every_lua_script_touches_only_the_keys_it_is_given():
    # A key built inside a script could live in another slot; every key must come in KEYS.
    for script in resources.files("worker.state").joinpath("lua").iterdir():
        if not script.name.endswith(".lua"):
            continue
        body = script.read_text("utf-8")
        calls = re.findall(r"redis\.call\('(\w+)',\s*([^,)]+)", body)
        assert calls, script.name
        for command, key in calls:
            # a key of KEYS, or all of them (``unpack(KEYS)``)
            assert re.fullmatch(r"KEYS\[\d\]|unpack\(KEYS", key.strip()), (
                script.name,
                command,
                key,
            )


def test_a_cross_slot_refusal_is_our_bug_and_not_retried():
    with pytest.raises(redis.exceptions.ClusterCrossSlotError), redis_errors():
        raise redis.exceptions.ClusterCrossSlotError()


@pytest.mark.parametrize(
    "error",
    [
        redis.exceptions.TryAgainError("TRYAGAIN"),
        redis.exceptions.ClusterDownError("CLUSTERDOWN"),
        redis.exceptions.MovedError("3999 127.0.0.1:6381"),
        redis.exceptions.AskError("3999 127.0.0.1:6381"),
        redis.exceptions.SlotNotCoveredError("slot 3999"),
    ],
)
def test_failover_replies_are_infrastructure_errors(error):
    with pytest.raises(StoreUnavailableError), redis_errors():
        raise error


def test_cluster_url_lists_startup_nodes_and_credentials():
    nodes, options = startup_nodes("rediss+cluster://stage:s%40cret@r1:7000,10.0.0.2:7001")
    assert [(n.host, n.port) for n in nodes] == [("r1", 7000), ("10.0.0.2", 7001)]
    assert options == {"ssl": True, "username": "stage", "password": "s@cret"}
    assert is_cluster_url("redis+cluster://r1:7000")
    assert not is_cluster_url("redis://r1:6379/0")


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("redis+cluster://", "names no cluster node (host:port,host:port…)"),
        ("redis+cluster://r1,r2:7001", "each cluster node must be host:port, not 'r1'"),
    ],
)
def test_cluster_url_without_host_and_port_names_the_variable(url, rule):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"STAGE_REDIS_URL": url, "STAGE_BROKER_URL": "amqp://rabbit//"})
    assert str(error.value) == f"STAGE_REDIS_URL={url!r}: {rule}"
