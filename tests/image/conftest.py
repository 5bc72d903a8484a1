"""The worker image built with podman, and worker containers run the way compose runs them.

Nothing can be pulled here, so the official base images are replaced by stand-ins made from
Debian packages (``stand_in_bases.sh``) and passed as the Dockerfile's build arguments; the
Dockerfile is otherwise the one users build. Bases and images are built once and kept by
podman under tags that hash their inputs, so an unchanged tree reuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from podman import REPORT, ROOT, Container, Podman, missing_tools
from services import free_port, missing

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
WORKER_SERVICE: dict[str, Any] = COMPOSE["services"]["worker"]
# What differs between compose and a test: where Redis and S3 are, the test's own key
# prefix and queue, and a metrics port per container (they share the host's network).
ENDPOINT_KEYS = frozenset(
    {
        "STAGE_REDIS_URL",
        "STAGE_S3_ENDPOINT_URL",
        "STAGE_PUBLIC_BASE_URL",
        "STAGE_S3_BUCKET",
        "STAGE_KEY_PREFIX",
        "STAGE_QUEUE",
        "STAGE_CHECK_QUEUE",
        "STAGE_METRICS_PORT",
    }
)


def compose_env(namespace: Any, **extra: str) -> dict[str, str]:
    """The worker's environment as compose declares it, pointed at the test's services."""
    declared = {k: str(v) for k, v in COMPOSE["x-stage-env"].items()}
    return {**declared, **namespace.env, "STAGE_METRICS_PORT": str(free_port()), **extra}


def grace_s(service: dict[str, Any]) -> int:
    return int(str(service["stop_grace_period"]).removesuffix("s"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The images' build times and sizes, in every run's output (CI's included)."""
    if REPORT:
        terminalreporter.section("container images")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def podman() -> Podman:
    absent = missing_tools()
    how = "install them as root (Debian: apt-get install podman runc debootstrap); .ci/run does"
    if absent:
        missing("podman", f"{', '.join(absent)} not found: {how}")
    engine = Podman()
    if (trouble := engine.works()) is not None:
        missing("podman", f"`podman info` failed ({trouble}): {how}")
    return engine


@pytest.fixture(scope="session")
def bases(podman: Podman) -> dict[str, str]:
    return podman.stand_in_bases()


@pytest.fixture(scope="session")
def worker_image(podman: Podman, bases: dict[str, str]) -> str:
    return podman.build(WORKER_SERVICE["build"]["target"], bases)


@pytest.fixture(scope="session")
def checker_image(podman: Podman, bases: dict[str, str]) -> str:
    return podman.build(COMPOSE["services"]["checker"]["build"]["target"], bases)


@pytest.fixture
def in_image(podman: Podman, worker_image: str) -> Callable[..., Any]:
    """Run a command in a fresh container of the worker image; the finished process."""

    def run(
        *command: str,
        env: dict[str, str] | None = None,
        image: str = worker_image,
        timeout: float = 120,
    ) -> Any:
        env_args = [f"--env={k}={v}" for k, v in (env or {}).items()]
        return podman(
            "run",
            "--rm",
            "--network=host",
            "--no-healthcheck",
            *env_args,
            image,
            *command,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def start_container(
    podman: Podman, worker_image: str, tmp_path: Path
) -> Iterator[Callable[..., Container]]:
    """Start worker containers as compose would (its command, environment and shm size);
    their logs are kept in the test's folder and the containers removed at the end."""
    started: list[Container] = []

    def start(namespace: Any, *options: str, **extra_env: str) -> Container:
        """``options`` are more ``podman run`` options (a volume); ``extra_env`` more
        settings (short time limits)."""
        container = Container(
            podman,
            worker_image,
            compose_env(namespace, **extra_env),
            WORKER_SERVICE["command"],
            f"--shm-size={WORKER_SERVICE['shm_size']}",
            *options,
        )
        started.append(container)
        container.wait_ready()
        return container

    yield start
    for index, container in enumerate(started):
        (tmp_path / f"container-{index}.log").write_text(container.log)
        container.remove()
