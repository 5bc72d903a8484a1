"""The esbuild driver: one long-lived ``esbuild --service`` process spoken to over stdio.

This is the same channel esbuild's JavaScript API uses, so a build returns its output
files, metafile and structured messages (file, line, column, line text) in memory, and
import rules run as a plugin whose callbacks are answered here, in Python. The same
process also transforms single files (``transform``), which a failed build uses to parse
every file on its own.

A service that hangs past the build timeout is killed (and restarted on the next build);
one that exits or speaks garbage raises :class:`BundlerCrashed` with the command, exit
code and what it wrote to stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bundler.errors import BundlerCrashed, BundlerTimeout
from bundler.protocol import Packet, decode_packet, encode_packet

__all__ = ["EsbuildService", "RequestHandler", "message"]

log = logging.getLogger(__name__)

#: Answers a request the service sends back during a build (``on-resolve`` and friends).
RequestHandler = Callable[[dict[str, Any]], dict[str, Any]]

_STDERR_KEEP_BYTES = 16_384  # enough for a Go panic's first frames, bounded for a runaway
_IN_FLIGHT = 16  # transforms sent ahead: keeps both cores busy, bounds the answers queued


def message(text: str) -> dict[str, Any]:
    """An error or warning as a plugin returns it (the Go side reads every field)."""
    return {"id": "", "pluginName": "stage", "text": text, "location": None, "notes": [],
            "detail": -1}


def _no_callbacks(request: dict[str, Any]) -> dict[str, Any]:
    raise ValueError(f"esbuild asked {request.get('command')!r} during a transform")


class EsbuildService:
    """A running ``esbuild --service`` process. Not shared between threads at once."""

    def __init__(self, binary: Path, version: str) -> None:
        self.binary = binary
        self.version = version
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray()
        self._stderr = bytearray()
        self._next_id = 0
        self._lock = threading.Lock()

    @property
    def command(self) -> list[str]:
        return [str(self.binary), f"--service={self.version}", "--ping"]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def build(
        self, request: dict[str, Any], on_request: RequestHandler, timeout_s: float
    ) -> dict[str, Any]:
        """Send one build request and return esbuild's response map.

        ``on_request`` answers the plugin callbacks esbuild sends while it builds.
        """
        return self._request(request, on_request, timeout_s)

    def transform(self, jobs: Sequence[tuple[bytes, list[str]]],
                  timeout_s: float) -> list[dict[str, Any]]:
        """Transform each ``(source, flags)`` on its own: no bundling, no file system.

        Returns esbuild's response map for each, in order (``code``, ``map``, ``errors``,
        ``warnings``). ``flags`` are CLI flags (``--loader=tsx``, ``--sourcefile=…``).
        Up to ``_IN_FLIGHT`` requests are sent before reading answers, so the service
        works on several files at once; ``timeout_s`` bounds them all together.
        """
        with self._lock:
            deadline = time.monotonic() + timeout_s
            self._ensure_started(deadline, timeout_s)
            first_id = self._next_id + 1
            responses: dict[int, dict[str, Any]] = {}
            sent = 0
            while len(responses) < len(jobs):
                while sent < len(jobs) and sent - len(responses) < _IN_FLIGHT:
                    source, flags = jobs[sent]
                    self._next_id += 1
                    self._write(Packet(self._next_id, True, {
                        "command": "transform", "flags": flags, "inputFS": False,
                        "input": source}))
                    sent += 1
                packet = self._read_packet(deadline, timeout_s)
                if packet.is_request:  # a ping: transforms call nothing back
                    self._write(Packet(packet.id, False, self._answer(packet.value,
                                                                      _no_callbacks)))
                elif first_id <= packet.id <= self._next_id:
                    responses[packet.id] = self._checked(packet.value)
            return [responses[first_id + i] for i in range(len(jobs))]

    def _request(self, request: dict[str, Any], on_request: RequestHandler,
                 timeout_s: float) -> dict[str, Any]:
        with self._lock:
            deadline = time.monotonic() + timeout_s
            self._ensure_started(deadline, timeout_s)
            self._next_id += 1
            request_id = self._next_id
            self._write(Packet(request_id, True, request))
            while True:
                packet = self._read_packet(deadline, timeout_s)
                if packet.is_request:
                    self._write(Packet(packet.id, False, self._answer(packet.value, on_request)))
                elif packet.id == request_id:
                    return self._checked(packet.value)

    def _checked(self, response: Any) -> dict[str, Any]:
        if isinstance(response, dict) and response.get("error"):
            raise self._crashed(f"esbuild refused the request: {response['error']}")
        return dict(response)

    def close(self) -> None:
        """Stop the service process; the next build starts a new one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def __enter__(self) -> EsbuildService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, request: dict[str, Any], on_request: RequestHandler) -> dict[str, Any]:
        command = request.get("command")
        if command == "ping":
            return {}
        if command == "on-start":
            return {"errors": [], "warnings": []}
        try:
            return on_request(request)
        except Exception as exc:  # a bug in a callback becomes a build error, not a hang
            log.exception("esbuild callback %s failed", command)
            return {"errors": [message(f"internal bundler error in {command}: {exc}")]}

    def _ensure_started(self, deadline: float, timeout_s: float) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.close()
        self._buffer.clear()
        self._stderr.clear()
        try:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=os.path.dirname(self.binary),
            )
        except OSError as exc:
            raise BundlerCrashed(self.command, None, f"could not start esbuild: {exc}") from exc
        assert self._proc.stdout and self._proc.stderr
        os.set_blocking(self._proc.stdout.fileno(), False)
        os.set_blocking(self._proc.stderr.fileno(), False)
        handshake = self._read_body(deadline, timeout_s).decode("utf-8", "replace")
        if handshake != self.version:
            raise self._crashed(f"esbuild binary is {handshake!r}, expected {self.version!r}")

    def _write(self, packet: Packet) -> None:
        assert self._proc and self._proc.stdin
        try:
            self._proc.stdin.write(encode_packet(packet))
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise self._crashed(f"esbuild stopped reading its input: {exc}") from exc

    def _read_packet(self, deadline: float, timeout_s: float) -> Packet:
        body = self._read_body(deadline, timeout_s)
        try:
            return decode_packet(body)
        except (ValueError, IndexError) as exc:
            raise self._crashed(f"esbuild sent a packet this driver cannot read: {exc}") from exc

    def _read_body(self, deadline: float, timeout_s: float) -> bytes:
        assert self._proc and self._proc.stdout and self._proc.stderr
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ, "out")
            selector.register(self._proc.stderr, selectors.EVENT_READ, "err")
            while True:
                if len(self._buffer) >= 4:
                    length = int.from_bytes(self._buffer[:4], "little")
                    if len(self._buffer) >= 4 + length:
                        body = bytes(self._buffer[4 : 4 + length])
                        del self._buffer[: 4 + length]
                        return body
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.close()
                    raise BundlerTimeout(self.command, timeout_s)
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
                        raise self._crashed("esbuild exited during a build")

    def _crashed(self, reason: str) -> BundlerCrashed:
        proc = self._proc
        code: int | None = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=1)
            if code is not None and proc.stderr:
                # stdout's end can arrive before the last of stderr: keep what it said last.
                with contextlib.suppress(OSError):  # BlockingIOError: a child holds the pipe
                    while chunk := os.read(proc.stderr.fileno(), 65536):
                        self._stderr += chunk
                        del self._stderr[:-_STDERR_KEEP_BYTES]
        output = self._stderr.decode("utf-8", "replace").strip()
        self.close()
        return BundlerCrashed(self.command, code, f"{reason}\n{output}".strip())
