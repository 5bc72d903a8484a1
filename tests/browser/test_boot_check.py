"""The boot check: every ready version opened in headless Chromium by a checker process.

One render worker and one checker serve the whole module (each test has its own session);
tests that kill or reconfigure processes start their own.
"""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import PIL.Image
import PIL.ImageStat
import pytest
from corpus import load_app
from png import Image, decode_png
from services import WorkerProcess
from stage_samples import BROKEN, SHIFTCAL, THROWS_AT_MOUNT

from worker.check.visit import SETTLE_MAX_MS
from worker.client import StageClient
from worker.errors import InvalidInputError
from worker.models import RenderRecord

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TIMEOUT_S = 6  # STAGE_CHECK_TIMEOUT_S of the shared checker: a hung page costs this much


def app(body: str, **files: str) -> list[dict[str, str]]:
    return [
        {"path": "/app/App.tsx", "content": body},
        *({"path": path, "content": content} for path, content in files.items()),
    ]


RENDERS_NOTHING = app("export default function App() {\n  return null;\n}\n")
REJECTS_IN_EFFECT = app(
    'import { useEffect } from "react";\n'
    "export default function App() {\n"
    "  useEffect(() => {\n"
    '    Promise.reject(new Error("effect rejected"));\n'
    "  }, []);\n"
    "  return <h1>Loaded</h1>;\n"
    "}\n"
)
FETCHES_OUTSIDE = app(
    'import { useEffect, useState } from "react";\n'
    "export default function App() {\n"
    '  const [state, setState] = useState("loading");\n'
    "  useEffect(() => {\n"
    '    fetch("https://api.example.com/tasks").then(() => setState("online"),\n'
    '                                             () => setState("offline"));\n'
    "  }, []);\n"
    '  return <main><h1>Tasks: {state}</h1><img src="https://images.example.com/a.png" />'
    "</main>;\n"
    "}\n"
)


def escapes(other_session: str) -> list[dict[str, str]]:
    """Every way out of a check: a dialog, a popup, leaving the page, reading another
    session's version from the store, and state a later check would see if contexts were
    shared. The page reports any escape that worked as an error."""
    return app(
        'import { useEffect } from "react";\n'
        "export default function App() {\n"
        "  useEffect(() => {\n"
        '    if (document.cookie.includes("seen") || localStorage.getItem("seen"))\n'
        '      console.error("state survived: " + document.cookie);\n'
        f'    fetch("/sessions/{other_session}/renders/1/manifest.json")\n'
        '      .then(r => r.ok && console.error("read another session from the store"));\n'
        '    alert("hello");\n'
        '    window.open("https://popup.example/");\n'
        '    document.cookie = "seen=1";\n'
        '    localStorage.setItem("seen", "1");\n'
        '    window.location.href = "https://evil.example/steal";\n'
        "  }, []);\n"
        "  return <h1>Still here</h1>;\n"
        "}\n"
    )


LOGS_AN_ERROR = app(
    'import { useEffect } from "react";\n'
    "export default function App() {\n"
    "  useEffect(() => {\n"
    '    console.error("chart data missing");\n'
    "  }, []);\n"
    "  return <h1>Logged</h1>;\n"
    "}\n"
)
# react-dom throws (a vendor chunk's frame on top); the first session frame is line 5.
VENDOR_THROWS = app(
    'import { useEffect } from "react";\n'
    'import { createRoot } from "react-dom/client";\n'
    "export default function App() {\n"
    "  useEffect(() => {\n"
    "    createRoot(null as unknown as HTMLElement);\n"
    "  }, []);\n"
    "  return <h1>Mounted</h1>;\n"
    "}\n"
)
# Shows nothing for 300 ms, as an app "loading" its data would: a short timer is waited for.
SHOWS_AFTER_A_TIMER = app(
    'import { useEffect, useState } from "react";\n'
    "export default function App() {\n"
    "  const [ready, setReady] = useState(false);\n"
    "  useEffect(() => {\n"
    "    const timer = setTimeout(() => setReady(true), 300);\n"
    "    return () => clearTimeout(timer);\n"
    "  }, []);\n"
    "  return ready ? <h1>Loaded after a moment</h1> : null;\n"
    "}\n"
)
# Throws from a timer a moment after mounting: the error still counts, at its session line.
THROWS_IN_A_TIMER = app(
    'import { useEffect } from "react";\n'
    "export default function App() {\n"
    "  useEffect(() => {\n"
    '    setTimeout(() => { throw new Error("late failure"); }, 200);\n'
    "  }, []);\n"
    "  return <h1>Fine at first</h1>;\n"
    "}\n"
)
# A blue square that fades in after a pause, as landing pages animate their first screen.
FADES_IN = app(
    "export default function App() {\n"
    "  return (\n"
    "    <main>\n"
    '      <style>{"@keyframes fade { from { opacity: 0 } to { opacity: 1 } }"}</style>\n'
    '      <div style={{ width: 200, height: 200, background: "rgb(0, 0, 255)",\n'
    '                    animation: "fade 500ms linear 150ms both" }} />\n'
    "    </main>\n"
    "  );\n"
    "}\n"
)
# Re-arms a short timer forever without changing anything (a poll): the page still settles.
POLLS_FOREVER = app(
    'import { useEffect } from "react";\n'
    "export default function App() {\n"
    "  useEffect(() => {\n"
    "    const poll = () => { setTimeout(poll, 50); };\n"
    "    poll();\n"
    "  }, []);\n"
    "  return <h1>Polling</h1>;\n"
    "}\n"
)
LOOPS_FOREVER = app(
    'import { useEffect } from "react";\n'
    "export default function App() {\n"
    "  useEffect(() => {\n"
    "    while (true) {}\n"
    "  }, []);\n"
    "  return <h1>Spinning</h1>;\n"
    "}\n"
)


@dataclass
class Stack:
    namespace: Any
    client: StageClient
    worker: WorkerProcess
    checker: WorkerProcess

    def render(self, files: list[dict[str, str]]) -> tuple[str, RenderRecord]:
        """Render ``files`` in a new session; the record once its check is stored."""
        session = self.client.sessions.create(name="boot-check")
        self.client.sessions.push_files(session.id, files)
        version = self.client.sessions.render(session.id).version
        ready = self.client.sessions.wait_for_render(session.id, version, timeout=60)
        assert ready.status == "ready", ready.error
        return session.id, self.client.sessions.wait_for_check(session.id, version, timeout=60)


@pytest.fixture(scope="module")
def checked(module_namespace, tmp_path_factory) -> Iterator[Stack]:
    """One render worker and one checker for the module, on a namespace of its own."""
    logs: Path = tmp_path_factory.mktemp("boot-check")
    env = {**module_namespace.env, "STAGE_CHECK_TIMEOUT_S": str(TIMEOUT_S)}
    worker = WorkerProcess(env, logs / "worker.log")
    checker = WorkerProcess(env, logs / "checker.log", command="checker")
    try:
        worker.wait_ready()
        checker.wait_ready()
        with module_namespace.client() as client:
            yield Stack(module_namespace, client, worker, checker)
    finally:
        worker.stop()
        checker.stop()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def test_next_app_router_export_passes_with_its_title_and_theme(checked: Stack):
    _, record = checked.render(load_app("nextstore"))
    check = record.check
    assert check is not None and check.status == "passed", check
    assert check.errors == [] and not check.blank and check.blocked_requests == []
    screenshot = decode_png(fetch(check.screenshot_url or ""))
    assert screenshot.luminance_stdev() > 5
    grey = PIL.Image.open(io.BytesIO(fetch(check.screenshot_url or ""))).convert("L")
    assert PIL.ImageStat.Stat(grey).mean[0] < 80  # the layout's dark theme, not a white page


def test_working_app_passes_with_a_screenshot_of_the_page(checked: Stack):
    session_id, record = checked.render(SHIFTCAL)

    check = record.check
    assert check is not None and check.status == "passed", check
    assert check.errors == [] and not check.blank and check.blocked_requests == []
    assert {"domContentLoaded", "firstContentfulPaint", "settled", "total"} <= set(check.timings_ms)
    assert 0 < check.timings_ms["domContentLoaded"] <= check.timings_ms["total"]
    assert check.screenshot_url == record.url.replace("index.html", "check/screenshot.png")
    screenshot = decode_png(fetch(check.screenshot_url))
    assert (screenshot.width, screenshot.height) == (1280, 800)
    assert screenshot.luminance_stdev() > 5  # text, a grid and buttons: not a blank canvas
    thumbnail = decode_png(fetch(check.thumbnail_url or ""))
    assert (thumbnail.width, thumbnail.height) == (320, 200)
    status = checked.client.sessions.status(session_id)
    assert status.render is not None and status.render.check == check
    assert status.render.status == "ready" and status.live == status.render  # unchanged
    log = checked.checker.wait_logged(f"check session={session_id} version=1 outcome=passed ms=")
    assert log.count(f"check session={session_id} version=1 outcome=") == 1


def test_claude_artifact_with_built_in_components_passes_with_every_class_styled(checked: Stack):
    _, record = checked.render(load_app("packing"))
    check = record.check
    assert check is not None and check.status == "passed", check
    assert check.errors == [] and not check.blank
    assert check.unstyled_classes == []


# The session's own Tailwind entry without the design tokens its classes name (a theme lost
# on the way), and a plain class no stylesheet has.
LOST_THEME = app(
    'import "./index.css";\n'
    "export default function App() {\n"
    '  return <main className="group p-4"><h1 className="bg-primary fancy-card text-lg">'
    "Lost</h1></main>;\n"
    "}\n",
    **{"/app/index.css": '@import "tailwindcss";\n'},
)


def test_class_names_no_stylesheet_defines_are_listed(checked: Stack):
    _, record = checked.render(LOST_THEME)
    check = record.check
    assert check is not None and check.status == "passed", check
    assert check.unstyled_classes == ["bg-primary", "fancy-card"]  # not p-4, text-lg, group


# An emoji beside a code point no font has (drawn as an empty box), each in a 100 px square
# at a known place of the screenshot.
EMOJI = app(
    "const box = (left: number) => ({ position: 'fixed' as const, top: 0, left, width: 100,\n"
    "  height: 100, fontSize: 64, lineHeight: '100px', textAlign: 'center' as const });\n"
    "export default function App() {\n"
    "  return <main><span style={box(0)}>\U0001f389</span>"
    "<span style={box(200)}>\U0010fffd</span></main>;\n"
    "}\n"
)


def _coloured_pixels(image: Image, left: int, size: int = 100) -> int:
    """Pixels of the square at (left, 0) whose channels differ: colour, not grey or black."""
    count = 0
    for y in range(size):
        for x in range(left, left + size):
            i = (y * image.width + x) * image.channels
            r, g, b = image.pixels[i : i + 3]
            count += max(r, g, b) - min(r, g, b) > 80
    return count


def test_emoji_in_the_screenshot_are_drawn_in_colour_not_as_empty_boxes(checked: Stack):
    _, record = checked.render(EMOJI)
    check = record.check
    assert check is not None and check.status == "passed", check
    screenshot = decode_png(fetch(check.screenshot_url or ""))
    assert _coloured_pixels(screenshot, 200) == 0  # the box: what a missing font draws
    assert _coloured_pixels(screenshot, 0) > 500  # the emoji: a colour glyph


def test_app_that_throws_at_mount_fails_with_the_session_file_and_line(checked: Stack):
    session_id, record = checked.render(THROWS_AT_MOUNT)

    check = record.check
    assert check is not None and check.status == "failed"
    thrown = check.errors[0]
    assert (thrown.kind, thrown.message) == ("pageerror", "no points to chart")
    assert (thrown.file, thrown.line, thrown.column) == ("/app/components/Chart.tsx", 3, 11)
    assert thrown.format() == "/app/components/Chart.tsx:3:11: no points to chart"
    assert "app-" in thrown.stack  # the minified stack is kept as Chromium gave it
    assert record.status == "ready"  # the check never changes a render's status
    assert checked.client.sessions.status(session_id).live == record


def test_app_that_renders_nothing_is_blank(checked: Stack):
    _, record = checked.render(RENDERS_NOTHING)

    check = record.check
    assert check is not None and check.status == "failed"
    assert check.blank and check.errors == []
    assert check.message == "the page shows nothing: #root has no visible content"
    assert decode_png(fetch(check.screenshot_url or "")).luminance_stdev() == 0


def test_content_shown_after_a_short_timer_is_waited_for(checked: Stack):
    _, record = checked.render(SHOWS_AFTER_A_TIMER)

    check = record.check
    assert check is not None and check.status == "passed", check
    assert not check.blank
    assert decode_png(fetch(check.screenshot_url or "")).luminance_stdev() > 0


def test_the_screenshot_is_taken_once_an_entrance_animation_has_ended(checked: Stack):
    _, record = checked.render(FADES_IN)

    check = record.check
    assert check is not None and check.status == "passed", check
    assert not check.blank
    screenshot = PIL.Image.open(io.BytesIO(fetch(check.screenshot_url or ""))).convert("RGB")
    assert screenshot.getpixel((100, 100)) == (0, 0, 255)  # fully in, not part way


def test_a_page_that_polls_forever_settles_without_waiting_for_the_limit(checked: Stack):
    _, record = checked.render(POLLS_FOREVER)

    check = record.check
    assert check is not None and check.status == "passed", check
    # Hitting the limit would take SETTLE_MAX_MS; settling takes the quiet window.
    assert check.timings_ms["settle"] < SETTLE_MAX_MS * 0.8, check.timings_ms


@pytest.mark.parametrize(
    ("files", "kind", "message"),
    [
        (REJECTS_IN_EFFECT, "unhandledrejection", "effect rejected"),
        (LOGS_AN_ERROR, "console.error", "chart data missing"),
        (THROWS_IN_A_TIMER, "pageerror", "late failure"),
    ],
    ids=["rejected promise in an effect", "console.error in an effect", "throw from a short timer"],
)
def test_an_error_after_mount_fails_the_check_at_its_session_line(
    checked: Stack, files, kind, message
):
    _, record = checked.render(files)

    check = record.check
    assert check is not None and check.status == "failed" and not check.blank, check
    (error,) = check.errors
    assert (error.kind, error.message) == (kind, message)
    assert (error.file, error.line) == ("/app/App.tsx", 4)  # each app's line 4 is the call


def test_error_thrown_inside_a_vendor_chunk_maps_to_the_session_line_that_called_it(checked: Stack):
    _, record = checked.render(VENDOR_THROWS)

    check = record.check
    assert check is not None and check.status == "failed"
    thrown = check.errors[0]
    assert "/vendor/" in thrown.stack.splitlines()[1]  # the top frame is React's
    assert (thrown.file, thrown.line) == ("/app/App.tsx", 5)


def test_page_fetching_an_external_url_passes_and_lists_the_blocked_requests(checked: Stack):
    _, record = checked.render(FETCHES_OUTSIDE)

    check = record.check
    assert check is not None and check.status == "passed", check
    assert sorted(check.blocked_requests) == [
        "https://api.example.com/tasks",
        "https://images.example.com/a.png",
    ]


def test_a_bolt_project_passes_and_lists_the_external_script_index_html_asked_for(checked: Stack):
    _, record = checked.render(load_app("bolt"))  # pushed as unzipped, under /project/

    check = record.check
    assert check is not None and check.status == "passed", check
    assert check.errors == []
    assert check.blocked_requests == ["https://cdn.gpteng.co/gptengineer.js"]


def test_dialogs_popups_and_navigation_away_go_nowhere_and_nothing_outlives_a_check(checked: Stack):
    first_session, first = checked.render(escapes("nobody"))
    _, second = checked.render(escapes(first_session))  # the first one's files exist

    for record in (first, second):
        check = record.check
        assert check is not None and check.status == "passed", check
        assert sorted(check.blocked_requests) == [
            "https://evil.example/steal",
            "https://popup.example/",
        ]
    screenshot = decode_png(fetch(second.check.screenshot_url or ""))
    assert screenshot.luminance_stdev() > 0  # the page itself, still there


def test_infinite_loop_hits_the_timeout_and_the_checker_serves_the_next_check(checked: Stack):
    _, record = checked.render(LOOPS_FOREVER)

    check = record.check
    assert check is not None and check.status == "failed"
    assert check.message == f"did not settle in {TIMEOUT_S} s"
    assert TIMEOUT_S * 1000 <= check.timings_ms["total"] < (TIMEOUT_S + 5) * 1000

    _, after = checked.render(SHIFTCAL)
    assert after.check is not None and after.check.status == "passed"


def test_waiting_for_the_check_of_a_render_that_failed_to_build_is_a_clear_error(checked: Stack):
    client = checked.client
    session = client.sessions.create(name="broken")
    client.sessions.push_files(session.id, BROKEN)
    version = client.sessions.render(session.id).version
    assert client.sessions.wait_for_render(session.id, version).status == "failed"

    with pytest.raises(InvalidInputError) as error:
        client.sessions.wait_for_check(session.id, version, timeout=30)
    assert str(error.value) == (
        f"render {version} of session {session.id} is failed; only a ready render is checked"
    )
    assert client.sessions.get_render(session.id, version).check is None


def test_publishing_a_failed_version_is_refused_unless_forced(checked: Stack):
    session_id, record = checked.render(THROWS_AT_MOUNT)
    assert record.check is not None and record.check.status == "failed"

    with pytest.raises(InvalidInputError) as refused:
        checked.client.apps.publish(session_id, name="chart", author="user@the-shift.dev")
    assert str(refused.value) == (
        f"session {session_id} render 1: its boot check failed "
        "(/app/components/Chart.tsx:3:11: no points to chart); fix the app and render "
        "again, or publish with force=True"
    )
    assert checked.client.apps.list(author="user@the-shift.dev") == []

    forced = checked.client.apps.publish(
        session_id, name="chart", author="user@the-shift.dev", force=True
    )
    assert forced.version.check == record.check


def test_publishing_a_passed_version_records_its_check(checked: Stack):
    session_id, record = checked.render(SHIFTCAL)

    published = checked.client.apps.publish(
        session_id, name="shiftcal", author="checks@the-shift.dev"
    )
    assert published.version.check == record.check
    assert checked.client.apps.get(published.sid).versions[0].check == record.check
