"""The Tailwind driver: one long-lived Node process running ``runtime/tailwind-service.mjs``.

The service compiles one stylesheet per request with Tailwind's own compiler and the oxide
scanner, from the session files sent with the request (it reads nothing else but the
pinned packages). Requests and responses are one JSON document per line.

The same shape as the esbuild driver: started on first use, a deadline per request (a
service that misses it is killed and started again on the next request), restarted when it
dies. A mistake in the session's CSS comes back as :class:`BuildFailed` with a located
diagnostic; a service that cannot start, exits or answers garbage raises
:class:`BundlerCrashed`, one that misses the deadline :class:`BundlerTimeout`.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.artifacts import Diagnostic
from bundler.errors import BuildFailed, BundlerCrashed, BundlerTimeout

__all__ = ["TailwindService", "Compiled", "SERVICE_SCRIPT", "DEFAULT_MAX_CANDIDATES"]

#: The service lives beside the packages it imports.
SERVICE_SCRIPT = Path(__file__).resolve().parent / "runtime" / "tailwind-service.mjs"
#: A real app has a few thousand distinct candidates; a million-word file is not styling.
DEFAULT_MAX_CANDIDATES = 100_000
#: A runaway compile dies of its heap limit instead of taking the machine's memory.
_HEAP_LIMIT_MB = 256
_STDERR_KEEP_BYTES = 16_384
_TOOL = "the Tailwind service"


@dataclass(frozen=True)
class Compiled:
    """A compiled stylesheet (None: a probe found no utility) and the candidates scanned."""

    css: str | None
    candidates: int


class TailwindService:
    """A running Tailwind service process. One request at a time."""

    def __init__(self, node: str = "node", script: Path = SERVICE_SCRIPT,
                 max_candidates: int = DEFAULT_MAX_CANDIDATES) -> None:
        self.node = node
        self.script = script
        self.max_candidates = max_candidates
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray()
        self._stderr = bytearray()
        self._next_id = 0
        self._was_running = False  # whether the current request found the process running
        self._lock = threading.Lock()

    @property
    def command(self) -> list[str]:
        return [self.node, f"--max-old-space-size={_HEAP_LIMIT_MB}", str(self.script)]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def compile(self, entry_path: str, css: str, files: Mapping[str, str], timeout_s: float,
                probe: str | None = None) -> Compiled:
        """Compile ``css`` (the stylesheet at ``entry_path``) for the candidates in ``files``.

        ``files`` are the session's text files (path as pushed → text): every source file
        is scanned for candidates and every stylesheet may be ``@import``-ed. With ``probe``,
        the answer's ``css`` is None unless the probe text names at least one utility.
        Raises BuildFailed for a mistake in the session's CSS.
        """
        with self._lock:
            deadline = time.monotonic() + timeout_s
            self._next_id += 1
            request = {"id": self._next_id, "entry": {"path": entry_path, "css": css},
                       "files": dict(files), "probe": probe,
                       "maxCandidates": self.max_candidates}
            data = json.dumps(request).encode("utf-8") + b"\n"
            try:
                response = self._exchange(data, deadline, timeout_s)
            except BundlerCrashed:
                if not self._was_running:
                    raise
                # A process that died between requests (killed, out of memory) is found
                # dead only now: the request is pure, so a new process answers it.
                response = self._exchange(data, deadline, timeout_s)
        if response.get("id") != request["id"]:
            raise self._crashed(f"answered request {response.get('id')!r}, "
                                f"expected {request['id']}")
        try:
            if "error" in response:
                error = response["error"]
                diagnostic = Diagnostic(str(error["file"]), int(error["line"]),
                                        int(error["column"]), str(error["message"]),
                                        str(error["lineText"]))
            else:
                css = response["css"]
                return Compiled(None if css is None else str(css), int(response["candidates"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise self._crashed(f"the Tailwind service answered {str(response)[:200]}") from exc
        raise BuildFailed(f"Tailwind could not compile {diagnostic.file}", [diagnostic])

    def _exchange(self, data: bytes, deadline: float, timeout_s: float) -> dict[str, Any]:
        self._was_running = self._proc is not None and self._proc.poll() is None
        self._ensure_started()
        self._write(data)
        return self._read_response(deadline, timeout_s)

    def close(self) -> None:
        """Stop the service process; the next request starts a new one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def __enter__(self) -> TailwindService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure_started(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.close()
        self._buffer.clear()
        self._stderr.clear()
        try:
            self._proc = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          cwd=self.script.parent)
        except OSError as exc:
            raise BundlerCrashed(self.command, None,
                                 f"could not start the Tailwind service: {exc}") from exc
        assert self._proc.stdout and self._proc.stderr
        os.set_blocking(self._proc.stdout.fileno(), False)
        os.set_blocking(self._proc.stderr.fileno(), False)

    def _write(self, data: bytes) -> None:
        assert self._proc and self._proc.stdin
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise self._crashed(f"the Tailwind service stopped reading its input: {exc}") from exc

    def _read_response(self, deadline: float, timeout_s: float) -> dict[str, Any]:
        line = self._read_line(deadline, timeout_s)
        try:
            response = json.loads(line)
        except ValueError as exc:
            raise self._crashed(f"the Tailwind service wrote something that is not JSON: "
                                f"{line[:200]!r}") from exc
        if not isinstance(response, dict):
            raise self._crashed(f"the Tailwind service answered {line[:200]!r}")
        return response

    def _read_line(self, deadline: float, timeout_s: float) -> bytes:
        assert self._proc and self._proc.stdout and self._proc.stderr
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ, "out")
            selector.register(self._proc.stderr, selectors.EVENT_READ, "err")
            while True:
                end = self._buffer.find(b"\n")
                if end >= 0:
                    line = bytes(self._buffer[:end])
                    del self._buffer[:end + 1]
                    return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.close()
                    raise BundlerTimeout(self.command, timeout_s, _TOOL)
                for key, _ in selector.select(remaining):
                    chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
                    if key.data == "err":
                        self._stderr += chunk
                        del self._stderr[:-_STDERR_KEEP_BYTES]
                        if not chunk:
                            selector.unregister(key.fileobj)
                    elif chunk:
                        self._buffer += chunk
                    else:
                        raise self._crashed("the Tailwind service exited during a request")

    def _crashed(self, reason: str) -> BundlerCrashed:
        proc = self._proc
        code: int | None = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=1)
            if code is not None and proc.stderr:
                with contextlib.suppress(OSError):  # BlockingIOError: a child holds the pipe
                    while chunk := os.read(proc.stderr.fileno(), 65536):
                        self._stderr += chunk
                        del self._stderr[:-_STDERR_KEEP_BYTES]
        output = self._stderr.decode("utf-8", "replace").strip()
        self.close()
        return BundlerCrashed(self.command, code, f"{reason}\n{output}".strip())
