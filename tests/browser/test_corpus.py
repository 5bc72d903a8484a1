"""The corpus in Chromium: apps written as AI app builders write them look and work as their
author saw them.

Every app is pushed and rendered once through the worker (one worker for the module, renders
queued together), then opened from S3. Each test reads computed styles, not class names: a class
that compiled to nothing leaves the element unstyled, and that is what these tests catch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from corpus import APPS, load_app
from playwright.sync_api import expect
from test_pages import Page

from worker.models import RenderRecord

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

TIMES = "\u00d7"  # the calculator's multiplication key
RENDER_TIMEOUT_S = 240  # ten apps queued at once on one worker, first builds cold

# A CSS colour as sRGB bytes [r, g, b, a], whatever syntax Chromium computed it in (rgb(),
# oklch(), oklab(), color-mix() results): the canvas converts it the way it paints it.
RGBA = """(element, property) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = getComputedStyle(element)[property];
  context.fillRect(0, 0, 1, 1);
  return Array.from(context.getImageData(0, 0, 1, 1).data);
}"""


@pytest.fixture(scope="module")
def renders(module_stack) -> dict[str, RenderRecord]:
    """Every corpus app rendered: all pushed and queued first, then awaited."""
    client, _ = module_stack
    queued = {}
    for app in APPS:
        session = client.sessions.create(name=app)
        client.sessions.push_files(session.id, load_app(app))
        queued[app] = (session.id, client.sessions.render(session.id).version)
    return {app: client.sessions.wait_for_render(session_id, version, timeout=RENDER_TIMEOUT_S)
            for app, (session_id, version) in queued.items()}


def explain(record: RenderRecord) -> str:
    if record.error is None:
        return record.status
    lines = [f"{record.status} ({record.error.kind}): {record.error.message}"]
    lines += [f"  {d.file}:{d.line}:{d.column}: {d.message}" for d in record.error.diagnostics]
    return "\n".join(lines)


@pytest.fixture
def open_app(renders, browser) -> Iterator[Callable[[str], Page]]:
    """Open a rendered corpus app in a fresh 1280x720 tab (Tailwind's md and lg apply)."""
    opened: list[Page] = []

    def open_(app: str) -> Page:
        record = renders[app]
        assert record.status == "ready", f"{app}: {explain(record)}"
        page = Page(browser)
        opened.append(page)
        page.open(record.url)
        page.tab.locator("#root > *").first.wait_for()
        return page

    yield open_
    for page in opened:
        page.context.close()


def rgba(locator, prop: str = "backgroundColor") -> list[int]:
    return locator.evaluate(RGBA, prop)


def style(locator, prop: str) -> str:
    return locator.evaluate("(e, p) => getComputedStyle(e)[p]", prop)


def settle(locator) -> None:
    """Wait until the element's transitions and animations have finished."""
    locator.evaluate("e => Promise.all(e.getAnimations().map(a => a.finished))")


def columns(locator) -> list[float]:
    """The widths of a grid's column tracks, in pixels."""
    template = style(locator, "gridTemplateColumns")
    return [float(track.removesuffix("px")) for track in template.split()]


def is_red(color: list[int]) -> bool:
    r, g, b, a = color
    return a == 255 and r > 150 and r > g + 80 and r > b + 80


def is_purple(color: list[int]) -> bool:
    r, g, b, a = color
    return a == 255 and b > r > g and b - g > 100


def close_to(color: list[int], expected: tuple[int, int, int], tolerance: int = 3) -> bool:
    pairs = zip(color[:3], expected, strict=True)
    return color[3] == 255 and all(abs(c - e) <= tolerance for c, e in pairs)


def test_every_corpus_app_renders_ready(renders):
    not_ready = {app: explain(r) for app, r in renders.items() if r.status != "ready"}
    assert not_ready == {}, "\n".join(f"{app}: {why}" for app, why in not_ready.items())


def test_calculator_buttons_are_styled_and_compute(open_app):
    page = open_app("calculator")
    tab = page.tab
    keypad = tab.get_by_test_id("keypad")
    assert style(keypad, "display") == "grid"
    assert len(columns(keypad)) == 4
    times = tab.get_by_role("button", name=TIMES)
    assert rgba(times)[3] == 255  # bg-primary: the token colour, not transparent
    seven = tab.get_by_role("button", name="7", exact=True)
    assert rgba(times) != rgba(seven)  # the primary variant is not the outline one
    assert is_red(rgba(tab.get_by_test_id("clear")))  # bg-destructive
    assert float(style(tab.get_by_test_id("calculator"), "borderTopLeftRadius")[:-2]) > 0

    for key in ("7", TIMES, "6", "="):
        tab.get_by_role("button", name=key, exact=True).click()
    assert tab.get_by_test_id("display").inner_text() == "42"
    assert page.errors == []


def test_pomodoro_timer_runs_after_start(open_app):
    page = open_app("pomodoro")
    tab = page.tab
    time = tab.get_by_test_id("time")
    assert time.inner_text() == "25:00"
    assert style(tab.get_by_test_id("controls"), "display") == "flex"
    assert style(time, "fontSize") == "60px"  # text-6xl
    assert tab.get_by_test_id("title-icon").bounding_box()["width"] == 20  # size-5 on an svg
    toggle = tab.get_by_test_id("toggle")
    assert toggle.locator("svg").bounding_box()["width"] == 16  # the button's [&_svg]:size-4

    toggle.click()
    assert toggle.inner_text() == "Pause"
    assert tab.get_by_test_id("state").inner_text() == "Focusing"
    expect(time).not_to_have_text("25:00", timeout=5000)
    toggle.click()
    paused_at = time.inner_text()
    assert paused_at in ("24:59", "24:58", "24:57")
    tab.wait_for_timeout(1300)
    assert time.inner_text() == paused_at
    assert page.errors == []


def test_quiz_scores_answers_picked_with_radix_radio_group(open_app):
    page = open_app("quiz")
    tab = page.tab
    first = tab.get_by_role("radio", name="Mercury")
    box = first.bounding_box()
    assert (box["width"], box["height"]) == (16, 16)  # h-4 w-4
    assert float(style(first, "borderTopLeftRadius")[:-2]) >= 8  # rounded-full
    assert tab.get_by_test_id("next").is_disabled()

    for answer in ("Mercury", "Ag", "Six"):  # the second answer is wrong
        radio = tab.get_by_role("radio", name=answer)
        radio.click()
        assert radio.get_attribute("data-state") == "checked"
        tab.get_by_test_id("next").click()
    score = tab.get_by_test_id("score")
    assert score.inner_text() == "2/3"
    assert style(score, "fontWeight") == "700"
    assert rgba(score, "color")[3] == 255
    assert page.errors == []


def test_blog_cards_badges_and_router_link(open_app):
    page = open_app("blog")
    tab = page.tab
    title = tab.get_by_test_id("blog-title")
    assert (style(title, "fontSize"), style(title, "fontWeight")) == ("36px", "800")
    assert len(columns(tab.get_by_test_id("post-list"))) == 2  # sm:grid-cols-2
    badge = tab.locator("[data-slot=badge]").first
    assert style(badge, "fontSize") == "12px"  # text-xs
    assert style(badge, "paddingLeft") == "8px"  # px-2
    assert rgba(badge)[3] == 255  # bg-secondary
    assert tab.get_by_test_id("post-card").count() == 2

    tab.get_by_role("link", name="Designing quiet interfaces").click()
    heading = tab.get_by_test_id("post-title")
    assert heading.inner_text() == "Designing quiet interfaces"
    assert tab.evaluate("location.hash") == "#/posts/quiet-interfaces"
    assert (style(heading, "fontSize"), style(heading, "fontWeight")) == ("30px", "700")
    tab.get_by_role("link", name="← All posts").click()
    assert tab.get_by_test_id("post-card").count() == 2
    assert page.errors == []


def test_landing_gradient_arbitrary_values_opacity_and_breakpoints(open_app):
    page = open_app("landing")
    tab = page.tab
    assert style(tab.get_by_test_id("hero"), "backgroundImage").startswith("linear-gradient(")
    assert style(tab.get_by_test_id("logo"), "width") == "137px"  # w-[137px]
    features = tab.get_by_test_id("features")
    assert len(columns(features)) == 3  # md:grid-cols-3 at 1280px
    narrow, wide = columns(tab.get_by_test_id("split"))  # grid-cols-[1fr_2fr]
    assert wide == pytest.approx(2 * narrow, abs=1)
    assert 220 <= rgba(tab.get_by_test_id("cta"))[3] <= 240  # bg-primary/90
    assert 195 <= rgba(tab.get_by_test_id("hero-text"), "color")[3] <= 215  # text-white/80

    link = tab.get_by_test_id("nav-link")
    assert style(link, "textDecorationLine") == "none"
    link.hover()
    assert style(link, "textDecorationLine") == "underline"  # hover:underline
    tab.set_viewport_size({"width": 375, "height": 720})
    assert len(columns(features)) == 1  # below md: grid-cols-1
    assert page.errors == []


def test_todo_dialog_form_validates_then_adds_and_tabs_switch(open_app):
    page = open_app("todo")
    tab = page.tab
    active, done = tab.get_by_test_id("active-panel"), tab.get_by_test_id("done-panel")
    assert active.inner_text().startswith("Buy oat milk")
    assert done.is_hidden()

    tab.get_by_test_id("new-task").click()
    dialog = tab.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_text("Add a task").is_visible()
    assert style(dialog, "position") == "fixed"
    assert rgba(tab.locator("[data-slot=dialog-overlay]"))[3] in range(120, 136)  # bg-black/50
    dialog_box = dialog.bounding_box()
    assert dialog_box["x"] + dialog_box["width"] / 2 == pytest.approx(640, abs=2)  # centred

    tab.get_by_test_id("save-task").click()
    error = tab.get_by_test_id("title-error")
    assert error.inner_text() == "Title is required"  # the zod schema's message
    assert is_red(rgba(error, "color"))  # text-destructive
    dialog.get_by_role("textbox").fill("Call the dentist")
    tab.get_by_test_id("save-task").click()
    dialog.wait_for(state="hidden")
    assert active.get_by_test_id("task").all_inner_texts()[-1].startswith("Call the dentist")

    tab.get_by_role("tab", name="Done").click()
    assert done.is_visible() and active.is_hidden()
    assert done.inner_text().startswith("Water the plants")
    selected = tab.get_by_role("tab", selected=True)
    assert rgba(selected) != rgba(tab.get_by_role("tab", selected=False))
    assert page.errors == []


def test_dashboard_chart_dates_and_destructive_badge(open_app):
    page = open_app("dashboard")
    tab = page.tab
    assert tab.get_by_test_id("updated").inner_text() == "Updated Sunday, January 11, 2026"
    assert len(columns(tab.get_by_test_id("stats"))) == 4  # lg:grid-cols-4
    assert is_red(rgba(tab.get_by_test_id("change-Churn")))  # the destructive badge
    assert rgba(tab.get_by_test_id("change-Visitors"))[3] == 255  # bg-secondary
    chart = tab.get_by_test_id("chart")
    assert chart.bounding_box()["height"] == 300  # h-[300px]: ResponsiveContainer needs it
    bars = chart.locator(".recharts-bar-rectangle")
    bars.first.wait_for()
    assert bars.count() == 7
    ticks = chart.locator(".recharts-xAxis-tick-labels text")
    expect(ticks).to_have_text([f"Jan {day}" for day in range(5, 12)])  # date-fns format
    assert page.errors == []


def test_framer_motion_animates_in_and_sonner_toast_shows(open_app):
    page = open_app("motion")
    tab = page.tab
    expect(tab.get_by_test_id("headline")).to_have_css("opacity", "1", timeout=5000)
    assert tab.get_by_test_id("idea").count() == 4
    assert style(tab.get_by_test_id("headline"), "display") == "flex"

    tab.get_by_test_id("like-0").click()
    toast = tab.locator("[data-sonner-toast]")
    toast.wait_for()
    assert "Saved to favourites" in toast.inner_text()
    # sonner styles itself with a <style> element it adds at run time
    assert style(tab.locator("[data-sonner-toaster]"), "position") == "fixed"
    assert tab.get_by_test_id("liked-count").inner_text() == "1 saved"
    assert page.errors == []


def test_inline_style_element_in_jsx_applies(open_app):
    page = open_app("artifact")
    tab = page.tab
    card = tab.get_by_test_id("card")
    assert rgba(card, "borderTopColor") == [168, 85, 247, 255]  # from the <style> element
    assert style(card, "borderTopWidth") == "2px"
    title = tab.get_by_test_id("title")
    assert (style(title, "letterSpacing"), style(title, "textTransform")) == ("2.8px", "uppercase")
    assert style(tab.locator(".flame"), "animationName") == "flicker"
    assert style(card, "borderTopLeftRadius") == "16px"  # rounded-2xl beside it

    wednesday = tab.get_by_test_id("day-Wed")
    wednesday.click()
    assert tab.get_by_test_id("streak").inner_text() == "3"
    settle(wednesday)  # transition-colors
    assert is_purple(rgba(wednesday))  # bg-purple-600 once done
    assert page.errors == []


def test_own_css_entry_theme_apply_utility_and_dark_variant(open_app):
    page = open_app("themed")
    tab = page.tab
    brand = (14, 116, 144)  # --color-brand in the session's @theme
    heading = tab.get_by_test_id("display-heading")
    assert close_to(rgba(heading, "color"), brand)  # text-brand
    assert "Georgia" in style(heading, "fontFamily")  # font-display from @theme
    button = tab.get_by_test_id("brand-button")  # .btn-brand: @apply in @layer components
    assert close_to(rgba(button), brand)
    assert style(button, "borderTopLeftRadius") == "20px"  # rounded-xl from the session's radius
    assert rgba(tab.get_by_test_id("count"))[3] in range(20, 32)  # bg-brand/10
    assert is_purple(rgba(tab.get_by_test_id("primary-button")))  # the session's --primary
    assert style(tab.get_by_test_id("code"), "tabSize") == "4"  # @utility tab-4
    assert style(tab.get_by_test_id("card"), "animationName") == "enter"  # tw-animate-css
    assert rgba(tab.get_by_test_id("light-panel")) == [255, 255, 255, 255]
    assert close_to(rgba(tab.get_by_test_id("dark-panel")), (24, 24, 27))  # dark:bg-zinc-900

    tab.get_by_test_id("primary-button").click()
    assert tab.get_by_test_id("count").inner_text() == "1 added"
    assert page.errors == []
