"""Session files the integration and browser tests push, as a gateway would."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

HELLO = [{"path": "/app/App.tsx", "content": (
    "export default function App() {\n"
    "  return <h1>ShiftCal</h1>;\n"
    "}\n")}]

# Line 3, column 21 (1-based) is where esbuild stops: the stray "world".
BROKEN = [{"path": "/app/App.tsx", "content": (
    "export default function App() {\n"
    "  const greeting = 'hi';\n"
    "  return <h1>{greeting world}</h1>;\n"
    "}\n")}]
BROKEN_LINE, BROKEN_COLUMN = 3, 24


def folder_files(folder: Path) -> list[dict[str, str]]:
    """Every file under ``folder`` as a push payload (``folder/app/App.tsx`` → ``/app/App.tsx``)."""
    return [{"path": "/" + p.relative_to(folder).as_posix(), "content": p.read_text("utf-8")}
            for p in sorted(folder.rglob("*")) if p.is_file()]


SHIFTCAL = folder_files(EXAMPLES / "shiftcal")
