"""Session files the integration and browser tests push, as a gateway would."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

HELLO = [
    {
        "path": "/app/App.tsx",
        "content": ("export default function App() {\n  return <h1>ShiftCal</h1>;\n}\n"),
    }
]

# Line 3, column 21 (1-based) is where esbuild stops: the stray "world".
BROKEN = [
    {
        "path": "/app/App.tsx",
        "content": (
            "export default function App() {\n"
            "  const greeting = 'hi';\n"
            "  return <h1>{greeting world}</h1>;\n"
            "}\n"
        ),
    }
]
BROKEN_LINE, BROKEN_COLUMN = 3, 24


def folder_files(folder: Path) -> list[dict[str, str]]:
    """Every file under ``folder`` as a push payload (``folder/app/App.tsx`` → ``/app/App.tsx``)."""
    return [
        {"path": "/" + p.relative_to(folder).as_posix(), "content": p.read_text("utf-8")}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]


SHIFTCAL = folder_files(EXAMPLES / "shiftcal")

# A valid 4x4 red PNG, so an <img> has a natural size once it has loaded.
RED_PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg=="

# What generated apps look like: CSS modules, an imported image, a /public/ image by
# absolute URL, a lucide icon, a recharts chart, a tsconfig alias and JSON data.
DASHBOARD = [
    {
        "path": "/tsconfig.json",
        "content": (
            '{\n  // generated apps ship one\n  "compilerOptions": {"jsx": "react-jsx", '
            '"paths": {"@/*": ["./app/*"]},},\n}\n'
        ),
    },
    {
        "path": "/app/App.tsx",
        "content": (
            'import { Activity } from "lucide-react";\n'
            'import { LineChart, Line, XAxis } from "recharts";\n'
            'import clsx from "clsx";\n'
            'import styles from "./App.module.css";\n'
            'import points from "@/data/points.json";\n'
            'import logo from "./logo.png";\n'
            'import "./global.css";\n'
            "export default function App() {\n"
            "  return (\n"
            '    <main className={clsx(styles.card, "dashboard")}>\n'
            '      <h1><Activity data-testid="icon" size={24} /> Dashboard</h1>\n'
            '      <img data-testid="imported" src={logo} alt="logo" />\n'
            '      <img data-testid="public" src="/brand.png" alt="brand" />\n'
            "      <LineChart width={300} height={150} data={points}>\n"
            '        <XAxis dataKey="day" />\n'
            '        <Line dataKey="value" isAnimationActive={false} />\n'
            "      </LineChart>\n"
            "    </main>\n"
            "  );\n"
            "}\n"
        ),
    },
    {"path": "/app/App.module.css", "content": ".card { border: 3px solid rgb(0, 128, 0); }\n"},
    {"path": "/app/global.css", "content": "h1 { font-size: 31px; }\n"},
    {
        "path": "/app/data/points.json",
        "content": (
            '[{"day": "Mon", "value": 3}, {"day": "Tue", "value": 7}, {"day": "Wed", "value": 5}]'
        ),
    },
    {"path": "/app/logo.png", "content": RED_PNG_B64, "encoding": "base64"},
    {"path": "/public/brand.png", "content": RED_PNG_B64, "encoding": "base64"},
]

# Throws on click, from a named file and line, for the runtime overlay.
THROWS = [
    {
        "path": "/app/App.tsx",
        "content": (
            'import { explode } from "./lib/explode";\n'
            "export default function App() {\n"
            "  return <button onClick={() => explode()}>boom</button>;\n"
            "}\n"
        ),
    },
    {
        "path": "/app/lib/explode.ts",
        "content": (
            'export function explode(): never {\n  throw new Error("kaboom from explode");\n}\n'
        ),
    },
]

# Throws while mounting, from line 3, column 11 of a component file: the boot check's case.
THROWS_AT_MOUNT = [
    {
        "path": "/app/App.tsx",
        "content": (
            'import { Chart } from "./components/Chart";\n'
            "export default function App() {\n"
            "  return <main><Chart points={[]} /></main>;\n"
            "}\n"
        ),
    },
    {
        "path": "/app/components/Chart.tsx",
        "content": (
            "export function Chart({ points }: { points: number[] }) {\n"
            "  if (points.length === 0) {\n"
            '    throw new Error("no points to chart");\n'
            "  }\n"
            "  return <svg />;\n"
            "}\n"
        ),
    },
]
