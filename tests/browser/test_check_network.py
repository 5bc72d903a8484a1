"""A checked page reaches nothing but the check's route: every way out a page has (WebRTC
with STUN and TURN servers, WebSockets, WebTransport, fetch, images, EventSource, beacons,
DNS prefetch, preconnect, prefetch, from the page, an iframe and a worker) is tried
against TCP and UDP listeners on this machine's loopback, and nothing arrives.

The page is served as it is (no CSP: the browser itself must hold). A control run with
the one WebRTC flag left out shows the page really sends, so the listeners would see it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import CHROMIUM
from services import missing

from worker.check.boot import BootChecker
from worker.check.browser import Chromium, browser_flags
from worker.check.visit import ORIGIN
from worker.models import Check
from worker.storage import LocalStore, StoredObject

pytestmark = [pytest.mark.browser]

HOSTS = ("127.0.0.1", "127.0.0.2")  # both loopback: nothing here leaves this machine
WEBRTC_FLAG = "--webrtc-ip-handling-policy=disable_non_proxied_udp"
TRYING_MS = 2500  # the page keeps itself busy this long, so every attempt has time to send
ESCAPE_JS = (Path(__file__).parent / "escape.js").read_text("utf-8")


@dataclass
class Listeners:
    """A TCP and a UDP socket on each loopback address; what reached any of them."""

    tcp: dict[str, int] = field(default_factory=dict)
    udp: dict[str, int] = field(default_factory=dict)
    arrived: list[str] = field(default_factory=list)
    _sockets: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def open(self) -> None:
        for host in HOSTS:
            tcp = socket.socket()
            tcp.bind((host, 0))
            tcp.listen(16)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((host, 0))
            self.tcp[host], self.udp[host] = tcp.getsockname()[1], udp.getsockname()[1]
            for sock in (tcp, udp):
                sock.settimeout(0.1)
                self._sockets.append(sock)
                threading.Thread(target=self._listen, args=(sock,), daemon=True).start()

    def _listen(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                if sock.type == socket.SOCK_STREAM:
                    conn, peer = sock.accept()
                    self.arrived.append(f"tcp {sock.getsockname()} from {peer}")
                    conn.close()
                else:
                    data, peer = sock.recvfrom(2048)
                    self.arrived.append(f"udp {sock.getsockname()} from {peer}: {data[:8]!r}")

    def close(self) -> None:
        self._stop.set()
        time.sleep(0.2)
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def listeners() -> Iterator[Listeners]:
    opened = Listeners()
    opened.open()
    yield opened
    opened.close()


def escape_page(ports: Listeners) -> str:
    """A page that tries every way out it has (``escape.js``) towards the listeners; its
    head asks for DNS prefetch, preconnect, prefetch and a speculative prefetch."""
    tcp, udp = ports.tcp, ports.udp
    first = HOSTS[0]
    links = "".join(
        f'<link rel="dns-prefetch" href="//{h}:{tcp[h]}">'
        f'<link rel="preconnect" href="http://{h}:{tcp[h]}">'
        f'<link rel="preconnect" href="https://{h}:{tcp[h]}" crossorigin>'
        f'<link rel="prefetch" href="http://{h}:{tcp[h]}/prefetch">'
        for h in HOSTS
    )
    rules = {"prefetch": [{"source": "list", "urls": [f"http://{first}:{tcp[first]}/rules"]}]}
    urls = [f"{scheme}://{h}:{tcp[h]}" for h in HOSTS for scheme in ("http", "https")]
    config = {
        "urls": [*urls, f"http://localhost:{tcp[first]}"],
        "sockets": [f"{scheme}://{h}:{tcp[h]}/" for h in HOSTS for scheme in ("ws", "wss")],
        "ice": [
            {
                "urls": [
                    f"stun:{h}:{udp[h]}",
                    f"turn:{h}:{udp[h]}?transport=udp",
                    f"turn:{h}:{tcp[h]}?transport=tcp",
                    f"turns:{h}:{tcp[h]}?transport=tcp",
                ],
                "username": "u",
                "credential": "p",
            }
            for h in HOSTS
        ],
        "webtransport": f"https://{first}:{udp[first]}/",
        "tryingMs": TRYING_MS,
    }
    return (
        f'<!doctype html><html><head><meta charset="utf-8">{links}'
        f'<script type="speculationrules">{json.dumps(rules)}</script></head>'
        f'<body><div id="root">trying every way out</div>'
        f'<img src="http://{first}:{tcp[first]}/image.png">'
        f"<script>window.ESCAPE = {json.dumps(config)};\n{ESCAPE_JS}</script>"
        "</body></html>"
    )


def check_in_thread(store: LocalStore, index_key: str) -> Check:
    """One boot check in a thread of its own (the sync API allows one Playwright per
    thread, and this module's neighbours may hold the session's browser)."""
    checks: list[Check] = []

    def run() -> None:
        checker = BootChecker(Chromium(CHROMIUM), store, timeout_s=10)
        try:
            checks.append(checker.check(index_key)[0])
        finally:
            checker.close()

    thread = threading.Thread(target=run, name="check-under-test")
    thread.start()
    thread.join(60)
    (check,) = checks
    return check


def test_nothing_a_checked_page_tries_reaches_a_local_listener(listeners, tmp_path: Path):
    if not CHROMIUM.exists():
        missing("Chromium", "install it (Debian: apt-get install chromium)")
    store = LocalStore(tmp_path / "artifacts")
    index_key = "sessions/escape/renders/1/index.html"
    store.put_many(
        [
            StoredObject(
                index_key, escape_page(listeners).encode(), "text/html; charset=utf-8", "no-cache"
            )
        ]
    )

    check = check_in_thread(store, index_key)
    time.sleep(0.5)  # anything still on its way

    assert listeners.arrived == []
    # The page did try: every HTTP attempt reached the route, which aborted it.
    blocked = " ".join(check.blocked_requests)
    for host in HOSTS:
        assert f"http://{host}:{listeners.tcp[host]}/fetch" in blocked, blocked
    assert f"http://{HOSTS[0]}:{listeners.tcp[HOSTS[0]]}/image.png" in blocked


def test_without_the_webrtc_flag_the_same_page_sends_udp(listeners):
    """The control: the page's WebRTC attempt is real, and the flag is what stops it."""
    if not CHROMIUM.exists():
        missing("Chromium", "install it (Debian: apt-get install chromium)")
    flags = [f for f in browser_flags() if f != WEBRTC_FLAG]
    assert len(flags) == len(browser_flags()) - 1
    html = escape_page(listeners).encode()

    def run() -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags)
            try:
                page = browser.new_page()
                page.route(
                    "**/*",
                    lambda route: (
                        route.fulfill(body=html, content_type="text/html")
                        if route.request.url.startswith(ORIGIN)
                        else route.abort()
                    ),
                )
                page.goto(ORIGIN + "page.html")
                page.wait_for_timeout(TRYING_MS)
            finally:
                browser.close()

    thread = threading.Thread(target=run, name="control")
    thread.start()
    thread.join(60)
    assert any(a.startswith("udp") for a in listeners.arrived), listeners.arrived
