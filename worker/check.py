"""The boot check of one version: open its page in Chromium, watch it start, photograph it.

The page is served to Chromium from the artifact store itself: a synthetic origin
(``https://stage-check.invalid/``) whose paths are store keys, answered by a Playwright
route that reads :meth:`ArtifactStore.get`. Nothing else is served; every other request
is aborted and listed, so a check needs no public host and reaches no network.

What it reports (a :class:`worker.models.Check`): runtime errors (uncaught exceptions,
unhandled rejections, ``console.error``) mapped through the version's source maps to the
session file, line and column; whether the root shows nothing; the requests it blocked;
timings; and two PNGs, the page at 1280 x 800 and a 320 x 200 thumbnail.
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
from dataclasses import dataclass, field
from typing import Any

from bundler.artifacts import content_type_for
from worker.browser import BrowserCrashed, Chromium
from worker.errors import StorageError
from worker.models import Check, CheckError, utc_now
from worker.sourcemap import SourceMap, map_stack
from worker.storage import CACHE_REVALIDATE, ArtifactStore, StoredObject

__all__ = ["ORIGIN", "PageReport", "check_page", "run_check", "store_screenshots",
           "SCREENSHOT", "THUMBNAIL"]

log = logging.getLogger("stage.check")

ORIGIN = "https://stage-check.invalid/"
VIEWPORT = {"width": 1280, "height": 800}
THUMBNAIL_SCALE = 0.25  # 320 x 200, captured by Chromium from the same page
SCREENSHOT = "check/screenshot.png"  # beside the version's index.html
THUMBNAIL = "check/thumbnail.png"
QUIET_MS = 300  # no DOM change and no request for this long: the page has settled
SETTLE_MAX_MS = 3000  # a clock or an animation never goes quiet; look at it after this
_MAX_ERRORS = 50  # a page logging in a loop does not grow the record without bound
_MAX_TEXT = 4000  # characters kept of one message or stack
_SHARED_CACHE_LIMIT = 64  # content-hashed shared files (vendor chunks, their maps) kept
_RESOURCE_FAILURE = "Failed to load resource:"  # Chromium's own line for a blocked request

# Installed before any page script: when the DOM last changed, and which uncaught errors
# were rejections (Chromium reports both as page errors).
_WATCH = """
(() => {
  const state = { lastChange: performance.now(), rejections: [] };
  Object.defineProperty(window, "__stageCheck", { value: state });
  new MutationObserver(() => { state.lastChange = performance.now(); })
    .observe(document, { subtree: true, childList: true, attributes: true,
                         characterData: true });
  addEventListener("unhandledrejection", event => {
    const reason = event.reason;
    state.rejections.push(reason instanceof Error ? reason.message : String(reason));
  });
})();
"""
_QUIET = "ms => performance.now() - window.__stageCheck.lastChange >= ms"
# Anything visible inside #root: text, media, or a box with a background or a border.
_BLANK = """
() => {
  const root = document.getElementById("root");
  if (!root) return true;
  const shown = e => e.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  const sized = r => r.width > 0 && r.height > 0;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || !shown(n.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    if (sized(range.getBoundingClientRect())) return false;
  }
  for (const e of root.querySelectorAll("*")) {
    if (!sized(e.getBoundingClientRect()) || !shown(e)) continue;
    if (/^(IMG|SVG|CANVAS|VIDEO|IFRAME|INPUT|TEXTAREA|SELECT|BUTTON|svg)$/.test(e.tagName))
      return false;
    const s = getComputedStyle(e);
    if (s.backgroundImage !== "none") return false;
    if (!/^rgba\\(.*, 0\\)$|^transparent$/.test(s.backgroundColor)) return false;
    if (["Top", "Right", "Bottom", "Left"].some(
        side => parseFloat(s["border" + side + "Width"]) > 0 &&
                s["border" + side + "Style"] !== "none")) return false;
  }
  return true;
}
"""
_TIMINGS = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return { domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
           firstContentfulPaint: fcp ? fcp.startTime : null };
}
"""


@dataclass
class PageReport:
    """What one visit saw, before anything is stored."""

    errors: list[CheckError] = field(default_factory=list)
    blank: bool = False
    blocked_requests: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    screenshot: bytes = b""
    thumbnail: bytes = b""
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


class _Visit:
    """One page in a fresh context: the route, the listeners and what they collected."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self.report = PageReport()
        self.pending = 0
        self.last_request = time.perf_counter()
        self.scripts: dict[str, bytes] = {}  # URL → body, for their source maps
        self._maps: dict[str, SourceMap | None] = {}

    # -- serving ------------------------------------------------------------------------
    def route(self, route: Any) -> None:
        url = route.request.url
        if not url.startswith(ORIGIN):
            if len(self.report.blocked_requests) < _MAX_ERRORS:
                self.report.blocked_requests.append(url[:_MAX_TEXT])
            route.abort("blockedbyclient")
            return
        key = _key(url)
        body = self.read(key) if key is not None else None
        if key is None or body is None:
            route.fulfill(status=404, body=b"", headers={"content-type": "text/plain"})
            return
        if key.endswith(".js"):
            self.scripts[url.split("?", 1)[0].split("#", 1)[0]] = body
        route.fulfill(status=200, body=body, headers={"content-type": content_type_for(key)})

    def read(self, key: str) -> bytes | None:
        try:
            if key.startswith("vendor/"):
                return _shared.get(key, self.store.get)
            return self.store.get(key)
        except StorageError:
            return None

    # -- listening ----------------------------------------------------------------------
    def on_page_error(self, error: Any) -> None:
        stack = str(getattr(error, "stack", "") or "")
        self._add("pageerror", str(getattr(error, "message", "") or error), stack)

    def mark_rejections(self, reasons: list[str]) -> None:
        """Relabel the page errors that were unhandled rejections."""
        self.report.errors = [
            dataclasses.replace(e, kind="unhandledrejection")
            if e.kind == "pageerror" and e.message in reasons else e
            for e in self.report.errors]

    def on_console(self, message: Any) -> None:
        if message.type != "error" or message.text.startswith(_RESOURCE_FAILURE):
            return
        location = message.location or {}
        stack = ""
        if location.get("url"):
            # Chromium gives 0-based positions for console calls; stacks are 1-based.
            stack = (f"    at {location['url']}:{int(location.get('lineNumber', 0)) + 1}:"
                     f"{int(location.get('columnNumber', 0)) + 1}")
        self._add("console.error", message.text, stack)

    def on_request(self, _: Any) -> None:
        self.pending += 1
        self.last_request = time.perf_counter()

    def on_request_done(self, _: Any) -> None:
        self.pending = max(0, self.pending - 1)
        self.last_request = time.perf_counter()

    def _add(self, kind: str, message: str, stack: str) -> None:
        errors = self.report.errors
        if len(errors) >= _MAX_ERRORS:
            return
        position = map_stack(stack, self.source_map, _is_session_file)
        error = CheckError(kind, message[:_MAX_TEXT], stack[:_MAX_TEXT],
                           position.source if position else None,
                           position.line if position else None,
                           position.column if position else None)
        # React logs an error it caught and then throws it again: one error, not two.
        if any(e.message == error.message and e.file == error.file and e.line == error.line
               for e in errors):
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
        map_key = posixpath.normpath(posixpath.join(posixpath.dirname(key),
                                                    found[1].decode("utf-8", "replace")))
        body = self.read(map_key)
        if body is None:
            return None
        try:
            return SourceMap.parse(body)
        except ValueError as exc:
            log.warning("check: unreadable source map %s: %s", map_key, exc)
            return None


def check_page(chromium: Chromium, store: ArtifactStore, index_key: str,
               timeout_s: float) -> PageReport:
    """Open ``index_key`` (relative to the store's prefix) and report what it did.

    Raises BrowserCrashed when Chromium died by itself. A page that has not settled when
    ``timeout_s`` runs out has its browser killed (the next use launches another) and is
    reported ``timed_out``.
    """
    started = time.perf_counter()
    visit = _Visit(store)
    report = visit.report
    browser = chromium.browser
    from playwright.sync_api import Error, TimeoutError

    with chromium.deadline(timeout_s) as expired:
        try:
            _visit(browser, visit, index_key, started, timeout_s)
        except TimeoutError:
            report.timed_out = True  # the driver's own timeout, the page still answers
        except Error as exc:
            if not expired.expired or expired.browser_was_dead:
                chromium.restart()
                first_line = exc.message.splitlines()[0] if exc.message else type(exc).__name__
                raise BrowserCrashed(f"Chromium died during the check: {first_line}") from exc
            report.timed_out = True
    if report.timed_out:
        chromium.restart()  # a page that hung its renderer may hang the next one too
    report.timings_ms["total"] = _ms_since(started)
    return report


def _visit(browser: Any, visit: _Visit, index_key: str, started: float,
           timeout_s: float) -> None:
    deadline_ms = timeout_s * 1000
    report = visit.report
    stage = time.perf_counter()
    context = browser.new_context(viewport=VIEWPORT, service_workers="block",
                                  accept_downloads=False, java_script_enabled=True)
    try:
        context.route("**/*", visit.route)
        context.add_init_script(_WATCH)
        main = context.new_page()
        main.on("popup", lambda popup: popup.close())
        main.on("pageerror", visit.on_page_error)
        main.on("console", visit.on_console)
        main.on("dialog", lambda dialog: dialog.dismiss())
        main.on("request", visit.on_request)
        main.on("requestfinished", visit.on_request_done)
        main.on("requestfailed", visit.on_request_done)
        report.timings_ms["context"] = _ms_since(stage)

        stage = time.perf_counter()
        main.goto(ORIGIN + index_key, wait_until="load",
                  timeout=max(1.0, deadline_ms - _ms_since(started)))
        report.timings_ms["load"] = _ms_since(stage)

        stage = time.perf_counter()
        _settle(main, visit, started, deadline_ms)
        report.timings_ms["settle"] = _ms_since(stage)
        report.timings_ms["settled"] = _ms_since(started)

        stage = time.perf_counter()
        report.blank = bool(main.evaluate(_BLANK))
        visit.mark_rejections(main.evaluate("window.__stageCheck.rejections"))
        for name, value in main.evaluate(_TIMINGS).items():
            if value is not None:
                report.timings_ms[name] = round(float(value), 2)
        report.timings_ms["inspect"] = _ms_since(stage)

        stage = time.perf_counter()
        report.screenshot = main.screenshot(type="png", timeout=_left(started, deadline_ms))
        session = context.new_cdp_session(main)
        shot = session.send("Page.captureScreenshot", {
            "format": "png", "clip": {"x": 0, "y": 0, **VIEWPORT, "scale": THUMBNAIL_SCALE}})
        report.thumbnail = base64.b64decode(shot["data"])
        report.timings_ms["screenshot"] = _ms_since(stage)
    finally:
        with contextlib.suppress(Exception):
            context.close()


def _settle(page: Any, visit: _Visit, started: float, deadline_ms: float) -> None:
    """Wait for ``QUIET_MS`` without DOM changes or requests, at most ``SETTLE_MAX_MS``."""
    from playwright.sync_api import TimeoutError

    limit = time.perf_counter() + min(SETTLE_MAX_MS, _left(started, deadline_ms)) / 1000
    while (left_ms := (limit - time.perf_counter()) * 1000) > 0:
        try:
            page.wait_for_function(_QUIET, arg=QUIET_MS, polling=50, timeout=max(1.0, left_ms))
        except TimeoutError:
            return  # still changing: look at it as it is
        quiet_for = (time.perf_counter() - visit.last_request) * 1000
        if visit.pending == 0 and quiet_for >= QUIET_MS:
            return
        page.wait_for_timeout(max(10.0, min(QUIET_MS - quiet_for, left_ms)))


def run_check(chromium: Chromium, store: ArtifactStore, index_key: str,
              timeout_s: float) -> tuple[Check, PageReport | None]:
    """A check as recorded: the page checked (Chromium retried once if it died) and its
    screenshots stored beside ``index_key``. ``error`` when the checker itself failed."""
    report: PageReport | None = None
    for attempt in (1, 2):
        try:
            report = check_page(chromium, store, index_key, timeout_s)
            break
        except BrowserCrashed as exc:
            log.warning("check: %s (attempt %d of 2)", exc, attempt)
            failure = str(exc)
    if report is None:
        return Check("error", checked_at=utc_now(), message=failure), None
    message = None
    if report.timed_out:
        message = f"did not settle in {timeout_s:g} s"
    elif report.blank:
        message = "the page shows nothing: #root has no visible content"
    shots: dict[str, str] = {}
    if report.screenshot:
        started = time.perf_counter()
        try:
            shots = store_screenshots(store, index_key, report)
        except StorageError as exc:
            log.warning("check: screenshots not stored: %s", exc)
        report.timings_ms["upload"] = _ms_since(started)
    return Check(
        status="failed" if report.failed else "passed",
        errors=report.errors,
        blank=report.blank,
        blocked_requests=report.blocked_requests,
        timings_ms=report.timings_ms,
        screenshot_url=shots.get("screenshot"),
        thumbnail_url=shots.get("thumbnail"),
        checked_at=utc_now(),
        message=message,
    ), report


def store_screenshots(store: ArtifactStore, index_key: str, report: PageReport) -> dict[str, str]:
    """Put both PNGs beside ``index_key``; their public URLs by name."""
    folder = posixpath.dirname(index_key)
    folder = folder + "/" if folder else ""
    objects = {"screenshot": StoredObject(folder + SCREENSHOT, report.screenshot, "image/png",
                                          CACHE_REVALIDATE),
               "thumbnail": StoredObject(folder + THUMBNAIL, report.thumbnail, "image/png",
                                         CACHE_REVALIDATE)}
    store.put_many(list(objects.values()))
    return {name: store.url_for(obj.key) for name, obj in objects.items()}


def _key(url: str) -> str | None:
    """The store key behind a URL on the check's origin (None off it or outside the store)."""
    if not url.startswith(ORIGIN):
        return None
    path = url[len(ORIGIN):].split("?", 1)[0].split("#", 1)[0]
    normal = posixpath.normpath("/" + path).lstrip("/")
    return normal or None


def _is_session_file(source: str) -> bool:
    return source.startswith("/") and "/node_modules/" not in source


def _left(started: float, deadline_ms: float) -> float:
    return max(1.0, deadline_ms - _ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
