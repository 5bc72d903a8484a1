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


@pytest.mark.parametrize(("files", "entry"), [
    ({"/app/main.tsx": SELF_MOUNTING, "/app/App.tsx": APP_TSX}, "/app/main.tsx"),
    ({"/app/index.tsx": SELF_MOUNTING, "/app/App.tsx": APP_TSX}, "/app/index.tsx"),
    ({"/app/main.tsx": SELF_MOUNTING, "/app/index.tsx": "throw new Error('not me');\n",
      "/app/App.tsx": APP_TSX}, "/app/main.tsx"),
    ({"/app/main.jsx": SELF_MOUNTING, "/app/App.jsx": APP_TSX}, "/app/main.jsx"),
], ids=["main-over-App", "index-over-App", "main-over-index", "main.jsx"])
def test_self_mounting_entry_wins_and_is_not_wrapped(build, files, entry):
    bundle = build(files)
    script, sources = _script_and_sources(bundle)
    assert bundle.page.entry == entry
    assert b'"self-mounted"' in script
    assert b"not me" not in script
    assert entry in sources
    assert "<stage:entry>" not in sources  # the generated mount code is not used


@pytest.mark.parametrize(("files", "entry"), [
    ({"/app/App.tsx": APP_TSX}, "/app/App.tsx"),
    ({"/app/App.jsx": "export default function App() { return <h1>jsx</h1>; }\n"},
     "/app/App.jsx"),
    ({"/app/App.js": "import { createElement } from 'react';\n"
                     "export default () => createElement('h1', null, 'js');\n"}, "/app/App.js"),
    ({"/app/App.ts": "export default function App() { return null; }\n"}, "/app/App.ts"),
    ({"/app/App.tsx": APP_TSX, "/app/App.js": "export default 1;\n"}, "/app/App.tsx"),
], ids=["App.tsx", "App.jsx", "App.js", "App.ts", "tsx-over-js"])
def test_app_default_export_is_mounted_into_root(build, files, entry):
    bundle = build(files)
    script, sources = _script_and_sources(bundle)
    assert bundle.page.entry == entry
    assert b'getElementById("root")' in script
    assert sources.count(entry) == 1
    assert "<stage:entry>" in sources


@pytest.mark.parametrize("files", [
    {},
    {"/src/App.tsx": APP_TSX},
    {"/app/components/App.tsx": APP_TSX, "/app/app.tsx": APP_TSX},
], ids=["empty", "outside-app", "wrong-place-and-case"])
def test_missing_entry_fails_listing_the_files_looked_for(build_failure, files):
    error = build_failure(files)
    for candidate in ("/app/main.tsx", "/app/main.js", "/app/index.tsx", "/app/index.js",
                      "/app/App.tsx", "/app/App.jsx", "/app/App.ts", "/app/App.js"):
        assert candidate in error.message
    assert "no entry file" in error.message
    [diagnostic] = error.diagnostics
    assert diagnostic.severity == "error"


@pytest.mark.parametrize(("path", "source"), [
    ("/app/App.tsx", "export function App() { return <h1>named</h1>; }\n"),
    ("/app/App.jsx", "export const App = () => <h1>named</h1>;\n"),
    ("/app/App.js", "export const title = 'no component here';\n"),
], ids=["tsx-named", "jsx-named", "js-no-component"])
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
