"""What the end-to-end bench runs against: Redis, S3 over HTTP, `stage-render worker` processes.

Each is a separate process, as in production, so none of them shares the bench's GIL
while it measures. Everything started here is stopped by the same object that started it.
Redis, the public bucket and the worker process are the tests' own (``tests/services.py``);
this module adds what the bench measures of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from tests.services import ROOT, RedisServer, WorkerProcess, create_public_bucket, free_port
from tests.services import wait_for as _wait_for

__all__ = [
    "AWS_ENV",
    "BenchError",
    "BenchRedis",
    "BenchWorker",
    "ROOT",
    "S3Server",
    "Services",
    "cpu_s",
    "environment",
    "host_bench_main",
    "latency_summary",
    "peak_rss_kb",
    "requests_per_s",
    "running_services",
    "timed_request",
]

# moto accepts any credentials; set so boto3 (here and in the workers) never looks for real ones.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_MOTO = (
    "import sys\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]),\n"
    "                            verbose=False)\n"
    "server.start()\n"
    "sys.stdin.read()  # until the bench closes our stdin\n"
    "server.stop()\n"
)


class BenchError(Exception):
    """The bench could not measure: a service did not start, or a render did not succeed."""


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    try:
        _wait_for(check, timeout_s, what)
    except TimeoutError as exc:
        raise BenchError(str(exc)) from exc


class BenchRedis(RedisServer):
    """The Redis at 127.0.0.1:6379 if it answers (or one started here), and what the bench
    asks of it."""

    def start(self) -> str:
        try:
            return super().start()
        except (FileNotFoundError, TimeoutError) as exc:
            raise BenchError(f"no Redis answers at {self.url}: {exc}") from exc

    @property
    def started_here(self) -> bool:
        return self.proc is not None

    @property
    def pid(self) -> int | None:
        """The redis-server started here; None for a shared one (its CPU is not all ours)."""
        return self.proc.pid if self.proc is not None else None

    def version(self) -> str:
        client = redis.Redis.from_url(self.url)
        try:
            return str(client.info("server")["redis_version"])
        finally:
            client.close()

    def delete_namespace(self, key_prefix: str, queue: str) -> None:
        """Remove what one run wrote into a shared Redis: its keys and its queue."""
        client = redis.Redis.from_url(self.url)
        try:
            keys: list[bytes | str] = list(client.scan_iter(match=key_prefix + "*", count=1000))
            keys += [
                queue,
                f"_kombu.binding.{queue}",
                f"_kombu.binding_permanent.{queue}",
                f"{queue}\x06\x163",
                f"{queue}\x06\x166",
                f"{queue}\x06\x169",
            ]
            client.delete(*keys)
        finally:
            client.close()


class S3Server:
    """moto's ThreadedMotoServer in a child process: S3 over HTTP on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _MOTO, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **AWS_ENV},
        )
        wait_for(self._answers, 30, "moto's S3 server to start")
        return self.endpoint

    def _answers(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise BenchError(f"moto's S3 server exited with {self._proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self._proc is not None, "the S3 server is not running"
        return self._proc.pid

    def create_public_bucket(self) -> str:
        """A fresh bucket anyone may read, as the bucket behind a preview host is."""
        return create_public_bucket(self.endpoint, "stage-bench")

    def stop(self) -> None:
        if self._proc is None:
            return
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        self._proc = None


@dataclass
class Services:
    """Redis and S3 of one run, and the STAGE_* env every process of the run gets."""

    env: dict[str, str]
    redis: BenchRedis
    s3: S3Server


@contextlib.contextmanager
def running_services(
    vendor_cache: Path, say: Callable[[str], None], **extra: str
) -> Iterator[Services]:
    """Redis (the one on 127.0.0.1:6379 if it answers), moto's S3 server in a process of its
    own, and a key prefix, render queue and check queue of this run's own.

    On the way out (stop the run's workers first) the namespace is deleted from a shared
    Redis and every service started here is stopped.
    """
    redis_server, s3 = BenchRedis(), S3Server()
    tag = uuid.uuid4().hex[:10]
    env: dict[str, str] = {}
    try:
        say("starting Redis (or using 127.0.0.1:6379) and moto's S3 server")
        redis_url = redis_server.start()
        endpoint = s3.start()
        bucket = s3.create_public_bucket()
        env.update(
            {
                "STAGE_REDIS_URL": redis_url,
                "STAGE_KEY_PREFIX": f"stage-bench-{tag}:",
                "STAGE_QUEUE": f"stage.render.bench-{tag}",
                "STAGE_CHECK_QUEUE": f"stage.check.bench-{tag}",
                "STAGE_S3_BUCKET": bucket,
                "STAGE_S3_ENDPOINT_URL": endpoint,
                "STAGE_PUBLIC_BASE_URL": f"{endpoint}/{bucket}",
                "STAGE_VENDOR_CACHE_DIR": str(vendor_cache),
                **extra,
            }
        )
        yield Services(env, redis_server, s3)
    finally:
        if env and not redis_server.started_here:
            for queue in (env["STAGE_QUEUE"], env["STAGE_CHECK_QUEUE"]):
                redis_server.delete_namespace(env["STAGE_KEY_PREFIX"], queue)
        s3.stop()
        redis_server.stop()


class BenchWorker(WorkerProcess):
    """One ``stage-render worker --concurrency=1``, and what its processes cost."""

    def __init__(self, env: dict[str, str], log_path: Path, command: str = "worker") -> None:
        super().__init__(
            {**AWS_ENV, **env}, log_path, concurrency=1, name=f"bench-{command}", command=command
        )

    def wait_ready(self, timeout: float = 90) -> None:
        try:
            super().wait_ready(timeout)
        except (TimeoutError, RuntimeError) as exc:  # RuntimeError: the worker exited
            raise BenchError(str(exc)) from exc

    def family(self) -> tuple[list[int], dict[str, list[int]]]:
        """(pool children, helper processes by kind) of this worker, by pid.

        The helpers are the long-lived processes a pool child keeps: the esbuild service
        and the Tailwind service (a ``node`` process).
        """
        tree = _process_tree()
        pool = [
            pid
            for pid, (ppid, comm) in tree.items()
            if ppid == self.proc.pid and comm not in _HELPERS.values()
        ]
        helpers = {
            kind: [
                pid
                for pid, (ppid, comm) in tree.items()
                if comm == name and ppid in (self.proc.pid, *pool)
            ]
            for kind, name in _HELPERS.items()
        }
        return pool, helpers

    def peak_rss_kb(self) -> dict[str, list[int]]:
        """VmHWM of the main process, its pool children and the helpers they run."""
        pool, helpers = self.family()
        return {
            "main": [peak_rss_kb(self.proc.pid)],
            "pool": [peak_rss_kb(pid) for pid in pool],
            **{kind: [peak_rss_kb(pid) for pid in pids] for kind, pids in helpers.items()},
        }

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds so far of the main process, its pool children and their helpers."""
        pool, helpers = self.family()
        return {
            "worker main": cpu_s(self.proc.pid),
            "pool child": sum(cpu_s(pid) for pid in pool),
            **{kind: sum(cpu_s(pid) for pid in pids) for kind, pids in helpers.items()},
        }


#: Helper processes of a pool child, by the name the bench reports and their command name.
_HELPERS = {"esbuild": "esbuild", "tailwind": "node"}


def environment() -> dict[str, Any]:
    """What a result was measured on: CPUs, the load average at start, Python."""
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
    }


def host_bench_main(
    name: str,
    description: str | None,
    run: Callable[..., dict[str, Any]],
    table: Callable[[dict[str, Any]], str],
    results: Path,
    *,
    concurrency: int,
    argv: list[str] | None,
) -> int:
    """The command line of a bench against the API host: ``--quick`` and
    ``--concurrency``; writes ``results`` and prints the table; 1 if it could not measure."""
    parser = argparse.ArgumentParser(prog=f"python -m {name}", description=description)
    parser.add_argument("--quick", action="store_true", help="few requests: tries the harness")
    parser.add_argument("--concurrency", type=int, default=concurrency)
    args = parser.parse_args(argv)
    os.environ.update(AWS_ENV)  # the client's boto3 talks to moto, never to a real account
    try:
        measured = run(quick=args.quick, concurrency=args.concurrency)
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    results.write_text(json.dumps(measured, indent=2) + "\n", "utf-8")
    print(table(measured))
    return 0


def timed_request(request: Callable[[], httpx.Response]) -> float:
    """Milliseconds one HTTP request took; a BenchError if it did not answer 200."""
    started = time.perf_counter()
    answer = request()
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise BenchError(f"{answer.request.url}: {answer.status_code} {answer.text[:200]}")
    return elapsed


async def requests_per_s(url: str, concurrency: int, seconds: float) -> float:
    """GETs of ``url`` answered per second by ``concurrency`` lanes for ``seconds``."""
    done = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, trust_env=False, limits=limits) as client:

        async def lane() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                answer = await client.get(url)
                if answer.status_code != 200:
                    raise BenchError(f"{url}: {answer.status_code} {answer.text[:200]}")
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return round(done / (time.perf_counter() - started), 1)


def latency_summary(values: list[float]) -> dict[str, float]:
    """n, p50, p90 and min of milliseconds, rounded to hundredths."""
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p90": round(ordered[max(0, int(len(ordered) * 0.9) - 1)], 2),
        "min": round(ordered[0], 2),
    }


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident set size (VmHWM) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no VmHWM line")


def cpu_s(pid: int, *, reaped_children: bool = False) -> float:
    """User plus system CPU seconds the live process ``pid`` has used; with
    ``reaped_children``, also those of its children that exited and it waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_tree() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command name) of every process we can see."""
    tree = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it exited while we looked
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        comm, rest = stat[stat.index("(") + 1 :].rsplit(")", 1)
        tree[int(entry.name)] = (int(rest.split()[1]), comm)
    return tree
