"""The Tailwind stage alone, warm: medians per app and the service's memory.

    python -m bench.css [--runs N]

Each run is a new variant of the app (App.tsx's start literal changes, as in ``make
bench``), so the stage sees what an edit loop gives it. Apps:

- ``reference``: the bench reference app as it is: a plain-CSS app, so the stage only
  decides that there is nothing to compile;
- ``reference-zero-config``: the same files with Tailwind classes on its elements and
  without its stylesheet: the zero-config Tailwind stylesheet is compiled;
- ``shadcn-10``: ten files in the shape AI app builders write (``/lib/utils.ts`` with
  ``cn()``, ``/components/ui/*``, ``/components.json``, a ``globals.css`` own entry with
  ``@theme inline``, ``@apply`` and tw-animate-css);
- ``shadcn-10-class-edits``: the same, but every run changes a class (``w-[137px]`` →
  ``w-[Npx]``): a class disappears, so the service cannot reuse a compiler and compiles
  the stylesheet again (the cost of an edit that removes a class, or of a new session).

Prints one line per app: median, p95 and max milliseconds, and the Node process's peak
RSS, each with PASS or FAIL against its target. Exits 0 once everything was measured.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.gen_apps import reference
from bundler import SourceFile, TailwindService
from bundler.css import CssResult, TailwindCss

TARGET_MS = {
    "reference": 10.0,
    "reference-zero-config": 10.0,
    "shadcn-10": 30.0,
    "shadcn-10-class-edits": 30.0,
}
TARGET_RSS_MB = 200.0
_TIMEOUT_S = 20.0
#: Between two renders of a session the worker writes the shell and uploads, and a person
#: or an agent edits: the service prepares its next compiler in that gap.
_GAP_S = 0.3

UTILS = (
    'import { clsx, type ClassValue } from "clsx";\n'
    "export function cn(...inputs: ClassValue[]) { return clsx(inputs); }\n"
)
BUTTON = (
    'import { cn } from "@/lib/utils";\n'
    "const variants = {\n"
    '  default: "bg-primary text-primary-foreground shadow-xs hover:bg-primary/90",\n'
    '  destructive: "bg-destructive text-white shadow-xs hover:bg-destructive/90 '
    'focus-visible:ring-destructive/20 dark:bg-destructive/60",\n'
    '  outline: "border bg-background shadow-xs hover:bg-accent '
    'hover:text-accent-foreground dark:bg-input/30 dark:border-input",\n'
    '  ghost: "hover:bg-accent hover:text-accent-foreground dark:hover:bg-accent/50",\n'
    "};\n"
    'export function Button({ variant = "default", className, ...props }: any) {\n'
    '  return <button className={cn("inline-flex items-center justify-center gap-2 '
    "whitespace-nowrap rounded-md text-sm font-medium transition-all "
    "disabled:pointer-events-none disabled:opacity-50 h-9 px-4 py-2 has-[>svg]:px-3 "
    "outline-none focus-visible:border-ring focus-visible:ring-ring/50 "
    'focus-visible:ring-[3px]", variants[variant], className)} {...props} />;\n'
    "}\n"
)
CARD = (
    'import { cn } from "@/lib/utils";\n'
    "export function Card({ className, ...props }: any) {\n"
    '  return <div className={cn("bg-card text-card-foreground flex flex-col gap-6 '
    'rounded-xl border py-6 shadow-sm", className)} {...props} />;\n}\n'
    "export function CardHeader(props: any) {\n"
    '  return <div className="@container/card-header grid auto-rows-min grid-rows-[auto_auto] '
    'items-start gap-1.5 px-6" {...props} />;\n}\n'
    "export function CardTitle(props: any) {\n"
    '  return <div className="leading-none font-semibold" {...props} />;\n}\n'
)
BADGE = (
    'import { cn } from "@/lib/utils";\n'
    "export function Badge({ className, ...props }: any) {\n"
    '  return <span className={cn("inline-flex items-center justify-center rounded-md '
    "border px-2 py-0.5 text-xs font-medium w-fit whitespace-nowrap shrink-0 [&>svg]:size-3 "
    'gap-1 overflow-hidden bg-secondary text-secondary-foreground", className)} '
    "{...props} />;\n}\n"
)
INPUT = (
    'import { cn } from "@/lib/utils";\n'
    "export function Input({ className, ...props }: any) {\n"
    '  return <input className={cn("file:text-foreground placeholder:text-muted-foreground '
    "selection:bg-primary selection:text-primary-foreground dark:bg-input/30 border-input "
    "flex h-9 w-full min-w-0 rounded-md border bg-transparent px-3 py-1 text-base shadow-xs "
    'transition-[color,box-shadow] outline-none md:text-sm aria-invalid:ring-destructive/20",'
    " className)} {...props} />;\n}\n"
)
DIALOG = (
    'import { cn } from "@/lib/utils";\n'
    "export function DialogContent({ className, ...props }: any) {\n"
    '  return <div className={cn("bg-background data-[state=open]:animate-in '
    "data-[state=closed]:animate-out data-[state=closed]:fade-out-0 "
    "data-[state=open]:fade-in-0 data-[state=closed]:zoom-out-95 data-[state=open]:zoom-in-95 "
    "fixed top-[50%] left-[50%] z-50 grid w-full max-w-[calc(100%-2rem)] "
    "translate-x-[-50%] translate-y-[-50%] gap-4 rounded-lg border p-6 shadow-lg "
    'duration-200 sm:max-w-lg", className)} {...props} />;\n}\n'
)
PAGE = (
    'import { Button } from "@/components/ui/button";\n'
    'import { Card, CardHeader, CardTitle } from "@/components/ui/card";\n'
    'import { Badge } from "@/components/ui/badge";\n'
    'import { Input } from "@/components/ui/input";\n'
    'import "./globals.css";\n'
    "const START = 0;\n"
    "export default function App() {\n"
    '  return <main className="min-h-screen bg-background p-8 grid gap-6 md:grid-cols-2 '
    'lg:grid-cols-[1fr_2fr]">\n'
    "    <Card><CardHeader><CardTitle>Tasks {START}</CardTitle></CardHeader>\n"
    '      <div className="flex items-center gap-2 px-6"><Input placeholder="New task" />'
    "<Button>Add</Button></div>\n"
    '      <ul className="divide-y px-6 text-sm text-muted-foreground">\n'
    '        <li className="py-2 flex justify-between">Write <Badge>todo</Badge></li>\n'
    "      </ul></Card>\n"
    '    <p className="prose-sm text-muted-foreground w-[137px] dark:text-white">x</p>\n'
    "  </main>;\n}\n"
)
GLOBALS = (
    '@import "tailwindcss";\n@import "tw-animate-css";\n'
    "@custom-variant dark (&:is(.dark *));\n"
    ":root {\n  --radius: 0.625rem;\n  --background: oklch(1 0 0);\n"
    "  --foreground: oklch(0.145 0 0);\n  --primary: oklch(0.205 0 0);\n"
    "  --primary-foreground: oklch(0.985 0 0);\n  --card: oklch(1 0 0);\n"
    "  --card-foreground: oklch(0.145 0 0);\n  --secondary: oklch(0.97 0 0);\n"
    "  --secondary-foreground: oklch(0.205 0 0);\n  --muted-foreground: oklch(0.556 0 0);\n"
    "  --accent: oklch(0.97 0 0);\n  --accent-foreground: oklch(0.205 0 0);\n"
    "  --destructive: oklch(0.577 0.245 27.325);\n  --border: oklch(0.922 0 0);\n"
    "  --input: oklch(0.922 0 0);\n  --ring: oklch(0.708 0 0);\n}\n"
    "@theme inline {\n  --color-background: var(--background);\n"
    "  --color-foreground: var(--foreground);\n  --color-primary: var(--primary);\n"
    "  --color-primary-foreground: var(--primary-foreground);\n  --color-card: var(--card);\n"
    "  --color-card-foreground: var(--card-foreground);\n"
    "  --color-secondary: var(--secondary);\n"
    "  --color-secondary-foreground: var(--secondary-foreground);\n"
    "  --color-muted-foreground: var(--muted-foreground);\n  --color-accent: var(--accent);\n"
    "  --color-accent-foreground: var(--accent-foreground);\n"
    "  --color-destructive: var(--destructive);\n  --color-border: var(--border);\n"
    "  --color-input: var(--input);\n  --color-ring: var(--ring);\n"
    "  --radius-md: calc(var(--radius) - 2px);\n  --radius-lg: var(--radius);\n"
    "  --radius-xl: calc(var(--radius) + 4px);\n}\n"
    "@layer base {\n  * {\n    @apply border-border outline-ring/50;\n  }\n"
    "  body {\n    @apply bg-background text-foreground;\n  }\n}\n"
)
SHADCN_10 = {
    "/app/App.tsx": PAGE,
    "/app/globals.css": GLOBALS,
    "/lib/utils.ts": UTILS,
    "/components/ui/button.tsx": BUTTON,
    "/components/ui/card.tsx": CARD,
    "/components/ui/badge.tsx": BADGE,
    "/components/ui/input.tsx": INPUT,
    "/components/ui/dialog.tsx": DIALOG,
    "/components.json": '{"style": "new-york", "tailwind": {"css": "app/globals.css"}}\n',
    "/tsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./*"]}}}\n',
}


def zero_config_reference() -> dict[str, str]:
    files = dict(reference().files)
    files.pop("/app/App.css")
    app = files["/app/App.tsx"].replace('import "./App.css";\n', "")
    files["/app/App.tsx"] = app.replace(
        'className="app"', 'className="mx-auto max-w-2xl p-6 flex flex-col gap-4 md:p-10"'
    ).replace("<h1>", '<h1 className="text-3xl font-bold">')
    return files


def stage(css: TailwindCss, files: dict[str, str]) -> float:
    """One Tailwind stage as Bundler.build runs it; returns its milliseconds."""
    sources = {path: SourceFile(path, text.encode("utf-8")) for path, text in files.items()}
    started = time.perf_counter()
    result: CssResult = css.compile_entries(sources)
    imported = [p for p in sources if p.endswith(".css")]  # every stylesheet here is imported
    css.zero_config(sources, result, imported)
    return (time.perf_counter() - started) * 1000


def measure(
    css: TailwindCss,
    files: dict[str, str],
    runs: int,
    variant: Callable[[dict[str, str], int], dict[str, str]],
) -> list[float]:
    for n in range(3):  # warm-up: Node's JIT, the first compile
        stage(css, variant(files, -1 - n))
    times = []
    for n in range(runs):
        time.sleep(_GAP_S)
        times.append(stage(css, variant(files, n)))
    return times


def with_start(files: dict[str, str], n: int) -> dict[str, str]:
    app = files["/app/App.tsx"]
    return {**files, "/app/App.tsx": app.replace("const START = 0;", f"const START = {n};")}


def with_width(files: dict[str, str], n: int) -> dict[str, str]:
    app = files["/app/App.tsx"]
    return {**files, "/app/App.tsx": app.replace("w-[137px]", f"w-[{1000 + n}px]")}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak, not just now
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    apps = {
        "reference": reference().files,
        "reference-zero-config": zero_config_reference(),
        "shadcn-10": SHADCN_10,
        "shadcn-10-class-edits": SHADCN_10,
    }
    with TailwindService() as service:
        css = TailwindCss(service, _TIMEOUT_S)
        print(f"{'app':<24}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'target':>9}")
        for name, files in apps.items():
            variant = with_width if name.endswith("class-edits") else with_start
            times = sorted(measure(css, files, args.runs, variant))
            median = statistics.median(times)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            ok = median <= TARGET_MS[name]
            print(
                f"{name:<24}{median:>10.2f}{p95:>9.2f}{times[-1]:>9.2f}"
                f"{'≤' + format(TARGET_MS[name], 'g'):>7} {'PASS' if ok else 'FAIL'}"
            )
        pid = service.pid
        peak = rss_mb(pid) if pid else 0.0
        ok = peak <= TARGET_RSS_MB
        print(
            f"Tailwind service peak RSS: {peak:.0f} MB (target ≤{TARGET_RSS_MB:g}) "
            f"{'PASS' if ok else 'FAIL'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
