"""The folder a bundler builds in: kept for the life of the process, synced per build.

esbuild reads session files from disk. Writing every file again for every build costs
more than the build itself on a large app (1,100 files: ~1.5 s on this machine's /tmp,
~30 ms on tmpfs), so a process keeps one tree and a build writes only what changed since
the previous one and deletes what is gone. The tree lives on tmpfs (``/dev/shm``) when
there is one: nothing in it needs to survive the process.

A folder left behind by a process that was killed is removed by the next process that
starts on the machine, once it is old enough that its owner cannot be alive.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from bundler.artifacts import Diagnostic, SourceFile
from bundler.errors import BuildFailed

__all__ = ["Workspace", "default_parent"]

_PREFIX = "stage-build-"
_STALE_AFTER_S = 3600.0  # a build never takes this long; its owner is gone


def default_parent() -> Path:
    """tmpfs when the machine has a writable one, else the system's temp folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return Path(tempfile.gettempdir())


class Workspace:
    """One process's build folder: ``tree/`` holds the session files as of the last sync."""

    def __init__(self, parent: Path | None = None) -> None:
        parent = parent or default_parent()
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent)
        self.root = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=parent)).resolve()
        self.tree = self.root / "tree"
        self.tree.mkdir()
        self._written: dict[str, bytes] = {}  # path as pushed → what the file on disk holds
        # Removed when the workspace is collected or the interpreter exits, if not closed.
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)

    def sync(self, files: Sequence[SourceFile]) -> None:
        """Make ``tree/`` hold exactly ``files``, writing only what differs.

        Raises BuildFailed when a path is both a file and a folder, ValueError for a path
        that is not normalised and absolute (the session store never passes one).
        """
        wanted = {f.path: f.content for f in files}
        for path in wanted:
            if not path.startswith("/") or posixpath.normpath(path) != path or path == "/":
                raise ValueError(f"{path!r}: the bundler takes normalised absolute paths")
        _refuse_file_and_folder(wanted)
        try:
            for path in self._written.keys() - wanted.keys():
                with contextlib.suppress(FileNotFoundError):
                    (self.tree / path[1:]).unlink()
            for path, content in wanted.items():
                if self._written.get(path) != content:
                    self._write(path, content)
        except BaseException:
            self._reset()  # unknown state on disk: the next sync writes everything
            raise
        self._written = wanted

    def _write(self, path: str, content: bytes) -> None:
        target = self.tree / path[1:]
        for parent in reversed(target.relative_to(self.tree).parents[:-1]):
            folder = self.tree / parent
            if folder.is_file() or folder.is_symlink():
                folder.unlink()  # a file of an earlier session where this one has a folder
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # an earlier session's folder, emptied by the sync
        target.write_bytes(content)

    def _reset(self) -> None:
        self._written = {}
        shutil.rmtree(self.tree, ignore_errors=True)
        self.tree.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        self._finalizer()
        self._written = {}


def _refuse_file_and_folder(wanted: dict[str, bytes]) -> None:
    folders = {parent for path in wanted for parent in _parents(path)}
    clashes = sorted(path for path in wanted if path in folders)
    if clashes:
        message = f"{clashes[0]}: a session path cannot be both a file and a folder"
        raise BuildFailed(
            message, [Diagnostic(p, 0, 0, message.replace(clashes[0], p), "") for p in clashes]
        )


def _parents(path: str) -> list[str]:
    parts = path.split("/")[1:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _remove_stale(parent: Path) -> None:
    """Folders of processes that are gone (a killed worker never cleans up after itself)."""
    now = time.time()
    for entry in parent.glob(f"{_PREFIX}*"):
        pid_text = entry.name[len(_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > _STALE_AFTER_S:
                shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
