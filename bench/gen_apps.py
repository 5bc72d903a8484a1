"""The apps `make bench` builds: the 3-file reference app and generated N-module TSX apps.

A generated app is ``/app/App.tsx`` plus N-1 components in a tree (each imports up to
four children), every tenth one with its own stylesheet. Every app's ``App.tsx`` holds
``const START = 0;``, which the bench rewrites before each render so no cache can answer.

    python -m bench.gen_apps [OUT]    # writes bench/.generated/apps/<name>/app/... by default
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BenchApp",
    "MODULE_COUNTS",
    "all_apps",
    "folder_app",
    "generated",
    "reference",
    "shadcn",
    "lovable",
    "mount_source",
    "write_files",
]

BENCH = Path(__file__).resolve().parent
REFERENCE_DIR = BENCH / "apps" / "reference"
GENERATED_DIR = BENCH / ".generated"
MODULE_COUNTS = (10, 100, 400, 1000)
MARKER = "const START = 0;"
_BRANCHING = 4  # children per component: depth ~log4(N), a shallow, wide tree like real UIs
_CSS_EVERY = 10  # one stylesheet per this many components


@dataclass(frozen=True)
class BenchApp:
    """One benchmark app as session files (``/app/App.tsx`` → source text)."""

    name: str
    modules: int  # TSX modules
    files: dict[str, str]
    app_file: str = "/app/App.tsx"  # the file holding the start literal
    entry: str | None = None  # the app's own entry (a Vite app's /src/main.tsx), if it has one

    def variant(self, n: int) -> dict[str, str]:
        """The files with App.tsx's start literal set to ``n``: same shape, new content."""
        app = self.files[self.app_file]
        if MARKER not in app:
            raise ValueError(f"{self.name}: {self.app_file} has no {MARKER!r} to rewrite")
        return {**self.files, self.app_file: app.replace(MARKER, f"const START = {n};")}

    @property
    def total_bytes(self) -> int:
        return sum(len(text.encode("utf-8")) for text in self.files.values())


def reference() -> BenchApp:
    files = {
        "/" + p.relative_to(REFERENCE_DIR).as_posix(): p.read_text("utf-8")
        for p in sorted(REFERENCE_DIR.rglob("*"))
        if p.is_file()
    }
    modules = sum(1 for path in files if path.endswith(".tsx"))
    return BenchApp("reference", modules, files)


def generated(modules: int) -> BenchApp:
    """An app of ``modules`` TSX modules: App.tsx and components C1..C(modules-1)."""
    if modules < 2:
        raise ValueError(f"modules={modules}: a generated app needs App.tsx and a component")
    files = {
        "/app/App.tsx": _app_source(_children(0, modules)),
        "/app/App.css": ".app { font-family: system-ui, sans-serif; margin: 1rem; }\n",
    }
    for k in range(1, modules):
        files[f"/app/components/C{k}.tsx"] = _component_source(k, _children(k, modules))
        if k % _CSS_EVERY == 0:
            files[f"/app/styles/c{k}.css"] = _css_source(k)
    return BenchApp(f"modules-{modules}", modules, files)


def folder_app(name: str, root: Path | None = None) -> BenchApp:
    """An app under ``bench/apps/<name>/`` (or ``root``) as session files."""
    root = root or BENCH / "apps" / name
    files = {
        "/" + p.relative_to(root).as_posix(): p.read_text("utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    return BenchApp(name, sum(1 for f in files if f.endswith(".tsx")), files)


def shadcn() -> BenchApp:
    """The app as AI builders write it: shadcn/ui component files (radix, cva, cn()),
    Tailwind classes only, lucide icons, a tsconfig ``@/*`` alias; eleven files."""
    return folder_app("shadcn")


#: Files in the Lovable-shaped app: what a Lovable export of a small product holds.
LOVABLE_FILES = 90


def lovable(files: int = LOVABLE_FILES) -> BenchApp:
    """A Lovable export: index.html → /src/main.tsx, Tailwind v3 (``tailwind.config.ts`` with
    the shadcn/ui tokens and tailwindcss-animate, ``@tailwind`` + ``@apply border-border``),
    shadcn/ui v3 components, and page sections in a tree up to ``files`` files."""
    # The corpus's Lovable app (its App.tsx is replaced below) and the shadcn/ui components
    # only the bench's sections use, kept in bench/apps/lovable/.
    corpus = folder_app("lovable", BENCH.parent / "tests" / "corpus" / "lovable").files
    base = {**corpus, **folder_app("lovable").files}
    del base["/src/App.tsx"]
    count = files - len(base) - 1
    out = dict(base)
    out["/src/App.tsx"] = _lovable_app(_children(0, count + 1))
    for k in range(1, count + 1):
        source = _section_source(k, _children(k, count + 1))
        out[f"/src/components/sections/Section{k}.tsx"] = source
    modules = sum(1 for path in out if path.endswith(".tsx"))
    return BenchApp(
        f"lovable-{files}", modules, out, app_file="/src/App.tsx", entry="/src/main.tsx"
    )


def _lovable_app(children: list[int]) -> str:
    imports = "".join(
        f'import Section{c} from "@/components/sections/Section{c}";\n' for c in children
    )
    body = "".join(f"      <Section{c} />\n" for c in children)
    return (
        f'import Index from "./pages/Index";\n{imports}\n{MARKER}\n\n'
        "const App = () => (\n  <>\n    <Index />\n"
        f'    <div className="container space-y-8 py-8" data-start={{START}}>\n{body}'
        "    </div>\n  </>\n);\n\nexport default App;\n"
    )


def _section_source(k: int, children: list[int]) -> str:
    imports = "".join(f'import Section{c} from "./Section{c}";\n' for c in children)
    nested = "".join(f"          <Section{c} />\n" for c in children)
    tone = ("primary", "secondary", "accent", "muted", "destructive")[k % 5]
    return (
        'import { useState } from "react";\n'
        'import { ArrowRight, Check, Star } from "lucide-react";\n'
        'import { Button } from "@/components/ui/button";\n'
        'import { Badge } from "@/components/ui/badge";\n'
        "import { Card, CardContent, CardDescription, CardHeader, CardTitle } "
        'from "@/components/ui/card";\n'
        'import { Progress } from "@/components/ui/progress";\n'
        'import { Separator } from "@/components/ui/separator";\n'
        f"{imports}\n"
        f"export default function Section{k}() {{\n"
        "  const [done, setDone] = useState(false);\n"
        "  return (\n"
        f'    <section className="grid gap-{k % 6 + 2} md:grid-cols-{k % 3 + 1} '
        f'animate-in fade-in slide-in-from-bottom-{k % 4 + 1} duration-{(k % 5 + 1) * 100}">\n'
        f'      <Card className="border-{tone}/{(k % 9 + 1) * 10} hover:shadow-lg '
        'transition-shadow">\n'
        "        <CardHeader>\n"
        f'          <Badge variant="{("default", "secondary", "outline")[k % 3]}" '
        f'className="w-fit">Step {k}</Badge>\n'
        f'          <CardTitle className="text-{("lg", "xl", "2xl")[k % 3]} '
        f'tracking-tight">Section {k}</CardTitle>\n'
        f"          <CardDescription>Everything about part {k}.</CardDescription>\n"
        "        </CardHeader>\n"
        '        <CardContent className="space-y-4">\n'
        f'          <Progress value={{{(k * 7) % 100}}} className="h-2" />\n'
        "          <Separator />\n"
        f'          <p className="text-sm text-muted-foreground leading-relaxed '
        f'bg-{tone}/{(k % 4 + 1) * 5} rounded-md p-{k % 4 + 2}">\n'
        '            <Star className="mr-1 inline h-4 w-4 text-accent" />Made with care.\n'
        "          </p>\n"
        f'          <Button variant={{done ? "secondary" : "default"}} '
        f'size="{("sm", "default", "lg")[k % 3]}" onClick={{() => setDone(!done)}}>\n'
        '            {done ? <Check /> : <ArrowRight />} {done ? "Done" : "Continue"}\n'
        "          </Button>\n"
        f"{nested}"
        "        </CardContent>\n"
        "      </Card>\n"
        "    </section>\n"
        "  );\n"
        "}\n"
    )


def all_apps() -> list[BenchApp]:
    return [reference(), *(generated(n) for n in MODULE_COUNTS)]


def mount_source(app_module: str = "./app/App") -> str:
    """The entry that mounts App's default export, as the worker generates it."""
    return (
        'import { createElement } from "react";\n'
        'import { createRoot } from "react-dom/client";\n'
        f'import App from "{app_module}";\n'
        'createRoot(document.getElementById("root")).render(createElement(App));\n'
    )


def write_files(root: Path, files: dict[str, str]) -> None:
    """Session files under ``root`` (``/app/App.tsx`` → ``root/app/App.tsx``)."""
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")


def _children(k: int, modules: int) -> list[int]:
    return [c for c in range(k * _BRANCHING + 1, k * _BRANCHING + _BRANCHING + 1) if c < modules]


def _app_source(children: list[int]) -> str:
    imports = "".join(f'import {{ C{c} }} from "./components/C{c}";\n' for c in children)
    uses = "".join(f"      <C{c} depth={{1}} seed={{START + {c}}} />\n" for c in children)
    return (
        f'{imports}import "./App.css";\n\n'
        "// make bench rewrites this literal before every render so no cache can answer.\n"
        f"{MARKER}\n\n"
        "export default function App() {\n"
        "  return (\n"
        '    <main className="app">\n'
        "      <h1>Generated app</h1>\n"
        f"{uses}"
        "    </main>\n"
        "  );\n"
        "}\n"
    )


def _component_source(k: int, children: list[int]) -> str:
    imports = ['import { useMemo, useState } from "react";\n']
    imports += [f'import {{ C{c} }} from "./C{c}";\n' for c in children]
    if k % _CSS_EVERY == 0:
        imports.append(f'import "../styles/c{k}.css";\n')
    items = ", ".join(f'"item-{k}-{i}"' for i in range(k % 5 + 2))
    uses = "".join(f"      <C{c} depth={{depth + 1}} seed={{seed + {c}}} />\n" for c in children)
    return (
        "".join(imports) + "\n"
        "type Props = { depth: number; seed: number };\n\n"
        f"const ITEMS: string[] = [{items}];\n\n"
        f"export function C{k}({{ depth, seed }}: Props) {{\n"
        "  const [open, setOpen] = useState(seed % 2 === 0);\n"
        "  const total = useMemo(() => ITEMS.reduce((sum, item) => sum + item.length, seed),"
        " [seed]);\n"
        "  return (\n"
        f'    <section className="c{k}" data-depth={{depth}}>\n'
        f"      <h3 onClick={{() => setOpen(!open)}}>Component {k} ({{total}})</h3>\n"
        "      {open && (\n"
        "        <ul>\n"
        "          {ITEMS.map((item) => (\n"
        "            <li key={item}>{item}</li>\n"
        "          ))}\n"
        "        </ul>\n"
        "      )}\n"
        f"{uses}"
        "    </section>\n"
        "  );\n"
        "}\n"
    )


def _css_source(k: int) -> str:
    return (
        f".c{k} {{\n  border-left: 2px solid hsl({k * 37 % 360} 60% 50%);\n"
        f"  padding-left: 0.5rem;\n}}\n\n.c{k} h3 {{\n  font-size: 0.9rem;\n"
        "  cursor: pointer;\n}\n"
    )


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else GENERATED_DIR / "apps"
    for app in all_apps():
        write_files(out / app.name, app.files)
        print(
            f"{out / app.name}: {app.modules} modules, {len(app.files)} files, "
            f"{app.total_bytes} bytes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
