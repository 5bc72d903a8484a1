"""Build errors point at the file as pushed, with 1-based line and character column and the line."""

from __future__ import annotations

import pytest

from bundler import Diagnostic

BROKEN_APP = (
    "export default function App() {\n"
    '    const title: string = "Stage";\n'
    '    const label = "Grüße 👋"; let n = ;\n'
    "    return <h1>{title}{label}{n}</h1>;\n"
    "}\n"
)
# Line 3 by hand: 4 spaces (0-3), "const" (4-8), " label = " (9-17), '"' 18, "Grüße" 19-23,
# " " 24, "👋" 25, '"' 26, ";" 27, " let n = " 28-36, ";" 37 -> character column 38.
# esbuild reports UTF-8 bytes from 0 (42); UTF-16 units would give 39.
BROKEN_COLUMN = 38


def test_syntax_error_reports_file_line_character_column_message_and_line(build_failure):
    error = build_failure({"/app/App.tsx": BROKEN_APP})
    assert error.diagnostics == [
        Diagnostic(
            file="/app/App.tsx",
            line=3,
            column=BROKEN_COLUMN,
            message='Unexpected ";"',
            line_text='    const label = "Grüße 👋"; let n = ;',
            severity="error",
        )
    ]
    assert str(error) == (
        f'build failed with 1 error(s)\n/app/App.tsx:3:{BROKEN_COLUMN}: error: Unexpected ";"'
    )


PALETTE = "const palette = [" + ", ".join(f'"grün-{i}"' for i in range(60)) + "];"


@pytest.mark.parametrize(
    ("line", "column"),
    [
        (PALETTE + " const broken = ;", len(PALETTE) + len(" const broken = ;")),
        ("const broken = ; " + PALETTE, len("const broken = ;")),
    ],
    ids=["error-at-end", "error-at-start"],
)
def test_long_line_is_reported_whole(build_failure, line, column):
    assert len(line) > 200
    source = f"// palette\n{line}\nexport default function App() {{ return null; }}\n"
    [diagnostic] = build_failure({"/app/App.tsx": source}).diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("/app/App.tsx", 2, column)
    assert diagnostic.line_text == line


@pytest.mark.parametrize(
    ("separator", "line"),
    [
        ("\n", 4),
        ("\r\n", 4),
        ("\r", 4),
        ("\u2028", 4),  # JavaScript's line separator breaks lines too
        ("\f", 3),  # str.splitlines() breaks at these; esbuild does not
        ("\v", 3),
        ("\x85", 3),
        ("\x1c", 3),
    ],
    ids=["lf", "crlf", "cr", "line-separator", "form-feed", "vertical-tab", "next-line", "fs"],
)
def test_line_text_follows_esbuild_line_breaks(build_failure, separator, line):
    source = (
        "// header\n"
        f"const a = 1; /* note{separator}more note */\n"
        "const broken = ;\n"
        "export default function App() { return null; }\n"
    )
    [diagnostic] = build_failure({"/app/App.tsx": source}).diagnostics
    assert (diagnostic.line, diagnostic.column) == (line, len("const broken = ;"))
    assert diagnostic.line_text == "const broken = ;"


def test_errors_in_two_files_are_both_reported(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": 'import Button from "./components/Button";\n'
            'import Card from "./components/Card";\n'
            "export default function App() { return <Card><Button /></Card>; }\n",
            "/app/components/Button.tsx": "export default function Button() {\n"
            "  return <button>{</button>;\n"
            "}\n",
            "/app/components/Card.tsx": "export default function Card({ children }) {\n"
            "  const gap = 4 +;\n"
            "  return <section>{children}</section>;\n"
            "}\n",
        }
    )
    located = sorted((d.file, d.line, d.column, d.line_text) for d in error.diagnostics)
    assert located == [
        ("/app/components/Button.tsx", 2, 20, "  return <button>{</button>;"),
        ("/app/components/Card.tsx", 2, 18, "  const gap = 4 +;"),
    ]
    assert "build failed with 2 error(s)" in str(error)
    assert "/app/components/Button.tsx:2:20: error:" in str(error)
    assert "/app/components/Card.tsx:2:18: error:" in str(error)


def test_every_error_is_reported_not_the_first_ten(build_failure):
    files = {f"/app/widgets/Widget{i}.tsx": f"export const w{i} = ;\n" for i in range(14)}
    files["/app/App.tsx"] = (
        "".join(f'import {{ w{i} }} from "./widgets/Widget{i}";\n' for i in range(14))
        + "export default function App() { return <p>{["
        + ", ".join(f"w{i}" for i in range(14))
        + "].length}</p>; }\n"
    )
    error = build_failure(files)
    assert sorted(d.file for d in error.diagnostics) == sorted(
        f"/app/widgets/Widget{i}.tsx" for i in range(14)
    )
    assert "build failed with 14 error(s)" in str(error)


def test_unresolved_relative_import_names_the_importer_and_the_specifier(build_failure):
    [diagnostic] = build_failure(
        {
            "/app/App.tsx": "import { useState } from 'react';\n"
            "import Chart from './components/Chart';\n"
            "export default function App() { useState(0); return <Chart />; }\n",
        }
    ).diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("/app/App.tsx", 2, 19)
    assert "./components/Chart" in diagnostic.message
    assert diagnostic.line_text == "import Chart from './components/Chart';"


def test_type_errors_and_type_only_files_build(build):
    # esbuild strips types without checking them: the page is built, not type-checked.
    bundle = build(
        {
            "/app/types.ts": "export interface Todo { id: number; title: string }\n"
            "export type Filter = 'all' | 'done';\n",
            "/app/App.tsx": "import type { Todo } from './types';\n"
            "import { Filter } from './types';\n"
            "const todo: Todo = { id: 'not a number', title: 1 };\n"
            "const filter: Filter = 'all';\n"
            "export default function App() { return <p>{todo.title}{filter}</p>; }\n",
        }
    )
    assert bundle.warnings == []


def test_css_warning_is_located_in_the_pushed_css_file(build):
    bundle = build(
        {
            "/app/App.tsx": "import './App.css';\nexport default function App() { return null; }\n",
            "/app/App.css": "h1 { color: red\n",
        }
    )
    [warning] = bundle.warnings
    assert (warning.file, warning.line, warning.severity) == ("/app/App.css", 2, "warning")
    assert 'Expected "}"' in warning.message
