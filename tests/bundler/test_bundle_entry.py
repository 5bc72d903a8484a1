"""Which file a page starts from, and what a session without a usable entry is told."""

from __future__ import annotations

import json

import pytest

APP_TSX = "export default function App() { return <h1>from App.tsx</h1>; }\n"
SELF_MOUNTING = """\
import { createRoot } from "react-dom/client";
import App from "./App";
createRoot(document.getElementById("self-mounted")).render(<App />);
"""


def _script_and_sources(bundle) -> tuple[bytes, list[str]]:
    artifacts = {a.path: a.content for a in bundle.artifacts}
    [script] = bundle.page.scripts
    return artifacts[script], json.loads(artifacts[script + ".map"])["sources"]


@pytest.mark.parametrize(
    ("files", "entry"),
    [
        ({"/app/main.tsx": SELF_MOUNTING, "/app/App.tsx": APP_TSX}, "/app/main.tsx"),
        ({"/app/index.tsx": SELF_MOUNTING, "/app/App.tsx": APP_TSX}, "/app/index.tsx"),
        (
            {
                "/app/main.tsx": SELF_MOUNTING,
                "/app/index.tsx": "throw new Error('not me');\n",
                "/app/App.tsx": APP_TSX,
            },
            "/app/main.tsx",
        ),
        ({"/app/main.jsx": SELF_MOUNTING, "/app/App.jsx": APP_TSX}, "/app/main.jsx"),
    ],
    ids=["main-over-App", "index-over-App", "main-over-index", "main.jsx"],
)
def test_self_mounting_entry_wins_and_is_not_wrapped(build, files, entry):
    bundle = build(files)
    script, sources = _script_and_sources(bundle)
    assert bundle.page.entry == entry
    assert b'"self-mounted"' in script
    assert b"not me" not in script
    assert entry in sources
    assert "<stage:entry>" not in sources  # the generated mount code is not used


@pytest.mark.parametrize(
    ("files", "entry"),
    [
        ({"/app/App.tsx": APP_TSX}, "/app/App.tsx"),
        (
            {"/app/App.jsx": "export default function App() { return <h1>jsx</h1>; }\n"},
            "/app/App.jsx",
        ),
        (
            {
                "/app/App.js": "import { createElement } from 'react';\n"
                "export default () => createElement('h1', null, 'js');\n"
            },
            "/app/App.js",
        ),
        ({"/app/App.ts": "export default function App() { return null; }\n"}, "/app/App.ts"),
        ({"/app/App.tsx": APP_TSX, "/app/App.js": "export default 1;\n"}, "/app/App.tsx"),
    ],
    ids=["App.tsx", "App.jsx", "App.js", "App.ts", "tsx-over-js"],
)
def test_app_default_export_is_mounted_into_root(build, files, entry):
    bundle = build(files)
    script, sources = _script_and_sources(bundle)
    assert bundle.page.entry == entry
    assert b'getElementById("root")' in script
    assert sources.count(entry) == 1
    assert "<stage:entry>" in sources


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"/lib/App.tsx": APP_TSX},
        {"/app/components/App.tsx": APP_TSX, "/app/app.tsx": APP_TSX},
        {"/index.html": "<!doctype html><title>no script</title><div id=root></div>\n"},
    ],
    ids=["empty", "outside-known-folders", "wrong-place-and-case", "index.html-without-script"],
)
def test_missing_entry_fails_listing_the_files_looked_for(build_failure, files):
    error = build_failure(files)
    looked_for = ", ".join(
        [
            f"/{folder}{stem}.{ext}"
            for folder in ("app/", "src/", "")
            for stem, exts in (
                ("main", ("tsx", "ts", "jsx", "js")),
                ("index", ("tsx", "ts", "jsx", "js")),
                ("App", ("tsx", "jsx", "ts", "js")),
            )
            for ext in exts
        ]
        + [
            f"{app}/page.{ext}"
            for app in ("/app", "/src/app")
            for ext in ("tsx", "jsx", "ts", "js")
        ]
    )
    assert error.message == (
        "no entry file: a session needs /app/App.tsx (its default export is mounted into "
        "#root), a self-mounting /app/main.tsx or /app/index.tsx, the same in /src/ or at /, "
        'a Next.js-style /app/page.tsx, or an /index.html whose <script type="module" src> '
        f"names its entry; looked for {looked_for}"
    )
    [diagnostic] = error.diagnostics
    assert diagnostic.severity == "error"


@pytest.mark.parametrize(
    ("files", "entry"),
    [
        ({"/app/page.tsx": APP_TSX, "/app/layout.tsx": APP_TSX}, "/app/page.tsx"),
        ({"/app/page.tsx": APP_TSX, "/app/App.tsx": APP_TSX}, "/app/App.tsx"),
        ({"/src/App.tsx": APP_TSX}, "/src/App.tsx"),
        ({"/src/App.jsx": APP_TSX}, "/src/App.jsx"),
        (
            {"/App.js": "export default function App() { return <h1>from App.tsx</h1>; }\n"},
            "/App.js",
        ),
        ({"/src/App.tsx": APP_TSX, "/App.tsx": "export default 1;\n"}, "/src/App.tsx"),
        ({"/app/App.tsx": APP_TSX, "/src/App.tsx": "export default 1;\n"}, "/app/App.tsx"),
    ],
    ids=[
        "next-app-page",
        "App-over-page",
        "src-App.tsx",
        "src-App.jsx",
        "root-App.js",
        "src-over-root",
        "app-over-src",
    ],
)
def test_app_in_src_or_at_the_root_or_a_next_page_is_mounted_into_root(build, files, entry):
    bundle = build(files)
    script, sources = _script_and_sources(bundle)
    assert bundle.page.entry == entry
    assert b'getElementById("root")' in script
    assert b"from App.tsx" in script
    assert "<stage:entry>" in sources


@pytest.mark.parametrize(
    ("files", "entry"),
    [
        ({"/src/main.tsx": SELF_MOUNTING, "/src/App.tsx": APP_TSX}, "/src/main.tsx"),
        ({"/src/index.jsx": SELF_MOUNTING, "/src/App.jsx": APP_TSX}, "/src/index.jsx"),
        ({"/index.js": SELF_MOUNTING, "/App.js": APP_TSX}, "/index.js"),
        (
            {
                "/src/main.tsx": SELF_MOUNTING,
                "/src/App.tsx": APP_TSX,
                "/index.ts": "not me\n",
                "/App.tsx": "throw new Error('not me');\n",
            },
            "/src/main.tsx",
        ),
        (
            {"/app/App.tsx": APP_TSX, "/src/main.tsx": "throw new Error('not me');\n"},
            "/app/App.tsx",
        ),
    ],
    ids=["vite-src-main", "cra-src-index", "sandpack-root-index", "src-over-root", "app-over-src"],
)
def test_vite_cra_and_sandpack_entries_are_found_in_order(build, files, entry):
    bundle = build(files)
    script, sources = _script_and_sources(bundle)
    assert bundle.page.entry == entry
    assert entry in sources
    assert b"not me" not in script


INDEX_HTML = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <link rel="icon" type="image/svg+xml" href="/vite.svg" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <meta name="description" content="Plan shifts &amp; swaps" />
    <meta http-equiv="refresh" content="0; url=https://example.com/" />
    <title>ShiftCal &mdash; planner</title>
    <link rel="preconnect" href="https://fonts.googleapis.com">
  </head>
  <body>
    <div id="app"></div>
    <script type="module" src="/src/main.tsx"></script>
  </body>
</html>
"""
MOUNTS_INTO_APP = """\
import { createRoot } from "react-dom/client";
import App from "./App";
createRoot(document.getElementById("app")!).render(<App />);
"""


def test_index_html_names_the_entry_and_gives_the_head_and_mount_point(build):
    bundle = build(
        {
            "/index.html": INDEX_HTML,
            "/src/main.tsx": MOUNTS_INTO_APP,
            "/src/App.tsx": APP_TSX,
            "/app/App.tsx": "throw new Error('not me');\n",
        }
    )
    script, sources = _script_and_sources(bundle)
    assert bundle.page.entry == "/src/main.tsx"
    assert "/src/main.tsx" in sources
    assert b"not me" not in script
    assert bundle.page.title == "ShiftCal \u2014 planner"
    assert bundle.page.meta == [
        {"attribute": "name", "value": "description", "content": "Plan shifts & swaps"}
    ]
    assert bundle.page.mount_ids == ["app"]
    assert bundle.warnings == []


@pytest.mark.parametrize("src", ["./src/main.tsx", "src/main.tsx?v=3", "/src/./main.tsx"])
def test_index_html_script_src_is_read_as_a_url_from_the_root(build, src):
    html = f'<script type="module" src="{src}"></script>'
    bundle = build({"/index.html": html, "/src/main.tsx": SELF_MOUNTING, "/src/App.tsx": APP_TSX})
    assert bundle.page.entry == "/src/main.tsx"


def test_index_html_naming_a_missing_entry_fails_saying_which(build_failure):
    error = build_failure(
        {
            "/index.html": '<body><div id="root"></div>'
            '<script type="module" src="/src/main.jsx"></script></body>',
            "/src/main.tsx": SELF_MOUNTING,
            "/src/App.tsx": APP_TSX,
        }
    )
    message = (
        '/index.html loads <script type="module" src="/src/main.jsx">, but no session '
        "file has that path; push it or point src at the entry file (e.g. /src/main.tsx)"
    )
    assert error.message == message
    assert [(d.file, d.message) for d in error.diagnostics] == [("/index.html", message)]


def test_index_html_without_script_keeps_its_title_and_the_usual_entry(build):
    bundle = build(
        {"/index.html": "<title>Board</title><div id=root></div>", "/src/App.tsx": APP_TSX}
    )
    page = bundle.page
    assert (page.entry, page.title, page.mount_ids) == ("/src/App.tsx", "Board", [])


def test_index_html_stylesheets_other_scripts_are_dropped_with_warnings(build):
    html = """<head>
<link rel="stylesheet" href="/fonts.css">
<link rel="stylesheet" href="/src/index.css">
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">
<script>window.evil = 1</script>
<script src="https://cdn.tailwindcss.com"></script>
</head><body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body>"""
    bundle = build(
        {
            "/index.html": html,
            "/src/main.tsx": SELF_MOUNTING,
            "/src/App.tsx": APP_TSX,
            "/src/index.css": "body { margin: 0 }\n",
            "/public/fonts.css": "body { font-family: serif }\n",
        }
    )
    assert bundle.page.styles[0] == "fonts.css"
    assert [(w.file, w.message, w.severity) for w in bundle.warnings] == [
        (
            "/index.html",
            "/index.html links the stylesheet /src/index.css, which is not loaded: "
            'import it from the code (import "/src/index.css") so it is bundled',
            "warning",
        ),
        (
            "/index.html",
            "/index.html links the stylesheet "
            "https://fonts.googleapis.com/css2?family=Inter, which is not loaded: "
            "the page loads styles only from session files",
            "warning",
        ),
        (
            "/index.html",
            "/index.html asks for script(s) from another site, which are not "
            "loaded: https://cdn.tailwindcss.com (a page runs only session code and "
            "allowed packages; the boot check lists them as blocked)",
            "warning",
        ),
        (
            "/index.html",
            "/index.html has 1 <script> element(s) that are not loaded: the page "
            "runs only its entry /src/main.tsx",
            "warning",
        ),
    ]
    assert bundle.page.blocked_scripts == ["https://cdn.tailwindcss.com"]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("/app/App.tsx", "export function App() { return <h1>named</h1>; }\n"),
        ("/app/App.jsx", "export const App = () => <h1>named</h1>;\n"),
        ("/app/App.js", "export const title = 'no component here';\n"),
    ],
    ids=["tsx-named", "jsx-named", "js-no-component"],
)
def test_app_without_default_export_fails_saying_so(build_failure, path, source):
    error = build_failure({path: source})
    [diagnostic] = error.diagnostics
    assert diagnostic.file == path
    assert diagnostic.message.startswith(f"{path} has no default export")
    assert "export default function App()" in diagnostic.message
    assert "<stage:entry>" not in str(error)


def test_self_mounting_entry_needs_no_default_export(build):
    bundle = build({"/app/main.tsx": 'document.body.textContent = "plain main";\n'})
    assert bundle.page.entry == "/app/main.tsx"


def test_src_app_without_default_export_is_told_which_file_is_mounted(build_failure):
    error = build_failure({"/src/App.tsx": "export function App() { return null; }\n"})
    assert [(d.file, d.message) for d in error.diagnostics] == [
        (
            "/src/App.tsx",
            "/src/App.tsx has no default export: the page mounts the default export of "
            "/src/App.tsx, e.g. `export default function App() { ... }`",
        )
    ]
