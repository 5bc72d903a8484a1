"""A Lovable-style Tailwind v3 app from the corpus, rendered by a real worker, checked by a real
checker and opened in Chromium: it looks as it did in its builder, which ran Tailwind 3.4.

The colours are computed from the app's own tokens (``src/index.css``'s ``--primary`` …,
mapped by its ``tailwind.config.ts``), so a lost config, a lost ``@layer base`` or v4's
defaults in place of v3's show as wrong pixels, not as missing class names.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus import load_app
from services import WorkerProcess
from test_pages import Page

from worker.client import StageClient
from worker.models import RenderRecord

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

# A CSS colour as sRGB bytes, whatever syntax Chromium computed it in.
RGBA = """(element, property) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = getComputedStyle(element)[property];
  context.fillRect(0, 0, 1, 1);
  return Array.from(context.getImageData(0, 0, 1, 1).data);
}"""
KEYFRAMES = """() => [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
  .filter((rule) => rule instanceof CSSKeyframesRule).map((rule) => rule.name)"""


def hsl(h: float, s: float, lightness: float) -> tuple[int, int, int]:
    """A token as the app writes it (``142 64% 32%``) in sRGB bytes."""
    r, g, b = colorsys.hls_to_rgb(h / 360, lightness / 100, s / 100)
    return round(r * 255), round(g * 255), round(b * 255)


# The app's tokens, from tests/corpus/lovable/src/index.css.
BACKGROUND = hsl(40, 33, 97)
PRIMARY = hsl(142, 64, 32)
BORDER = hsl(35, 25, 80)
SECONDARY = hsl(40, 30, 90)
DARK_BACKGROUND = hsl(150, 30, 8)
DARK_PRIMARY = hsl(142, 55, 48)
DARK_BORDER = hsl(150, 15, 22)


def close_to(color: list[int], expected: tuple[int, int, int], tolerance: int = 2) -> bool:
    pairs = zip(color[:3], expected, strict=True)
    return color[3] == 255 and all(abs(c - e) <= tolerance for c, e in pairs)


def rgba(locator, prop: str = "backgroundColor") -> list[int]:
    return list(locator.evaluate(RGBA, prop))


def settle(locator):
    """The element once its transitions and animations have finished (``duration-500`` with
    the initial ``transition-property: all`` makes a card's colours transition too)."""
    locator.evaluate("e => Promise.all(e.getAnimations().map(a => a.finished))")
    return locator


def style(locator, prop: str) -> str:
    return str(locator.evaluate("(e, p) => getComputedStyle(e)[p]", prop))


@pytest.fixture(scope="module")
def stack(module_namespace, tmp_path_factory) -> Iterator[StageClient]:
    """A client, one worker and one checker (real processes) for the module."""
    logs: Path = tmp_path_factory.mktemp("tailwind-v3")
    worker = WorkerProcess(module_namespace.env, logs / "worker.log")
    checker = WorkerProcess(module_namespace.env, logs / "checker.log", command="checker")
    try:
        worker.wait_ready()
        checker.wait_ready()
        with module_namespace.client() as client:
            yield client
    finally:
        worker.stop()
        checker.stop()


def render(client: StageClient, files: list[dict[str, str]]) -> tuple[str, RenderRecord]:
    session = client.sessions.create(name="lovable")
    client.sessions.push_files(session.id, files)
    version = client.sessions.render(session.id).version
    return session.id, client.sessions.wait_for_render(session.id, version, timeout=240)


@pytest.fixture(scope="module")
def checked_render(stack: StageClient) -> RenderRecord:
    """The app rendered by the worker and boot-checked by the checker."""
    session_id, record = render(stack, load_app("lovable"))
    assert record.status == "ready", record.error
    return stack.sessions.wait_for_check(session_id, record.version, timeout=120)


@pytest.fixture
def page(checked_render, browser) -> Iterator[Page]:
    opened = Page(browser, viewport={"width": 1280, "height": 800})
    opened.open(checked_render.url)
    opened.tab.get_by_test_id("title").wait_for()
    yield opened
    opened.context.close()


def test_lovable_app_passes_its_boot_check(checked_render):
    check = checked_render.check
    assert check is not None and check.status == "passed", check
    assert check.errors == [] and not check.blank


def test_colours_come_from_the_apps_own_tokens_through_its_config(page):
    tab = page.tab
    assert close_to(rgba(tab.locator("body")), BACKGROUND)  # @apply bg-background
    water = tab.get_by_test_id("water")
    assert close_to(rgba(water), PRIMARY)  # bg-primary: hsl(var(--primary))
    card = settle(tab.get_by_test_id("habit-card").first)
    assert close_to(rgba(card, "borderTopColor"), BORDER)  # * { @apply border-border }
    assert style(card, "borderTopLeftRadius") == "12px"  # rounded-lg: var(--radius)
    assert close_to(rgba(tab.get_by_test_id("chip").first), SECONDARY)  # @layer components
    assert close_to(rgba(tab.get_by_test_id("title").locator("svg"), "color"), (47, 158, 68))
    assert "Georgia" in style(tab.get_by_test_id("title"), "fontFamily")  # fontFamily.display
    header = tab.get_by_test_id("header")
    assert style(header, "paddingLeft") == "32px"  # container: { padding: "2rem" }
    # container.screens is only 2xl (1400px): at 1280px wide there is no max width (with
    # Tailwind's default screens it would be 1280px).
    assert style(header, "maxWidth") == "none"
    assert page.errors == []


def test_dark_class_switches_to_the_dark_tokens(page):
    tab = page.tab
    tab.get_by_test_id("dark-switch").click()
    tab.wait_for_function("document.documentElement.classList.contains('dark')")
    assert close_to(rgba(settle(tab.locator("body"))), DARK_BACKGROUND)
    card = settle(tab.get_by_test_id("habit-card").first)
    assert close_to(rgba(card, "borderTopColor"), DARK_BORDER)
    switch = settle(tab.get_by_test_id("dark-switch"))
    assert close_to(rgba(switch), DARK_PRIMARY)  # checked: bg-primary
    assert page.errors == []


def test_animate_classes_have_their_keyframes(page):
    tab = page.tab
    names = set(tab.evaluate(KEYFRAMES))
    assert {"enter", "exit", "accordion-down", "accordion-up", "grow"} <= names
    assert style(tab.get_by_test_id("habit-card").first, "animationName") == "enter"
    assert style(tab.get_by_test_id("title"), "animationName") == "grow"
    tab.get_by_test_id("tips-trigger").click()
    content = tab.get_by_test_id("tips-content")
    content.wait_for()
    assert style(content, "animationName") == "accordion-down"
    assert page.errors == []


def test_a_config_that_loops_forever_fails_its_render_and_the_worker_serves_the_next(
    stack, checked_render
):
    files = load_app("lovable")
    looping = [
        {**f, "content": "while (true) {}\n" + f["content"]}
        if f["path"] == "/tailwind.config.ts"
        else f
        for f in files
    ]
    _, failed = render(stack, looping)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.kind == "build"
    (diagnostic,) = failed.error.diagnostics
    assert (diagnostic.file, diagnostic.message) == (
        "/tailwind.config.ts",
        "the config used more than 2 s of CPU (does it loop forever?)",
    )
    assert render(stack, files)[1].status == "ready"
