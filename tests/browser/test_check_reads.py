"""A check reads the page and the files it names from the store ahead of Chromium's
requests, on threads of its own: Playwright answers routes on one thread, so a store read
inside a route handler would hold every other request of the page behind it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundler import Bundler, SourceFile
from worker.check.boot import BootChecker
from worker.check.browser import Chromium
from worker.models import Check
from worker.render.pipeline import RenderInput, build_version, input_hash
from worker.settings import Settings
from worker.storage import LocalStore

pytestmark = [pytest.mark.browser]

APP = {
    "/app/App.tsx": (
        'import "./App.css";\n'
        'import { Badge } from "./Badge";\n'
        "export default function App() {\n"
        "  return <main><h1>Read ahead</h1><Badge /></main>;\n"
        "}\n"
    ),
    "/app/Badge.tsx": "export function Badge() {\n  return <span>new</span>;\n}\n",
    "/app/App.css": "h1 { color: rebeccapurple; }\n",
}


class RecordingStore(LocalStore):
    """A local store that notes which thread read each key first."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.readers: dict[str, str] = {}

    def get(self, key: str) -> bytes:
        self.readers.setdefault(key, threading.current_thread().name)
        return super().get(key)


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[RecordingStore, str]]:
    bundler = Bundler(vendor_cache=tmp_path / "vendor-cache")
    store = RecordingStore(tmp_path / "artifacts")
    try:
        job = RenderInput(
            "reads", 1, "reads", [], [SourceFile(p, t.encode("utf-8")) for p, t in APP.items()]
        )
        built = build_version(job, digest=input_hash(job, bundler), bundler=bundler, store=store)
        assert built.error is None, built.error
        yield store, built.index_key
    finally:
        bundler.close()


def test_the_page_and_every_file_it_names_are_read_on_the_read_threads(stored):
    store, index_key = stored
    folder = index_key.rsplit("/", 1)[0] + "/"
    manifest = json.loads(store.get(folder + "manifest.json"))
    store.readers.clear()
    checks: list[Check] = []

    def check_once() -> None:
        # A thread of its own: the sync API allows one Playwright per thread, and this
        # module's neighbours may hold the session's browser in the main thread.
        checker = BootChecker(Chromium(Settings.from_env().chromium_path), store, timeout_s=10)
        try:
            checks.append(checker.check(index_key)[0])
        finally:
            checker.close()

    thread = threading.Thread(target=check_once, name="check-under-test")
    thread.start()
    thread.join(60)
    (check,) = checks
    assert check.status == "passed", check
    page_files = {
        index_key,
        *(folder + name for name in manifest["scripts"]),
        *(folder + name for name in manifest["styles"]),
    }
    assert page_files <= set(store.readers), store.readers
    off_thread = {
        key: reader
        for key, reader in store.readers.items()
        if not reader.startswith("stage-check-read")
    }
    assert off_thread == {}
