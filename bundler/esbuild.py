"""The esbuild driver: one long-lived ``esbuild --service`` process spoken to over stdio.

This is the same channel esbuild's JavaScript API uses, so a build returns its output
files, metafile and structured messages (file, line, column, line text) in memory, and
import rules run as a plugin whose callbacks are answered here, in Python. The same
process also transforms single files (``transform``), which a failed build uses to parse
every file on its own.

The process is a :class:`~bundler.process.HelperProcess`: a service that hangs past the
build timeout is killed (and restarted on the next build); one that exits or speaks
garbage raises :class:`BundlerCrashed` with the command, exit code and what it wrote to
stderr. This module keeps the packet framing (in ``protocol``) and the requests.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from bundler.process import HelperProcess
from bundler.protocol import (
    BuildRequest,
    BuildResponse,
    Message,
    Packet,
    TransformRequest,
    TransformResponse,
    decode_packet,
    encode_packet,
    take_body,
)

__all__ = ["EsbuildService", "PAGE_SERVICE_ENV", "RequestHandler", "message"]

log = logging.getLogger(__name__)

#: Answers a request the service sends back during a build (``on-resolve`` and friends).
RequestHandler = Callable[[dict[str, Any]], dict[str, Any]]

#: The Go runtime's settings for the service that builds pages. Go collects garbage each
#: time the heap doubles (GOGC=100); a 1,000-module build allocates several times its live
#: heap, so it collected many times per build. GOGC=400 lets the heap grow fivefold between
#: collections, and GOMEMLIMIT makes Go collect early instead whenever the heap nears
#: 150 MiB, so the process stays under the 200 MB a worker's helper may use.
PAGE_SERVICE_ENV = {"GOGC": "400", "GOMEMLIMIT": "150MiB"}

_IN_FLIGHT = 16  # transforms sent ahead: keeps both cores busy, bounds the answers queued


def message(text: str) -> Message:
    """An error or warning as a plugin returns it (the Go side reads every field)."""
    return {
        "id": "",
        "pluginName": "stage",
        "text": text,
        "location": None,
        "notes": [],
        "detail": -1,
    }


def _no_callbacks(request: dict[str, Any]) -> dict[str, Any]:
    raise ValueError(f"esbuild asked {request.get('command')!r} during a transform")


class EsbuildService:
    """A running ``esbuild --service`` process. Not shared between threads at once."""

    def __init__(self, binary: Path, version: str, env: Mapping[str, str] | None = None) -> None:
        """``env``: variables for the service process (e.g. :data:`PAGE_SERVICE_ENV`)."""
        self.binary = binary
        self.version = version
        self._process = HelperProcess(
            [str(binary), f"--service={version}", "--ping"],
            cwd=os.path.dirname(binary),
            name="esbuild",
            during="a build",
            env=env,
        )
        self._next_id = 0
        self._lock = threading.Lock()
        self._starts = 0  # processes started so far: a context lives in one of them
        self._next_context_key = 0

    @property
    def command(self) -> list[str]:
        return self._process.command

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def build(
        self, request: BuildRequest, on_request: RequestHandler, timeout_s: float
    ) -> BuildResponse:
        """Send one build request and return esbuild's response map.

        ``on_request`` answers the plugin callbacks esbuild sends while it builds.
        """
        return cast(BuildResponse, self._request(request, on_request, timeout_s))

    def transform(
        self, jobs: Sequence[tuple[bytes, list[str]]], timeout_s: float
    ) -> list[TransformResponse]:
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
            responses: dict[int, TransformResponse] = {}
            sent = 0
            while len(responses) < len(jobs):
                while sent < len(jobs) and sent - len(responses) < _IN_FLIGHT:
                    source, flags = jobs[sent]
                    self._next_id += 1
                    request: TransformRequest = {
                        "command": "transform",
                        "flags": flags,
                        "inputFS": False,
                        "input": source,
                    }
                    self._write(Packet(self._next_id, True, request))
                    sent += 1
                packet = self._read_packet(deadline, timeout_s)
                if packet.is_request:  # a ping: transforms call nothing back
                    self._write(Packet(packet.id, False, self._answer(packet.value, _no_callbacks)))
                elif first_id <= packet.id <= self._next_id:
                    responses[packet.id] = cast(TransformResponse, self._checked(packet.value))
            return [responses[first_id + i] for i in range(len(jobs))]

    def _request(
        self, request: BuildRequest, on_request: RequestHandler, timeout_s: float
    ) -> dict[str, Any]:
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

    @property
    def generation(self) -> int:
        """Which process this is (0 before the first start): contexts of an earlier one,
        which was killed or crashed, are gone with it."""
        return self._starts

    def open_context(
        self, request: BuildRequest, timeout_s: float
    ) -> tuple[int, int, BuildResponse]:
        """Create an incremental build context for ``request`` (nothing is built yet).

        Returns its key, the :attr:`generation` it lives in and esbuild's answer (errors
        in the options). :meth:`rebuild` builds it, :meth:`dispose` frees it.
        """
        self._next_context_key += 1  # build() uses key 0
        key = self._next_context_key
        opening = cast(BuildRequest, {**request, "key": key, "context": True})
        response = self._request(opening, _no_callbacks, timeout_s)
        return key, self._starts, cast(BuildResponse, response)

    def rebuild(self, key: int, on_request: RequestHandler, timeout_s: float) -> BuildResponse:
        """Build context ``key`` again: esbuild reuses what it parsed before for files whose
        contents did not change. Returns the same map as :meth:`build`."""
        result: dict[str, Any] = {}

        def answer(request: dict[str, Any]) -> dict[str, Any]:
            if request.get("command") == "on-end":  # the build's result, sent as a request
                if request.get("key") == key:  # not one of an earlier, interrupted rebuild
                    result.update(request)
                return {"errors": [], "warnings": []}
            return on_request(request)

        self._request(cast(BuildRequest, {"command": "rebuild", "key": key}), answer, timeout_s)
        if not result:
            raise self._process.crashed("esbuild finished a rebuild without its result")
        result.pop("command", None)
        result.pop("key", None)
        return cast(BuildResponse, result)

    def dispose(self, key: int, generation: int, timeout_s: float) -> None:
        """Free context ``key`` (nothing to do when its process is gone)."""
        if generation != self._starts or self.pid is None:
            return
        self._request(
            cast(BuildRequest, {"command": "dispose", "key": key}), _no_callbacks, timeout_s
        )

    def _checked(self, response: Any) -> dict[str, Any]:
        if isinstance(response, dict) and response.get("error"):
            raise self._process.crashed(f"esbuild refused the request: {response['error']}")
        return dict(response)

    def close(self) -> None:
        """Stop the service process; the next build starts a new one."""
        self._process.close()

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
        if not self._process.ensure_started():
            return
        self._starts += 1
        handshake = self._process.read(take_body, deadline, timeout_s).decode("utf-8", "replace")
        if handshake != self.version:
            raise self._process.crashed(
                f"esbuild binary is {handshake!r}, expected {self.version!r}"
            )

    def _write(self, packet: Packet) -> None:
        self._process.write(encode_packet(packet))

    def _read_packet(self, deadline: float, timeout_s: float) -> Packet:
        body = self._process.read(take_body, deadline, timeout_s)
        try:
            return decode_packet(body)
        except (ValueError, IndexError) as exc:
            raise self._process.crashed(
                f"esbuild sent a packet this driver cannot read: {exc}"
            ) from exc
