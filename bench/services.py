"""What the end-to-end bench runs against: Redis, S3 over HTTP, `stage-render worker` processes.

Each is a separate process, as in production, so none of them shares the bench's GIL
while it measures. Everything started here is stopped by the same object that started it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import boto3
import redis

__all__ = ["BenchError", "RedisServer", "S3Server", "WorkerProcess", "cpu_s", "free_port",
           "peak_rss_kb"]

ROOT = Path(__file__).resolve().parent.parent
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
# moto accepts any credentials; set so boto3 (here and in the workers) never looks for real ones.
AWS_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1"}
_MOTO = ("import sys\n"
         "from moto.server import ThreadedMotoServer\n"
         "server = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]),\n"
         "                            verbose=False)\n"
         "server.start()\n"
         "sys.stdin.read()  # until the bench closes our stdin\n"
         "server.stop()\n")


class BenchError(Exception):
    """The bench could not measure: a service did not start, or a render did not succeed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise BenchError(f"timed out after {timeout_s:g}s waiting for {what}")


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class RedisServer:
    """The Redis at 127.0.0.1:6379 if it answers, else a redis-server on a free port."""

    def __init__(self) -> None:
        self.url = LOCAL_REDIS_URL
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    def start(self) -> str:
        if _redis_answers(self.url):
            return self.url
        binary = shutil.which("redis-server")
        if binary is None:
            raise BenchError("no Redis answers at 127.0.0.1:6379 and redis-server is not "
                             "installed (Debian: apt-get install redis-server)")
        port = free_port()
        self._dir = tempfile.mkdtemp(prefix="stage-bench-redis-")
        self._proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{port}/0"
        wait_for(lambda: _redis_answers(self.url), 10, "redis-server to start")
        return self.url

    @property
    def started_here(self) -> bool:
        return self._proc is not None

    @property
    def pid(self) -> int | None:
        """The redis-server started here; None for a shared one (its CPU is not all ours)."""
        return self._proc.pid if self._proc is not None else None

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
            keys += [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
                     f"{queue}\x06\x163", f"{queue}\x06\x166", f"{queue}\x06\x169"]
            client.delete(*keys)
        finally:
            client.close()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class S3Server:
    """moto's ThreadedMotoServer in a child process: S3 over HTTP on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self._proc = subprocess.Popen([sys.executable, "-c", _MOTO, str(self.port)],
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env={**os.environ, **AWS_ENV})
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
        name = f"stage-bench-{uuid.uuid4().hex[:10]}"
        s3 = boto3.client("s3", endpoint_url=self.endpoint,
                          aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                          region_name=AWS_ENV["AWS_DEFAULT_REGION"])
        s3.create_bucket(Bucket=name)
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{name}/*"}],
        }))
        return name

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


class WorkerProcess:
    """One ``python -m worker.cli worker --concurrency 1`` with its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        clean = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker", "--concurrency=1",
             f"--hostname=bench-{uuid.uuid4().hex[:8]}@%h"],
            env={**clean, **AWS_ENV, **env}, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=ROOT)

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def wait_ready(self, timeout_s: float = 90) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise BenchError(f"worker exited with {self.proc.returncode}:\n{self.log}")
            return " ready." in self.log
        wait_for(ready, timeout_s, f"the worker to be ready (log: {self.log_path})")

    def family(self) -> tuple[list[int], list[int]]:
        """(pool children, esbuild services) of this worker, by pid."""
        tree = _process_tree()
        pool = [pid for pid, (ppid, comm) in tree.items()
                if ppid == self.proc.pid and comm != "esbuild"]
        esbuild = [pid for pid, (ppid, comm) in tree.items()
                   if comm == "esbuild" and ppid in (self.proc.pid, *pool)]
        return pool, esbuild

    def peak_rss_kb(self) -> dict[str, list[int]]:
        """VmHWM of the main process, its pool children and the esbuild services they run."""
        pool, esbuild = self.family()
        return {"main": [peak_rss_kb(self.proc.pid)],
                "pool": [peak_rss_kb(pid) for pid in pool],
                "esbuild": [peak_rss_kb(pid) for pid in esbuild]}

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds so far of the main process, its pool children and their esbuilds."""
        pool, esbuild = self.family()
        return {"worker main": cpu_s(self.proc.pid),
                "pool child": sum(cpu_s(pid) for pid in pool),
                "esbuild": sum(cpu_s(pid) for pid in esbuild)}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # warm shutdown: nothing is running now
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident set size (VmHWM) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no VmHWM line")


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds the live process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


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
        comm, rest = stat[stat.index("(") + 1:].rsplit(")", 1)
        tree[int(entry.name)] = (int(rest.split()[1]), comm)
    return tree
