"""Services the tests talk to: Redis, S3 over HTTP (moto's server), worker processes, Chromium.

A missing service fails the run under ``CI=true`` and skips locally, saying how to get it.
Each test gets its own namespace: key prefix, queue and bucket.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
import redis
from services import free_port, wait_for

from worker.client import StageClient
from worker.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# moto accepts any credentials; set them so boto3 never looks for real ones.
for _name, _value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                      "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(_name, _value)


def missing(service: str, how: str) -> None:
    """Fail in CI, skip locally: a test that cannot reach its service proves nothing."""
    message = f"{service} is not available: {how}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis that answers: TEST_REDIS_URL, the local one, or one started for this run."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if _redis_answers(url):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        missing("Redis", "install redis-server (Debian: apt-get install redis-server) "
                "or set TEST_REDIS_URL")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="stage-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: _redis_answers(url), 10, "redis-server to start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server: a real HTTP endpoint, reached through boto3's endpoint_url."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    """A fresh bucket whose objects anyone may read, as a bucket behind a preview host is."""
    name = f"stage-test-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{name}/*"}],
    }))
    return name


@dataclass
class Namespace:
    """One test's slice of the shared services, as the worker's STAGE_* environment."""

    redis_url: str
    s3_endpoint: str
    bucket: str
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def env(self) -> dict[str, str]:
        return {
            "STAGE_REDIS_URL": self.redis_url,
            "STAGE_KEY_PREFIX": f"stage-test-{self.tag}:",
            "STAGE_QUEUE": f"stage.render.test-{self.tag}",
            "STAGE_S3_BUCKET": self.bucket,
            "STAGE_S3_ENDPOINT_URL": self.s3_endpoint,
            "STAGE_PUBLIC_BASE_URL": f"{self.s3_endpoint}/{self.bucket}",
        }

    def settings(self, **extra: str) -> Settings:
        return Settings.from_env({**self.env, **extra})

    def client(self, **extra: str) -> StageClient:
        return StageClient(self.settings(**extra))


@pytest.fixture
def namespace(redis_url: str, s3_endpoint: str, bucket: str) -> Iterator[Namespace]:
    """A namespace of its own; its keys, queue and kombu bindings are deleted afterwards."""
    ns = Namespace(redis_url, s3_endpoint, bucket)
    yield ns
    client = redis.Redis.from_url(redis_url)
    env = ns.env
    keys = list(client.scan_iter(match=env["STAGE_KEY_PREFIX"] + "*", count=1000))
    keys += [env["STAGE_QUEUE"], f"_kombu.binding.{env['STAGE_QUEUE']}",
             f"_kombu.binding_permanent.{env['STAGE_QUEUE']}"]
    client.delete(*keys)
    client.close()


class WorkerProcess:
    """A real ``stage-render worker`` process (Celery, prefork pool) with its log file."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 1) -> None:
        self.log_path = log_path
        clean = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker", f"--concurrency={concurrency}",
             "--loglevel=INFO", f"--hostname=test-{uuid.uuid4().hex[:8]}@%h"],
            env={**clean, **env}, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
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
        wait_for(ready, timeout, "the Celery worker to be ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes for a namespace; all are stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(namespace: Namespace, concurrency: int = 1, **extra_env: str) -> WorkerProcess:
        log_path = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess({**namespace.env, **extra_env}, log_path, concurrency)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def stack(namespace: Namespace, start_worker: Callable[..., WorkerProcess]
          ) -> Iterator[tuple[StageClient, WorkerProcess]]:
    """A client and one running worker in a fresh namespace."""
    worker = start_worker(namespace)
    with namespace.client() as client:
        yield client, worker


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright (no browser download)."""
    if not CHROMIUM.exists():
        missing("Chromium", "install it (Debian: apt-get install chromium) or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
