"""What a person sees: rendered pages opened in Chromium from S3 and from the local store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from stage_samples import EXAMPLES, SHIFTCAL

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SCOPE = "https://www.googleapis.com/auth/calendar.readonly"


class Page:
    """A Chromium tab that remembers every console error and uncaught exception."""

    def __init__(self, browser, viewport: dict[str, int] | None = None) -> None:
        self.context = browser.new_context(viewport=viewport) if viewport else browser.new_context()
        self.tab = self.context.new_page()
        self.errors: list[str] = []
        self.tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.tab.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, url: str) -> None:
        response = self.tab.goto(url, wait_until="load")
        assert response is not None and response.ok, url

    def style(self, test_id: str, prop: str) -> str:
        """The computed value of ``prop`` on the element with ``data-testid=test_id``."""
        return str(
            self.tab.get_by_test_id(test_id).evaluate(
                f"e => getComputedStyle(e).getPropertyValue({json.dumps(prop)})"
            )
        )


@pytest.fixture
def page(browser) -> Iterator[Page]:
    opened = Page(browser)
    yield opened
    opened.context.close()


def render_and_wait(client, files, name="shiftcal-preview", scopes=(SCOPE,)):
    session = client.sessions.create(name=name)
    client.sessions.push_files(session.id, files)
    client.sessions.set_google_scopes(session.id, list(scopes))
    record = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert record.status == "ready", record.error
    return session, record


def test_rendered_app_runs_with_css_interaction_and_config(stack, page):
    client, _ = stack
    session, _ = render_and_wait(client, SHIFTCAL)
    url = client.sessions.status(session.id).render.url

    page.open(url)
    heading = page.tab.locator("h1")
    heading.wait_for()
    assert heading.inner_text() == "ShiftCal"
    assert heading.evaluate("e => getComputedStyle(e).color") == "rgb(37, 99, 235)"
    grid = page.tab.get_by_test_id("week-grid")
    assert grid.evaluate("e => getComputedStyle(e).display") == "grid"  # component CSS
    shifts = page.tab.get_by_test_id("shift")
    assert shifts.count() == 2
    page.tab.fill("input[placeholder='Who?']", "Linus")
    page.tab.select_option("select", "4")
    page.tab.click("text=Add shift")
    expect(shifts).to_have_count(3)
    assert page.tab.get_by_test_id("day-4").inner_text().count("Linus") == 1
    config = page.tab.evaluate("window.__STAGE__")
    assert config == {"sessionId": session.id, "version": 1, "googleScopes": [SCOPE]}
    assert page.tab.get_by_test_id("scopes").inner_text() == "1 Google scope(s) declared"
    assert page.tab.title() == "shiftcal-preview"
    assert page.errors == []


def test_hostile_name_scopes_and_content_cannot_inject_into_the_shell(stack, page):
    client, _ = stack
    name = "</title><script>window.__pwned='name'</script><!--"
    # Scopes are RFC 3986 URLs (no quotes or angle brackets); what they may still hold,
    # escapes and sub-delimiters included, reaches the page's config unchanged.
    scope = "https://evil.example/%3C/script%3E?a=1&b=(2)!$*+,;=@x#%22"
    files = [
        {
            "path": "/app/App.tsx",
            "content": (
                "export default function App() {\n"
                "  const s = \"</script><script>window.__pwned='content'</script>\";\n"
                "  return <p id='out'>{s}</p>;\n"
                "}\n"
            ),
        }
    ]
    _, record = render_and_wait(client, files, name=name, scopes=[scope])

    page.open(record.url)
    page.tab.locator("#out").wait_for()
    assert page.tab.evaluate("window.__pwned") is None
    assert page.tab.title() == name
    assert page.tab.evaluate("window.__STAGE__.googleScopes") == [scope]
    assert page.tab.inner_text("#out") == "</script><script>window.__pwned='content'</script>"
    srcs = page.tab.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
    assert srcs.count(None) == 1  # the config block is the only inline script
    assert all(
        re.fullmatch(r"(\.\./){4}vendor/\w+/[\w-]+\.js|app-\w+\.js", src) for src in srcs if src
    ), srcs
    assert any("/vendor/stage/overlay-" in src for src in srcs if src), srcs
    assert page.errors == []


VITE_PROJECT = [
    {
        "path": "/index.html",
        "content": (
            '<!doctype html>\n<html lang="en">\n  <head>\n'
            '    <meta charset="UTF-8" />\n'
            '    <meta name="description" content="Shifts &amp; swaps" />\n'
            '    <link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">\n'
            "    <title>Vite Board</title>\n  </head>\n  <body>\n"
            '    <div id="app"></div>\n'
            '    <script type="module" src="/src/main.tsx"></script>\n  </body>\n</html>\n'
        ),
    },
    {
        "path": "/src/main.tsx",
        "content": (
            'import { StrictMode } from "react";\n'
            'import { createRoot } from "react-dom/client";\n'
            'import App from "./App";\n'
            'import "./index.css";\n'
            'createRoot(document.getElementById("app")!).render(<StrictMode><App /></StrictMode>);\n'
        ),
    },
    {
        "path": "/src/App.tsx",
        "content": (
            "export default function App() {\n"
            '  return <h1 className="title">Board from src</h1>;\n}\n'
        ),
    },
    {"path": "/src/index.css", "content": ".title { color: rgb(22, 163, 74); }\n"},
    {
        "path": "/package.json",
        "content": (
            '{"name": "board", "type": "module", "dependencies": {"react": "^19.0.0", '
            '"react-router-dom": "^7.0.0", "swr": "^2.2.0"}, '
            '"devDependencies": {"vite": "^6.0.0"}}\n'
        ),
    },
]


def test_vite_project_with_index_html_renders_with_its_title_into_its_mount_point(stack, page):
    client, _ = stack
    _, record = render_and_wait(client, VITE_PROJECT, name="session name", scopes=())

    page.open(record.url)
    heading = page.tab.locator("#app h1")
    heading.wait_for()
    assert heading.inner_text() == "Board from src"
    assert heading.evaluate("e => getComputedStyle(e).color") == "rgb(22, 163, 74)"
    assert page.tab.title() == "Vite Board"
    assert page.tab.locator("#root").count() == 1
    assert page.tab.get_attribute('meta[name="description"]', "content") == "Shifts & swaps"
    assert page.tab.locator('link[href^="https:"]').count() == 0
    assert [w.file for w in record.warnings] == ["/package.json", "/index.html"]
    assert "depends on swr, which is not installed" in record.warnings[0].message
    assert page.errors == []


def test_local_render_opens_from_file_url(tmp_path: Path, page):
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "worker.cli",
            "render",
            str(EXAMPLES / "shiftcal"),
            "--out",
            str(out),
            "--json",
            "--scope",
            SCOPE,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "STAGE_REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"].startswith("file://")

    page.open(record["url"])
    page.tab.locator("h1").wait_for()
    assert page.tab.locator("h1").inner_text() == "ShiftCal"
    assert page.tab.evaluate("window.__STAGE__.googleScopes") == [SCOPE]
    assert page.errors == []
