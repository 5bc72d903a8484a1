"""A long-lived helper process spoken to over its stdin and stdout.

esbuild and the Tailwind service are both driven this way, and both get the same shape:
started on first use, a deadline per request (a process that misses it is killed, and the
next request starts another), restarted when it has died, and every failure of the process
itself mapped here to :class:`BundlerCrashed` (with the command, exit code and the last of
what it wrote to stderr) or :class:`BundlerTimeout`. A driver keeps only its framing and its
protocol: it passes :meth:`HelperProcess.read` a function that takes one whole message off
the front of the bytes read so far.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bundler.errors import BundlerCrashed, BundlerTimeout

__all__ = ["HelperProcess", "TakeMessage"]

#: Takes one whole message off the front of the buffer, or returns None until one has come.
TakeMessage = Callable[[bytearray], bytes | None]

_STDERR_KEEP_BYTES = 16_384  # enough for a Go panic's first frames, bounded for a runaway
_READ_BYTES = 65_536


class HelperProcess:
    """One helper process with pipes on stdin, stdout and stderr. Not thread-safe.

    ``name`` is how errors speak of it ("esbuild", "the Tailwind service"); ``during``
    says what its output ended in the middle of ("a build", "a request").
    """

    def __init__(
        self,
        command: Sequence[str],
        cwd: str | Path,
        name: str,
        during: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``env``: variables set for the process on top of this one's environment."""
        self.command = list(command)
        self.cwd = cwd
        self.env = dict(env or {})
        self.name = name
        self.during = during
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout = bytearray()
        self._stderr = bytearray()
        # Kept for the process's life: a build reads hundreds of packets, each read used to
        # open, fill and close a selector of its own.
        self._selector: selectors.BaseSelector | None = None

    @property
    def pid(self) -> int | None:
        """The running process's id; None before the first start and after it died."""
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def ensure_started(self) -> bool:
        """Start the process unless it is running; True if this call started it."""
        if self.pid is not None:
            return False
        self.close()
        self._stdout.clear()
        self._stderr.clear()
        try:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env={**os.environ, **self.env} if self.env else None,
            )
        except OSError as exc:
            raise BundlerCrashed(self.command, None, f"could not start {self.name}: {exc}") from exc
        assert self._proc.stdout and self._proc.stderr
        os.set_blocking(self._proc.stdout.fileno(), False)
        os.set_blocking(self._proc.stderr.fileno(), False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._proc.stdout, selectors.EVENT_READ, "out")
        self._selector.register(self._proc.stderr, selectors.EVENT_READ, "err")
        return True

    def write(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin."""
        assert self._proc and self._proc.stdin
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise self.crashed(f"{self.name} stopped reading its input: {exc}") from exc

    def read(self, take: TakeMessage, deadline: float, timeout_s: float) -> bytes:
        """Read stdout until ``take`` finds one whole message, and return it.

        Past ``deadline`` (a ``time.monotonic()`` value) the process is killed and
        :class:`BundlerTimeout` names ``timeout_s``; stdout ending is a crash. Meanwhile
        the last of stderr is kept for the crash's message.
        """
        assert self._proc and self._selector
        selector = self._selector
        while True:
            message = take(self._stdout)
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise BundlerTimeout(self.command, timeout_s, self.name)
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fileobj.fileno(), _READ_BYTES)  # type: ignore[union-attr]
                if key.data == "err":
                    self._keep_stderr(chunk)
                    if not chunk:
                        selector.unregister(key.fileobj)
                elif chunk:
                    self._stdout += chunk
                else:
                    raise self.crashed(f"{self.name} exited during {self.during}")

    def crashed(self, reason: str) -> BundlerCrashed:
        """Stop the process and describe why: ``reason``, its exit code and its stderr."""
        proc = self._proc
        code: int | None = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=1)
            if code is not None and proc.stderr:
                # stdout's end can arrive before the last of stderr: keep what it said last.
                with contextlib.suppress(OSError):  # BlockingIOError: a child holds the pipe
                    while chunk := os.read(proc.stderr.fileno(), _READ_BYTES):
                        self._keep_stderr(chunk)
        output = self._stderr.decode("utf-8", "replace").strip()
        self.close()
        return BundlerCrashed(self.command, code, f"{reason}\n{output}".strip())

    def close(self) -> None:
        """Stop the process; the next :meth:`ensure_started` starts a new one."""
        proc, self._proc = self._proc, None
        selector, self._selector = self._selector, None
        if selector is not None:
            selector.close()
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def _keep_stderr(self, chunk: bytes) -> None:
        self._stderr += chunk
        del self._stderr[:-_STDERR_KEEP_BYTES]
