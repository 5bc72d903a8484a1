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

import kombu
import pytest
from clusters import RabbitVhost, RedisClusterServers, rabbit_answers
from services import (
    RedisServer,
    WorkerProcess,
    create_public_bucket,
    free_port,
    missing,
    stop_workers,
)

from worker.client import StageClient
from worker.messages import is_amqp
from worker.settings import Settings
from worker.state.connection import connect_redis

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# moto accepts any credentials; set them so boto3 never looks for real ones.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis that answers: TEST_REDIS_URL, the local one, or one started for this run."""
    server = RedisServer(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        url = server.start()
    except FileNotFoundError:
        missing(
            "Redis",
            "install redis-server (Debian: apt-get install redis-server) or set TEST_REDIS_URL",
        )
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A Redis Cluster of six nodes (three masters, three replicas) started for this run."""
    try:
        cluster = RedisClusterServers()
    except FileNotFoundError as exc:
        missing("Redis Cluster", str(exc))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """A vhost of its own on the machine's RabbitMQ (127.0.0.1:5672), deleted after the run."""
    if not rabbit_answers():
        missing(
            "RabbitMQ",
            "install rabbitmq-server (Debian: apt-get install rabbitmq-server) "
            "and start it on 127.0.0.1:5672",
        )
    vhost = RabbitVhost()
    try:
        yield vhost.start()
    finally:
        vhost.stop()


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
    broker_url: str = ""  # the Redis URL when empty, as for the worker
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def env(self) -> dict[str, str]:
        return {
            "STAGE_REDIS_URL": self.redis_url,
            **({"STAGE_BROKER_URL": self.broker_url} if self.broker_url else {}),
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
    client = connect_redis(ns.redis_url)
    env = ns.env
    # On a cluster, SCAN runs on every master.
    keys = list(client.scan_iter(match=env["STAGE_KEY_PREFIX"] + "*", count=1000))
    queues = (env["STAGE_QUEUE"], env["STAGE_CHECK_QUEUE"])
    if ns.broker_url and is_amqp(ns.broker_url):
        with kombu.Connection(ns.broker_url) as conn:
            for queue in queues:
                conn.default_channel.queue_delete(queue)
                conn.default_channel.exchange_delete(queue)
    else:
        for queue in queues:
            keys += [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        # Each worker node's own queue (session affinity): "<queue>.<node>".
        for pattern in (f"{queues[0]}.*", f"_kombu.binding.{queues[0]}.*"):
            keys += list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)
    client.close()


#: The two deployments every guarantee is proven on: one Redis as broker and store (the
#: embedded default), and RabbitMQ as the broker with a Redis Cluster as the store.
CONFIGURATIONS = ("single-redis", "cluster+rabbitmq")


@pytest.fixture(params=CONFIGURATIONS)
def each_namespace(
    request: pytest.FixtureRequest, redis_url: str, s3_endpoint: str, bucket: str
) -> Iterator[Namespace]:
    """A namespace of its own on each configuration in turn."""
    if request.param == "single-redis":
        ns = Namespace(redis_url, s3_endpoint, bucket)
    else:
        ns = Namespace(
            request.getfixturevalue("redis_cluster_url"),
            s3_endpoint,
            bucket,
            broker_url=request.getfixturevalue("rabbitmq_url"),
        )
    yield ns
    delete_namespace(ns)


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

    def start(
        namespace: Namespace, concurrency: int = 1, command: str = "worker", **extra_env: str
    ) -> WorkerProcess:
        log_path = tmp_path / f"{command}-{len(started)}.log"
        worker = WorkerProcess(
            {**namespace.env, **extra_env}, log_path, concurrency, command=command
        )
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    stop_workers(started)


@pytest.fixture
def stack(
    namespace: Namespace, start_worker: Callable[..., WorkerProcess]
) -> Iterator[tuple[StageClient, WorkerProcess]]:
    """A client and one running worker in a fresh namespace."""
    worker = start_worker(namespace)
    with namespace.client() as client:
        yield client, worker


@pytest.fixture
def cluster_namespace(
    redis_cluster_url: str, rabbitmq_url: str, s3_endpoint: str, bucket: str
) -> Iterator[Namespace]:
    """A namespace of its own on RabbitMQ and the Redis Cluster."""
    ns = Namespace(redis_cluster_url, s3_endpoint, bucket, broker_url=rabbitmq_url)
    yield ns
    delete_namespace(ns)


@pytest.fixture
def each_stack(
    each_namespace: Namespace, start_worker: Callable[..., WorkerProcess]
) -> Iterator[tuple[StageClient, WorkerProcess]]:
    """A client and one running worker, on each configuration in turn."""
    worker = start_worker(each_namespace)
    with each_namespace.client() as client:
        yield client, worker


@pytest.fixture(scope="module")
def module_stack(
    redis_url: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[StageClient, WorkerProcess]]:
    """A client and one worker (two processes) shared by every test of a module, in a namespace
    of its own: for modules that render many apps once and then only look at them."""
    ns = Namespace(redis_url, s3_endpoint, create_public_bucket(s3_endpoint, "stage-test"))
    worker = WorkerProcess(
        ns.env, tmp_path_factory.mktemp("module-worker") / "worker.log", concurrency=2
    )
    try:
        worker.wait_ready()
        with ns.client() as client:
            yield client, worker
    finally:
        worker.stop()
        delete_namespace(ns)


@pytest.fixture(scope="session")
def contract_stack(
    redis_url: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Namespace]:
    """A namespace with one worker and one checker process, shared by the tests that run
    whole gateway flows (the schemas, the Node.js gateway); each works in its own sessions."""
    ns = Namespace(redis_url, s3_endpoint, create_public_bucket(s3_endpoint, "stage-test"))
    logs = tmp_path_factory.mktemp("contract-stack")
    processes = [
        WorkerProcess(ns.env, logs / "worker.log"),
        WorkerProcess(ns.env, logs / "checker.log", command="checker"),
    ]
    try:
        for process in processes:
            process.wait_ready()
        yield ns
    finally:
        stop_workers(processes)
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
