"""One visit of a version's page in a fresh browser context: serve it, watch it, picture it.

A :class:`Tab` is a new Chromium context and page whose requests are answered from the
artifact store on a synthetic origin (``https://stage-check.invalid/`` + store key; only
the version's folder and ``vendor/`` are readable) and whose every other request is
aborted and listed. It can be opened ahead of time (between
checks), then serves exactly one :class:`Visit`, then is closed: no cookie, storage or
cache outlives a check. Runtime errors are mapped through the version's source maps.

A visit reads the page and the files it names from the store in background threads as
soon as it starts, because Playwright answers routes on one thread: a store read inside
a route handler would hold every other request of the page behind it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import logging
import posixpath
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from typing import TYPE_CHECKING

from bundler.artifacts import content_type_for
from worker.check.sourcemap import SourceMap, map_stack
from worker.errors import StorageError
from worker.logs import ms_since
from worker.models import CheckError
from worker.storage import ArtifactStore

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Route, ViewportSize

__all__ = [
    "ORIGIN",
    "PageReport",
    "Tab",
    "Visit",
    "VIEWPORT",
    "QUIET_MS",
    "SETTLE_MAX_MS",
    "MAX_UNSTYLED_CLASSES",
    "TIMER_HORIZON_MS",
]

log = logging.getLogger("stage.check")  # the checker's logger

ORIGIN = "https://stage-check.invalid/"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
QUIET_MS = 100  # no DOM change, request, short timer or ending animation: settled
TIMER_HORIZON_MS = 500  # a pending setTimeout this short ("loading…" for a moment) is waited for
SETTLE_MAX_MS = 3000  # a clock or an animation never goes quiet; look at it after this
_READ_THREADS = 4  # store reads of one page run side by side
_MAX_ERRORS = 50  # a page logging in a loop does not grow the record without bound
_MAX_TEXT = 4000  # characters kept of one message or stack
_SHARED_CACHE_LIMIT = 64  # content-hashed shared files (vendor chunks, their maps) kept
_SHARED_PREFIX = "vendor/"  # vendor chunks and the overlay, shared by every version
_RESOURCE_FAILURE = "Failed to load resource:"  # Chromium's own line for a blocked request
MAX_UNSTYLED_CLASSES = 50  # enough to see what was lost; a record stays small


def _script(name: str) -> str:
    """A page script of ``scripts/``, without its leading comment lines."""
    source = resources.files("worker.check").joinpath("scripts", f"{name}.js").read_text("utf-8")
    return "\n".join(line for line in source.splitlines() if not line.startswith("//")).strip()


# The page scripts (scripts/*.js, package data): watch.js is installed before any page
# script (when the DOM last changed, short timers due, rejections, and ``settle``);
# settle.js waits for quiet; inspect.js looks at the settled page in one round trip.
_WATCH = f"({_script('watch')})({TIMER_HORIZON_MS});"
_SETTLE = _script("settle")
_INSPECT = _script("inspect")
# Class names in the DOM that no stylesheet defines (a lost theme or config shows here).
_UNSTYLED = _script("unstyled")


@dataclass
class PageReport:
    """What one visit saw, before anything is stored."""

    errors: list[CheckError] = field(default_factory=list)
    blank: bool = False
    blocked_requests: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    unstyled_classes: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return self.timed_out or self.blank or bool(self.errors)


class _SharedFiles:
    """Vendor chunks and the overlay are content-hashed: read once per process, not per check."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str, read: Callable[[str], bytes]) -> bytes:
        with self._lock:
            if key in self._files:
                return self._files[key]
        body = read(key)
        with self._lock:
            if len(self._files) >= _SHARED_CACHE_LIMIT:
                self._files.pop(next(iter(self._files)))
            self._files[key] = body
        return body


_shared = _SharedFiles()
_reads = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="stage-check-read")


class _Names(HTMLParser):
    """The files a page loads as it starts: its scripts, stylesheets and preloads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        ref = (
            values.get("src") if tag == "script" else values.get("href") if tag == "link" else None
        )
        if ref and not re.match(r"^([a-z][a-z0-9+.-]*:|//)", ref, re.IGNORECASE):
            self.refs.append(ref)


def _named_by(page_key: str, html: bytes) -> list[str]:
    """Store keys of the relative references in the page at ``page_key``."""
    names = _Names()
    names.feed(html.decode("utf-8", "replace"))
    names.close()
    folder = posixpath.dirname(page_key)
    keys = [
        posixpath.normpath(posixpath.join(folder, ref.split("?", 1)[0].split("#", 1)[0]))
        for ref in names.refs
    ]
    return list(dict.fromkeys(k for k in keys if not k.startswith("..")))


class Visit:
    """One page in a fresh context: the route, the listeners and what they collected."""

    def __init__(self, store: ArtifactStore, folder: str) -> None:
        self.store = store
        self.folder = folder  # the version's folder: with vendor/, all the page may read
        self.report = PageReport()
        self.pending = 0
        self.last_request = time.perf_counter()
        self.scripts: dict[str, bytes] = {}  # URL → body, for their source maps
        self._maps: dict[str, SourceMap | None] = {}
        self._reading: dict[str, Future[bytes | None]] = {}  # started ahead of the route
        self._reading_lock = threading.Lock()

    def read_ahead(self, index_key: str) -> None:
        """Start reading the page, then every file it names, in background threads."""

        def read_named(body: bytes) -> None:
            for key in _named_by(index_key, body):
                self._start_read(key)

        self._start_read(index_key, then=read_named)

    def _start_read(self, key: str, then: Callable[[bytes], None] | None = None) -> None:
        if not self._readable(key):
            return
        with self._reading_lock:
            if key in self._reading:
                return

            def read() -> bytes | None:
                body = self._read_now(key)
                if body is not None and then is not None:
                    try:
                        then(body)
                    except Exception:  # reading ahead is only ever a head start
                        log.exception("check: could not read ahead what %s names", key)
                return body

            self._reading[key] = _reads.submit(read)

    # -- serving ------------------------------------------------------------------------
    def route(self, route: Route) -> None:
        # Every request of the page comes through here and is answered in full before this
        # returns: a request is pending exactly while its route is.
        self.pending += 1
        self.last_request = time.perf_counter()
        try:
            self._answer(route)
        finally:
            self.pending -= 1
            self.last_request = time.perf_counter()

    def _answer(self, route: Route) -> None:
        url = route.request.url
        if not url.startswith(ORIGIN):
            if len(self.report.blocked_requests) < _MAX_ERRORS:
                self.report.blocked_requests.append(url[:_MAX_TEXT])
            # A navigation aborted as blocked commits Chromium's error page in place of the
            # app; one cancelled ("aborted") leaves the page where it was.
            route.abort("aborted" if route.request.is_navigation_request() else "blockedbyclient")
            return
        key = _key(url)
        body = self.read(key) if key is not None and self._readable(key) else None
        if key is None or body is None:
            route.fulfill(status=404, body=b"", headers={"content-type": "text/plain"})
            return
        if key.endswith(".js"):
            self.scripts[url.split("?", 1)[0].split("#", 1)[0]] = body
        route.fulfill(status=200, body=body, headers={"content-type": content_type_for(key)})

    def _readable(self, key: str) -> bool:
        return key.startswith((self.folder, _SHARED_PREFIX))

    def read(self, key: str) -> bytes | None:
        """The stored file at ``key`` (None when it cannot be read), read ahead or now."""
        with self._reading_lock:
            ahead = self._reading.get(key)
        return ahead.result() if ahead is not None else self._read_now(key)

    def _read_now(self, key: str) -> bytes | None:
        try:
            if key.startswith(_SHARED_PREFIX):
                return _shared.get(key, self.store.get)
            return self.store.get(key)
        except StorageError:
            return None

    # -- listening ----------------------------------------------------------------------
    def on_page_error(self, error: Error) -> None:
        stack = str(getattr(error, "stack", "") or "")
        self._add("pageerror", str(getattr(error, "message", "") or error), stack)

    def mark_rejections(self, reasons: list[str]) -> None:
        """Relabel the page errors that were unhandled rejections."""
        self.report.errors = [
            dataclasses.replace(e, kind="unhandledrejection")
            if e.kind == "pageerror" and e.message in reasons
            else e
            for e in self.report.errors
        ]

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error" or message.text.startswith(_RESOURCE_FAILURE):
            return
        location = message.location or {}
        stack = ""
        if location.get("url"):
            # Chromium gives 0-based positions for console calls; stacks are 1-based.
            stack = (
                f"    at {location['url']}:{int(location.get('lineNumber', 0)) + 1}:"
                f"{int(location.get('columnNumber', 0)) + 1}"
            )
        self._add("console.error", message.text, stack)

    def _add(self, kind: str, message: str, stack: str) -> None:
        errors = self.report.errors
        if len(errors) >= _MAX_ERRORS:
            return
        position = map_stack(stack, self.source_map, _is_session_file)
        error = CheckError(
            kind,
            message[:_MAX_TEXT],
            stack[:_MAX_TEXT],
            position.source if position else None,
            position.line if position else None,
            position.column if position else None,
        )
        # React logs an error it caught and then throws it again: one error, not two.
        if any(
            e.message == error.message and e.file == error.file and e.line == error.line
            for e in errors
        ):
            return
        errors.append(error)

    def source_map(self, url: str) -> SourceMap | None:
        if url not in self._maps:
            self._maps[url] = self._load_map(url)
        return self._maps[url]

    def _load_map(self, url: str) -> SourceMap | None:
        script = self.scripts.get(url)
        key = _key(url)
        if script is None or key is None:
            return None
        found = re.search(rb"//# sourceMappingURL=(\S+)\s*$", script[-500:])
        if found is None:
            return None
        map_key = posixpath.normpath(
            posixpath.join(posixpath.dirname(key), found[1].decode("utf-8", "replace"))
        )
        body = self.read(map_key)
        if body is None:
            return None
        try:
            return SourceMap.parse(body)
        except ValueError as exc:
            log.warning("check: unreadable source map %s: %s", map_key, exc)
            return None


class Tab:
    """A fresh context and page, opened ahead of its one visit, wired to whichever
    :class:`Visit` it serves (``None`` until then: requests before that are aborted)."""

    def __init__(self, browser: Browser, launch: int) -> None:
        self.launch = launch  # which browser launch it belongs to: stale after a restart
        self.visit: Visit | None = None
        self.context = browser.new_context(
            viewport=VIEWPORT, service_workers="block", accept_downloads=False
        )
        try:
            self.context.route("**/*", self._route)
            self.context.add_init_script(_WATCH)
            self.page = self.context.new_page()
            self.cdp = self.context.new_cdp_session(self.page)
            # An empty page on the check's origin: the renderer process for that site starts
            # now, not while the version's page is timed (Chromium gives each site its own).
            self.page.goto(ORIGIN, wait_until="commit")
        except BaseException:
            self.close()
            raise
        page = self.page
        page.on("popup", lambda popup: popup.close())
        page.on("dialog", lambda dialog: dialog.dismiss())
        page.on("pageerror", self._page_error)
        page.on("console", self._console)

    def _page_error(self, error: Error) -> None:
        if self.visit is not None:
            self.visit.on_page_error(error)

    def _console(self, message: ConsoleMessage) -> None:
        if self.visit is not None:
            self.visit.on_console(message)

    def _route(self, route: Route) -> None:
        if self.visit is not None:
            self.visit.route(route)
        elif route.request.url == ORIGIN:
            route.fulfill(status=200, body=b"", headers={"content-type": "text/html"})
        else:
            route.abort("blockedbyclient")

    def run(self, visit: Visit, index_key: str, timeout_s: float, started: float) -> None:
        """Load the page, let it settle, inspect it and take its picture, into
        ``visit.report``. Playwright's TimeoutError and Error propagate."""
        self.visit = visit
        report = visit.report
        deadline_ms = timeout_s * 1000
        visit.read_ahead(index_key)
        stage = time.perf_counter()
        self.page.goto(ORIGIN + index_key, wait_until="load", timeout=_left(started, deadline_ms))
        report.timings_ms["load"] = ms_since(stage)

        stage = time.perf_counter()
        _settle(self.page, visit, started, deadline_ms)
        report.timings_ms["settle"] = ms_since(stage)
        report.timings_ms["settled"] = ms_since(started)

        stage = time.perf_counter()
        seen = self.page.evaluate(_INSPECT)
        report.blank = bool(seen["blank"])
        visit.mark_rejections([str(r) for r in seen["rejections"]])
        for url in seen["blockedScripts"]:  # never requested: the shell leaves them out
            if len(report.blocked_requests) < _MAX_ERRORS:
                report.blocked_requests.append(url[:_MAX_TEXT])
        for name, value in seen["timings"].items():
            if value is not None:
                report.timings_ms[name] = round(float(value), 2)
        unstyled = self.page.evaluate(_UNSTYLED, MAX_UNSTYLED_CLASSES)
        report.unstyled_classes = [str(name) for name in unstyled["classes"]]
        report.timings_ms["inspect"] = ms_since(stage)

        stage = time.perf_counter()
        report.screenshot = self._capture()
        report.timings_ms["screenshot"] = ms_since(stage)

    def _capture(self) -> bytes:
        # Straight to Chromium: one call, no waiting for fonts or animations (the page has
        # settled), and a faster PNG encoder.
        shot = self.cdp.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "optimizeForSpeed": True,
                "captureBeyondViewport": False,
                "clip": {"x": 0, "y": 0, **VIEWPORT, "scale": 1},
            },
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


def _settle(page: Page, visit: Visit, started: float, deadline_ms: float) -> None:
    """Wait until the page is quiet (``QUIET_MS`` without DOM changes, due short timers or
    ending animations) and no request has been pending for as long, at most
    ``SETTLE_MAX_MS``. The page looks at itself (one call, no poller injected into it); a
    page that hangs its main thread is ended by the check's deadline."""
    limit = time.perf_counter() + min(SETTLE_MAX_MS, _left(started, deadline_ms)) / 1000
    while (left_ms := (limit - time.perf_counter()) * 1000) > 0:
        if not page.evaluate(_SETTLE, [QUIET_MS, left_ms]):
            return  # still changing: look at it as it is
        quiet_for = (time.perf_counter() - visit.last_request) * 1000
        if visit.pending == 0 and quiet_for >= QUIET_MS:
            return
        page.wait_for_timeout(max(10.0, min(QUIET_MS - quiet_for, left_ms)))


def _key(url: str) -> str | None:
    """The store key behind a URL on the check's origin (None off it or outside the store)."""
    if not url.startswith(ORIGIN):
        return None
    path = url[len(ORIGIN) :].split("?", 1)[0].split("#", 1)[0]
    normal = posixpath.normpath("/" + path).lstrip("/")
    return normal or None


def _is_session_file(source: str) -> bool:
    return source.startswith("/") and "/node_modules/" not in source


def _left(started: float, deadline_ms: float) -> float:
    return max(1.0, deadline_ms - ms_since(started))
