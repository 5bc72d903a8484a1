"""Vite projects (bolt, Lovable) as their builders write them: ``import.meta.env`` from the
pushed ``.env`` files, ``resolve.alias`` read from ``vite.config.ts`` without running it, bare
``src/…`` imports, external scripts in ``index.html``, a project pushed inside one folder, and
stylesheets the page never loads."""

from __future__ import annotations

import json
import subprocess

import pytest

from bundler import Diagnostic

SELF_MOUNTING = (
    'import { createRoot } from "react-dom/client";\n'
    'import App from "./App";\n'
    'createRoot(document.getElementById("root")!).render(<App />);\n'
)
APP = "export default function App() { return <h1>hi</h1>; }\n"
INDEX_HTML = (
    '<!doctype html><html><head><title>T</title></head><body><div id="root"></div>'
    '<script type="module" src="/src/main.tsx"></script></body></html>\n'
)
ENV = (
    '# public\nVITE_API_URL=https://api.example.com\nexport VITE_QUOTED="a # b"\n'
    "VITE_NOTE=plain # a comment\n"
    "SECRET_KEY=sk-live-do-not-ship\nDATABASE_URL='postgres://u:pw-do-not-ship@db/x'\n"
)
ENV_PRODUCTION = "VITE_API_URL=https://prod.example.com\nSTRIPE_SECRET=rk-do-not-ship\n"


def run_script(bundle) -> object:
    """Run the page's script in Node (it must not touch the DOM) and return ``globalThis.out``."""
    [script] = [a for a in bundle.artifacts if a.path == bundle.page.scripts[0]]
    code = script.content.decode() + "\nprocess.stdout.write(JSON.stringify(globalThis.out));"
    done = subprocess.run(
        ["node", "-e", code], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(done.stdout)


def test_import_meta_env_is_what_vite_build_gives_a_page(build):
    bundle = build(
        {
            "/src/main.ts": (
                "const env = import.meta.env;\n"
                "globalThis.out = { whole: env, mode: import.meta.env.MODE,\n"
                "  prod: import.meta.env.PROD, dev: import.meta.env.DEV,\n"
                "  api: import.meta.env.VITE_API_URL,\n"
                "  missing: import.meta.env.VITE_NONE,\n"
                "  secret: import.meta.env.SECRET_KEY ?? null };\n"
            ),
            "/.env": ENV,
            "/.env.production": ENV_PRODUCTION,
        }
    )
    assert run_script(bundle) == {
        "whole": {
            "BASE_URL": "./",
            "DEV": False,
            "MODE": "production",
            "PROD": True,
            "SSR": False,
            "VITE_API_URL": "https://prod.example.com",
            "VITE_NOTE": "plain",
            "VITE_QUOTED": "a # b",
        },
        "mode": "production",
        "prod": True,
        "dev": False,
        "api": "https://prod.example.com",
        "secret": None,
    }
    assert bundle.warnings == []  # no "import.meta is empty with iife" from esbuild


def test_nothing_but_vite_variables_of_the_env_files_reaches_any_artifact(build):
    bundle = build(
        {
            "/index.html": INDEX_HTML,
            "/src/main.tsx": SELF_MOUNTING,
            "/src/App.tsx": (
                "export default function App() {\n"
                "  return <pre>{JSON.stringify(import.meta.env)}"
                "{String(import.meta.env.SECRET_KEY)}</pre>;\n}\n"
            ),
            "/.env": ENV,
            "/.env.local": "LOCAL_TOKEN=tok-do-not-ship\n",
            "/.env.production": ENV_PRODUCTION,
            "/.env.development": "VITE_DEV_ONLY=dev-value-not-in-production\n",
        }
    )
    shipped = [a.content for a in [*bundle.artifacts, *bundle.vendor]]
    shipped += [
        json.dumps(bundle.page.to_dict()).encode(),
        json.dumps([w.to_dict() for w in bundle.warnings]).encode(),
    ]
    for secret in (b"do-not-ship", b"dev-value-not-in-production"):
        assert not any(secret in content for content in shipped)
    assert any(b"https://prod.example.com" in content for content in shipped)


LOVABLE_CONFIG = """import { defineConfig } from "vite";
import react from "@vitejs/plugin-react-swc";
import path from "path";
import { fileURLToPath } from "node:url";
import { componentTagger } from "lovable-tagger";

export default defineConfig(({ mode }) => ({
  server: { host: "::", port: 8080 },
  plugins: [react(), mode === "development" && componentTagger()].filter(Boolean),
  resolve: {
    alias: {
      "@": path.resolve(__dirname, "./src"),
      "@ui": path.join(__dirname, "src", "components", "ui"),
      "~": fileURLToPath(new URL("./src/lib", import.meta.url)),
      "#generated": generatedFolder(),
    },
  },
}));
"""


def test_vite_config_aliases_are_read_from_its_text_and_an_unreadable_one_warns(build):
    bundle = build(
        {
            "/vite.config.ts": LOVABLE_CONFIG,
            "/src/main.tsx": (
                'import { createRoot } from "react-dom/client";\n'
                'import App from "@/App";\n'
                'import { Button } from "@ui/button";\n'
                'import { twice } from "~/math";\n'
                'createRoot(document.getElementById("root")!).render(\n'
                "  <><App /><Button n={twice(2)} /></>);\n"
            ),
            "/src/App.tsx": APP,
            "/src/components/ui/button.tsx": (
                "export const Button = ({ n }: { n: number }) => <b>{n}</b>;\n"
            ),
            "/src/lib/math.ts": "export const twice = (n: number) => n * 2;\n",
        }
    )
    assert bundle.warnings == [
        Diagnostic(
            "/vite.config.ts",
            15,
            7,
            'resolve.alias "#generated" is not read: its target '
            'generatedFolder() is not a path written as a string, path.resolve(__dirname, "…") or '
            'fileURLToPath(new URL("…", import.meta.url)); imports through it fail',
            '      "#generated": generatedFolder(),',
            "warning",
        )
    ]


def test_an_import_through_a_vite_alias_to_no_file_names_the_alias(build_failure):
    error = build_failure(
        {
            "/vite.config.js": (
                "export default { resolve: { alias: [\n"
                "  { find: '@', replacement: '/src' },\n] } };\n"
            ),
            "/src/main.tsx": 'import "@/missing";\n',
        }
    )
    [diagnostic] = [d for d in error.diagnostics if d.severity == "error"]
    assert (diagnostic.file, diagnostic.line) == ("/src/main.tsx", 1)
    assert diagnostic.message.startswith(
        'cannot import "@/missing": no session file at /src/missing (/vite.config.js aliases '
        '"@" to /src)'
    )


@pytest.mark.parametrize(
    "tsconfig",
    [
        {"/tsconfig.json": '{ "compilerOptions": { "baseUrl": "." } }'},
        {
            "/tsconfig.json": (
                '{ "files": [], "references": [\n  { "path": "./tsconfig.app.json" },\n'
                '  { "path": "./tsconfig.node.json" }, ], }'
            ),
            "/tsconfig.app.json": (
                '{ "compilerOptions": { /* Bundler mode */ "baseUrl": ".",\n'
                '  "jsx": "react-jsx" }, "include": ["src"] }'
            ),
        },
    ],
    ids=["root", "referenced-app-config"],
)
def test_bare_src_imports_resolve_when_tsconfig_base_url_allows(build, build_failure, tsconfig):
    files = {
        "/src/main.tsx": (
            'import { createRoot } from "react-dom/client";\n'
            'import App from "src/App";\n'
            'createRoot(document.getElementById("root")!).render(<App />);\n'
        ),
        "/src/App.tsx": APP,
    }
    build({**files, **tsconfig})
    error = build_failure(files)
    assert '"src" is not an allowed package' in error.diagnostics[0].message


@pytest.mark.parametrize(
    "src",
    ["https://cdn.gpteng.co/gptengineer.js", "http://example.com/a.js", "//cdn.example.com/b.js"],
)
def test_an_external_script_before_the_entry_is_skipped_and_named(build, src):
    html = INDEX_HTML.replace("<title>T</title>", f'<script src="{src}" type="module"></script>')
    bundle = build({"/index.html": html, "/src/main.tsx": SELF_MOUNTING, "/src/App.tsx": APP})
    assert bundle.page.entry == "/src/main.tsx"
    assert bundle.page.blocked_scripts == [src]
    assert [w.message for w in bundle.warnings] == [
        f"/index.html asks for script(s) from another site, which are not loaded: {src} (a page "
        "runs only session code and allowed packages; the boot check lists them as blocked)"
    ]


def test_public_files_are_served_beside_the_page(build):
    bundle = build(
        {
            "/index.html": INDEX_HTML,
            "/src/main.tsx": SELF_MOUNTING,
            "/src/App.tsx": APP,
            "/public/logo.svg": "<svg/>",
            "/public/robots.txt": "x",
        }
    )
    names = {a.path for a in bundle.artifacts}
    assert {"logo.svg", "robots.txt"} <= names


PROJECT = {
    "/index.html": INDEX_HTML,
    "/package.json": '{"name": "x"}',
    "/src/main.tsx": SELF_MOUNTING,
    "/src/App.tsx": APP,
    "/public/logo.svg": "<svg/>",
}
FOLDER_WARNING = Diagnostic(
    "/project",
    0,
    0,
    "every file is inside /project/ and none is an entry at the session's "
    "root: the page is built from /project/ as the project's root (as if "
    "/project/index.html were /index.html); push the files without the folder to silence "
    "this",
    "",
    "warning",
)


def test_a_project_pushed_inside_one_folder_is_built_from_it_with_a_warning(build):
    bundle = build({"/project" + path: text for path, text in PROJECT.items()})
    assert bundle.page.entry == "/project/src/main.tsx"
    assert bundle.warnings == [FOLDER_WARNING]
    assert "logo.svg" in {a.path for a in bundle.artifacts}  # /project/public/ at the root
    [source_map] = [a for a in bundle.artifacts if a.kind == "sourcemap"]
    sources = json.loads(source_map.content)["sources"]
    assert {"/project/src/main.tsx", "/project/src/App.tsx"} <= set(sources)


def test_errors_in_a_project_folder_name_the_files_as_pushed(build_failure):
    files = {**PROJECT, "/src/App.tsx": "export default function App() { return <h1>; }\n"}
    error = build_failure({"/my-app" + path: text for path, text in files.items()})
    assert error.diagnostics[0].file == "/my-app"
    assert {d.file for d in error.diagnostics[1:]} == {"/my-app/src/App.tsx"}


@pytest.mark.parametrize(
    "files",
    [
        {"/project/App.tsx": APP},  # no index.html or package.json: the session's own folder
        {"/app/App.tsx": APP, "/app/index.html": INDEX_HTML},  # an entry at the root already
    ],
    ids=["no-project-marker", "root-entry"],
)
def test_a_folder_is_not_taken_for_a_project_without_reason(build, build_failure, files):
    if "/app/App.tsx" in files:
        assert build(files).page.entry == "/app/App.tsx"
    else:
        assert build_failure(files).message.startswith("no entry file")


BROKEN_TAILWIND = '@import "tailwindcss";\n.card {\n  @apply p-4 shadow-glow;\n}\n'


def test_a_stylesheet_no_entry_loads_never_fails_the_render(build, build_failure):
    files = {
        "/src/main.tsx": SELF_MOUNTING,
        "/src/App.tsx": APP,
        "/src/old/legacy.css": BROKEN_TAILWIND,
    }
    build(files)
    error = build_failure(
        {**files, "/src/main.tsx": 'import "./old/legacy.css";\n' + SELF_MOUNTING}
    )
    assert error.diagnostics == [
        Diagnostic(
            "/src/old/legacy.css",
            3,
            14,
            "Cannot apply unknown utility class `shadow-glow`",
            "  @apply p-4 shadow-glow;",
        )
    ]


def test_a_failed_build_lists_errors_of_files_no_entry_loads_marked_unused(build_failure):
    error = build_failure(
        {
            "/src/main.tsx": 'import "left-pad";\n' + SELF_MOUNTING,
            "/src/App.tsx": APP,
            "/src/old/Draft.tsx": "export const Draft = () => <div>;\n",
            "/src/old/legacy.css": BROKEN_TAILWIND,
        }
    )
    by_file = {d.file: d.message for d in error.diagnostics}
    assert by_file["/src/main.tsx"].startswith('cannot import "left-pad"')
    assert "unused" not in by_file["/src/main.tsx"]
    assert by_file["/src/old/Draft.tsx"].endswith(
        " (this file is unused: no entry of the page loads it)"
    )
    assert by_file["/src/old/legacy.css"] == (
        "Cannot apply unknown utility class `shadow-glow` (this file is unused: no entry of "
        "the page loads it)"
    )
