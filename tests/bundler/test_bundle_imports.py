"""What browser code may import: session files and the allowlisted packages, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bundler import BuildFailed, Bundler, Runtime, SourceFile

NOT_IN_BROWSER = "is a Node.js built-in module and the page runs in a browser"
# The allowlist is package.json's dependencies, minus the build tools (esbuild, Tailwind).
ALLOWED = ", ".join(Runtime().allowed_packages)
NOT_ALLOWED = f"is not an allowed package; allowed packages: {ALLOWED}"
BACKEND_ONLY = "modules exist only inside published API backends"
NO_URLS = "URL imports are not supported"
OUTSIDE = "it points outside the session"


def _app_importing(statement: str, binding: str) -> dict[str, str]:
    """App.tsx with ``statement`` on line 2; ``binding`` is used so TSX keeps the import."""
    return {
        "/app/App.tsx": (
            'import { useState } from "react";\n'
            f"{statement}\n"
            "export default function App() {\n"
            "  const [n] = useState(0);\n"
            f"  return <pre>{{String({binding})}}{{n}}</pre>;\n"
            "}\n"
        )
    }


@pytest.mark.parametrize(
    ("statement", "binding", "specifier", "why"),
    [
        ('import fs from "fs";', "fs", "fs", NOT_IN_BROWSER),
        (
            'import { readFileSync } from "fs/promises";',
            "readFileSync",
            "fs/promises",
            NOT_IN_BROWSER,
        ),
        ('import * as path from "node:path";', "path", "node:path", NOT_IN_BROWSER),
        ('import { exec } from "child_process";', "exec", "child_process", NOT_IN_BROWSER),
        ('import pad from "left-pad";', "pad", "left-pad", f'"left-pad" {NOT_ALLOWED}'),
        (
            'import { motion } from "@motionone/dom";',
            "motion",
            "@motionone/dom",
            f'"@motionone/dom" {NOT_ALLOWED}',
        ),
        (
            'import { generate } from "@stage/inference";',
            "generate",
            "@stage/inference",
            BACKEND_ONLY,
        ),
        ('import { run } from "@stage/compute";', "run", "@stage/compute", BACKEND_ONLY),
        (
            'import confetti from "https://esm.sh/canvas-confetti";',
            "confetti",
            "https://esm.sh/canvas-confetti",
            NO_URLS,
        ),
        (
            'import confetti from "//cdn.example.com/confetti.js";',
            "confetti",
            "//cdn.example.com/confetti.js",
            NO_URLS,
        ),
        (
            'import secrets from "../../../../etc/passwd";',
            "secrets",
            "../../../../etc/passwd",
            OUTSIDE,
        ),
        (
            'import secrets from "./../../../../../etc/passwd";',
            "secrets",
            "./../../../../../etc/passwd",
            OUTSIDE,
        ),
        (
            'import secrets from "/etc/passwd";',
            "secrets",
            "/etc/passwd",
            "no session file has that path",
        ),
        (
            'const secrets = require("../../../../etc/passwd");',
            "secrets",
            "../../../../etc/passwd",
            OUTSIDE,
        ),
    ],
    ids=[
        "fs",
        "fs-subpath",
        "node-prefix",
        "child_process",
        "unknown-package",
        "unknown-scoped",
        "stage-inference",
        "stage-compute",
        "https-url",
        "protocol-relative-url",
        "climb-out",
        "dot-slash-climb-out",
        "absolute-outside",
        "require-climb-out",
    ],
)
def test_forbidden_import_fails_at_the_import_statement(
    build_failure, statement, binding, specifier, why
):
    error = build_failure(_app_importing(statement, binding))
    [diagnostic] = error.diagnostics
    assert diagnostic.message.startswith(f'cannot import "{specifier}": ')
    assert why in diagnostic.message
    # Located at the specifier in the importing statement, as pushed.
    assert (diagnostic.file, diagnostic.line) == ("/app/App.tsx", 2)
    assert diagnostic.column == statement.index('"') + 1
    assert diagnostic.line_text == statement


def test_import_errors_name_the_importing_file(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": 'import Chart from "./components/Chart";\n'
            "export default function App() { return <Chart />; }\n",
            "/app/components/Chart.tsx": "// draws the chart\n"
            'import { readFileSync } from "node:fs";\n'
            "export default function Chart() {\n"
            '  return <svg>{readFileSync("/data.csv", "utf8")}</svg>;\n'
            "}\n",
        }
    )
    [diagnostic] = error.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == (
        "/app/components/Chart.tsx",
        2,
        30,
    )
    assert diagnostic.message.startswith('cannot import "node:fs": ')


def test_every_forbidden_import_in_a_file_is_reported(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": (
                'import fs from "fs";\n'
                'import pad from "left-pad";\n'
                'import { generate } from "@stage/inference";\n'
                "export default function App() { return <p>{[fs, pad, generate].length}</p>; }\n"
            )
        }
    )
    assert sorted((d.line, d.message.split(":")[0]) for d in error.diagnostics) == [
        (1, 'cannot import "fs"'),
        (2, 'cannot import "left-pad"'),
        (3, 'cannot import "@stage/inference"'),
    ]


@pytest.mark.parametrize(
    ("statement", "binding"),
    [
        ('import { useEffect } from "react";', "useEffect"),
        ('import * as React from "react";', "React.version"),
        ('import { createRoot } from "react-dom/client";', "createRoot"),
        ('import { createPortal } from "react-dom";', "createPortal"),
        ('import { jsx } from "react/jsx-runtime";', "jsx"),
    ],
)
def test_allowed_package_imports_build(build, statement, binding):
    bundle = build(_app_importing(statement, binding))
    assert bundle.page.scripts


SECRET = "root:"

ESCAPES = {
    "relative-import": _app_importing('import pw from "../../../../../../etc/passwd";', "pw"),
    "css-import": {
        "/app/App.tsx": 'import "./App.css";\nexport default function App() { return null; }\n',
        "/app/App.css": '@import "../../../../../../etc/passwd";\nh1 { color: red }\n',
    },
    "css-url": {
        "/app/App.tsx": 'import "./App.css";\nexport default function App() { return null; }\n',
        "/app/App.css": "h1 { background: url(../../../../../../etc/passwd) }\n",
    },
    "tsconfig-extends": {
        **_app_importing('import { version } from "react";', "version"),
        "/tsconfig.json": '{"extends": "../../../../../../etc/passwd"}',
    },
    "tsconfig-extends-absolute": {
        **_app_importing('import { version } from "react";', "version"),
        "/app/tsconfig.json": '{"extends": "/etc/passwd"}',
    },
    "tsconfig-paths": {
        **_app_importing('import pw from "@/passwd";', "pw"),
        "/tsconfig.json": '{"compilerOptions": {"baseUrl": ".", "paths": '
        '{"@/*": ["../../../../../../etc/*"]}}}',
    },
    "package-json-browser": {
        **_app_importing('import pw from "./data";', "pw"),
        "/app/data.ts": "export default 1;\n",
        "/app/package.json": '{"browser": {"./data.ts": "../../../../../../etc/passwd"}}',
    },
}


def _everything_returned(bundler: Bundler, files: dict[str, str]) -> str:
    """All a caller sees of a build: every artifact, or the error and every diagnostic."""
    try:
        bundle = bundler.build([SourceFile(p, t.encode()) for p, t in files.items()])
    except BuildFailed as error:
        return "\n".join([str(error), *(repr(d) for d in error.diagnostics)])
    return b"\n".join(a.content for a in bundle.artifacts).decode("utf-8", "replace")


@pytest.mark.parametrize("files", ESCAPES.values(), ids=ESCAPES.keys())
def test_files_outside_the_session_are_never_quoted(bundler, files):
    assert SECRET in Path("/etc/passwd").read_text(), "this test needs a readable /etc/passwd"
    assert SECRET not in _everything_returned(bundler, files)


def test_outside_file_that_parses_fails_the_build_without_its_content(bundler, tmp_path):
    (tmp_path / "secret.js").write_text('export default "root:secret-token";\n')
    files = {
        **_app_importing('import pw from "./data";', "pw"),
        "/app/data.ts": "export default 1;\n",
        # Far enough up to reach "/", then down to a file outside the session.
        "/app/package.json": json.dumps(
            {"browser": {"./data.ts": "../" * 12 + str(tmp_path / "secret.js")}}
        ),
    }
    with pytest.raises(BuildFailed) as info:
        bundler.build([SourceFile(p, t.encode()) for p, t in files.items()])
    assert "is outside the session" in str(info.value)
    assert "secret-token" not in _everything_returned(bundler, files)


BUTTON = "export function Button() { return <button>ok</button>; }\n"
USES_AT_ALIAS = (
    'import { Button } from "@/components/ui/button";\n'
    "export default function App() { return <Button />; }\n"
)


@pytest.mark.parametrize("folder", ["", "/src", "/app"], ids=["root", "src", "app"])
def test_at_alias_without_a_tsconfig_finds_the_session_root_then_src_then_app(build, folder):
    bundle = build({"/app/App.tsx": USES_AT_ALIAS, f"{folder}/components/ui/button.tsx": BUTTON})
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert b'"ok"' in script.content


def test_at_alias_without_a_file_says_where_it_looked(build_failure):
    # (shadcn/ui's own names, such as @/components/ui/button, are built in)
    error = build_failure({"/app/App.tsx": USES_AT_ALIAS.replace("ui/button", "Hero")})
    [diagnostic] = error.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("/app/App.tsx", 1)
    assert diagnostic.message == (
        'cannot import "@/components/Hero": no session file at /components/Hero, '
        '/src/components/Hero, /app/components/Hero (without a "paths" entry for '
        '"@/*" in /tsconfig.json, "@/" means the session root, then /src/, then /app/) '
        "(import chain: /app/App.tsx → @/components/Hero)"
    )


def test_a_remote_font_stylesheet_is_skipped_with_a_warning_not_a_failed_build(build):
    # As builders write web fonts: the page's CSP loads only its own stylesheets.
    url = "https://fonts.googleapis.com/css2?family=Inter:wght@400;600&display=swap"
    bundle = build(
        {
            "/app/App.tsx": 'import "./index.css";\nexport default function App() { return <p/>; }',
            "/app/index.css": f"@import url('{url}');\nbody {{ font-family: Inter, sans-serif; }}\n",
        }
    )
    css = b"".join(a.content for a in bundle.artifacts if a.path.endswith(".css"))
    assert b"googleapis" not in css and b"font-family" in css
    assert [w.message for w in bundle.warnings if url in w.message] == [
        f'@import "{url}" skipped: a page loads only its own stylesheets, so this remote one is '
        "left out (its fonts fall back to the next family of the font stack)"
    ]


def test_a_remote_font_stylesheet_beside_tailwind_4_is_skipped_too(build):
    url = "https://fonts.googleapis.com/css2?family=Geist&display=swap"
    bundle = build(
        {
            "/app/App.tsx": (
                'import "./globals.css";\n'
                'export default function App() { return <p className="font-sans p-4"/>; }'
            ),
            "/app/globals.css": f'@import url("{url}");\n@import "tailwindcss";\n',
        }
    )
    css = b"".join(a.content for a in bundle.artifacts if a.path.endswith(".css"))
    assert b"googleapis" not in css and b".p-4{" in css
    assert any(w.message.startswith(f'@import "{url}" skipped') for w in bundle.warnings)


# esbuild resolves ../ imports itself (no callback each); the build is kept only when every
# one of them reached a session file, else it is built again with the import rules asking.
CLIMB = "../" * 16  # from any session folder up to "/", then down to the absolute path


@pytest.mark.parametrize("importer", ["/App.tsx", "/app/deep/Page.tsx"], ids=["root", "nested"])
def test_climbing_to_a_file_that_parses_fails_at_the_import(build_failure, tmp_path, importer):
    # A real .js file outside the session: esbuild alone would bundle it without complaint.
    (tmp_path / "secret.js").write_text('export default "root:secret-token";\n')
    statement = f'import pw from "{CLIMB}{str(tmp_path / "secret.js").lstrip("/")}";'
    files = {
        importer: _app_importing(statement, "pw")["/app/App.tsx"],
        **(
            {"/app/App.tsx": 'export { default } from "./deep/Page";\n'}
            if "deep" in importer
            else {}
        ),
    }
    error = build_failure(files)
    [diagnostic] = error.diagnostics
    assert diagnostic.message.startswith(f'cannot import "{CLIMB}')
    assert OUTSIDE in diagnostic.message
    assert (diagnostic.file, diagnostic.line) == (importer, 2)
    assert "secret-token" not in str(error)


def test_climbing_into_the_runtime_packages_fails_at_the_import(build_failure):
    # A package file by a relative path: a name the output checks accept (/node_modules/…),
    # so only the import rules stop it, as they stop packages outside the allowlist.
    target = Runtime().node_modules / "react" / "index.js"
    assert target.is_file()
    statement = f'import r from "{CLIMB}{str(target).lstrip("/")}";'
    error = build_failure(_app_importing(statement, "r"))
    [diagnostic] = error.diagnostics
    assert OUTSIDE in diagnostic.message
    assert (diagnostic.file, diagnostic.line) == ("/app/App.tsx", 2)


def test_relative_imports_between_session_folders_build(build):
    bundle = build(
        {
            "/app/App.tsx": 'import { Card } from "./components/ui/Card";\n'
            "export default function App() { return <Card />; }\n",
            "/app/components/ui/Card.tsx": 'import "../../styles/card.css";\n'
            'import { label } from "../../lib/label";\n'
            'export function Card() { return <p className="card">{label}</p>; }\n',
            "/app/lib/label.ts": 'export const label = "from-the-lib-folder";\n',
            "/app/styles/card.css": ".card { color: rebeccapurple }\n",
        }
    )
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    [style] = [a for a in bundle.artifacts if a.path in bundle.page.styles]
    assert b"from-the-lib-folder" in script.content
    assert b"rebeccapurple" in style.content or b"#639" in style.content


@pytest.mark.parametrize("tsconfig", [False, True], ids=["default-alias", "tsconfig-paths"])
def test_an_at_import_of_an_api_file_is_refused_from_the_page(build_failure, tsconfig):
    # @/ imports are answered before the build when every importer gets the same answer;
    # a refusal is never among them: it stays at its import statement.
    files = {
        **_app_importing('import { GET } from "@/api/tasks";', "GET"),
        "/api/tasks.ts": "export function GET() { return new Response('[]'); }\n",
    }
    if tsconfig:
        files["/tsconfig.json"] = '{"compilerOptions": {"paths": {"@/*": ["./*"]}}}'
    error = build_failure(files)
    [diagnostic] = [d for d in error.diagnostics if d.severity == "error"]
    assert "/api/" in diagnostic.message
    assert diagnostic.file == "/app/App.tsx"
    # The rules refuse it at its line; through a tsconfig path esbuild resolves it and the
    # output check refuses it, naming the import chain.
    assert diagnostic.line == (0 if tsconfig else 2)


def test_at_imports_answered_ahead_build_the_same_page_from_every_folder(build):
    files = {
        "/src/App.tsx": 'import { Hero } from "@/components/Hero";\n'
        'import { label } from "@/lib/label";\n'
        "export default function App() { return <><Hero />{label}</>; }\n",
        "/src/components/Hero.tsx": 'import { label } from "@/lib/label";\n'
        "export function Hero() { return <h1>{label}</h1>; }\n",
        "/src/lib/label.ts": 'export const label = "label-from-src-lib";\n',
    }
    bundle = build(files)
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert script.content.count(b"label-from-src-lib") == 1  # one module, from both importers
