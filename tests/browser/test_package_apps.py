"""Every family of allowed packages works in a rendered page: a small app per family, built
with vendor chunks, stored in a local folder and opened in Chromium, with no page error."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_pages import Page

from bench.gen_apps import folder_app
from bundler import Bundler, SourceFile
from worker.render.pipeline import RenderInput, build_version, input_hash
from worker.storage import LocalStore

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bundler, LocalStore]]:
    bundler = Bundler(vendor_cache=tmp_path_factory.mktemp("vendor-cache"))
    bundler.load_vendor()
    yield bundler, LocalStore(tmp_path_factory.mktemp("artifacts"))
    bundler.close()


@pytest.fixture
def opened(renderer, browser) -> Iterator:
    """Render ``{path: source}`` and open it; returns the Page."""
    bundler, store = renderer
    pages: list[Page] = []

    def open_app(files: dict[str, str], name: str) -> Page:
        job = RenderInput(
            name, 1, name, [], [SourceFile(p, t.encode("utf-8")) for p, t in files.items()]
        )
        rendered = build_version(job, digest=input_hash(job, bundler), bundler=bundler, store=store)
        assert rendered.error is None, rendered.error
        assert rendered.index_path is not None
        page = Page(browser)
        pages.append(page)
        page.open(Path(rendered.index_path).as_uri())
        return page

    yield open_app
    for page in pages:
        page.context.close()


def app(source: str) -> dict[str, str]:
    return {"/app/App.tsx": source}


def test_radix_dialog_from_the_unified_package_opens_on_click(opened):
    page = opened(folder_app("shadcn").files, "shadcn")
    invite = page.tab.get_by_role("button", name="Invite")
    # cva + tailwind-merge: the default variant's classes, the conflicting padding merged.
    assert "bg-primary" in invite.get_attribute("class")
    invite.click()
    dialog = page.tab.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_role("heading").inner_text() == "Invite Ada"
    page.tab.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    page.tab.get_by_role("tab", name="Alerts").click()
    page.tab.get_by_role("button", name="Alerts").click()
    assert page.tab.get_by_role("menuitemcheckbox").get_attribute("aria-checked") == "true"
    assert page.errors == []


def test_react_router_memory_router_renders_the_route_a_link_goes_to(opened):
    page = opened(
        app(
            'import { Link, MemoryRouter, Route, Routes } from "react-router-dom";\n'
            "export default function App() {\n"
            '  return (<MemoryRouter><Link to="/about">About</Link><Routes>\n'
            '    <Route path="/" element={<h1>Home</h1>} />\n'
            '    <Route path="/about" element={<h1>About us</h1>} />\n'
            "  </Routes></MemoryRouter>);\n}\n"
        ),
        "router",
    )
    assert page.tab.locator("h1").inner_text() == "Home"
    page.tab.get_by_text("About", exact=True).click()
    page.tab.get_by_text("About us").wait_for()
    assert page.errors == []


def test_zustand_store_update_rerenders(opened):
    page = opened(
        app(
            'import { create } from "zustand";\n'
            "const useCount = create<{ n: number; inc: () => void }>((set) => ({\n"
            "  n: 0, inc: () => set((s) => ({ n: s.n + 1 })) }));\n"
            "export default function App() {\n"
            "  const { n, inc } = useCount();\n"
            "  return <button onClick={inc}>count {n}</button>;\n}\n"
        ),
        "zustand",
    )
    page.tab.get_by_role("button").click()
    page.tab.get_by_text("count 1").wait_for()
    assert page.errors == []


def wait_until(page: Page, expression: str, timeout_s: float = 10.0) -> None:
    """Poll ``expression`` from outside the page. Playwright's wait_for_function evaluates a
    string inside the page, which the page's CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.tab.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression} was still false after {timeout_s:g}s")
        time.sleep(0.05)


def test_framer_motion_and_motion_render_animated_elements(opened):
    page = opened(
        app(
            'import { motion } from "framer-motion";\n'
            'import { motion as m } from "motion/react";\n'
            "export default function App() {\n"
            "  return (<>\n"
            '    <motion.div data-testid="fm" initial={{ opacity: 0 }} animate={{ opacity: 1 }}'
            " transition={{ duration: 0.05 }}>framer</motion.div>\n"
            '    <m.p data-testid="m" animate={{ x: 10 }}>motion</m.p>\n'
            "  </>);\n}\n"
        ),
        "motion",
    )
    wait_until(page, "getComputedStyle(document.querySelector('[data-testid=fm]')).opacity === '1'")
    assert page.tab.get_by_test_id("m").inner_text() == "motion"
    assert page.errors == []


def test_react_hook_form_with_a_zod_resolver_validates_then_submits(opened):
    page = opened(
        app(
            'import { useState } from "react";\n'
            'import { useForm } from "react-hook-form";\n'
            'import { zodResolver } from "@hookform/resolvers/zod";\n'
            'import { z } from "zod";\n'
            "const schema = z.object({ email: z.string().email() });\n"
            "export default function App() {\n"
            '  const [sent, setSent] = useState("");\n'
            "  const { register, handleSubmit, formState: { errors } } =\n"
            "    useForm<{ email: string }>({ resolver: zodResolver(schema) });\n"
            "  return (<form onSubmit={handleSubmit((d) => setSent(d.email))}>\n"
            '    <input placeholder="email" {...register("email")} />\n'
            '    <button type="submit">Send</button>\n'
            '    {errors.email && <p role="alert">bad email</p>}\n'
            '    {sent && <p data-testid="sent">{sent}</p>}\n'
            "  </form>);\n}\n"
        ),
        "form",
    )
    page.tab.fill("input", "nope")
    page.tab.click("text=Send")
    page.tab.get_by_role("alert").wait_for()
    page.tab.fill("input", "ada@example.com")
    page.tab.click("text=Send")
    page.tab.get_by_test_id("sent").wait_for()
    assert page.tab.get_by_test_id("sent").inner_text() == "ada@example.com"
    assert page.errors == []


def test_react_markdown_renders_a_heading(opened):
    page = opened(
        app(
            'import Markdown from "react-markdown";\n'
            'export default () => <Markdown>{"# Hello\\n\\nSome *text*."}</Markdown>;\n'
        ),
        "markdown",
    )
    assert page.tab.locator("h1").inner_text() == "Hello"
    assert page.tab.locator("em").inner_text() == "text"
    assert page.errors == []


def test_recharts_lucide_and_date_fns_draw_from_named_modules(opened):
    page = opened(folder_app("weight").files, "weight")
    line = page.tab.locator(".recharts-line path.recharts-curve")
    line.wait_for()
    assert line.get_attribute("d").startswith("M")
    assert page.tab.locator("svg.lucide").count() == 3
    assert "Mon 1" in page.tab.locator("svg.recharts-surface").text_content()
    assert page.errors == []


def test_chart_js_draws_bars_on_a_canvas(opened):
    page = opened(
        app(
            'import { BarElement, CategoryScale, Chart, LinearScale } from "chart.js";\n'
            'import { Bar } from "react-chartjs-2";\n'
            "Chart.register(CategoryScale, LinearScale, BarElement);\n"
            "const data = { labels: ['a', 'b'], datasets: [{ label: 'n', data: [3, 5],"
            " backgroundColor: 'rgb(255, 0, 0)' }] };\n"
            "export default () => <Bar data={data} width={400} height={200}"
            " options={{ animation: false, responsive: false }} />;\n"
        ),
        "chartjs",
    )
    canvas = page.tab.locator("canvas")
    canvas.wait_for()
    red = canvas.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 0; i < d.length; i += 4)"
        " if (d[i] === 255 && d[i + 1] === 0 && d[i + 2] === 0 && d[i + 3] === 255) n++;"
        " return n; }"
    )
    assert red > 100  # two red bars
    assert page.errors == []


def test_react_three_fiber_canvas_mounts_or_its_webgl_error_is_handled(opened):
    page = opened(
        app(
            'import { Component, type ReactNode } from "react";\n'
            'import { Canvas } from "@react-three/fiber";\n'
            'import { Color } from "three";\n'
            "class Boundary extends Component<{ children: ReactNode }, { error?: Error }> {\n"
            "  state: { error?: Error } = {};\n"
            "  static getDerivedStateFromError(error: Error) { return { error }; }\n"
            "  componentDidCatch() {}\n"
            "  render() {\n"
            "    return this.state.error\n"
            '      ? <p data-testid="no-webgl">{this.state.error.message}</p>\n'
            "      : this.props.children;\n"
            "  }\n"
            "}\n"
            "export default () => (\n"
            '  <Boundary><div style={{ width: 200, height: 200 }}><Canvas data-testid="scene">\n'
            '    <mesh><boxGeometry /><meshBasicMaterial color={new Color("hotpink")} /></mesh>\n'
            "  </Canvas></div></Boundary>\n"
            ");\n"
        ),
        "three",
    )
    page.tab.wait_for_selector("canvas, [data-testid=no-webgl]")
    if page.tab.locator("[data-testid=no-webgl]").count():
        # Chromium without a GPU may refuse WebGL; the app's boundary shows why.
        message = page.tab.get_by_test_id("no-webgl").inner_text()
        assert re.search(r"WebGL", message, re.I), message
        assert all(re.search(r"WebGL|above error", e, re.I) for e in page.errors), page.errors
    else:
        canvas = page.tab.locator("canvas")
        assert canvas.evaluate("c => !!(c.getContext('webgl2') || c.getContext('webgl'))")
        assert page.errors == []


def test_cmdk_filters_items_as_you_type(opened):
    page = opened(
        app(
            'import { Command } from "cmdk";\n'
            'export default () => (<Command label="Fruit"><Command.Input />\n'
            "  <Command.List><Command.Item>Apple</Command.Item><Command.Item>Banana</Command.Item>"
            "</Command.List></Command>);\n"
        ),
        "cmdk",
    )
    page.tab.locator("[cmdk-input]").fill("ban")
    wait_until(page, "document.querySelectorAll('[cmdk-item]').length === 1")
    assert page.tab.locator("[cmdk-item]").inner_text() == "Banana"
    assert page.errors == []


def test_sonner_shows_a_toast(opened):
    page = opened(
        app(
            'import { Toaster, toast } from "sonner";\n'
            "export default () => (<><Toaster />"
            '<button onClick={() => toast("Saved!")}>save</button></>);\n'
        ),
        "sonner",
    )
    page.tab.click("text=save")
    page.tab.get_by_text("Saved!").wait_for()
    assert page.errors == []


def test_vaul_drawer_opens(opened):
    page = opened(
        app(
            'import { Drawer } from "vaul";\n'
            "export default () => (<Drawer.Root><Drawer.Trigger>open</Drawer.Trigger>\n"
            "  <Drawer.Portal><Drawer.Overlay /><Drawer.Content>\n"
            "    <Drawer.Title>Drawer title</Drawer.Title><Drawer.Description>d</Drawer.Description>\n"
            "  </Drawer.Content></Drawer.Portal></Drawer.Root>);\n"
        ),
        "vaul",
    )
    page.tab.click("text=open")
    page.tab.get_by_text("Drawer title").wait_for()
    assert page.errors == []


def test_day_picker_carousel_otp_and_resizable_panels_render(opened):
    page = opened(
        app(
            'import { useState } from "react";\n'
            'import { DayPicker } from "react-day-picker";\n'
            'import useEmblaCarousel from "embla-carousel-react";\n'
            'import { OTPInput } from "input-otp";\n'
            'import { Group, Panel, Separator } from "react-resizable-panels";\n'
            "export default function App() {\n"
            "  const [ref] = useEmblaCarousel();\n"
            '  const [code, setCode] = useState("");\n'
            "  return (<>\n"
            '    <DayPicker mode="single" defaultMonth={new Date(2024, 0, 1)} />\n'
            '    <div ref={ref} style={{ overflow: "hidden" }}><div style={{ display: "flex" }}>\n'
            '      <div style={{ flex: "0 0 100%" }}>slide 1</div>'
            '<div style={{ flex: "0 0 100%" }}>slide 2</div>\n'
            "    </div></div>\n"
            "    <OTPInput maxLength={4} value={code} onChange={setCode}\n"
            '      render={({ slots }) => <div data-testid="otp">{slots.map((s, i) =>'
            ' <span key={i}>{s.char ?? "_"}</span>)}</div>} />\n'
            '    <div style={{ height: 100 }}><Group orientation="horizontal">\n'
            '      <Panel id="left">left</Panel><Separator /><Panel id="right">right</Panel>\n'
            "    </Group></div>\n"
            "  </>);\n}\n"
        ),
        "widgets",
    )
    assert "January 2024" in page.tab.locator(".rdp-root").inner_text()
    page.tab.locator("input").last.fill("12")
    wait_until(
        page, "document.querySelector('[data-testid=otp]').innerText.replace(/\\s/g, '') === '12__'"
    )
    assert page.tab.get_by_text("right").is_visible()
    assert page.errors == []


def test_react_query_resolves_a_query(opened):
    page = opened(
        app(
            'import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";\n'
            "const client = new QueryClient();\n"
            "function Answer() {\n"
            '  const { data } = useQuery({ queryKey: ["a"], queryFn: async () => 42 });\n'
            '  return <p data-testid="answer">{data ?? "…"}</p>;\n'
            "}\n"
            "export default () => <QueryClientProvider client={client}><Answer />"
            "</QueryClientProvider>;\n"
        ),
        "query",
    )
    page.tab.get_by_text("42").wait_for()
    assert page.errors == []


def test_data_utilities_compute_in_the_page(opened):
    page = opened(
        app(
            'import * as d3 from "d3";\n'
            'import { sortBy } from "lodash";\n'
            'import { v4 as uuid } from "uuid";\n'
            'import Papa from "papaparse";\n'
            'import { evaluate } from "mathjs";\n'
            'const parsed = Papa.parse<string[]>("a,b\\n1,2").data;\n'
            "export default () => (<ul>\n"
            '  <li data-testid="d3">{d3.scaleLinear().domain([0, 10]).range([0, 100])(5)}</li>\n'
            '  <li data-testid="lodash">{sortBy([3, 1, 2]).join(",")}</li>\n'
            '  <li data-testid="uuid">{uuid()}</li>\n'
            '  <li data-testid="papaparse">{JSON.stringify(parsed)}</li>\n'
            '  <li data-testid="mathjs">{String(evaluate("2 + 3 * 4"))}</li>\n'
            "</ul>);\n"
        ),
        "utilities",
    )
    text = {
        k: page.tab.get_by_test_id(k).inner_text()
        for k in ("d3", "lodash", "uuid", "papaparse", "mathjs")
    }
    assert text["d3"] == "50" and text["lodash"] == "1,2,3" and text["mathjs"] == "14"
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", text["uuid"]
    )
    assert text["papaparse"] == '[["a","b"],["1","2"]]'
    assert page.errors == []
