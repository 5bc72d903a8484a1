"""A failed render lists the errors of every session file, not only those esbuild reached."""

from __future__ import annotations

from bundler import Diagnostic
from bundler.diagnostics import import_chain

BROKEN_APP = (
    'import Board from "./Board";\n'
    "export default function App() {\n"
    "  const n = ;\n"
    "  return <Board n={n} />;\n"
    "}\n"
)
BROKEN_BOARD = (
    "export default function Board({ n }: { n: number }) {\n  return <ul>{n +}</ul>;\n}\n"
)
APP_ERROR = Diagnostic("/app/App.tsx", 3, 13, 'Unexpected ";"', "  const n = ;")
BOARD_ERROR = Diagnostic("/app/Board.tsx", 2, 18, 'Unexpected "}"', "  return <ul>{n +}</ul>;")


def test_errors_behind_a_file_that_does_not_parse_come_in_the_same_render(build_failure):
    error = build_failure({"/app/App.tsx": BROKEN_APP, "/app/Board.tsx": BROKEN_BOARD})
    assert error.diagnostics == [APP_ERROR, BOARD_ERROR]
    assert str(error) == (
        "build failed with 2 error(s)\n"
        '/app/App.tsx:3:13: error: Unexpected ";"\n'
        '/app/Board.tsx:2:18: error: Unexpected "}"'
    )


def test_a_broken_file_nothing_imports_is_listed_beside_the_real_error(build_failure):
    app = "export default function App() {\n  const n = ;\n  return null;\n}\n"
    error = build_failure({"/app/App.tsx": app, "/app/Board.tsx": BROKEN_BOARD})
    assert [(d.file, d.line) for d in error.diagnostics] == [
        ("/app/App.tsx", 2),
        ("/app/Board.tsx", 2),
    ]


def test_an_error_the_build_reached_is_reported_once(build_failure):
    # The build parses both siblings and reports both; parsing them alone finds the same two.
    error = build_failure(
        {
            "/app/App.tsx": 'import Board from "./Board";\nimport List from "./List";\n'
            "export default function App() { return <Board><List /></Board>; }\n",
            "/app/Board.tsx": BROKEN_BOARD,
            "/app/List.tsx": "export default function List() {\n  const n = ;\n}\n",
        }
    )
    assert sorted((d.file, d.line, d.column) for d in error.diagnostics) == [
        ("/app/Board.tsx", 2, 18),
        ("/app/List.tsx", 2, 13),
    ]


def test_a_resolution_error_keeps_its_chain_beside_errors_found_alone(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": 'import Board from "./Board";\n'
            "export default function App() { return <Board />; }\n",
            "/app/Board.tsx": 'import { generate } from "@stage/inference";\n'
            "export default function Board() { return <p>{String(generate)}</p>; }\n",
            "/app/Old.jsx": "export const old = <p>{</p>;\n",
        }
    )
    [chained, old] = error.diagnostics
    assert chained.import_chain == ("/app/App.tsx", "/app/Board.tsx", "@stage/inference")
    assert (old.file, old.line, old.column, old.message) == (
        "/app/Old.jsx",
        1,
        25,
        'Expected identifier but found "/" (this file is unused: no entry of the page loads it)',
    )
    assert old.import_chain == ()


def test_api_public_and_declaration_files_are_not_parsed_by_the_browser_sweep(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": "export default function App() {\n  const n = ;\n}\n",
            "/public/vendor.js": "this is not javascript (\n",
            "/app/types.d.ts": "declare const x: ;\n",
            "/api/_draft.ts": "export const x = ;\n",
        }
    )
    assert [d.file for d in error.diagnostics] == ["/app/App.tsx"]


def test_a_successful_build_does_not_look_at_files_it_does_not_use(build):
    bundle = build(
        {
            "/app/App.tsx": "export default function App() { return null; }\n",
            "/app/Old.tsx": "export const old = ;\n",
        }
    )
    assert bundle.page.entry == "/app/App.tsx"
    assert bundle.warnings == []


def test_import_cycle_in_the_chain_walk_ends():
    parents = {"/app/A.tsx": "/app/B.tsx", "/app/B.tsx": "/app/A.tsx"}
    assert import_chain("/app/A.tsx", parents) == ["/app/B.tsx", "/app/A.tsx"]
    assert import_chain("/app/C.tsx", parents) == ["/app/C.tsx"]
    assert import_chain("/app/B.tsx", {"/app/B.tsx": "<stage:entry>"}) == ["/app/B.tsx"]


def test_import_cycle_through_the_entry_still_gives_a_chain(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": 'import { label } from "./Board";\n'
            "export const title = 'Tasks';\n"
            "export default function App() { return <p>{label}</p>; }\n",
            "/app/Board.tsx": 'import { title } from "./App";\n'
            'import { generate } from "@stage/inference";\n'
            "export const label = title + String(generate);\n",
        }
    )
    [diagnostic] = error.diagnostics
    assert diagnostic.import_chain == ("/app/App.tsx", "/app/Board.tsx", "@stage/inference")
    assert diagnostic.message.endswith(
        "(import chain: /app/App.tsx → /app/Board.tsx → @stage/inference)"
    )
