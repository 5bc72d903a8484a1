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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from worker.errors import BrowserCrashed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright, PlaywrightContextManager

__all__ = [
    "Chromium",
    "Deadline",
    "BrowserCrashed",
    "BROWSER_FLAGS",
    "browser_flags",
    "DRIVER_GRACE_S",
]

log = logging.getLogger("stage.check")

#: Quiet, offline, deterministic, and no way out but the check's route. The route answers
#: or aborts every request the page makes (HTTP, fetch, EventSource, beacons); what a route
#: cannot see is closed here, each flag proved by tests/browser/test_check_network.py:
#: - every name resolves to nothing (``--host-resolver-rules``), and DNS prefetch is off;
#: - every connection Chromium opens itself (WebSockets, preconnect, prefetch, TURN over
#:   TCP) goes to a proxy at ``127.0.0.1:9``, where nothing listens, loopback included
#:   (``<-loopback>`` removes the implicit bypass);
#: - WebRTC may not send UDP except through a proxy (``--webrtc-ip-handling-policy``;
#:   Chromium has no UDP proxy, so ICE gathers no candidate, sends no STUN or TURN
#:   packet and no mDNS announcement). Chromium ignores the older ``--force-`` spelling;
#: - QUIC (and with it WebTransport) is off, as are pings and background networking.
BROWSER_FLAGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-domain-reliability",
    "--dns-prefetch-disable",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
)

#: How long a call may stay stuck after its browser was killed before the driver goes too.
DRIVER_GRACE_S = 2.0


def browser_flags(*, as_root: bool | None = None) -> list[str]:
    """The launch flags; ``--no-sandbox`` only as root, where Chromium refuses its sandbox."""
    root = os.geteuid() == 0 if as_root is None else as_root
    return [*BROWSER_FLAGS, *(["--no-sandbox"] if root else [])]


class Chromium:
    """A Chromium process this process owns; :attr:`pid` is the browser process."""

    def __init__(self, executable: str | Path) -> None:
        self.executable = str(executable)
        self.pid: int | None = None
        self.launches = 0
        self._playwright: Playwright | None = None
        self._manager: PlaywrightContextManager | None = None
        self._browser: Browser | None = None
        self._driver_pid: int | None = None

    @property
    def browser(self) -> Browser:
        """The running browser, launched (again) if there is none or it died."""
        if self._browser is None or not self._browser.is_connected():
            self._browser = self._launch()
        return self._browser

    def _launch(self) -> Browser:
        if not Path(self.executable).exists():
            raise BrowserCrashed(
                f"no Chromium at {self.executable} (STAGE_CHROMIUM_PATH); "
                "Debian: apt-get install chromium"
            )
        self._close_browser()
        try:
            from playwright.sync_api import Error, sync_playwright
        except ImportError as exc:
            raise BrowserCrashed(
                "Playwright is not installed: pip install 'stage-render[check]'"
            ) from exc

        if self._playwright is None:
            drivers = set(_descendants("run-driver"))
            self._manager = sync_playwright()
            self._playwright = self._manager.start()
            self._driver_pid = next(
                (p for p in _descendants("run-driver") if p not in drivers), None
            )
        before = set(_browser_processes())
        try:
            browser = self._playwright.chromium.launch(
                executable_path=self.executable, args=browser_flags(), headless=True
            )
        except Error as exc:
            raise BrowserCrashed(f"Chromium did not start: {exc.message}") from exc
        started = [pid for pid in _browser_processes() if pid not in before]
        self.pid = started[0] if started else None
        self.launches += 1
        log.info("chromium started pid=%s launches=%d", self.pid, self.launches)
        return browser

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[Deadline]:
        """Kill the browser if the block is still running after ``seconds``.

        If the block is still stuck ``DRIVER_GRACE_S`` later (a call waiting on a browser
        that already died, which Playwright does not always notice), Playwright's driver
        is killed too, which ends every call waiting on it; the next use starts both again.
        """
        state = Deadline()

        def expire() -> None:
            state.browser_was_dead = not _alive(self.pid)
            state.expired = True
            self.kill()

        def end_driver() -> None:
            state.driver_killed = True
            if self._driver_pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._driver_pid, signal.SIGKILL)

        timers = [
            threading.Timer(seconds, expire),
            threading.Timer(seconds + DRIVER_GRACE_S, end_driver),
        ]
        for timer in timers:
            timer.daemon = True
            timer.start()
        try:
            yield state
        finally:
            for timer in timers:
                timer.cancel()
            if state.driver_killed:
                self._forget_driver()

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

    def _forget_driver(self) -> None:
        """The driver was killed: drop everything that talked to it, reap it."""
        self.kill()
        if self._manager is not None:
            # Ends the sync API's event loop, so a new driver can start in this thread.
            with contextlib.suppress(Exception):
                self._manager.__exit__(None, None, None)
        self._browser = self._manager = self._playwright = None
        self.pid = None
        if self._driver_pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._driver_pid, os.WNOHANG)
            self._driver_pid = None

    def close(self) -> None:
        """Close the browser and Playwright's driver (at process exit)."""
        self._close_browser()
        if self._manager is not None:
            from playwright.sync_api import Error

            with contextlib.suppress(Error):
                self._manager.__exit__(None, None, None)
            self._manager = self._playwright = None


@dataclass
class Deadline:
    """What :meth:`Chromium.deadline` did: nothing, or killed the browser (and driver)."""

    expired: bool = False
    browser_was_dead: bool = False  # it had died by itself before the deadline
    driver_killed: bool = False


def _alive(pid: int | None) -> bool:
    """The process exists and is not a zombie (a killed browser nobody reaped yet)."""
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _descendants(marker: str) -> Iterator[int]:
    """Processes below this one whose command line contains ``marker``."""
    for pid, command in _process_tree():
        if marker.encode() in command:
            yield pid


def _process_tree() -> Iterator[tuple[int, bytes]]:
    """(pid, command line) of every process below this one."""
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
        ancestor = parents.get(pid)
        while ancestor and ancestor != own:
            ancestor = parents.get(ancestor)
        if ancestor == own:
            yield pid, command


def _browser_processes() -> Iterator[int]:
    """Chromium browser processes below this one (Playwright's driver launched them).

    Playwright drives Chromium over ``--remote-debugging-pipe``; renderers and helpers
    carry ``--type=``, the browser process does not.
    """
    for pid, command in _process_tree():
        if b"--remote-debugging-pipe" in command and b"--type=" not in command:
            yield pid
