"""The boot check of one version: open its page in Chromium, watch it start, picture it.

:class:`BootChecker` keeps one Chromium and, between checks, the next check's fresh
context already open (:meth:`BootChecker.prepare`), so a warm check pays for loading the
page and nothing else. The page is served from the artifact store on a synthetic origin
(:mod:`worker.check.visit`); nothing else is reachable. What it reports is a
:class:`worker.models.Check`: runtime errors mapped to the session file, line and column,
whether the root shows nothing, the requests it blocked, timings, and two PNGs (the page at
1280 x 800 and a 320 x 200 thumbnail reduced from it) stored beside the version's
``index.html``.
"""

from __future__ import annotations

import io
import logging
import posixpath
import time
from concurrent.futures import ThreadPoolExecutor

from worker.check.browser import Chromium
from worker.check.visit import PageReport, Tab, Visit
from worker.errors import BrowserCrashed, StorageError
from worker.logs import ms_since
from worker.models import Check, utc_now
from worker.storage import CACHE_REVALIDATE, ArtifactStore, StoredObject

__all__ = ["BootChecker", "SCREENSHOT", "THUMBNAIL", "BLANK_MESSAGE", "thumbnail_of"]

log = logging.getLogger("stage.check")

SCREENSHOT = "check/screenshot.png"  # beside the version's index.html
THUMBNAIL = "check/thumbnail.png"
BLANK_MESSAGE = "the page shows nothing: #root has no visible content"
ATTEMPTS = 2  # Chromium dying mid-check is retried once on a new browser, then `error`
THUMBNAIL_REDUCE = 4  # 320 x 200 from the screenshot: a second capture would cost a frame

_uploads = ThreadPoolExecutor(1, thread_name_prefix="stage-check-upload")


class BootChecker:
    """Checks versions in one Chromium; ``timeout_s`` bounds each visit (STAGE_CHECK_TIMEOUT_S)."""

    def __init__(self, chromium: Chromium, store: ArtifactStore, timeout_s: float) -> None:
        self.chromium = chromium
        self.store = store
        self.timeout_s = timeout_s
        self._spare: Tab | None = None
        self._used: list[Tab] = []

    def check(self, index_key: str) -> tuple[Check, PageReport | None]:
        """Check the page at ``index_key`` (relative to the store's prefix) and store its
        pictures. ``error`` (and no report) when Chromium died on every attempt."""
        started = time.perf_counter()
        failure = ""
        report: PageReport | None = None
        for attempt in range(1, ATTEMPTS + 1):
            try:
                report = self._visit(index_key)
                break
            except BrowserCrashed as exc:
                log.warning("check: %s (attempt %d of %d)", exc, attempt, ATTEMPTS)
                failure = str(exc)
        if report is None:
            return Check("error", checked_at=utc_now(), message=failure), None
        message = None
        if report.timed_out:
            message = f"did not settle in {self.timeout_s:g} s"
        elif report.blank:
            message = BLANK_MESSAGE
        pictures: dict[str, str] = {}
        if report.screenshot:
            stage = time.perf_counter()
            try:
                pictures = self._store_pictures(index_key, report)
            except StorageError as exc:
                log.warning("check: pictures not stored: %s", exc)
            report.timings_ms["upload"] = ms_since(stage)
        report.timings_ms["total"] = ms_since(started)  # every attempt, pictures stored
        return Check(
            status="failed" if report.failed else "passed",
            errors=report.errors,
            blank=report.blank,
            blocked_requests=report.blocked_requests,
            timings_ms=report.timings_ms,
            screenshot_url=pictures.get("screenshot"),
            thumbnail_url=pictures.get("thumbnail"),
            checked_at=utc_now(),
            message=message,
            unstyled_classes=report.unstyled_classes,
        ), report

    def prepare(self) -> None:
        """Between checks: close used contexts and open the next check's. Never raises;
        a browser that fails here is launched again by the next check."""
        from playwright.sync_api import Error

        for tab in self._used:
            tab.close()
        self._used.clear()
        if self._spare is not None:
            return
        try:
            with self.chromium.deadline(self.timeout_s):
                self._spare = Tab(self.chromium.browser, self.chromium.launches)
        except (Error, BrowserCrashed) as exc:
            log.warning("check: could not open the next context ahead: %s", exc)
            self.chromium.restart()

    def close(self) -> None:
        for tab in [*self._used, *([self._spare] if self._spare else [])]:
            tab.close()
        self._used.clear()
        self._spare = None
        self.chromium.close()

    def _visit(self, index_key: str) -> PageReport:
        """One visit. Raises BrowserCrashed when Chromium died by itself; a page still not
        settled ``timeout_s`` after its navigation began has its browser killed and is
        ``timed_out``. Launching Chromium and opening the context are not the page's time."""
        from playwright.sync_api import Error, TimeoutError

        started = time.perf_counter()
        folder = posixpath.dirname(index_key)
        visit = Visit(self.store, folder + "/" if folder else "")
        report = visit.report
        tab = self._tab()
        report.timings_ms["context"] = ms_since(started)
        self._used.append(tab)
        navigated = time.perf_counter()
        with self.chromium.deadline(self.timeout_s) as deadline:
            try:
                tab.run(visit, index_key, self.timeout_s, navigated)
            except TimeoutError:
                report.timed_out = True  # the driver's own timeout: the page still answers
            except Error as exc:
                if not deadline.expired or deadline.browser_was_dead:
                    raise self._crashed(exc) from exc
                report.timed_out = True
        if report.timed_out:
            self._forget_tabs()
            self.chromium.restart()  # a page that hung its renderer may hang the next one
        return report

    def _tab(self) -> Tab:
        """The spare tab if it belongs to the running browser, else a new one."""
        from playwright.sync_api import Error

        spare, self._spare = self._spare, None
        try:
            with self.chromium.deadline(self.timeout_s):
                browser = self.chromium.browser  # launches again if the last one died
                if spare is not None and spare.launch == self.chromium.launches:
                    return spare
                if spare is not None:
                    spare.close()
                return Tab(browser, self.chromium.launches)
        except Error as exc:
            raise self._crashed(exc) from exc

    def _crashed(self, exc: Exception) -> BrowserCrashed:
        self._forget_tabs()
        self.chromium.restart()
        message = str(getattr(exc, "message", "") or exc)
        first = message.splitlines()[0] if message else type(exc).__name__
        return BrowserCrashed(f"Chromium died during the check: {first}")

    def _forget_tabs(self) -> None:
        # Their browser is being killed: closing them would only wait on it.
        self._used.clear()
        self._spare = None

    def _store_pictures(self, index_key: str, report: PageReport) -> dict[str, str]:
        """Put the screenshot and its thumbnail beside ``index_key`` (the thumbnail is made
        while the screenshot uploads); their public URLs by name."""
        folder = posixpath.dirname(index_key)
        folder = folder + "/" if folder else ""
        screenshot = StoredObject(
            folder + SCREENSHOT, report.screenshot, "image/png", CACHE_REVALIDATE
        )
        uploading = _uploads.submit(self.store.put_many, [screenshot])
        try:
            thumbnail = StoredObject(
                folder + THUMBNAIL, thumbnail_of(report.screenshot), "image/png", CACHE_REVALIDATE
            )
            self.store.put_many([thumbnail])
        finally:
            uploading.result()
        return {
            name: self.store.url_for(obj.key)
            for name, obj in (("screenshot", screenshot), ("thumbnail", thumbnail))
        }


def thumbnail_of(screenshot: bytes) -> bytes:
    """A PNG screenshot reduced to a quarter each way (each pixel the mean of a 4 x 4 box)."""
    from PIL import Image

    with Image.open(io.BytesIO(screenshot)) as image:
        small = image.reduce(THUMBNAIL_REDUCE)
    out = io.BytesIO()
    small.save(out, "PNG")
    return out.getvalue()
