"""The Tailwind driver: one long-lived Node process running ``runtime/tailwind-service.mjs``.

The service compiles one stylesheet per request with Tailwind's own compiler and the oxide
scanner, from the session files sent with the request (it reads nothing else but the
pinned packages). Requests and responses are one JSON document per line.

The process is a :class:`~bundler.process.HelperProcess`, as esbuild's is: started on
first use, a deadline per request (a service that misses it is killed and started again on
the next request), restarted when it dies; this module keeps only the framing (a line a
message) and the protocol. A mistake in the session's CSS comes back as :class:`BuildFailed`
with a located diagnostic; a service that cannot start, exits or answers garbage raises
:class:`BundlerCrashed`, one that misses the deadline :class:`BundlerTimeout`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.artifacts import Diagnostic
from bundler.errors import BuildFailed, BundlerCrashed
from bundler.process import HelperProcess

__all__ = ["TailwindService", "Compiled", "SERVICE_SCRIPT", "DEFAULT_MAX_CANDIDATES"]

#: The service lives beside the packages it imports.
SERVICE_SCRIPT = Path(__file__).resolve().parent / "runtime" / "tailwind-service.mjs"
#: A real app has a few thousand distinct candidates; a million-word file is not styling.
DEFAULT_MAX_CANDIDATES = 100_000
#: A runaway compile dies of its heap limit instead of taking the machine's memory.
_HEAP_LIMIT_MB = 256


@dataclass(frozen=True)
class Compiled:
    """A compiled stylesheet (None: a probe found no utility) and the candidates scanned."""

    css: str | None
    candidates: int


class TailwindService:
    """A running Tailwind service process. One request at a time."""

    def __init__(
        self,
        node: str = "node",
        script: Path = SERVICE_SCRIPT,
        max_candidates: int = DEFAULT_MAX_CANDIDATES,
        name: str = "the Tailwind service",
    ) -> None:
        self.node = node
        self.script = script
        self.max_candidates = max_candidates
        self._process = HelperProcess(
            [node, f"--max-old-space-size={_HEAP_LIMIT_MB}", str(script)],
            cwd=script.parent,
            name=name,
            during="a request",
        )
        self._next_id = 0
        self._lock = threading.Lock()

    @property
    def command(self) -> list[str]:
        return self._process.command

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def compile(
        self,
        entry_path: str,
        css: str,
        files: Mapping[str, str],
        timeout_s: float,
        probe: str | None = None,
        config: Mapping[str, Any] | None = None,
        config_path: str | None = None,
    ) -> Compiled:
        """Compile ``css`` (the stylesheet at ``entry_path``) for the candidates in ``files``.

        ``files`` are the session's text files (path as pushed → text): every source file
        is scanned for candidates and every stylesheet may be ``@import``-ed. With ``probe``,
        the answer's ``css`` is None unless the probe text names at least one utility.
        ``config`` (the v3 service's) is the session's evaluated tailwind.config, found at
        ``config_path``. Raises BuildFailed for a mistake in the session's CSS.
        """
        with self._lock:
            deadline = time.monotonic() + timeout_s
            self._next_id += 1
            request = {
                "id": self._next_id,
                "entry": {"path": entry_path, "css": css},
                "files": dict(files),
                "probe": probe,
                "maxCandidates": self.max_candidates,
            }
            if config is not None:
                request |= {"config": dict(config), "configPath": config_path}
            data = json.dumps(request).encode("utf-8") + b"\n"
            was_running = self._process.pid is not None
            try:
                response = self._exchange(data, deadline, timeout_s)
            except BundlerCrashed:
                if not was_running:
                    raise
                # A process that died between requests (killed, out of memory) is found
                # dead only now: the request is pure, so a new process answers it.
                response = self._exchange(data, deadline, timeout_s)
        if response.get("id") != request["id"]:
            raise self._process.crashed(
                f"answered request {response.get('id')!r}, expected {request['id']}"
            )
        try:
            if "error" in response:
                error = response["error"]
                diagnostic = Diagnostic(
                    str(error["file"]),
                    int(error["line"]),
                    int(error["column"]),
                    str(error["message"]),
                    str(error["lineText"]),
                )
            else:
                css = response["css"]
                return Compiled(None if css is None else str(css), int(response["candidates"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise self._process.crashed(
                f"the Tailwind service answered {str(response)[:200]}"
            ) from exc
        raise BuildFailed(f"Tailwind could not compile {diagnostic.file}", [diagnostic])

    def _exchange(self, data: bytes, deadline: float, timeout_s: float) -> dict[str, Any]:
        self._process.ensure_started()
        self._process.write(data)
        line = self._process.read(_take_line, deadline, timeout_s)
        try:
            response = json.loads(line)
        except ValueError as exc:
            raise self._process.crashed(
                f"the Tailwind service wrote something that is not JSON: {line[:200]!r}"
            ) from exc
        if not isinstance(response, dict):
            raise self._process.crashed(f"the Tailwind service answered {line[:200]!r}")
        return response

    def close(self) -> None:
        """Stop the service process; the next request starts a new one."""
        self._process.close()

    def __enter__(self) -> TailwindService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _take_line(buffer: bytearray) -> bytes | None:
    """Remove the first whole line from ``buffer`` and return it without its newline."""
    end = buffer.find(b"\n")
    if end < 0:
        return None
    line = bytes(buffer[:end])
    del buffer[: end + 1]
    return line
