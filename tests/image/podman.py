"""podman for the image tests: the stand-in bases, the image built once per set of inputs,
and worker containers on the host's network (the tests' Redis and S3 server are there).

The image tests reach this module as ``podman`` (pytest puts ``tests/image`` on the path).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "REPORT", "Podman", "Container", "build_inputs", "missing_tools"]

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASES_SCRIPT = HERE / "stand_in_bases.sh"
# This machine's podman quirks (runc, cgroupfs, no default rlimits), in one file.
CONTAINERS_CONF = HERE / "containers.conf"
TOOLS = ("podman", "runc", "debootstrap")
# What lets pip and npm reach their registries here (a CA bundle, their TLS settings):
# mounted into the build where present, never copied into the image.
BUILD_MOUNTS = ("/etc/ssl/certs", "/etc/pip.conf", "/etc/npmrc")
BUILD_TIMEOUT_S = 1200
#: Lines for the end of the test run: what was built, how long it took, how big it is.
REPORT: list[str] = []


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def build_inputs(dockerfile: Path = ROOT / "Dockerfile") -> list[Path]:
    """Every file the build reads: the Dockerfile, .dockerignore and the files under each
    context path a ``COPY`` names, less what .dockerignore leaves out."""
    ignore = ROOT / ".dockerignore"
    patterns = [
        line.strip().removeprefix("**/")
        for line in ignore.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: Path) -> bool:
        parts = path.relative_to(ROOT).parts
        return any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in patterns)

    files = [dockerfile, ignore]
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for source in words[1:-1]:
            path = ROOT / source
            found = sorted(path.rglob("*")) if path.is_dir() else [path]
            files += [f for f in found if f.is_file() and not ignored(f)]
    return files


def digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


class Podman:
    """The podman command with this project's settings, and the images the tests use."""

    def __init__(self) -> None:
        self.env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}

    def __call__(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"podman {' '.join(args)} exited with {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def works(self) -> str | None:
        """None if podman can run a container here, else what it said."""
        result = self("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
        return None if result.returncode == 0 else result.stderr.strip()

    def exists(self, tag: str) -> bool:
        return self("image", "exists", tag, check=False).returncode == 0

    def stand_in_bases(self) -> dict[str, str]:
        """Build arguments naming the stand-ins of the official bases, made once per
        version of the script that makes them."""
        key = digest([BASES_SCRIPT])
        bases = {
            "PYTHON_IMAGE": f"localhost/stage-base-python:{key}",
            "NODE_IMAGE": f"localhost/stage-base-node:{key}",
        }
        if all(self.exists(tag) for tag in bases.values()):
            REPORT.append(f"stand-in bases: kept ({key})")
            return bases
        started = time.monotonic()
        subprocess.run(
            [str(BASES_SCRIPT), bases["PYTHON_IMAGE"], bases["NODE_IMAGE"]],
            env=self.env,
            check=True,
            timeout=BUILD_TIMEOUT_S,
        )
        REPORT.append(f"stand-in bases: built in {time.monotonic() - started:.0f} s ({key})")
        for tag in bases.values():
            self.remove_other_tags(tag)
        return bases

    def build(self, target: str, build_args: dict[str, str]) -> str:
        """The image of ``target`` for the current inputs, built unless podman has it."""
        key = (
            digest(build_inputs())
            + "-"
            + hashlib.sha256(json.dumps(build_args, sort_keys=True).encode()).hexdigest()[:8]
        )
        tag = f"localhost/stage-render-{target}:{key}"
        if self.exists(tag):
            REPORT.append(f"{tag}: kept, {self.size_bytes(tag) / 1e6:.0f} MB")
            return tag
        mounts = [f"--volume={p}:{p}:ro" for p in BUILD_MOUNTS if Path(p).exists()]
        args = [f"--build-arg={k}={v}" for k, v in build_args.items()]
        started = time.monotonic()
        self(
            "build",
            "--isolation=chroot",
            "--network=host",
            "--format=docker",
            f"--target={target}",
            f"--tag={tag}",
            *mounts,
            *args,
            str(ROOT),
            timeout=BUILD_TIMEOUT_S,
        )
        REPORT.append(
            f"{tag}: built in {time.monotonic() - started:.0f} s, "
            f"{self.size_bytes(tag) / 1e6:.0f} MB"
        )
        self.remove_other_tags(tag)
        return tag

    def remove_other_tags(self, tag: str) -> None:
        """Drop the images an earlier tree built under the same name: they are large."""
        repository = tag.rsplit(":", 1)[0]
        listed = self("images", "--format={{.Repository}}:{{.Tag}}", repository).stdout
        stale = [other for other in listed.split() if other != tag]
        if stale:
            self("rmi", *stale, check=False)

    def config(self, tag: str) -> dict[str, Any]:
        """The image's config (Cmd, User, Env, …) as ``podman inspect`` gives it."""
        [image] = json.loads(self("image", "inspect", tag).stdout)
        return dict(image["Config"])

    def healthcheck(self, tag: str) -> list[str]:
        """The image's HEALTHCHECK test, e.g. ``["CMD", "stage-render", "health"]``."""
        [image] = json.loads(self("image", "inspect", tag).stdout)
        return list(image["Healthcheck"]["Test"])

    def size_bytes(self, tag: str) -> int:
        return int(self("image", "inspect", "--format={{.Size}}", tag).stdout)


class Container:
    """A detached container on the host's network; removed by ``remove()``."""

    def __init__(
        self, podman: Podman, image: str, env: dict[str, str], command: list[str], *options: str
    ) -> None:
        self.podman = podman
        self.name = f"stage-test-{uuid.uuid4().hex[:10]}"
        env_args = [f"--env={k}={v}" for k, v in env.items()]
        # The tests read the HEALTHCHECK and run it themselves; podman's timer needs systemd.
        podman(
            "run",
            "--detach",
            f"--name={self.name}",
            "--network=host",
            "--no-healthcheck",
            *options,
            *env_args,
            image,
            *command,
        )

    @property
    def log(self) -> str:
        result = self.podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def running(self) -> bool:
        state = self.podman("inspect", "--format={{.State.Running}}", self.name, check=False)
        return state.stdout.strip() == "true"

    def wait_logged(self, pattern: str, timeout: float = 60) -> str:
        """The log once ``pattern`` (a regular expression) matches it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log
            if re.search(pattern, log):
                return log
            if not self.running():
                raise RuntimeError(f"container {self.name} exited:\n{log}")
            time.sleep(0.25)
        raise TimeoutError(
            f"{pattern!r} not in the log of {self.name} after {timeout}s:\n{self.log}"
        )

    def wait_ready(self, timeout: float = 90) -> None:
        self.wait_logged(r" ready\.", timeout)

    def stop(self, grace_s: int) -> float:
        """SIGTERM, SIGKILL after ``grace_s``; the seconds it took to exit."""
        started = time.monotonic()
        self.podman("stop", f"--time={grace_s}", self.name, timeout=grace_s + 30)
        return time.monotonic() - started

    def kill(self) -> None:
        self.podman("kill", "--signal=KILL", self.name)

    def exit_code(self) -> int:
        state = self.podman("inspect", "--format={{.State.ExitCode}}", self.name)
        return int(state.stdout)

    def remove(self) -> None:
        self.podman("rm", "--force", "--time=0", self.name, check=False)
