"""Each kind of broken app is reported at its place: file as pushed, line, column, line text.

Columns are counted by hand from the sources below (1-based characters).
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from bundler import BuildFailed, Bundler, Runtime, SourceFile
from bundler.artifacts import Route

Files = dict[str, str]
APP = "export default function App() { return <p>app</p>; }\n"
# The allowlist is package.json's dependencies, minus esbuild (a build tool).
ALLOWED = ", ".join(Runtime().allowed_packages)
NOT_ALLOWED = f"is not an allowed package; allowed packages: {ALLOWED}"
BACKEND_ONLY = (
    "@stage/* modules exist only inside published API backends (files under /api/ and /compute/), "
    "not in browser code"
)


class Expected(NamedTuple):
    file: str
    line: int
    column: int
    message: str  # the part of the message that matters
    line_text: str
    severity: str = "error"
    import_chain: tuple[str, ...] | None = None  # None: not a resolution error


def _uses(statement: str, binding: str) -> Files:
    """/app/App.tsx whose line 1 is ``statement``; ``binding`` is rendered so it is kept."""
    return {
        "/app/App.tsx": f"{statement}\n"
        f"export default function App() {{ return <p>{{String({binding})}}"
        "</p>; }\n"
    }


STAGE_THROUGH_API = {
    "/app/App.tsx": 'import { ask } from "./lib/api";\n'
    "export default function App() { return <p>{ask()}</p>; }\n",
    "/app/lib/api.ts": "// talks to the model\n"
    'import { generate } from "@stage/inference";\n'
    'export const ask = () => generate("hello");\n',
}

ERRORS = [
    # "  const label = " is 16 characters, "✨ hi" 4 more between quotes, then ' + ' : ";" is 26th.
    pytest.param(
        {
            "/app/App.tsx": 'export default function App() {\n  const label = "✨ hi" + ;\n'
            "  return <p>{label}</p>;\n}\n"
        },
        Expected("/app/App.tsx", 2, 26, 'Unexpected ";"', '  const label = "✨ hi" + ;'),
        id="tsx-syntax",
    ),
    # esbuild reports broken CSS as a warning and still builds: browsers skip bad rules too.
    pytest.param(
        {
            "/app/App.tsx": 'import "./App.css";\n' + APP,
            "/app/App.css": ".card { color: red; }\n.title { font-size: 2rem; }}\n",
        },
        Expected(
            "/app/App.css", 2, 28, 'Unexpected "}"', ".title { font-size: 2rem; }}", "warning"
        ),
        id="css-syntax-is-a-warning",
    ),
    pytest.param(
        {
            "/app/App.tsx": 'import data from "./data.json";\n'
            "export default function App() { return <p>{data.title}</p>; }\n",
            "/app/data.json": '{\n  "title": "Plan",\n  "items": [1, 2,, 3]\n}\n',
        },
        Expected("/app/data.json", 3, 18, 'Unexpected "," in JSON', '  "items": [1, 2,, 3]'),
        id="bad-json",
    ),
    pytest.param(
        {
            "/app/App.tsx": 'import Home from "./pages/Home";\n'
            "export default function App() { return <Home />; }\n",
            "/app/pages/Home.tsx": 'import { Button } from "../ui/Button";\n'
            "export default function Home() { return <Button />; }\n",
        },
        Expected(
            "/app/pages/Home.tsx",
            1,
            24,
            'Could not resolve "../ui/Button"',
            'import { Button } from "../ui/Button";',
            import_chain=("/app/App.tsx", "/app/pages/Home.tsx", "../ui/Button"),
        ),
        id="missing-relative-import",
    ),
    pytest.param(
        _uses('import { api } from "/app/lib/client";', "api"),
        Expected(
            "/app/App.tsx",
            1,
            21,
            'cannot import "/app/lib/client": no session file has that path',
            'import { api } from "/app/lib/client";',
            import_chain=("/app/App.tsx", "/app/lib/client"),
        ),
        id="missing-absolute-import",
    ),
    pytest.param(
        _uses('import axios from "axios";', "axios"),
        Expected(
            "/app/App.tsx",
            1,
            19,
            'cannot import "axios": "axios" is not an allowed package (did you mean '
            f"fetch() (built into the browser)?); allowed packages: {ALLOWED}",
            'import axios from "axios";',
            import_chain=("/app/App.tsx", "axios"),
        ),
        id="unknown-package",
    ),
    pytest.param(
        _uses('import { execSync } from "node:child_process";', "execSync"),
        Expected(
            "/app/App.tsx",
            1,
            26,
            'cannot import "node:child_process": it is a Node.js built-in module '
            "and the page runs in a browser",
            'import { execSync } from "node:child_process";',
            import_chain=("/app/App.tsx", "node:child_process"),
        ),
        id="node-builtin",
    ),
    pytest.param(
        _uses('import confetti from "https://esm.sh/canvas-confetti";', "confetti"),
        Expected(
            "/app/App.tsx",
            1,
            22,
            'cannot import "https://esm.sh/canvas-confetti": URL imports are not supported',
            'import confetti from "https://esm.sh/canvas-confetti";',
            import_chain=("/app/App.tsx", "https://esm.sh/canvas-confetti"),
        ),
        id="url-import",
    ),
    pytest.param(
        _uses('import secrets from "../../../etc/passwd";', "secrets"),
        Expected(
            "/app/App.tsx",
            1,
            21,
            'cannot import "../../../etc/passwd": it points outside the session',
            'import secrets from "../../../etc/passwd";',
            import_chain=("/app/App.tsx", "../../../etc/passwd"),
        ),
        id="relative-import-escaping-the-session",
    ),
    pytest.param(
        _uses('import { generate } from "@stage/inference";', "generate"),
        Expected(
            "/app/App.tsx",
            1,
            26,
            f'cannot import "@stage/inference": {BACKEND_ONLY}'
            " (import chain: /app/App.tsx → @stage/inference)",
            'import { generate } from "@stage/inference";',
            import_chain=("/app/App.tsx", "@stage/inference"),
        ),
        id="stage-module-in-app",
    ),
    pytest.param(
        STAGE_THROUGH_API,
        Expected(
            "/app/lib/api.ts",
            2,
            26,
            f'cannot import "@stage/inference": '
            f"{BACKEND_ONLY} (import chain: /app/App.tsx → /app/lib/api.ts → "
            "@stage/inference)",
            'import { generate } from "@stage/inference";',
            import_chain=("/app/App.tsx", "/app/lib/api.ts", "@stage/inference"),
        ),
        id="stage-module-through-another-file",
    ),
    pytest.param(
        {
            **_uses('import handler from "../api/tasks";', "handler"),
            "/api/tasks.ts": "export default function handler() { return 1; }\n",
        },
        Expected(
            "/app/App.tsx",
            1,
            21,
            'cannot import "../api/tasks": files under /api/ '
            "are published API backend routes and never enter the browser bundle",
            'import handler from "../api/tasks";',
            import_chain=("/app/App.tsx", "../api/tasks"),
        ),
        id="browser-code-imports-api-file",
    ),
    pytest.param(
        {"/app/App.tsx": "export function App() { return <p>named</p>; }\n"},
        Expected("/app/App.tsx", 0, 0, "/app/App.tsx has no default export", ""),
        id="app-without-default-export",
    ),
    pytest.param(
        {"/lib/App.tsx": APP},
        Expected("", 0, 0, "no entry file: a session needs /app/App.tsx", ""),
        id="no-entry",
    ),
    pytest.param(
        {"/app/App.tsx": APP, "/public/index.html": "<h1>mine</h1>\n"},
        Expected(
            "/public/index.html",
            0,
            0,
            "/public/index.html would replace the version's own index.html",
            "",
        ),
        id="public-file-with-reserved-name",
    ),
    # "  const body = await req.json(" is 30 characters: ";" is the 31st.
    pytest.param(
        {
            "/app/App.tsx": APP,
            "/api/tasks.ts": "export default async function handler(req: Request) {\n"
            "  const body = await req.json(;\n"
            "  return Response.json(body);\n}\n",
        },
        Expected("/api/tasks.ts", 2, 31, 'Unexpected ";"', "  const body = await req.json(;"),
        id="syntax-error-in-api-route",
    ),
    pytest.param(
        {
            "/app/App.tsx": APP,
            "/api/tasks.ts": 'import { secret } from "@stage/secrets";\n'
            "export default function handler() { return secret; }\n",
        },
        Expected(
            "/api/tasks.ts",
            1,
            24,
            'cannot import "@stage/secrets": no such '
            "platform module; published API backends can import @stage/inference, "
            "@stage/compute, @stage/utils",
            'import { secret } from "@stage/secrets";',
        ),
        id="unknown-stage-module-in-api-route",
    ),
]


def _session(files: Files) -> list[SourceFile]:
    return [SourceFile(path, text.encode()) for path, text in files.items()]


@pytest.mark.parametrize(("files", "expected"), ERRORS)
def test_error_kind_is_reported_at_its_place(bundler: Bundler, files, expected):
    try:
        diagnostics = bundler.build(_session(files)).warnings
        assert expected.severity == "warning", "the build succeeded"
    except BuildFailed as error:
        assert expected.severity == "error", f"the build failed: {error}"
        diagnostics = error.diagnostics
    [diagnostic] = diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.severity) == (
        expected.file,
        expected.line,
        expected.column,
        expected.severity,
    )
    assert expected.message in diagnostic.message
    assert diagnostic.line_text == expected.line_text
    if expected.import_chain is not None:
        assert diagnostic.import_chain == expected.import_chain


MARKER = "route-only-9d41c7"


def test_api_route_using_stage_and_node_builtins_builds_only_for_the_server(build):
    bundle = build(
        {
            "/app/App.tsx": APP,
            "/api/tasks.ts": 'import { generate } from "@stage/inference";\n'
            'import { createHash } from "node:crypto";\n'
            "export default async function handler() {\n"
            f'  return generate("{MARKER}" + createHash("sha1").digest("hex"));\n'
            "}\n",
        }
    )
    assert bundle.page.routes == [
        Route("/api/tasks", "/api/tasks.ts", "server/api/tasks.js", ("fetch",))
    ]
    server = {a.path: a.content.decode() for a in bundle.artifacts if a.kind == "server"}
    assert list(server) == ["server/api/tasks.js"]
    assert MARKER in server["server/api/tasks.js"]
    assert 'from "@stage/inference"' in server["server/api/tasks.js"]  # kept external
    assert [
        a.path for a in bundle.artifacts if a.kind != "server" and MARKER.encode() in a.content
    ] == []


def test_errors_in_several_files_and_both_builds_are_all_reported_with_warnings(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": 'import "./App.css";\nimport data from "./data.json";\n'
            'import Card from "./Card";\n'
            "export default function App() { return <Card>{data.a}</Card>; }\n",
            "/app/App.css": "h1 { color: red\n",
            "/app/data.json": '{"a": 1,}\n',
            "/app/Card.tsx": "export default function Card({ children }) {\n"
            "  return <section>{children</section>;\n}\n",
            "/api/tasks.ts": "export default function handler() { return 1 +; }\n",
        }
    )
    located = sorted((d.severity, d.file, d.line) for d in error.diagnostics)
    assert located == [
        ("error", "/api/tasks.ts", 1),
        ("error", "/app/Card.tsx", 2),
        ("error", "/app/data.json", 1),
        ("warning", "/app/App.css", 2),
    ]
    assert "build failed with 3 error(s)" in str(error)


def test_stage_chain_starts_at_the_entry_when_another_file_does_not_parse(build_failure):
    error = build_failure(
        {
            **STAGE_THROUGH_API,
            "/app/App.tsx": 'import { ask } from "./lib/api";\n'
            'import { broken } from "./broken";\n'
            "export default function App() { return <p>{ask()}"
            "{broken}</p>; }\n",
            "/app/broken.ts": "export const broken = ;\n",
        }
    )
    [stage] = [d for d in error.diagnostics if "@stage/inference" in d.message]
    assert stage.import_chain == ("/app/App.tsx", "/app/lib/api.ts", "@stage/inference")
