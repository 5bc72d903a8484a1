"""Tailwind apps as a person sees them in Chromium: styled by the classes they use, and
plain apps exactly as the browser styles them (no preflight)."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from stage_samples import SHIFTCAL
from test_pages import Page

from bundler.tailwind import SERVICE_SCRIPT

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ZERO_CONFIG = [
    {
        "path": "/app/App.tsx",
        "content": (
            "export default function App() {\n"
            "  return (\n"
            '    <main data-testid="main" className="flex md:grid gap-4">\n'
            "      <style>{`.inline-styled { outline: 3px solid rgb(1, 2, 3); }`}</style>\n"
            '      <button data-testid="primary" className="bg-primary/90 text-primary-foreground '
            'rounded-lg px-4">Save</button>\n'
            '      <button data-testid="danger" className="bg-destructive hover:bg-red-900">'
            "Delete</button>\n"
            '      <div data-testid="sized" className="w-[137px] inline-styled">x</div>\n'
            '      <div data-testid="row" className="flex items-center">y</div>\n'
            "    </main>\n"
            "  );\n"
            "}\n"
        ),
    }
]

OWN_ENTRY = [
    {
        "path": "/app/App.tsx",
        "content": (
            'import "./globals.css";\n'
            "export default function App() {\n"
            '  return <div data-testid="card" className="card text-brand tab-4 hocus:underline '
            'top-[7px] relative">hi</div>;\n'
            "}\n"
        ),
    },
    {
        "path": "/app/globals.css",
        "content": (
            '@import "tailwindcss";\n'
            "@theme {\n  --color-brand: rgb(10, 120, 30);\n}\n"
            "@custom-variant hocus (&:hover, &:focus);\n"
            "@utility tab-4 {\n  tab-size: 4;\n}\n"
            ".card {\n  @apply p-[11px] bg-brand/50;\n}\n"
        ),
    },
]

PLAIN = [
    {
        "path": "/app/App.tsx",
        "content": ('export default function App() { return <h1 className="title">Plain</h1>; }\n'),
    }
]

# The colour of an element's background as Chromium paints it: [r, g, b, a].
PAINTED = """e => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const context = canvas.getContext("2d");
  context.fillStyle = getComputedStyle(e).backgroundColor;
  context.fillRect(0, 0, 1, 1);
  return Array.from(context.getImageData(0, 0, 1, 1).data);
}"""


@pytest.fixture
def page(browser) -> Iterator[Page]:
    opened = Page(browser, viewport={"width": 1024, "height": 700})
    yield opened
    opened.context.close()


def render(client, files):
    session = client.sessions.create(name="tailwind")
    client.sessions.push_files(session.id, files)
    record = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert record.status == "ready", record.error
    return record


def tailwind_services_under(pid: int) -> list[int]:
    """The Tailwind service processes descending from ``pid`` (a worker and its pool)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                commands[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().decode("utf-8", "replace")
                )
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(child: int) -> bool:
        while child in parents and child != pid:
            child = parents[child]
        return child == pid

    return [p for p, cmd in commands.items() if str(SERVICE_SCRIPT) in cmd and descends(p)]


def test_zero_config_app_is_styled_by_its_classes_and_default_tokens(stack, page):
    client, worker = stack
    record = render(client, ZERO_CONFIG)
    page.open(record.url)
    page.tab.get_by_test_id("main").wait_for()

    assert page.style("row", "display") == "flex"
    assert page.style("row", "align-items") == "center"
    assert page.style("main", "display") == "grid"  # md: at 1024px wide
    assert page.style("sized", "width") == "137px"
    red, green, blue, alpha = page.tab.get_by_test_id("danger").evaluate(PAINTED)
    assert red > 180 and green < 80 and blue < 80 and alpha == 255, "bg-destructive is red"
    *_, alpha = page.tab.get_by_test_id("primary").evaluate(PAINTED)
    assert 225 <= alpha <= 232, "bg-primary/90 is 90% opaque"
    assert page.style("primary", "border-top-left-radius") == "10px"  # --radius: 0.625rem
    assert page.style("sized", "outline-color") == "rgb(1, 2, 3)"  # the inline <style>
    assert page.style("main", "margin-top") == "0px"  # preflight
    assert page.errors == []  # no CSP violation, nothing thrown
    assert record.timings_ms["css"] > 0

    manifest = json.loads(
        urllib.request.urlopen(record.url.replace("index.html", "manifest.json")).read()
    )
    assert manifest["tailwindVersion"].startswith("4.")
    assert manifest["styles"][0].startswith("tailwind-")

    # The Tailwind process dies between renders: the next render starts another one.
    (service,) = tailwind_services_under(worker.proc.pid)
    os.kill(service, signal.SIGKILL)
    time.sleep(0.2)
    again = render(
        client,
        [
            {
                "path": "/app/App.tsx",
                "content": ZERO_CONFIG[0]["content"].replace("w-[137px]", "w-[138px]"),
            }
        ],
    )
    page.open(again.url)
    assert page.style("sized", "width") == "138px"
    assert tailwind_services_under(worker.proc.pid) not in ([], [service])


def test_own_entry_app_gets_its_theme_apply_utility_and_variant(stack, page):
    client, _ = stack
    record = render(client, OWN_ENTRY)
    page.open(record.url)
    card = page.tab.get_by_test_id("card")
    card.wait_for()
    assert page.style("card", "color") == "rgb(10, 120, 30)"  # @theme colour
    assert page.style("card", "padding-top") == "11px"  # @apply with an arbitrary value
    *_, alpha = card.evaluate(PAINTED)
    assert 125 <= alpha <= 130  # bg-brand/50 through @apply
    assert page.style("card", "tab-size") == "4"  # @utility
    assert page.style("card", "top") == "7px"
    assert page.style("card", "text-decoration-line") == "none"
    card.hover()
    assert page.style("card", "text-decoration-line") == "underline"  # @custom-variant
    assert page.style("card", "--color-destructive") == ""  # no default tokens
    assert page.errors == []


def test_plain_apps_keep_the_browsers_own_styles(stack, page):
    client, _ = stack
    record = render(client, PLAIN)
    page.open(record.url)
    heading = page.tab.locator("h1")
    heading.wait_for()
    assert heading.evaluate("e => getComputedStyle(e).marginTop") == "21.44px"  # 0.67em of 32px
    assert page.tab.evaluate("document.styleSheets.length") == 0

    record = render(client, SHIFTCAL)
    page.open(record.url)
    heading = page.tab.locator("h1")
    heading.wait_for()
    # ShiftCal sets the h1's colour and margin, not its size: the browser's 2em stays.
    assert heading.evaluate("e => getComputedStyle(e).fontSize") == "32px"
    assert heading.evaluate("e => getComputedStyle(e).fontWeight") == "700"
    assert page.tab.evaluate("document.styleSheets.length") == 1
    assert page.errors == []
