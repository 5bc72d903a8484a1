"""Tools for fault tests: a TCP proxy to cut S3 off, slow and broken esbuild binaries,
the pool children of a worker, and a Redis server of the test's own to restart."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from services import free_port, wait_for

from bundler import Runtime

pytestmark = pytest.mark.integration

REAL_ESBUILD = Runtime().binary


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``down()`` drops every connection and
    refuses new ones until ``up()``. ``delay_s`` holds each client chunk back."""

    def __init__(self, target_port: int, delay_s: float = 0.0) -> None:
        self.target_port = target_port
        self.delay_s = delay_s
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        self._open.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def up(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.down()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # the service is "down": connection reset
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while True:
                try:
                    events = selector.select(1.0)
                except (OSError, ValueError):
                    return
                for key, _ in events:
                    source, sink = key.fileobj, key.data
                    try:
                        data = source.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            raise OSError("closed")
                        if source is client and self.delay_s:
                            threading.Event().wait(self.delay_s)
                        sink.sendall(data)
                    except OSError:
                        for sock in (client, upstream):
                            sock.close()
                        return


@pytest.fixture
def s3_proxy(s3_endpoint: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(int(s3_endpoint.rsplit(":", 1)[1]))
    yield proxy
    proxy.close()


def write_script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def slow_esbuild(tmp_path: Path):
    """An esbuild that starts ``seconds`` late (each process start), then is the real one."""

    def make(seconds: float) -> str:
        return str(
            write_script(
                tmp_path / f"esbuild-slow-{seconds}",
                f'sleep {seconds}\nexec "{REAL_ESBUILD}" "$@"\n',
            )
        )

    return make


@pytest.fixture
def hanging_esbuild(tmp_path: Path) -> str:
    """An esbuild that never answers: it sleeps for ever without printing anything."""
    return str(write_script(tmp_path / "esbuild-hangs", "exec sleep 100000\n"))


@pytest.fixture
def crashing_esbuild(tmp_path: Path) -> str:
    return str(
        write_script(
            tmp_path / "esbuild-crashes",
            'echo "panic: runtime error: index out of range" >&2\nexit 2\n',
        )
    )


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (the prefork pool of a Celery worker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def processes_running(executable_fragment: str) -> list[int]:
    """PIDs whose command line contains ``executable_fragment`` (orphan checks)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if executable_fragment in cmdline:
                found.append(int(entry.name))
    return found


def kill(pid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


class OwnRedis:
    """A redis-server of the test's own, with an append-only file so a restart keeps data."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="stage-redis-own-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, 10, "the test's redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


def _redis_server() -> Iterator[OwnRedis]:
    server = OwnRedis()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


own_redis = pytest.fixture(_redis_server, name="own_redis")
#: A second redis-server, for replication: the test's Redis becomes its replica.
another_redis = pytest.fixture(_redis_server, name="another_redis")
