"""Next.js app router projects, as v0 exports them: routes, layouts, the next/* modules the
render provides, process.env, and the server-only code a page may not reach."""

from __future__ import annotations

import json
import time

import pytest

from bundler.nextjs import app_routes, public_env
from bundler.nextjs.env import parse_dotenv

LAYOUT = """\
import "./globals.css"
export const metadata = { title: "Shop" }
export default function RootLayout({ children }: { children: React.ReactNode }) {
  return <html lang="en" className="dark"><body>{children}</body></html>
}
"""
PAGE = "export default function Page() { return <h1>home page</h1> }\n"
MOVE = "move it into an API route (a file under /api/) and fetch it from the page"


def _script(bundle) -> bytes:
    artifacts = {a.path: a.content for a in bundle.artifacts}
    [script] = bundle.page.scripts
    return artifacts[script]


def _urls(paths: list[str]) -> dict[str, list[str]]:
    return {r.url: list(r.layouts) for r in app_routes(paths, "/app")}


def test_every_page_is_a_route_inside_its_folders_layouts():
    paths = [
        "/app/layout.tsx",
        "/app/page.tsx",
        "/app/items/[id]/page.tsx",
        "/app/(shop)/layout.tsx",
        "/app/(shop)/cart/page.tsx",
        "/app/docs/[...slug]/page.tsx",
        "/app/blog/[[...rest]]/page.tsx",
        "/app/items/layout.jsx",
    ]
    assert _urls(paths) == {
        "/": ["/app/layout.tsx"],
        "/cart": ["/app/layout.tsx", "/app/(shop)/layout.tsx"],  # (shop) is not in the URL
        "/blog/[rest]": ["/app/layout.tsx"],
        "/docs/[slug]": ["/app/layout.tsx"],
        "/items/[id]": ["/app/layout.tsx", "/app/items/layout.jsx"],
    }
    kinds = {r.page: [s["kind"] for s in r.segments] for r in app_routes(paths, "/app")}
    assert kinds["/app/docs/[...slug]/page.tsx"] == ["static", "catchAll"]
    assert kinds["/app/blog/[[...rest]]/page.tsx"] == ["static", "optionalCatchAll"]


def test_route_handlers_private_folders_and_slots_are_not_pages():
    paths = [
        "/app/page.tsx",
        "/app/api/items/route.ts",
        "/app/_components/page.tsx",
        "/app/@modal/page.tsx",
        "/app/feed/route.js",
    ]
    assert list(_urls(paths)) == ["/"]


def test_layout_wraps_every_page_and_its_stylesheet_alone_is_bundled(build):
    bundle = build(
        {
            "/app/layout.tsx": LAYOUT,
            "/app/globals.css": '@import "tailwindcss";\n.dark { --background: #0b1020; }\n',
            "/app/page.tsx": PAGE,
            "/app/about/page.tsx": 'export default () => <h1 className="text-4xl">about page</h1>\n',
            "/app/api/ping/route.ts": 'export function GET() { return new Response("route text") }\n',
        }
    )
    script = _script(bundle)
    assert b"home page" in script and b"about page" in script
    assert b"route text" not in script  # route handlers stay out of the page
    assert bundle.page.entry == "/app/page.tsx"
    [style] = [a.content for a in bundle.artifacts if a.path in bundle.page.styles]
    assert b"#0b1020" in style and b".text-4xl" in style


def test_src_app_is_an_app_router_folder_too(build):
    bundle = build(
        {
            "/src/app/layout.tsx": LAYOUT.replace('import "./globals.css"\n', ""),
            "/src/app/page.tsx": PAGE,
        }
    )
    assert bundle.page.entry == "/src/app/page.tsx"
    assert b"home page" in _script(bundle)


def test_next_modules_a_v0_page_imports_build(build):
    bundle = build(
        {
            "/app/layout.tsx": """\
import { Geist, Geist_Mono as Mono } from "next/font/google"
import localFont from "next/font/local"
const geist = Geist({ subsets: ["latin"], variable: "--font-geist-sans" })
const mono = Mono({ subsets: ["latin"], variable: "--font-geist-mono" })
const brand = localFont({ src: "./fonts/Brand.woff2", variable: "--font-brand" })
export default function RootLayout({ children }: { children: React.ReactNode }) {
  const fonts = `${geist.variable} ${mono.variable} ${brand.variable}`
  return <html><body className={fonts}>{children}</body></html>
}
""",
            "/app/fonts/Brand.woff2": "wOF2 not really a font",
            "/app/page.tsx": """\
"use client"
import Link from "next/link"
import Image from "next/image"
import Head from "next/head"
import Script from "next/script"
import dynamic from "next/dynamic"
import { useRouter, usePathname, useSearchParams, useParams } from "next/navigation"
import { redirect, notFound } from "next/navigation"
import type { Metadata } from "next"
const Chart = dynamic(() => import("./chart"), { ssr: false, loading: () => <p>loading</p> })
export default function Page() {
  const router = useRouter(); const path = usePathname(); const query = useSearchParams()
  const params = useParams(); if (path === "/old") redirect("/"); if (path === "/gone") notFound()
  return <><Head><title>t</title></Head><Script id="x">{"window.x = 1"}</Script>
    <Link href="/b">b</Link><Image src="/hero.png" alt="" width={1} height={1} />
    <Chart /><button onClick={() => router.push("/c")}>{query.get("q")}{params.id}</button></>
}
""",
            "/app/chart.tsx": "export default function Chart() { return <svg>dynamic chart</svg> }\n",
        }
    )
    script = _script(bundle)
    assert b'"Geist Mono"' in script and b"--font-brand" in script
    assert b"dynamic chart" in script
    [font] = [a.path for a in bundle.artifacts if a.path.endswith(".woff2")]
    assert font.startswith("assets/Brand-")
    assert font.encode() in script  # the @font-face url


@pytest.mark.parametrize(
    ("specifier", "why"),
    [
        ("next/headers", "it reads the request's headers and cookies on a Next.js server"),
        (
            "next/server",
            "it holds Next.js middleware and route handler types (NextRequest, "
            "NextResponse) for a server",
        ),
        ("next/cache", "it revalidates a Next.js server's cache"),
        ("server-only", "it marks a module that must never reach the browser"),
    ],
)
def test_server_only_module_fails_at_its_import(build_failure, specifier, why):
    failure = build_failure(
        {
            "/app/page.tsx": PAGE,
            "/app/lib/session.ts": f'import {{ cookies }} from "{specifier}"\n'
            "export const c = cookies\n",
            "/app/account/page.tsx": 'import { c } from "../lib/session"\n'
            "export default () => <p>{String(c)}</p>\n",
        }
    )
    [error] = [d for d in failure.diagnostics if d.severity == "error"]
    assert (error.file, error.line, error.column) == ("/app/lib/session.ts", 1, 25)
    assert error.message == (
        f'cannot import "{specifier}": {why}, and a preview page runs only in the browser; '
        f"{MOVE.replace('move it', 'move this code')} "
        f"(import chain: /app/account/page.tsx → /app/lib/session.ts → {specifier})"
    )


def test_unknown_next_module_says_which_ones_exist(build_failure):
    failure = build_failure(
        {
            "/app/page.tsx": 'import { useAmp } from "next/amp"\n'
            "export default () => <p>{String(useAmp())}</p>\n"
        }
    )
    [error] = [d for d in failure.diagnostics if d.severity == "error"]
    assert error.message == (
        'cannot import "next/amp": a preview page provides these modules of Next.js: next, '
        "next/link, next/navigation, next/image, next/legacy/image, next/router, next/dynamic, "
        "next/head, next/font/google, next/font/local, next/script "
        "(import chain: /app/page.tsx → next/amp)"
    )


def test_server_actions_file_the_page_imports_fails_at_its_directive(build_failure):
    failure = build_failure(
        {
            "/app/page.tsx": 'import { save } from "./actions"\n'
            "export default () => <form action={save}><button /></form>\n",
            "/app/actions.ts": '// saves the form\n"use server"\n\nexport async function save() {}\n',
        }
    )
    [error] = [d for d in failure.diagnostics if d.severity == "error"]
    assert (error.file, error.line, error.column, error.line_text) == (
        "/app/actions.ts",
        2,
        1,
        '"use server"',
    )
    assert error.message == (
        '/app/actions.ts is a server actions file ("use server"): server actions run on a '
        f"Next.js server, and a preview page runs only in the browser; {MOVE} "
        "(import chain: /app/page.tsx → /app/actions.ts)"
    )
    assert error.import_chain == ("/app/page.tsx", "/app/actions.ts")


def test_inline_server_action_fails_at_its_line(build_failure):
    failure = build_failure(
        {
            "/app/page.tsx": """\
export default function Page() {
  async function save() {
    'use server';
  }
  return <form action={save} />
}
"""
        }
    )
    [error] = [d for d in failure.diagnostics if d.severity == "error"]
    assert (error.file, error.line, error.column) == ("/app/page.tsx", 3, 5)
    assert error.message.startswith(
        '/app/page.tsx has a server action (a function that starts with "use server"): '
        "server actions run on a Next.js server"
    )


def test_route_handler_the_page_imports_fails_and_one_nobody_imports_does_not(build, build_failure):
    route = "export async function GET() { return Response.json({ ok: true }) }\n"
    failure = build_failure(
        {
            "/app/page.tsx": 'import { GET } from "./api/items/route"\n'
            "export default () => <p>{String(GET)}</p>\n",
            "/app/api/items/route.ts": route,
        }
    )
    [error] = [d for d in failure.diagnostics if d.severity == "error"]
    assert (error.file, error.line, error.column, error.line_text) == (
        "/app/page.tsx",
        1,
        21,
        'import { GET } from "./api/items/route"',
    )  # at the import
    assert error.message == (
        "/app/api/items/route.ts is a Next.js route handler: it answers requests on a server "
        f"and cannot run in the page; {MOVE} "
        "(import chain: /app/page.tsx → /app/api/items/route.ts)"
    )
    build(
        {
            "/app/page.tsx": PAGE,
            "/app/api/items/route.ts": route,
            "/app/actions.ts": '"use server"\nexport async function save() {}\n',
        }
    )


def test_public_env_values_are_inlined_and_no_other_value_reaches_any_artifact(build):
    bundle = build(
        {
            "/app/page.tsx": "export default () => <p>{process.env.NEXT_PUBLIC_SHOP}"
            "{process.env.NEXT_PUBLIC_LOCAL}{String(process.env.STRIPE_KEY)}"
            "{String(process.env.NEXT_PUBLIC_MISSING)}{process.env.NODE_ENV}"
            "{Object.keys(process.env).join()}</p>\n",
            "/.env": "NEXT_PUBLIC_SHOP=Northwind\nNEXT_PUBLIC_LOCAL=from-env\n"
            "STRIPE_KEY=sk_live_secret_value\n",
            "/.env.local": "NEXT_PUBLIC_LOCAL=from-env-local\nDATABASE_URL=postgres://secret-db\n",
        }
    )
    script = _script(bundle)
    assert b"Northwind" in script and b"from-env-local" in script
    assert b'from-env"' not in script  # .env.local wins over .env
    for artifact in bundle.artifacts:
        assert b"sk_live_secret_value" not in artifact.content, artifact.path
        assert b"secret-db" not in artifact.content, artifact.path
    assert b"process.env" not in script  # every read is replaced: nothing can throw


def test_public_env_reads_next_files_in_production_order():
    from bundler.artifacts import SourceFile

    files = {
        path: SourceFile(path, f"NEXT_PUBLIC_FROM={path}\n".encode())
        for path in ("/.env", "/.env.production", "/.env.local", "/.env.development")
    }
    assert public_env(files) == {"NEXT_PUBLIC_FROM": "/.env.local"}


def test_dotenv_quotes_comments_export_and_multiline_values():
    text = (
        "# comment\nexport A=1\nB=\"two words\" # note\nC='single $X'\nD=plain # note\n"
        'E="line1\\nline2"\nF="multi\nline"\nnot a line\n'
    )
    assert parse_dotenv(text) == {
        "A": "1",
        "B": "two words",
        "C": "single $X",
        "D": "plain",
        "E": "line1\nline2",
        "F": "multi\nline",
    }


def test_literal_inline_scripts_become_files_of_the_render(build):
    bundle = build(
        {
            "/app/page.tsx": """\
import Script from "next/script"
export default function Page() {
  return <>
    <Script id="a">{`window.a = { n: "\\\\u0041" };`}</Script>
    <Script id="b" dangerouslySetInnerHTML={{ __html: "(function(){ window.b = 2 })()" }} />
    <Script id="c">{`window.c = ${Date.now()}`}</Script>
  </>
}
""",
        }
    )
    scripts = {a.path: a.content for a in bundle.artifacts if a.path.startswith("assets/script-")}
    assert sorted(scripts.values()) == [
        b"(function(){ window.b = 2 })()",
        b'window.a = { n: "\\u0041" };',
    ]
    assert all(path.encode() in _script(bundle) for path in scripts)


def test_geist_font_package_of_older_v0_layouts_is_provided(build):
    bundle = build(
        {
            "/app/layout.tsx": """\
import { GeistSans } from "geist/font/sans"
import { GeistMono } from "geist/font/mono"
export default function RootLayout({ children }: { children: React.ReactNode }) {
  return <html><head><style>{`html { font-family: ${GeistSans.style.fontFamily}; }`}</style>
    </head><body className={GeistMono.variable}>{children}</body></html>
}
""",
            "/app/page.tsx": PAGE,
        }
    )
    script = _script(bundle)
    assert b'"--font-geist-sans"' in script and b'"Geist Mono"' in script


def test_a_made_up_inline_script_path_is_a_build_error_not_a_crash(build_failure):
    failure = build_failure(
        {
            "/app/page.tsx": 'import x from "stage:next/inline/app/page.tsx/script-7.js"\n'
            "export default () => <p>{String(x)}</p>\n",
        }
    )
    [error] = [d for d in failure.diagnostics if d.severity == "error"]
    assert "stage:next/inline/app/page.tsx/script-7.js is no inline script of the session" in (
        error.message
    )


@pytest.mark.parametrize("specifier", ["next/../../../../etc/passwd", "next/dist/server/web"])
def test_next_specifiers_reach_only_the_provided_modules(build_failure, specifier):
    failure = build_failure(
        {
            "/app/page.tsx": f'import * as x from "{specifier}"\n'
            "export default () => <p>{String(x)}</p>\n",
        }
    )
    [error] = [d for d in failure.diagnostics if d.severity == "error"]
    assert error.message.startswith(
        f'cannot import "{specifier}": a preview page provides these modules of Next.js: '
    )


def test_inline_script_scan_is_one_pass_over_hostile_text():
    from bundler.nextjs.scripts import inline_scripts

    started = time.perf_counter()
    for text in ("<Script " * 150_000 + ">", "<Script {" * 100_000, "<Script>{`" * 100_000):
        assert inline_scripts(text) == []
    assert time.perf_counter() - started < 1.0
    assert inline_scripts('<Script id="a">{`x = "}>"`}</Script><Script>{"y"}</Script>') == [
        'x = "}>"',
        "y",
    ]


def test_v0_package_json_and_vercel_analytics_need_no_warning(build):
    bundle = build(
        {
            "/package.json": json.dumps(
                {
                    "dependencies": {
                        "next": "15.2.4",
                        "geist": "^1.3.1",
                        "@vercel/analytics": "1.3.1",
                        "react": "^19",
                    }
                }
            ),
            "/app/layout.tsx": """\
import { Analytics } from "@vercel/analytics/next"
import { SpeedInsights } from "@vercel/speed-insights/next"
export default function RootLayout({ children }: { children: React.ReactNode }) {
  return <html><body>{children}<Analytics /><SpeedInsights /></body></html>
}
""",
            "/app/page.tsx": PAGE,
        }
    )
    assert bundle.warnings == []
    assert b"_vercel" not in _script(bundle)  # nothing is sent anywhere
