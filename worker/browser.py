"""The checker's Chromium: one headless browser per process, driven by Playwright's sync API.

The same shape as every long-lived helper process here: started on first use, a deadline
per request (:meth:`Chromium.deadline` kills the browser process when it passes, because a
page spinning its main thread blocks every Playwright call on it), restarted when it died
or was killed. Playwright's own errors become :class:`BrowserCrashed` at this boundary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from worker.errors import InfrastructureError

__all__ = ["Chromium", "BrowserCrashed", "BROWSER_FLAGS", "browser_flags"]

log = logging.getLogger("stage.check")

#: Quiet, offline, deterministic. The last three are defence in depth: the check's route
#: aborts every request off its own origin, and these keep whatever a route cannot see
#: (WebSockets, WebRTC) from finding a name, a proxy or a UDP path to anywhere.
BROWSER_FLAGS = (
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)


def browser_flags(*, as_root: bool | None = None) -> list[str]:
    """The launch flags; ``--no-sandbox`` only as root, where Chromium refuses its sandbox."""
    root = os.geteuid() == 0 if as_root is None else as_root
    return [*BROWSER_FLAGS, *(["--no-sandbox"] if root else [])]


class BrowserCrashed(InfrastructureError):
    """Chromium died or stopped answering while a page was open."""


class Chromium:
    """A Chromium process this process owns; :attr:`pid` is the browser process."""

    def __init__(self, executable: str | Path) -> None:
        self.executable = str(executable)
        self.pid: int | None = None
        self.launches = 0
        self._playwright: Any = None
        self._manager: Any = None
        self._browser: Any = None

    @property
    def browser(self) -> Any:
        """The running browser, launched (again) if there is none or it died."""
        if self._browser is None or not self._browser.is_connected():
            self._launch()
        return self._browser

    def _launch(self) -> None:
        if not Path(self.executable).exists():
            raise BrowserCrashed(f"no Chromium at {self.executable} (STAGE_CHROMIUM_PATH); "
                                 "Debian: apt-get install chromium")
        self._close_browser()
        from playwright.sync_api import Error, sync_playwright

        if self._playwright is None:
            self._manager = sync_playwright()
            self._playwright = self._manager.start()
        before = set(_browser_processes())
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=self.executable, args=browser_flags(), headless=True)
        except Error as exc:
            raise BrowserCrashed(f"Chromium did not start: {exc.message}") from exc
        started = [pid for pid in _browser_processes() if pid not in before]
        self.pid = started[0] if started else None
        self.launches += 1
        log.info("chromium started pid=%s launches=%d", self.pid, self.launches)

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[threading.Event]:
        """Kill the browser if the block is still running after ``seconds``.

        The event it yields is set when the kill happened, so the caller can tell its own
        deadline from a browser that died by itself.
        """
        fired = threading.Event()

        def expire() -> None:
            fired.set()
            self.kill()

        timer = threading.Timer(seconds, expire)
        timer.daemon = True
        timer.start()
        try:
            yield fired
        finally:
            timer.cancel()

    def kill(self) -> None:
        """SIGKILL the browser process (safe from any thread); the next use relaunches."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def restart(self) -> None:
        """Replace the browser: kill it, then launch a new one on next use."""
        self.kill()
        self._close_browser()

    def _close_browser(self) -> None:
        if self._browser is not None:
            from playwright.sync_api import Error

            with contextlib.suppress(Error):
                self._browser.close()
            self._browser = None
        if self.pid is not None:
            self.kill()  # close() returned, or gave up on a hung browser
            self.pid = None

    def close(self) -> None:
        """Close the browser and Playwright's driver (at process exit)."""
        self._close_browser()
        if self._manager is not None:
            from playwright.sync_api import Error

            with contextlib.suppress(Error):
                self._manager.__exit__(None, None, None)
            self._manager = self._playwright = None


def _browser_processes() -> Iterator[int]:
    """Chromium browser processes below this one (Playwright's driver launched them).

    Playwright drives Chromium over ``--remote-debugging-pipe``; renderers and helpers
    carry ``--type=``, the browser process does not.
    """
    own = os.getpid()
    parents: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (entry / "cmdline").read_bytes()
    for pid, command in commands.items():
        if b"--remote-debugging-pipe" not in command or b"--type=" in command:
            continue
        ancestor = parents.get(pid)
        while ancestor and ancestor != own:
            ancestor = parents.get(ancestor)
        if ancestor == own:
            yield pid
