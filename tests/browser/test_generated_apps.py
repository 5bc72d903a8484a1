"""Generated-style apps in Chromium: every input kind visible, and failures shown on the page."""

from __future__ import annotations

import re

import pytest
from stage_samples import BROKEN, DASHBOARD, HELLO, RED_PNG_B64, THROWS
from test_pages import Page, render_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def page(browser):
    opened = Page(browser)
    yield opened
    opened.context.close()


def test_dashboard_draws_icon_chart_images_and_module_classes(stack, page):
    client, _ = stack
    session, record = render_and_wait(client, DASHBOARD, name="dashboard")
    page.open(record.url)
    main = page.tab.locator("main.dashboard")
    main.wait_for()

    assert main.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(0, 128, 0)"
    assert main.evaluate("e => e.className.split(' ').length") == 2  # module class + plain
    assert page.tab.locator("h1").evaluate("e => getComputedStyle(e).fontSize") == "31px"
    icon = page.tab.get_by_test_id("icon")
    assert icon.evaluate("e => e.tagName.toLowerCase()") == "svg"
    assert icon.evaluate("e => e.getBoundingClientRect().width") == 24
    for test_id in ("imported", "public"):
        image = page.tab.get_by_test_id(test_id)
        image.evaluate("e => e.decode()")
        assert image.evaluate("e => [e.complete, e.naturalWidth]") == [True, 4], test_id
    line = page.tab.locator(".recharts-line path.recharts-curve")
    line.wait_for()
    assert line.get_attribute("d").startswith("M")
    labels = page.tab.locator("svg.recharts-surface text").all_text_contents()
    assert "Tue" in labels and set(labels) <= {"Mon", "Tue", "Wed"}
    loaded = page.tab.evaluate(
        "performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)"
    )
    react = [p for p in loaded if re.search(r"/vendor/\w+/react-\w+\.js$", p)]
    assert len(react) == 1  # one React: recharts, lucide and the app share it
    assert page.errors == []
    assert client.sessions.read_file(session.id, "/app/logo.png").to_dict() == {
        "path": "/app/logo.png",
        "content": RED_PNG_B64,
        "encoding": "base64",
    }


def test_failed_build_page_shows_every_diagnostic_and_live_stays(stack, page):
    client, _ = stack
    session, good = render_and_wait(client, HELLO, name="broken app")
    client.sessions.push_files(session.id, BROKEN)
    bad = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert bad.status == "failed" and bad.url and bad.url != good.url

    page.open(bad.url)
    diagnostic = page.tab.locator(".diagnostic")
    assert diagnostic.count() == 1
    assert diagnostic.get_attribute("data-file") == "/app/App.tsx"
    assert diagnostic.locator(".message").inner_text() == 'Expected "}" but found "world"'
    assert "return <h1>{greeting world}</h1>;" in diagnostic.locator("pre").inner_text()
    assert page.tab.title() == "Build failed · broken app"
    assert client.sessions.status(session.id).live.version == good.version


def test_uncaught_error_shows_overlay_with_file_and_line_as_pushed(stack, page):
    client, _ = stack
    _, record = render_and_wait(client, THROWS, name="throws")
    page.open(record.url)
    page.tab.click("text=boom")
    overlay = page.tab.locator("#stage-error-overlay")
    overlay.wait_for()
    assert "Error: kaboom from explode" in overlay.locator(".stage-error-message").inner_text()
    location = overlay.locator(".stage-error-location")
    location.wait_for()
    assert location.inner_text() == "at /app/lib/explode.ts:2"


def test_unhandled_rejection_shows_overlay(stack, page):
    client, _ = stack
    files = [
        {
            "path": "/app/App.tsx",
            "content": (
                "export default function App() {\n"
                "  Promise.reject(new TypeError('nobody caught me'));\n"
                "  return <p>hi</p>;\n"
                "}\n"
            ),
        }
    ]
    _, record = render_and_wait(client, files, name="rejects")
    page.open(record.url)
    message = page.tab.locator("#stage-error-overlay .stage-error-message").first
    message.wait_for()
    assert message.inner_text() == "Unhandled promise rejection: TypeError: nobody caught me"
