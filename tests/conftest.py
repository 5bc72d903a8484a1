"""Services the tests talk to: Redis, S3 over HTTP (moto's server), worker processes, Chromium.

A missing service fails the run under ``CI=true`` and skips locally, saying how to get it.
Each test gets its own namespace: key prefix, queue and bucket.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from services import RedisServer, WorkerProcess, create_public_bucket, free_port, missing

from worker.client import StageClient
from worker.settings import Settings

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]

# moto accepts any credentials; set them so boto3 never looks for real ones.
for _name, _value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                      "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis that answers: TEST_REDIS_URL, the local one, or one started for this run."""
    server = RedisServer(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        url = server.start()
    except FileNotFoundError:
        missing("Redis", "install redis-server (Debian: apt-get install redis-server) "
                "or set TEST_REDIS_URL")
    try:
        yield url
    finally:
        server.stop()


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
    return create_public_bucket(s3_endpoint, "stage-test")


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
            "STAGE_CHECK_QUEUE": f"stage.check.test-{self.tag}",
            "STAGE_S3_BUCKET": self.bucket,
            "STAGE_S3_ENDPOINT_URL": self.s3_endpoint,
            "STAGE_PUBLIC_BASE_URL": f"{self.s3_endpoint}/{self.bucket}",
        }

    def settings(self, **extra: str) -> Settings:
        return Settings.from_env({**self.env, **extra})

    def client(self, **extra: str) -> StageClient:
        return StageClient(self.settings(**extra))


@pytest.fixture(scope="module")
def module_namespace(redis_url: str, s3_endpoint: str) -> Iterator[Namespace]:
    """A namespace (and bucket) shared by one module's tests, for processes they share;
    each test still works in sessions of its own."""
    ns = Namespace(redis_url, s3_endpoint, create_public_bucket(s3_endpoint, "stage-test"))
    yield ns
    delete_namespace(ns)


def delete_namespace(ns: Namespace) -> None:
    """Delete a namespace's keys, queues and kombu bindings."""
    client = redis.Redis.from_url(ns.redis_url)
    env = ns.env
    keys = list(client.scan_iter(match=env["STAGE_KEY_PREFIX"] + "*", count=1000))
    for queue in (env["STAGE_QUEUE"], env["STAGE_CHECK_QUEUE"]):
        keys += [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
    client.delete(*keys)
    client.close()


@pytest.fixture
def namespace(redis_url: str, s3_endpoint: str, bucket: str) -> Iterator[Namespace]:
    """A namespace of its own; its keys, queue and kombu bindings are deleted afterwards."""
    ns = Namespace(redis_url, s3_endpoint, bucket)
    yield ns
    delete_namespace(ns)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes for a namespace; all are stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(namespace: Namespace, concurrency: int = 1, command: str = "worker",
              **extra_env: str) -> WorkerProcess:
        log_path = tmp_path / f"{command}-{len(started)}.log"
        worker = WorkerProcess({**namespace.env, **extra_env}, log_path, concurrency,
                               command=command)
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


@pytest.fixture(scope="module")
def module_stack(redis_url: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[StageClient, WorkerProcess]]:
    """A client and one worker (two processes) shared by every test of a module, in a namespace
    of its own: for modules that render many apps once and then only look at them."""
    ns = Namespace(redis_url, s3_endpoint, create_public_bucket(s3_endpoint, "stage-test"))
    worker = WorkerProcess(ns.env, tmp_path_factory.mktemp("module-worker") / "worker.log",
                           concurrency=2)
    try:
        worker.wait_ready()
        with ns.client() as client:
            yield client, worker
    finally:
        worker.stop()
        delete_namespace(ns)


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
