"""One Deno process per app version: its code folder, its command line, its limits.

What a route's process may do (Deno permissions; everything not granted is refused):
- no file reads or writes: the code is loaded by static imports from a folder the host
  writes once (read-only files) — static imports need no read permission;
- no environment (``Deno.env`` is refused; the process gets none of the host's environment,
  only :data:`SANDBOX_ENV`), no subprocesses, no FFI, no system information;
- network only to its own port (the host's requests) and the platform endpoint (outbound
  fetch goes through it, checked on the resolved address);
- no remote or npm imports, no prompt, no config file, no lock file;
- V8 heap capped (``--max-old-space-size``), CPU seconds capped (``RLIMIT_CPU``), no core
  files, no file growth (``RLIMIT_FSIZE`` 0); the host kills a process whose resident
  memory passes ``STAGE_API_RSS_MB`` (buffers outside the heap) or whose request passes
  the deadline.
When the host runs as root the process runs as ``STAGE_API_USER`` (``nobody``). Deno's own
docs ask for a second layer in production: run the host in its own container, with no
secrets in its environment; on hosts with cgroup v2 delegated, put the host's container
under a memory and CPU limit as well (see README).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import pwd
import re
import resource
import secrets
import shutil
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worker.host.catalog import Deployment, VersionFiles
from worker.host.upstream import Upstream
from worker.logs import ms_since
from worker.settings import Settings

__all__ = ["DenoProcess", "SandboxError", "prepare_code", "deno_binary", "RUNTIME_DIR"]

RUNTIME_DIR = Path(__file__).parent / "runtime"
#: Platform modules the sandbox can import, each a file in RUNTIME_DIR.
STAGE_SHIMS = {
    "@stage/utils": "stage-utils.js",
    "@stage/inference": "stage-inference.js",
    "@stage/compute": "stage-compute.js",
}
_STDERR_TAIL = 40  # lines kept to explain a crash
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: Nothing of the host's environment. NO_COLOR: plain-text messages. DENO_DIR: a folder no
#: one can create (not even root), so Deno keeps its caches in memory instead of writing
#: them to the user's home, which RLIMIT_FSIZE 0 would punish with SIGXFSZ.
SANDBOX_ENV = {"NO_COLOR": "1", "DENO_DIR": "/dev/null/deno"}


class SandboxError(Exception):
    """A process could not start or died; the message is for the route's author."""


def deno_binary() -> str:
    """The pinned Deno from the ``deno`` wheel (in this Python's scripts folder)."""
    try:
        import deno  # the wheel's own helper finds its binary

        return str(deno.find_deno_bin())
    except (ImportError, AttributeError, FileNotFoundError):
        found = shutil.which("deno")
        if found is None:
            raise SandboxError(
                "no deno binary: install the host extra (pip install 'stage-render[host]')"
            ) from None
        return found


async def prepare_code(
    files: VersionFiles, deployment: Deployment, root: Path, manifest: dict[str, Any]
) -> Path:
    """The version's route code under ``root``, written once, read-only.

    Bundles go to ``out/<path>`` so their source maps (``../../../api/x.ts``) name the
    session file under the folder; ``routes.js`` imports every route statically (the
    harness imports it as ``stage:routes``); ``import_map.json`` maps the ``@stage/*``
    modules to the host's shims.
    """
    folder = root / deployment.app.replace("/", "_") / deployment.version
    if (folder / "import_map.json").exists():
        return folder
    staging = folder.with_name(folder.name + f".{secrets.token_hex(4)}.tmp")
    routes = manifest.get("routes") or []
    compute = manifest.get("compute") or []
    lines = []
    bundles = [(f"r{i}", r["route"], r["path"]) for i, r in enumerate(routes)]
    bundles += [(f"c{i}", c["name"], c["path"]) for i, c in enumerate(compute)]
    for name, what, path in bundles:
        path = str(path)
        if not path.startswith("server/") or ".." in path.split("/"):
            raise SandboxError(f"manifest entry {what!r}: bad bundle path {path!r}")
        body = await files.read(deployment.folder + path, cache=False)
        target = staging / "out" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        lines.append(f"import * as {name} from {json.dumps('./out/' + path)};")
    table = ", ".join(
        f"{{ route: {json.dumps(r['route'])}, source: {json.dumps(r['source'])}, module: r{i} }}"
        for i, r in enumerate(routes)
    )
    modules = ", ".join(f"{json.dumps(c['name'])}: c{i}" for i, c in enumerate(compute))
    # Import lines and tables, generated from the manifest: no logic lives here.
    (staging / "routes.js").write_text(
        "\n".join(
            [
                *lines,
                f"export const routes = [{table}];",
                f"export const compute = {{{modules}}};",
                "",
            ]
        ),
        encoding="utf-8",
    )
    imports = {"stage:routes": "./routes.js"}  # relative to the map's own folder
    imports.update({name: (RUNTIME_DIR / shim).as_uri() for name, shim in STAGE_SHIMS.items()})
    (staging / "import_map.json").write_text(json.dumps({"imports": imports}), encoding="utf-8")
    for written in staging.rglob("*"):
        written.chmod(0o555 if written.is_dir() else 0o444)
    staging.chmod(0o555)
    try:
        staging.rename(folder)
    except OSError:  # another request wrote it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Limits:
    heap_mb: int
    cpu_s: int
    start_timeout_s: float
    user: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        user = settings.api_user if os.geteuid() == 0 and settings.api_user else None
        return cls(settings.api_heap_mb, settings.api_cpu_s, settings.api_start_timeout_s, user)


LogSink = Callable[[str, str, str | None], None]  # level, text, route


class DenoProcess:
    """One app version's Deno process, answering on ``127.0.0.1:port``."""

    def __init__(
        self,
        deployment: Deployment,
        code: Path,
        *,
        platform_url: str,
        token: str,
        limits: Limits,
        log: LogSink,
    ) -> None:
        self.deployment = deployment
        self.code = code
        self.platform_url = platform_url
        self.token = token
        self.limits = limits
        self.key = secrets.token_urlsafe(24)  # the host's requests carry it
        self.port = _free_port()
        self.upstream = Upstream(self.port)
        self.log = log
        self.last_used = time.monotonic()
        self.inflight = 0
        self.stop_reason: str | None = None
        self.start_ms = 0.0  # spawn to listening
        self.stderr: deque[str] = deque(maxlen=_STDERR_TAIL)
        self._proc: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._user: tuple[int, int] | None = None  # (uid, gid) to run as, when root
        self._ready = asyncio.get_running_loop().create_future()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def command(self) -> list[str]:
        platform = self.platform_url.removeprefix("http://")
        return [
            deno_binary(),
            "run",
            "--quiet",
            "--no-prompt",
            "--no-config",
            "--no-remote",
            "--no-npm",
            "--no-lock",
            "--cached-only",
            f"--allow-net=127.0.0.1:{self.port},{platform}",
            f"--v8-flags=--max-old-space-size={self.limits.heap_mb}",
            f"--import-map={self.code / 'import_map.json'}",
            str(RUNTIME_DIR / "main.js"),
        ]

    def _limit_resources(self) -> None:  # runs in the child before exec
        cpu = self.limits.cpu_s
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        if self._user is not None:  # last: the limits above cannot be raised again
            uid, gid = self._user
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        # After setuid, which clears it: the process dies with the host, whatever kills it.
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    async def start(self) -> None:
        """Start the process and wait until it listens; SandboxError if it does not."""
        started = time.perf_counter()
        if self.limits.user:
            record = pwd.getpwnam(self.limits.user)
            self._user = (record.pw_uid, record.pw_gid)
        self._proc = await asyncio.create_subprocess_exec(
            *self.command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=SANDBOX_ENV,
            cwd="/",
            start_new_session=True,
            preexec_fn=self._limit_resources,
        )
        config = {
            "port": self.port,
            "platformUrl": self.platform_url,
            "token": self.token,
            "sid": self.deployment.app,
            "key": self.key,
            "codeUrl": self.code.as_uri() + "/",
        }
        assert self._proc.stdin is not None and self._proc.stdout and self._proc.stderr
        self._proc.stdin.write(json.dumps(config).encode() + b"\n")
        await self._proc.stdin.drain()
        self._proc.stdin.close()
        loop = asyncio.get_running_loop()
        self._readers = [
            loop.create_task(self._read_stdout(self._proc.stdout)),
            loop.create_task(self._read_stderr(self._proc.stderr)),
        ]
        waiter = loop.create_task(self._proc.wait())
        done, _ = await asyncio.wait(
            [self._ready, waiter],
            timeout=self.limits.start_timeout_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if self._ready in done:
            waiter.cancel()
            self.start_ms = ms_since(started)
            return
        waiter.cancel()
        if not done:
            await self.kill("start-timeout")
            raise SandboxError(
                f"the routes did not start within "
                f"{self.limits.start_timeout_s:g} s (a module's top level that "
                "never finishes?)"
            )
        await self._drain()
        raise SandboxError(self.explain())

    def explain(self) -> str:
        """Why the process ended, from its last stderr lines, in the author's terms."""
        tail = "\n".join(self.stderr)
        if "out of memory" in tail or "heap limit" in tail:
            return (
                f"the route ran out of memory (heap limit {self.limits.heap_mb} MB, "
                "STAGE_API_HEAP_MB)"
            )
        if self.stop_reason == "memory":
            return "the route used more memory than STAGE_API_RSS_MB allows"
        if self._proc is not None and self._proc.returncode == -signal.SIGXCPU:
            return f"the process used its {self.limits.cpu_s} s of CPU (STAGE_API_CPU_S)"
        if self._proc is not None and self._proc.returncode == -signal.SIGXFSZ:
            return "the process tried to write a file (API routes cannot write files)"
        lines = [line.strip() for line in self.stderr if line.strip()]
        errors = [line for line in lines if line.startswith("error:")] or lines[-1:]
        if not errors:
            return f"the process exited ({self.returncode})"
        return self._session_terms(errors[0].removeprefix("error:").strip())

    def _session_terms(self, text: str) -> str:
        """Deno's message with the host's paths taken out: bundles by their store path."""
        text = text.replace(self.code.as_uri() + "/out/", "").replace(self.code.as_uri(), "")
        text = re.sub(r"file://\S+", "(host file)", text)
        missing = re.search(r'"(@stage/[\w-]+)"', text)
        if missing and missing.group(1) not in STAGE_SHIMS:
            return (
                f'the routes import "{missing.group(1)}", which this host does not provide; '
                f"it provides {', '.join(STAGE_SHIMS)} ({text})"
            )
        return text

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    async def _read_stdout(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line past the reader's limit: skip to its end
                await stream.read(65536)
                continue
            if not raw:
                return
            text = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                record = json.loads(text)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                self.log("info", text[:8192], None)
            elif record.get("t") == "ready" and record.get("nonce") == self.key:
                if not self._ready.done():
                    self._ready.set_result(None)
            elif record.get("t") == "log":
                self.log(
                    str(record.get("level", "info")),
                    str(record.get("text", ""))[:8192],
                    record.get("route"),
                )
            else:
                self.log("info", text[:8192], None)

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:
                await stream.read(65536)
                continue
            if not raw:
                return
            text = raw.decode("utf-8", "replace").rstrip("\n")[:2000]
            self.stderr.append(text)
            self.log("error", text, None)

    async def _drain(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self._readers, return_exceptions=True), 2)

    def rss_bytes(self) -> int:
        """Resident memory of the process (0 when gone)."""
        try:
            with open(f"/proc/{self.pid}/statm") as f:
                return int(f.read().split()[1]) * resource.getpagesize()
        except (OSError, ValueError, IndexError):
            return 0

    async def kill(self, reason: str) -> None:
        """Stop the process (SIGKILL to its group) and wait for it."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.upstream.close()
        if self._proc is None:
            return
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            await self._proc.wait()
        await self._drain()
        for task in self._readers:
            task.cancel()
