"""Services the tests and `make bench` start and wait for: Redis, a public bucket, workers.

The tests reach this module as ``services`` (pytest puts ``tests/`` on the path), the
bench as ``tests.services`` (``python -m bench.run`` runs from the repository root).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
import redis

__all__ = [
    "ROOT",
    "IN_CI",
    "missing",
    "free_port",
    "wait_for",
    "redis_answers",
    "RedisServer",
    "create_public_bucket",
    "WorkerProcess",
    "HostProcess",
    "remove_tree",
]

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(service: str, how: str) -> None:
    """Fail in CI, skip locally: a test that cannot reach its service proves nothing."""
    message = f"{service} is not available: {how}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class RedisServer:
    """The Redis at ``url`` if it answers, else a redis-server started on a free port."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0") -> None:
        self.url = url
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    def start(self) -> str:
        """The URL of a Redis that answers. Raises FileNotFoundError without redis-server."""
        if redis_answers(self.url):
            return self.url
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError(
                "redis-server is not installed (Debian: apt-get install redis-server)"
            )
        port = free_port()
        self._dir = tempfile.mkdtemp(prefix="stage-redis-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{port}/0"
        wait_for(lambda: redis_answers(self.url), 10, "redis-server to start")
        return self.url

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def create_public_bucket(endpoint: str, prefix: str) -> str:
    """A fresh bucket whose objects anyone may read, as a bucket behind a preview host is."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{name}/*",
                    }
                ],
            }
        ),
    )
    return name


class WorkerProcess:
    """A real ``stage-render worker`` (or ``checker``) process, Celery prefork, with its log."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        concurrency: int = 1,
        name: str = "test",
        command: str = "worker",
    ) -> None:
        self.log_path = log_path
        self._stop_requested = False
        clean = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "worker.cli",
                command,
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                f"--hostname={name}-{uuid.uuid4().hex[:8]}@%h",
            ],
            env={**clean, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def wait_logged(self, line: str, timeout: float = 10) -> str:
        """The log once it holds ``line``: a render's outcome line is written just after its
        record changes, so a test that saw the record must still wait for the line."""
        wait_for(lambda: line in self.log, timeout, f"{line!r} in the worker log")
        return self.log

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log}")
            return " ready." in self.log

        wait_for(ready, timeout, f"the Celery worker to be ready (log: {self.log_path})")

    def stop(self) -> None:
        self.request_stop()
        self.wait_stopped()

    def request_stop(self) -> None:
        """Ask for a warm shutdown (a render in flight finishes), once."""
        if self.proc.poll() is None and not self._stop_requested:
            self._stop_requested = True
            self.proc.terminate()

    def wait_stopped(self) -> None:
        """Wait for the shutdown asked for; a node that has not ended in 20 s is killed."""
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def stop_workers(workers: list[WorkerProcess]) -> None:
    """Stop several nodes at once: a warm shutdown takes a node about two seconds of waiting
    on its pool, so every node is asked first and then each is waited for."""
    for worker in workers:
        worker.request_stop()
    for worker in workers:
        worker.wait_stopped()


def remove_tree(path: Path) -> None:
    """Delete a folder the host wrote (its code folders are read-only, even to their owner)."""
    for folder in [path, *path.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


class HostProcess:
    """A real ``stage-render host`` process (the API host), with its log."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "host", f"--port={self.port}"],
            env={**clean, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"host exited with {self.proc.returncode}:\n{self.log}")
            return "serving apps on" in self.log

        wait_for(ready, timeout, f"the API host to listen (log: {self.log_path})")

    @property
    def platform_port(self) -> int:
        """The platform endpoint's port, as the host logged it at start."""
        line = next(line for line in self.log.splitlines() if "platform endpoint" in line)
        return int(line.rsplit(":", 1)[1].rstrip(")"))

    def deno_pids(self) -> list[int]:
        """The host's Deno processes (its children running deno)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and b"deno" in cmdline:
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        """Stop the host; its Deno processes must end with it (RuntimeError otherwise)."""
        running = self.deno_pids()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        wait_for(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in running),
            10,
            "the host's Deno processes to end with it",
        )
