"""The warm Deno processes of a host: started on first request, stopped when idle, bounded.

At most ``STAGE_API_MAX_PROCESSES``: starting one more stops the least recently used
(one with no request in flight when there is one). A watch loop stops processes idle for
``STAGE_API_IDLE_S``, kills those above ``STAGE_API_RSS_MB`` and forgets those that died;
the next request for their version starts a new one (a cold start).

A version's route code is written to ``<code_root>/<host pid>/…`` for its process and
removed when the process stops, so the folder holds no more versions than the pool holds
processes; a request for that version during the removal starts its process once the
removal is done, on code written again. A host's folder outlives it
only when it was killed; the next host to start on the same data folder removes the
folders of hosts no longer running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections import OrderedDict
from pathlib import Path

from worker.host.applogs import AppLogs
from worker.host.catalog import Deployment, VersionFiles
from worker.host.metrics import COLD_STARTS, KILLS, PROCESSES
from worker.host.platform import Grants
from worker.host.sandbox import DenoProcess, Limits, prepare_code
from worker.settings import Settings

__all__ = ["Pool"]

log = logging.getLogger(__name__)
WATCH_INTERVAL_S = 0.1  # how soon a process over its memory cap is killed (a /proc read each)


class Pool:
    def __init__(
        self,
        settings: Settings,
        files: VersionFiles,
        grants: Grants,
        logs: AppLogs,
        platform_url: str,
        code_root: Path,
    ) -> None:
        self.settings = settings
        self.files = files
        self.grants = grants
        self.logs = logs
        self.platform_url = platform_url
        self.code_root = code_root / str(os.getpid())
        self.limits = Limits.from_settings(settings)
        self.processes: OrderedDict[str, DenoProcess] = OrderedDict()
        self._starting: dict[str, asyncio.Future[DenoProcess]] = {}
        # Code folders being removed, by version: a start of the same version waits for its
        # removal, so it never writes (or reuses) a folder that is going away under it.
        self._removing: dict[str, asyncio.Future[None]] = {}
        self._watch: asyncio.Task[None] | None = None

    def start(self) -> None:
        _remove_dead_hosts_code(self.code_root.parent)
        self.code_root.mkdir(parents=True, exist_ok=True)
        for folder in (self.code_root.parent, self.code_root):
            folder.chmod(0o755)
        self._watch = asyncio.get_running_loop().create_task(self._watch_forever())

    async def close(self) -> None:
        """Stop every process (twice is harmless: the server stops the pool before the
        platform endpoint, and the host's parts stop it again on the way out)."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await asyncio.gather(*(self.stop(p, "shutdown") for p in list(self.processes.values())))
        await asyncio.to_thread(_remove_code, self.code_root)

    async def acquire(self, deployment: Deployment) -> tuple[DenoProcess, bool]:
        """The warm process of ``deployment`` (started if needed) and whether it was cold."""
        process = self.processes.get(deployment.key)
        if process is not None and process.alive:
            self.processes.move_to_end(deployment.key)
            process.last_used = time.monotonic()
            return process, False
        if process is not None:  # died since: forget it, start another
            await self.stop(process, "exited")
        pending = self._starting.get(deployment.key)
        if pending is not None:
            return await asyncio.shield(pending), False
        future: asyncio.Future[DenoProcess] = asyncio.get_running_loop().create_future()
        self._starting[deployment.key] = future
        try:
            process = await self._start(deployment)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody logs it unhandled
            raise
        else:
            future.set_result(process)
        finally:
            del self._starting[deployment.key]
        return process, True

    async def _start(self, deployment: Deployment) -> DenoProcess:
        removing = self._removing.get(deployment.key)
        if removing is not None:
            await asyncio.shield(removing)
        manifest = await self.files.manifest(deployment)
        code = await prepare_code(self.files, deployment, self.code_root, manifest)
        while len(self.processes) >= self.settings.api_max_processes:
            await self.stop(self._eviction_victim(), "evicted")
        token = self.grants.issue(deployment.app, deployment.version)

        def sink(level: str, text: str, route: str | None) -> None:
            self.logs.add(deployment.app, deployment.version, level, text, route)

        process = DenoProcess(
            deployment,
            code,
            platform_url=self.platform_url,
            token=token,
            limits=self.limits,
            log=sink,
        )
        try:
            await process.start()
        except BaseException:
            self.grants.revoke(token)
            await process.kill("start-failed")
            raise
        COLD_STARTS.inc()
        self.processes[deployment.key] = process
        PROCESSES.set(len(self.processes))
        return process

    def _eviction_victim(self) -> DenoProcess:
        idle = [p for p in self.processes.values() if p.inflight == 0]
        return idle[0] if idle else next(iter(self.processes.values()))

    async def stop(self, process: DenoProcess, reason: str) -> None:
        key = process.deployment.key
        if self.processes.get(key) is process:
            del self.processes[key]
        self.grants.revoke(process.token)
        already = process.stop_reason is not None
        await process.kill(reason)
        if not already:
            KILLS.labels(reason).inc()
            log.info("stopped the routes of %s (%s)", key, reason)
        PROCESSES.set(len(self.processes))
        if key not in self.processes and key not in self._starting and key not in self._removing:
            removal = asyncio.ensure_future(asyncio.to_thread(_remove_code, process.code))
            self._removing[key] = removal  # until the thread is done, even if stop is cancelled
            removal.add_done_callback(lambda _: self._removing.pop(key, None))
            await asyncio.shield(removal)
            with contextlib.suppress(OSError):  # the app's folder, once it holds no version
                process.code.parent.rmdir()

    async def _watch_forever(self) -> None:
        rss_cap = self.settings.api_rss_mb * 1024 * 1024
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            now = time.monotonic()
            for process in list(self.processes.values()):
                if not process.alive:
                    await self.stop(process, "exited")
                elif process.rss_bytes() > rss_cap:
                    await self.stop(process, "memory")
                elif process.inflight == 0 and now - process.last_used > self.settings.api_idle_s:
                    await self.stop(process, "idle")


def _remove_code(folder: Path) -> None:
    """Remove a code folder the sandbox saw read-only (its modes are restored first)."""
    if not folder.exists():
        return
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _remove_dead_hosts_code(parent: Path) -> None:
    """The code folders of hosts that are no longer running (killed, so never cleaned)."""
    if not parent.is_dir():
        return
    for folder in parent.iterdir():
        if not folder.name.isdigit() or int(folder.name) == os.getpid():
            continue
        try:
            os.kill(int(folder.name), 0)
        except ProcessLookupError:
            _remove_code(folder)
        except PermissionError:  # alive, another user's
            continue
