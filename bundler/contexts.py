"""Warm build contexts: a session's next build reuses what esbuild parsed for its last one.

A one-file edit of a large app re-parses one file instead of all of them when the page is
built by esbuild's incremental context (the service protocol's ``context``, ``rebuild`` and
``dispose`` requests). Each warm session also keeps its own build folder (a
:class:`~bundler.workspace.Workspace`), so a build of another session in between rewrites
nothing of it, and esbuild finds its files as they were.

A context is bound to its options: the request it was opened with (flags, entry, the
generated mount entry, ``define``s from the session's env files, aliases) and the files
esbuild reads for options itself (``tsconfig.json``, ``jsconfig.json``, ``package.json``).
When any of those changes, the old context is disposed and a new one opened, so a warm
build gives byte for byte what a cold one gives.

Bounds: at most ``max_contexts`` sessions and ``max_total_bytes`` of their sources (least
recently built leave first), a session whose sources exceed ``max_source_bytes`` is built
cold, and a context unused for ``idle_s`` is disposed at the next build of this process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import posixpath
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundler.artifacts import SourceFile
from bundler.errors import BundlerUnavailable
from bundler.workspace import Workspace

if TYPE_CHECKING:  # the settings read the defaults here without loading the driver
    from bundler.esbuild import EsbuildService, RequestHandler
    from bundler.protocol import BuildRequest, BuildResponse

__all__ = [
    "DEFAULT_WARM_CONTEXTS",
    "DEFAULT_WARM_IDLE_S",
    "DEFAULT_WARM_SOURCE_BYTES",
    "DEFAULT_WARM_TOTAL_SOURCE_BYTES",
    "WarmContexts",
    "WarmSession",
    "options_files_digest",
]

DEFAULT_WARM_CONTEXTS = 8
DEFAULT_WARM_SOURCE_BYTES = 1024 * 1024
#: A context costs the service ~120 bytes of peak memory per source byte (ASTs, the
#: linker's copies, garbage not yet collected): ~35 MB for a 300 KB app of 400 modules.
#: 1 MiB of sources keeps the service's peak near 160 MB (bench.edits measures it).
DEFAULT_WARM_TOTAL_SOURCE_BYTES = 1024 * 1024
DEFAULT_WARM_IDLE_S = 900.0

_DISPOSE_TIMEOUT_S = 5.0


def _reads_options(path: str) -> bool:
    """Files esbuild reads for build options on its own (not through the import plugin)."""
    name = posixpath.basename(path)
    return name == "package.json" or (
        name.endswith(".json") and name.startswith(("tsconfig", "jsconfig"))
    )


def options_files_digest(files: Iterable[SourceFile]) -> str:
    """A digest of the files that change esbuild's options rather than its inputs."""
    digest = hashlib.sha256()
    for f in sorted((f for f in files if _reads_options(f.path)), key=lambda f: f.path):
        digest.update(f.path.encode() + b"\0" + hashlib.sha256(f.content).digest())
    return digest.hexdigest()


def _request_digest(request: BuildRequest, extra: str) -> str:
    """What a context is bound to: the whole request but its key, and ``extra``."""
    shown = {k: v for k, v in request.items() if k not in ("key", "context")}
    text = json.dumps(shown, sort_keys=True, default=lambda b: hashlib.sha256(b).hexdigest())
    return hashlib.sha256((text + "\0" + extra).encode()).hexdigest()


@dataclass
class WarmSession:
    """One warm session: its build folder, vendor shims in it, and its page's context."""

    name: str
    workspace: Workspace
    shims: dict[str, Path] = field(default_factory=dict)
    options_digest: str = ""
    context_key: int | None = None
    context_generation: int = -1
    context_digest: str = ""
    last_used: float = field(default_factory=time.monotonic)
    source_bytes: int = 0
    builds: int = 0  # builds through the context (the first is a full one)


class WarmContexts:
    """The warm sessions of one bundler (one esbuild service), least recently used first."""

    def __init__(
        self,
        max_contexts: int = DEFAULT_WARM_CONTEXTS,
        max_source_bytes: int = DEFAULT_WARM_SOURCE_BYTES,
        idle_s: float = DEFAULT_WARM_IDLE_S,
        work_dir: Path | None = None,
        max_total_bytes: int = DEFAULT_WARM_TOTAL_SOURCE_BYTES,
    ) -> None:
        self.max_contexts = max_contexts
        self.max_total_bytes = max_total_bytes
        self.max_source_bytes = max_source_bytes
        self.idle_s = idle_s
        self.work_dir = work_dir
        self._sessions: OrderedDict[str, WarmSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, name: object) -> bool:
        return name in self._sessions

    def session(
        self, name: str, files: Iterable[SourceFile], service: EsbuildService
    ) -> WarmSession | None:
        """The warm session ``name`` for building ``files`` (made when new), or None when
        it is to be built cold (warm builds off, or its sources over the cap)."""
        files = list(files)
        self.sweep(service)
        if self.max_contexts <= 0:
            return None
        size = sum(len(f.content) for f in files)
        if size > min(self.max_source_bytes, self.max_total_bytes):
            self.drop(name, service)
            return None
        warm = self._sessions.get(name)
        if warm is None:
            while len(self._sessions) >= self.max_contexts:
                self.drop(next(iter(self._sessions)), service)
            warm = WarmSession(name, Workspace(self.work_dir))
            self._sessions[name] = warm
        self._sessions.move_to_end(name)
        warm.last_used = time.monotonic()
        warm.source_bytes = size
        warm.options_digest = options_files_digest(files)
        while self.source_bytes > self.max_total_bytes:  # never this one: it fits alone
            self.drop(next(iter(self._sessions)), service)
        return warm

    @property
    def source_bytes(self) -> int:
        """The sources of every warm session together."""
        return sum(w.source_bytes for w in self._sessions.values())

    def build(
        self,
        warm: WarmSession,
        service: EsbuildService,
        request: BuildRequest,
        on_request: RequestHandler,
        timeout_s: float,
    ) -> BuildResponse:
        """Build ``request`` in ``warm``'s context: reused when its options are the same and
        its process still runs, else opened anew (the old one disposed)."""
        digest = _request_digest(request, warm.options_digest)
        if (
            warm.context_key is None
            or warm.context_digest != digest
            or warm.context_generation != service.generation
            or service.pid is None
        ):
            self._dispose_context(warm, service)
            key, generation, opened = service.open_context(request, timeout_s)
            if opened.get("errors"):  # options esbuild refused: report them as a build does
                with contextlib.suppress(BundlerUnavailable):
                    service.dispose(key, generation, _DISPOSE_TIMEOUT_S)
                return opened
            warm.context_key, warm.context_generation, warm.context_digest = (
                key,
                generation,
                digest,
            )
            warm.builds = 0
        assert warm.context_key is not None
        try:
            response = service.rebuild(warm.context_key, on_request, timeout_s)
        except BaseException:
            warm.context_key = None  # unknown state: the next build opens a new one
            raise
        warm.builds += 1
        return response

    def drop(self, name: str, service: EsbuildService) -> None:
        """Forget session ``name``: dispose its context, remove its build folder."""
        warm = self._sessions.pop(name, None)
        if warm is None:
            return
        try:
            self._dispose_context(warm, service)
        finally:
            warm.workspace.close()

    def sweep(self, service: EsbuildService) -> None:
        """Drop the sessions unused for ``idle_s``."""
        now = time.monotonic()
        for name in [n for n, w in self._sessions.items() if now - w.last_used > self.idle_s]:
            self.drop(name, service)

    def close(self, service: EsbuildService) -> None:
        for name in list(self._sessions):
            self.drop(name, service)

    def stats(self) -> Mapping[str, Any]:
        return {
            "sessions": len(self._sessions),
            "contexts": sum(1 for w in self._sessions.values() if w.context_key is not None),
        }

    @staticmethod
    def _dispose_context(warm: WarmSession, service: EsbuildService) -> None:
        key, warm.context_key = warm.context_key, None
        if key is not None:
            # A service that fails to free it is stopped (and its contexts with it); the
            # next build starts a new one.
            with contextlib.suppress(BundlerUnavailable):
                service.dispose(key, warm.context_generation, _DISPOSE_TIMEOUT_S)
