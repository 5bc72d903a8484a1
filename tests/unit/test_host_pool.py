"""The pool of Deno processes, with real Deno: started once per version, the least recently
used stopped first past the cap, a dead one replaced on the next request."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from services import remove_tree

import worker.host.pool as pool_module
from worker.host.applogs import AppLogs
from worker.host.catalog import Deployment, VersionFiles
from worker.host.platform import Grants
from worker.host.pool import Pool
from worker.host.sandbox import DenoProcess
from worker.host.upstream import Answer, UpstreamError
from worker.settings import Settings
from worker.storage import LocalStore

T = TypeVar("T")
VERSION = Path(__file__).with_name("host_version")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def make_pool(max_processes: int) -> tuple[Pool, Path]:
    # Reachable by the unprivileged user Deno runs as under root.
    root = Path(tempfile.mkdtemp(prefix="stage-pool-"))
    root.chmod(0o755)
    shutil.copytree(VERSION, root / "store" / "v")
    settings = Settings.from_env({}, api_max_processes=max_processes, host_data_dir=root / "data")
    files = VersionFiles(LocalStore(root / "store"))
    pool = Pool(
        settings,
        files,
        Grants(max_fetches=1),
        AppLogs(None, None, 10),
        "http://127.0.0.1:9",
        root / "data" / "code",
    )
    return pool, root


def deployment(app: str) -> Deployment:
    return Deployment(app, "v", "v/")


def hello(process: DenoProcess) -> Coroutine[Any, Any, Answer]:
    """GET /api/hello of the test version (its one route) from ``process``."""
    return process.upstream.request(
        "GET", "/api/hello", [("x-stage-key", process.key), ("x-stage-route", "0")], b"", 1000
    )


def test_processes_start_once_and_the_least_recently_used_is_stopped_past_the_cap():
    async def scenario() -> dict[str, Any]:
        pool, root = make_pool(max_processes=2)
        pool.start()
        try:
            a, cold_a = await pool.acquire(deployment("a"))
            again, cold_again = await pool.acquire(deployment("a"))
            b, _ = await pool.acquire(deployment("b"))
            await pool.acquire(deployment("a"))  # a is now the most recently used
            c, _ = await pool.acquire(deployment("c"))
            answer = await hello(c)
            return {
                "same": a is again,
                "colds": (cold_a, cold_again),
                "warm": sorted(k.split("/")[0] for k in pool.processes),
                "b": (b.alive, b.stop_reason),
                "answer": (answer[0], answer[2]),
            }
        finally:
            await pool.close()
            remove_tree(root)

    seen = run(scenario())
    assert seen["same"] and seen["colds"] == (True, False)
    assert seen["warm"] == ["a", "c"]
    assert seen["b"] == (False, "evicted")
    assert seen["answer"] == (200, b'{"hello":true}')


def test_a_dead_process_is_replaced_on_the_next_request():
    async def scenario() -> tuple[bool, bool, int]:
        pool, root = make_pool(max_processes=4)
        pool.start()
        try:
            first, _ = await pool.acquire(deployment("a"))
            await first.kill("test")
            second, cold = await pool.acquire(deployment("a"))
            answer = await hello(second)
            return second is not first, cold, answer[0]
        finally:
            await pool.close()
            remove_tree(root)

    assert run(scenario()) == (True, True, 200)


def test_code_folders_are_only_those_of_running_processes_and_of_running_hosts():
    async def scenario() -> dict[str, Any]:
        pool, root = make_pool(max_processes=1)
        code = root / "data" / "code"
        # A host killed earlier left its folder; a host still running keeps its own.
        dead = subprocess.Popen(["true"])
        dead.wait()
        (code / str(dead.pid) / "a" / "v").mkdir(parents=True)
        (code / str(dead.pid) / "a" / "v").chmod(0o555)  # as prepare_code leaves them
        living = code / str(os.getppid())
        (living / "b" / "v").mkdir(parents=True)
        pool.start()
        try:
            a, _ = await pool.acquire(deployment("a"))
            with_a = sorted(p.name for p in pool.code_root.iterdir())
            await pool.acquire(deployment("b"))  # evicts a: its code goes with it
            with_b = sorted(p.name for p in pool.code_root.iterdir())
            answer = await hello(pool.processes["b/v"])
            hosts = sorted(p.name for p in code.iterdir())
            await pool.close()
            return {
                "a": with_a,
                "b": with_b,
                "answer": answer[0],
                "hosts": hosts,
                "after": sorted(p.name for p in code.iterdir()),
                "a_stopped": a.stop_reason,
            }
        finally:
            await pool.close()
            remove_tree(root)

    seen = run(scenario())
    assert seen["a"] == ["a"] and seen["b"] == ["b"] and seen["a_stopped"] == "evicted"
    assert seen["answer"] == 200  # the running process needs no file of its folder
    assert seen["hosts"] == sorted([str(os.getpid()), str(os.getppid())])
    assert seen["after"] == [str(os.getppid())]


def test_a_request_while_an_idle_process_is_being_removed_starts_on_fresh_code(monkeypatch):
    # The idle stop kills the process, then removes its code folder in a thread. A request
    # for the same version in between must not reuse (or write into) the folder going away.
    removing = threading.Event()
    remove = pool_module._remove_code

    def slow_remove(folder: Path) -> None:  # widens the window a loaded host leaves open
        removing.set()
        time.sleep(0.5)
        remove(folder)

    monkeypatch.setattr(pool_module, "_remove_code", slow_remove)

    async def scenario() -> dict[str, Any]:
        pool, root = make_pool(max_processes=2)
        pool.start()
        try:
            first, _ = await pool.acquire(deployment("a"))
            stopping = asyncio.create_task(pool.stop(first, "idle"))
            assert await asyncio.to_thread(removing.wait, 30)
            second, cold = await pool.acquire(deployment("a"))
            await stopping
            answer = await hello(second)
            return {
                "cold": cold,
                "alive": second.alive,
                "code": (second.code / "routes.js").is_file(),
                "answer": (answer[0], answer[2]),
            }
        finally:
            await pool.close()
            remove_tree(root)

    seen = run(scenario())
    assert seen["cold"] and seen["alive"]
    assert seen["code"], "the new process's code folder was removed under it"
    assert seen["answer"] == (200, b'{"hello":true}')


def test_a_route_spinning_on_the_cpu_is_ended_by_its_cpu_limit_without_a_deadline():
    # A route that never yields: with no request deadline in the way (the upstream read
    # waits a minute), only RLIMIT_CPU can end it: SIGXCPU at the soft limit.
    async def scenario() -> dict[str, Any]:
        pool, root = make_pool(max_processes=1)
        spin = root / "store" / "spin"
        shutil.copytree(VERSION, spin)
        (spin / "server" / "api" / "hello.js").write_text(
            "export function GET() { for (;;) {} }\n", encoding="utf-8"
        )
        pool.settings = dataclasses.replace(pool.settings, api_cpu_s=1)
        pool.limits = dataclasses.replace(pool.limits, cpu_s=1)
        pool.start()
        try:
            process, _ = await pool.acquire(Deployment("spin", "spin", "spin/"))
            limits = Path(f"/proc/{process.pid}/limits").read_text()
            with pytest.raises(UpstreamError):
                await asyncio.wait_for(
                    hello(process),
                    60,
                )
            return {
                "limits": limits,
                "signal": await asyncio.wait_for(process._proc.wait(), 10),  # type: ignore[union-attr]
            }
        finally:
            await pool.close()
            remove_tree(root)

    seen = run(scenario())
    cpu_line = next(line for line in seen["limits"].splitlines() if line.startswith("Max cpu time"))
    assert cpu_line.split()[3:5] == ["1", "6"], cpu_line
    assert seen["signal"] == -signal.SIGXCPU
