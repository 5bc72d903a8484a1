"""The compose file's `scale` profile, checked without a Docker engine."""

from __future__ import annotations

from pathlib import Path

import yaml

from worker.messages import is_amqp
from worker.settings import Settings
from worker.state.cluster import is_cluster_url, startup_nodes

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
SCALE = {name: s for name, s in SERVICES.items() if "scale" in s.get("profiles", [])}


def test_scale_profile_holds_rabbitmq_six_cluster_nodes_two_workers_and_a_checker():
    nodes = [n for n in SCALE if n.startswith("redis-node-")]
    assert len(nodes) == 6
    assert {"rabbitmq", "redis-cluster-init", "scale-worker", "scale-checker"} <= set(SCALE)
    assert SCALE["scale-worker"]["deploy"]["replicas"] == 2
    for node in nodes:
        assert SCALE[node]["command"][1:3] == ["--cluster-enabled", "yes"]
    assert "--cluster-replicas 1" in SCALE["redis-cluster-init"]["command"][0]


def test_scale_services_are_only_in_their_profile_and_the_default_is_unchanged():
    for name in ("redis", "worker", "checker", "minio"):
        assert "profiles" not in SERVICES[name], name
    assert SERVICES["worker"]["environment"]["STAGE_REDIS_URL"] == "redis://redis:6379/0"


def test_scale_worker_and_checker_env_are_valid_settings_on_rabbitmq_and_the_cluster():
    for name in ("scale-worker", "scale-checker"):
        env = {k: str(v) for k, v in SCALE[name]["environment"].items()}
        settings = Settings.from_env({k: v for k, v in env.items() if k.startswith("STAGE_")})
        assert is_amqp(settings.effective_broker_url)
        assert is_cluster_url(settings.redis_url)
        hosts = [node.host for node in startup_nodes(settings.redis_url)[0]]
        assert set(hosts) <= {n for n in SCALE if n.startswith("redis-node-")}
        depends = SCALE[name]["depends_on"]
        assert depends["redis-cluster-init"] == {"condition": "service_completed_successfully"}
        assert depends["rabbitmq"] == {"condition": "service_healthy"}
