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
    return {"/app/App.tsx": (
        'import { useState } from "react";\n'
        f"{statement}\n"
        "export default function App() {\n"
        "  const [n] = useState(0);\n"
        f"  return <pre>{{String({binding})}}{{n}}</pre>;\n"
        "}\n"
    )}


@pytest.mark.parametrize(("statement", "binding", "specifier", "why"), [
    ('import fs from "fs";', "fs", "fs", NOT_IN_BROWSER),
    ('import { readFileSync } from "fs/promises";', "readFileSync", "fs/promises",
     NOT_IN_BROWSER),
    ('import * as path from "node:path";', "path", "node:path", NOT_IN_BROWSER),
    ('import { exec } from "child_process";', "exec", "child_process", NOT_IN_BROWSER),
    ('import pad from "left-pad";', "pad", "left-pad", f'"left-pad" {NOT_ALLOWED}'),
    ('import { motion } from "@motionone/dom";', "motion", "@motionone/dom",
     f'"@motionone/dom" {NOT_ALLOWED}'),
    ('import { generate } from "@stage/inference";', "generate", "@stage/inference",
     BACKEND_ONLY),
    ('import { run } from "@stage/compute";', "run", "@stage/compute", BACKEND_ONLY),
    ('import confetti from "https://esm.sh/canvas-confetti";', "confetti",
     "https://esm.sh/canvas-confetti", NO_URLS),
    ('import confetti from "//cdn.example.com/confetti.js";', "confetti",
     "//cdn.example.com/confetti.js", NO_URLS),
    ('import secrets from "../../../../etc/passwd";', "secrets", "../../../../etc/passwd",
     OUTSIDE),
    ('import secrets from "./../../../../../etc/passwd";', "secrets",
     "./../../../../../etc/passwd", OUTSIDE),
    ('import secrets from "/etc/passwd";', "secrets", "/etc/passwd",
     "no session file has that path"),
    ('const secrets = require("../../../../etc/passwd");', "secrets",
     "../../../../etc/passwd", OUTSIDE),
], ids=["fs", "fs-subpath", "node-prefix", "child_process", "unknown-package", "unknown-scoped",
        "stage-inference", "stage-compute", "https-url", "protocol-relative-url", "climb-out",
        "dot-slash-climb-out", "absolute-outside", "require-climb-out"])
def test_forbidden_import_fails_at_the_import_statement(build_failure, statement, binding,
                                                        specifier, why):
    error = build_failure(_app_importing(statement, binding))
    [diagnostic] = error.diagnostics
    assert diagnostic.message.startswith(f'cannot import "{specifier}": ')
    assert why in diagnostic.message
    # Located at the specifier in the importing statement, as pushed.
    assert (diagnostic.file, diagnostic.line) == ("/app/App.tsx", 2)
    assert diagnostic.column == statement.index('"') + 1
    assert diagnostic.line_text == statement


def test_import_errors_name_the_importing_file(build_failure):
    error = build_failure({
        "/app/App.tsx": 'import Chart from "./components/Chart";\n'
                        "export default function App() { return <Chart />; }\n",
        "/app/components/Chart.tsx": "// draws the chart\n"
                                     'import { readFileSync } from "node:fs";\n'
                                     "export default function Chart() {\n"
                                     '  return <svg>{readFileSync("/data.csv", "utf8")}</svg>;\n'
                                     "}\n",
    })
    [diagnostic] = error.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == (
        "/app/components/Chart.tsx", 2, 30)
    assert diagnostic.message.startswith('cannot import "node:fs": ')


def test_every_forbidden_import_in_a_file_is_reported(build_failure):
    error = build_failure({"/app/App.tsx": (
        'import fs from "fs";\n'
        'import pad from "left-pad";\n'
        'import { generate } from "@stage/inference";\n'
        "export default function App() { return <p>{[fs, pad, generate].length}</p>; }\n"
    )})
    assert sorted((d.line, d.message.split(":")[0]) for d in error.diagnostics) == [
        (1, 'cannot import "fs"'),
        (2, 'cannot import "left-pad"'),
        (3, 'cannot import "@stage/inference"'),
    ]


@pytest.mark.parametrize(("statement", "binding"), [
    ('import { useEffect } from "react";', "useEffect"),
    ('import * as React from "react";', "React.version"),
    ('import { createRoot } from "react-dom/client";', "createRoot"),
    ('import { createPortal } from "react-dom";', "createPortal"),
    ('import { jsx } from "react/jsx-runtime";', "jsx"),
])
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
            {"browser": {"./data.ts": "../" * 12 + str(tmp_path / "secret.js")}}),
    }
    with pytest.raises(BuildFailed) as info:
        bundler.build([SourceFile(p, t.encode()) for p, t in files.items()])
    assert "is outside the session" in str(info.value)
    assert "secret-token" not in _everything_returned(bundler, files)


BUTTON = "export function Button() { return <button>ok</button>; }\n"
USES_AT_ALIAS = ('import { Button } from "@/components/ui/button";\n'
                 "export default function App() { return <Button />; }\n")


@pytest.mark.parametrize("folder", ["", "/src", "/app"], ids=["root", "src", "app"])
def test_at_alias_without_a_tsconfig_finds_the_session_root_then_src_then_app(build, folder):
    bundle = build({"/app/App.tsx": USES_AT_ALIAS, f"{folder}/components/ui/button.tsx": BUTTON})
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert b'"ok"' in script.content


def test_at_alias_without_a_file_says_where_it_looked(build_failure):
    error = build_failure({"/app/App.tsx": USES_AT_ALIAS})
    [diagnostic] = error.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("/app/App.tsx", 1)
    assert diagnostic.message == (
        'cannot import "@/components/ui/button": no session file at /components/ui/button, '
        '/src/components/ui/button, /app/components/ui/button (without a "paths" entry for '
        '"@/*" in /tsconfig.json, "@/" means the session root, then /src/, then /app/) '
        "(import chain: /app/App.tsx → @/components/ui/button)")
