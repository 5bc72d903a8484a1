"""The built worker image: who it runs as, what it holds, its HEALTHCHECK, and that compose
declares what these tests run."""

from __future__ import annotations

import re

import pytest
from conftest import COMPOSE, ENDPOINT_KEYS, WORKER_SERVICE, compose_env
from podman import BUILD_TIMEOUT_S, ROOT, build_inputs
from services import free_port

pytestmark = [pytest.mark.image, pytest.mark.timeout(BUILD_TIMEOUT_S + 300)]

WORKER_UID = "10001"


def test_image_runs_as_the_non_root_worker_user(podman, worker_image, in_image):
    assert podman.config(worker_image)["User"] == f"{WORKER_UID}:{WORKER_UID}"
    result = in_image("id", "-u")
    assert result.stdout.strip() == WORKER_UID, result.stderr


def test_node_runs_in_the_image_as_the_worker_user(in_image):
    result = in_image("sh", "-c", "id -u && node --version")
    uid, version = result.stdout.split()
    assert result.returncode == 0, result.stderr
    assert uid == WORKER_UID
    assert re.fullmatch(r"v\d+\.\d+\.\d+", version) and int(version[1:].split(".")[0]) >= 18


def test_image_holds_no_compilers_npm_git_or_tests(podman, worker_image, in_image):
    found = in_image(
        "sh", "-c", "for tool in gcc cc c++ make npm npx git; do command -v $tool; done; true"
    )
    assert found.returncode == 0 and found.stdout == "", found.stdout + found.stderr
    leftovers = in_image(
        "find",
        "/",
        "-xdev",
        "(",
        "-name",
        ".git",
        "-o",
        "-path",
        "/app/tests",
        "-o",
        "-path",
        "/app/bench",
        ")",
        "-print",
    )
    assert leftovers.stdout == "", leftovers.stdout
    # The runtime's packages do come from `npm ci` in the Node stage.
    esbuild = in_image("sh", "-c", "ls /app/bundler/runtime/node_modules/@esbuild/")
    assert esbuild.stdout.split() == ["linux-x64"], esbuild.stdout + esbuild.stderr
    # Its size is in the run's summary ("container images").
    assert podman.size_bytes(worker_image) < 1e9


def test_healthcheck_passes_against_live_redis_and_s3(podman, worker_image, in_image, namespace):
    healthcheck = podman.healthcheck(worker_image)
    assert healthcheck[0] == "CMD"
    result = in_image(*healthcheck[1:], env=compose_env(namespace))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["ok", "redis"],
        ["ok", "storage"],
        ["ok", "esbuild"],
        ["ok", "tailwind"],
        ["ok", "tailwind3"],
    ], result.stdout


def test_healthcheck_fails_when_redis_is_down(podman, worker_image, in_image, namespace):
    healthcheck = podman.healthcheck(worker_image)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = in_image(*healthcheck[1:], env=compose_env(namespace, STAGE_REDIS_URL=dead))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("FAIL redis"), result.stdout


def test_compose_runs_the_commands_the_images_declare(podman, worker_image):
    assert WORKER_SERVICE["command"] == podman.config(worker_image)["Cmd"]
    stages = re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    # The worker is the default target: a plain `docker build .` gives the worker.
    assert stages[-1] == WORKER_SERVICE["build"]["target"]
    checker = COMPOSE["services"]["checker"]
    assert checker["build"]["target"] in stages
    assert checker["command"] == ["stage-render", "checker"]


def test_tests_override_only_the_endpoints_of_the_compose_environment(namespace):
    declared = {k: str(v) for k, v in COMPOSE["x-stage-env"].items()}
    for service in ("worker", "checker"):
        assert COMPOSE["services"][service]["environment"] == COMPOSE["x-stage-env"]
    used = compose_env(namespace)
    changed = {k for k in used if declared.get(k) != used[k]}
    assert changed <= ENDPOINT_KEYS
    assert set(declared) <= set(used)


def test_image_tag_hashes_every_file_the_build_copies_and_no_host_node_modules():
    inputs = {path.relative_to(ROOT).as_posix() for path in build_inputs()}
    assert {
        "Dockerfile",
        ".dockerignore",
        "pyproject.toml",
        "README.md",
        "bundler/runtime/package-lock.json",
        "templates/index.html.j2",
        "worker/cli/__init__.py",
    } <= inputs
    assert not [p for p in inputs if "node_modules" in p or "__pycache__" in p]
    assert not [p for p in inputs if p.startswith(("tests/", "bench/", ".venv/"))]
