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
    return {
        app: client.sessions.wait_for_render(session_id, version, timeout=RENDER_TIMEOUT_S)
        for app, (session_id, version) in queued.items()
    }


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
        # next-themes' provider renders its (inert) <script> before the app
        page.tab.locator("#root > :not(script)").first.wait_for()
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
    # the list comes back when the router hears hashchange, after the click returns: wait for it
    expect(tab.get_by_test_id("post-card")).to_have_count(2)
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


def painted(tab, value: str) -> list[int]:
    """A CSS colour value (a design token's text) as sRGB bytes, painted like RGBA does."""
    return tab.evaluate(
        """value => {
      const probe = document.createElement("i");
      probe.style.color = value;
      document.body.appendChild(probe);
      const colour = getComputedStyle(probe).color;
      probe.remove();
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 1;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.fillStyle = colour;
      context.fillRect(0, 0, 1, 1);
      return Array.from(context.getImageData(0, 0, 1, 1).data);
    }""",
        value,
    )


def token(tab, name: str) -> str:
    return str(
        tab.evaluate(f"getComputedStyle(document.documentElement).getPropertyValue('{name}')")
    )


def test_next_app_layout_theme_fonts_and_metadata(open_app):
    page = open_app("nextstore")
    tab = page.tab
    html = tab.locator("html")
    assert html.get_attribute("lang") == "en"
    assert "dark" in (html.get_attribute("class") or "").split()  # the layout's <html className>
    assert style(html, "colorScheme") == "dark"  # and its style
    assert tab.title() == "Northwind Supply"  # metadata.title.default
    assert tab.locator('meta[name="description"]').get_attribute("content") == (
        "Outdoor gear, hand-picked by the Northwind team."
    )

    body = tab.locator("body")
    # bg-background from the app's own .dark tokens (globals.css, imported by the layout only)
    assert rgba(body) == painted(tab, token(tab, "--background"))
    assert sum(rgba(body)[:3]) < 150  # the dark theme, not :root's white
    r, g, b, _ = rgba(tab.locator("[data-slot=badge]").first)
    assert (r, g, b) == tuple(painted(tab, token(tab, "--secondary"))[:3])
    # next/font/google: the variables on <body>, font-sans and font-mono reading them
    assert body.evaluate(
        "e => getComputedStyle(e).getPropertyValue('--font-geist-sans')"
    ).startswith("'Geist', ui-sans-serif")
    assert style(body, "fontFamily").startswith("Geist, ui-sans-serif")
    assert style(body, "fontFamily").endswith(", sans-serif")  # the generic family, unquoted
    price = tab.get_by_test_id("product-card").first.locator(".font-mono")
    mono = style(price, "fontFamily")
    assert mono.startswith('"Geist Mono", ui-monospace') and mono.endswith(", monospace")
    # NEXT_PUBLIC_ from the pushed .env; the secret beside it is in no script
    assert tab.get_by_test_id("home-title").inner_text() == "Northwind Supply"
    script = tab.evaluate(
        "fetch(document.querySelector('script[src*=\"app-\"]').src).then(r => r.text())"
    )
    assert "sk_live_never_on_the_page" not in script
    # next/script: the layout's inline script ran (from a file of the render, under the CSP)
    expect(tab.locator("script#store-visit")).to_have_count(1)
    assert tab.evaluate("window.storeVisit.source") == "direct"
    image = tab.get_by_role("img", name="Ridge Tent")
    assert image.evaluate("e => e.complete && e.naturalWidth") == 320  # /public/placeholder.svg
    assert page.errors == []


def test_next_app_navigates_between_pages_with_links_router_and_history(open_app):
    page = open_app("nextstore")
    tab = page.tab
    assert tab.get_by_test_id("nav-shop").get_attribute("aria-current") == "page"  # usePathname

    tab.get_by_role("link", name="View Summit Pack").click()  # next/link to app/items/[id]
    assert tab.get_by_test_id("item-id").inner_text() == "Item #42"  # await params
    assert tab.get_by_test_id("item-name").inner_text() == "Summit Pack"
    assert tab.evaluate("location.hash") == "#/items/42"
    # generateMetadata's title through the layout's title template
    expect(tab).to_have_title("Summit Pack | Northwind Supply")
    assert tab.get_by_test_id("add-to-cart").get_attribute("data-product") == "42"  # useParams
    assert rgba(tab.get_by_test_id("add-to-cart")) == painted(tab, token(tab, "--primary"))

    tab.get_by_test_id("add-to-cart").click()  # router.replace("?qty=1")
    assert tab.get_by_test_id("cart-count").inner_text() == "1 in cart"
    assert tab.evaluate("location.hash") == "#/items/42?qty=1"
    tab.get_by_test_id("back").click()  # router.back()
    expect(tab.get_by_test_id("home-title")).to_be_visible()
    assert tab.title() == "Northwind Supply"
    tab.go_forward()
    assert tab.get_by_test_id("item-id").inner_text() == "Item #42"
    assert tab.get_by_test_id("cart-count").inner_text() == "1 in cart"  # useSearchParams

    tab.get_by_test_id("nav-about").click()  # a page in the (marketing) route group
    assert tab.get_by_test_id("about-title").inner_text() == "About Northwind"
    assert tab.evaluate("location.hash") == "#/about"
    expect(tab.get_by_test_id("marketing-layout")).to_have_count(1)  # the group's nested layout
    assert tab.get_by_test_id("nav-about").get_attribute("aria-current") == "page"
    tab.get_by_role("link", name="See the gear").click()  # a plain <a href="/">
    expect(tab.get_by_test_id("home-title")).to_be_visible()

    tab.evaluate("location.hash = '#/guides/camping/winter'")  # app/guides/[...slug]
    assert tab.get_by_test_id("guide-path").inner_text() == "camping / winter"
    expect(tab.get_by_test_id("packing-list").locator("li")).to_have_count(3)  # next/dynamic
    tab.get_by_test_id("to-checklist").click()  # an in-page anchor keeps the route
    expect(tab.get_by_test_id("packing-list")).to_be_in_viewport()
    assert tab.evaluate("location.hash") == "#/guides/camping/winter"

    tab.evaluate("location.hash = '#/shop'")  # redirect("/") in app/shop/page.tsx
    expect(tab.get_by_test_id("product-grid")).to_be_visible()
    assert tab.evaluate("location.hash") == "#/"
    tab.evaluate("location.hash = '#/items/999'")  # notFound() renders app/not-found.tsx
    expect(tab.get_by_test_id("not-found")).to_be_visible()
    tab.go_back()
    expect(tab.get_by_test_id("product-grid")).to_be_visible()
    tab.get_by_role("link", name="View Trail Stove").click()
    tab.reload()  # the route survives a reload: it is in the URL
    assert tab.get_by_test_id("item-name").inner_text() == "Trail Stove"
    assert page.errors == []


def test_bolt_project_in_a_top_folder_reads_its_env_alias_icons_and_translations(open_app):
    page = open_app("bolt")  # pushed as unzipped: /project/index.html, /project/src/...
    tab = page.tab
    assert tab.get_by_test_id("app-name").inner_text() == "Trailhead"  # VITE_* from /.env
    assert tab.get_by_test_id("api").inner_text() == "API: https://api.trailhead.example/v1"
    assert tab.get_by_test_id("build-info").inner_text() == (
        "production · prod · dev=false · ssr=false · stable"
    )  # .env.production's VITE_*
    logo = tab.get_by_test_id("logo")  # BASE_URL + a /public/ file, served beside the page
    expect(logo).to_have_js_property("naturalWidth", 32)
    icons = tab.locator("[data-testid=social] svg")  # the brand icons of the pinned lucide
    assert icons.count() == 6
    for index in range(6):
        assert icons.nth(index).bounding_box()["width"] == 20  # h-5 w-5
        assert icons.nth(index).locator("path, circle, rect, line, polyline").count() > 0
    assert tab.get_by_test_id("title").inner_text() == "Plan your next weekend hike"
    assert tab.get_by_test_id("count").inner_text() == "3 trails"  # i18next plurals
    assert tab.get_by_test_id("source").inner_text() == "bundled"  # a Supabase client, idle
    assert style(tab.get_by_test_id("title"), "fontSize") == "30px"  # @tailwind → text-3xl

    tab.get_by_test_id("language").click()  # react-i18next re-renders in French
    expect(tab.get_by_test_id("title")).to_have_text("Préparez votre prochaine randonnée")
    assert tab.get_by_test_id("count").inner_text() == "3 sentiers"
    tab.get_by_test_id("theme").click()  # next-themes puts its class on <html>
    expect(tab.locator("html")).to_have_class("dark")

    html = tab.content()
    assert "srv-7f3a9c1e" not in html and "hunter2" not in html
    assert tab.locator('script[src*="gptengineer"]').count() == 0  # named, never loaded
    assert page.errors == []


PRIMARY = (23, 23, 23)  # the default tokens: --primary oklch(0.205 0 0)
PRIMARY_FOREGROUND = (251, 251, 251)  # --primary-foreground oklch(0.985 0 0)
SECONDARY = (245, 245, 245)  # --secondary and --muted, oklch(0.97 0 0)
BORDER = (229, 229, 229)  # --border oklch(0.922 0 0)


def test_claude_artifact_gets_built_in_shadcn_components_styled_with_the_default_tokens(open_app):
    page = open_app("packing")  # one App.tsx importing ten components it does not push
    tab = page.tab
    expect(tab.get_by_test_id("loaded")).to_have_text("Saved")
    add = tab.get_by_test_id("add")
    assert add.get_attribute("data-slot") == "dialog-trigger"  # asChild: the trigger's slot wins
    assert close_to(rgba(add), PRIMARY)  # bg-primary
    assert close_to(rgba(add, "color"), PRIMARY_FOREGROUND)
    assert (style(add, "height"), style(add, "borderTopLeftRadius")) == ("36px", "8px")  # h-9
    assert add.locator("svg").bounding_box()["width"] == 16  # [&_svg:not([class*='size-'])]:size-4
    card = tab.get_by_test_id("card")
    assert rgba(card) == [255, 255, 255, 255]  # bg-card
    assert close_to(rgba(card, "borderTopColor"), BORDER)
    assert style(card, "borderTopLeftRadius") == "14px"  # rounded-xl: --radius + 4px
    count = tab.get_by_test_id("count")
    assert count.inner_text() == "1/3 packed"
    assert close_to(rgba(count), SECONDARY)  # the secondary badge
    assert style(count, "fontSize") == "12px"
    checkbox = tab.get_by_role("checkbox", name="Charger")
    assert checkbox.bounding_box()["width"] == 16  # size-4
    # Digits and spaces come from a text font, not from the colour emoji font at the end of
    # Tailwind's font stack (Chromium takes them from it when its default sans-serif, Arial,
    # has no font: the fonts the checker image and CI install keep it so).
    plain, stacked = tab.evaluate("""() => ["sans-serif", getComputedStyle(document.body)
      .fontFamily].map(family => {
        const context = document.createElement("canvas").getContext("2d");
        context.font = `16px ${family}`;
        return context.measureText("10 20 30").width;
      })""")
    assert stacked == pytest.approx(plain, rel=0.1)
    assert page.errors == []


def test_claude_artifact_components_work_and_window_storage_survives_a_reload(open_app, renders):
    page = open_app("packing")
    tab = page.tab
    expect(tab.get_by_test_id("loaded")).to_have_text("Saved")
    checkbox = tab.get_by_role("checkbox", name="Charger")
    checkbox.click()
    assert checkbox.get_attribute("data-state") == "checked"
    assert close_to(rgba(checkbox), PRIMARY)  # data-[state=checked]:bg-primary
    assert tab.get_by_test_id("count").inner_text() == "2/3 packed"

    tab.get_by_test_id("add").click()
    dialog = tab.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_text("Add an item").is_visible()
    assert style(dialog, "position") == "fixed"
    assert rgba(tab.locator("[data-slot=dialog-overlay]"))[3] in range(120, 136)  # bg-black/50
    box = dialog.bounding_box()
    assert box["x"] + box["width"] / 2 == pytest.approx(640, abs=2)  # centred
    dialog.get_by_role("textbox").fill("Sunglasses")
    tab.get_by_test_id("save").click()
    dialog.wait_for(state="hidden")
    expect(tab.get_by_test_id("item")).to_have_count(4)

    tab.get_by_role("tab", name="Settings").click()
    assert tab.get_by_test_id("settings-panel").is_visible()
    assert tab.get_by_test_id("items-panel").is_hidden()
    selected = tab.get_by_role("tab", selected=True)
    assert rgba(selected) == [255, 255, 255, 255]  # data-[state=active]:bg-background
    assert close_to(rgba(tab.get_by_role("tablist")), SECONDARY)  # bg-muted
    switch = tab.get_by_role("switch")
    switch.click()
    assert switch.get_attribute("data-state") == "checked"
    tab.get_by_role("button", name="Packing tips").click()
    expect(tab.get_by_test_id("tips")).to_have_text("Roll clothes, do not fold them.")

    # window.storage kept the list in this browser, under this session only.
    tab.reload()
    expect(tab.get_by_test_id("loaded")).to_have_text("Saved")
    expect(tab.get_by_test_id("item")).to_have_count(4)
    assert tab.get_by_test_id("count").inner_text() == "2/4 packed"
    keys = tab.evaluate("Object.keys(localStorage)")
    assert [k for k in keys if k.endswith(":personal:packing-list")] == [
        f"stage-storage:{renders['packing'].url.split('/sessions/')[1].split('/')[0]}"
        ":personal:packing-list"
    ]
    other = page.context.new_page()  # another session's page on the same origin
    other.goto(renders["todo"].url)
    other.locator("#root > *").first.wait_for()
    assert other.evaluate("window.storage.get('packing-list')") is None
    assert other.evaluate("window.storage.list()") == {"keys": [], "shared": False}
    assert page.errors == []


def test_window_storage_has_the_artifact_api_shape(open_app):
    page = open_app("packing")
    calls = page.tab.evaluate("""async () => {
      const s = window.storage;
      const set = await s.set("notes:1", "hello");
      const shared = await s.set("notes:1", "everyone", true);
      const got = await s.get("notes:1");
      const listed = await s.list("notes:");
      const deleted = await s.delete("notes:1");
      const again = await s.delete("notes:1");
      const missing = await s.get("notes:1");
      const sharedGot = await s.get("notes:1", true);
      const refused = await s.set("x", {a: 1}).then(() => "stored", e => e.message);
      return { set, shared, got, listed, deleted, again, missing, sharedGot, refused };
    }""")
    assert calls == {
        "set": {"key": "notes:1", "value": "hello", "shared": False},
        "shared": {"key": "notes:1", "value": "everyone", "shared": True},
        "got": {"key": "notes:1", "value": "hello", "shared": False},
        "listed": {"keys": ["notes:1"], "prefix": "notes:", "shared": False},
        "deleted": {"key": "notes:1", "deleted": True, "shared": False},
        "again": {"key": "notes:1", "deleted": False, "shared": False},
        "missing": None,
        "sharedGot": {"key": "notes:1", "value": "everyone", "shared": True},
        "refused": "window.storage.set: values are strings (JSON.stringify objects first), "
        "got object",
    }


def test_window_storage_works_for_the_page_when_local_storage_is_blocked(renders, browser):
    page = Page(browser)
    try:  # a browser that refuses storage to the origin (privacy settings, opaque origins)
        page.context.add_init_script("""Object.defineProperty(window, "localStorage", {
          get() { throw new DOMException("The operation is insecure.", "SecurityError"); } });""")
        page.open(renders["packing"].url)
        tab = page.tab
        expect(tab.get_by_test_id("loaded")).to_have_text("Saved")
        assert tab.evaluate("""async () => {
          await window.storage.set("k", "v");
          return [(await window.storage.get("k")).value, (await window.storage.list()).keys];
        }""") == ["v", ["k", "packing-list"]]
        assert page.errors == []
    finally:
        page.context.close()
