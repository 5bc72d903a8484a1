"""Built-in shadcn/ui components: what a Claude artifact imports and never pushes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bundler.builtin_ui import BuiltinUi, markdown

UI = BuiltinUi()
ROOT = Path(__file__).resolve().parents[2]


def _app(imports: str, body: str = '<Button className="p-1">Go</Button>') -> dict[str, str]:
    return {"/app/App.tsx": f"{imports}\nexport default function App() {{ return {body} }}\n"}


def _script(bundle) -> str:
    return next(a.content.decode() for a in bundle.artifacts if a.path.endswith(".js"))


def _css(bundle) -> str:
    return "".join(a.content.decode() for a in bundle.artifacts if a.path.endswith(".css"))


def every_export_page() -> dict[str, str]:
    """One page importing every export of every built-in by name."""
    lines, used = [], []
    for n, module in enumerate(UI.modules.values()):
        names = [name for name in UI.exports(module) if not name.startswith("type ")]
        aliased = [f"{name} as m{n}_{name}" for name in names]
        lines.append(f'import {{ {", ".join(aliased)} }} from "@/{module.rsplit(".", 1)[0]}";')
        used += [f"m{n}_{name}" for name in names]
    return _app("\n".join(lines), f"<pre>{{String([{', '.join(used)}].length)}}</pre>")


def test_every_built_in_module_bundles_with_every_export_it_lists(build):
    """A name a module does not export, or an import a built-in cannot resolve, fails it."""
    bundle = build(every_export_page())
    assert bundle.warnings == []
    script = _script(bundle)
    for slot in (
        "alert-dialog-content",
        "dropdown-menu-sub-trigger",
        "carousel-item",
        "input-otp-slot",
        "resizable-handle",
        "navigation-menu-viewport",
    ):
        assert f'"{slot}"' in script
    assert len(UI.components) >= 45


def test_a_built_in_components_classes_reach_the_tailwind_stylesheet(build):
    bundle = build(_app('import { Button } from "@/components/ui/button";', "<Button>Go</Button>"))
    css = _css(bundle)
    # Classes only the built-in's own file names, and the default tokens they use.
    assert ".bg-primary" in css and ".has-\\[\\>svg\\]\\:px-3" in css
    assert "--primary: oklch(0.205 0 0)" in css


def test_source_maps_name_built_ins_as_such_never_as_session_files(build):
    bundle = build(_app('import { Button } from "@/components/ui/button";'))
    [source_map] = [a for a in bundle.artifacts if a.path.endswith(".js.map")]
    sources = json.loads(source_map.content)["sources"]
    # (the defines every page gets, process.env and import.meta.env, are named as such too)
    named = {s for s in sources if "node_modules" not in s and not s.startswith("<define:")}
    assert named == {
        "<stage:entry>",
        "stage-ui:lib/utils.ts",
        "stage-ui:components/ui/button.tsx",
        "/app/App.tsx",
    }


def test_an_own_tailwind_entry_is_compiled_with_the_built_ins_classes(build):
    files = _app(
        'import "./index.css";\nimport { Switch } from "@/components/ui/switch";', "<Switch />"
    )
    files["/app/index.css"] = '@import "tailwindcss";\n'
    css = _css(build(files))
    assert ".data-\\[state\\=checked\\]\\:translate-x-\\[calc\\(100\\%-2px\\)\\]" in css


def test_an_own_entry_without_tokens_gets_the_default_ones_and_one_with_tokens_keeps_its_own(build):
    files = _app(
        'import "./index.css";\nimport { Dialog } from "@/components/ui/dialog";', "<Dialog />"
    )
    files["/app/index.css"] = '@import "tailwindcss";\n'
    css = _css(build(files))
    assert "--primary: oklch(.205 0 0)" in css and "@keyframes enter" in css  # tw-animate-css
    files["/app/index.css"] = (
        '@import "tailwindcss";\n:root { --primary: #7c3aed; }\n'
        "@theme inline { --color-primary: var(--primary); }\n"
    )
    css = _css(build(files))
    assert "--primary: #7c3aed" in css and "oklch(.205 0 0)" not in css


def test_the_sessions_own_file_wins_and_built_ins_use_it(build):
    files = _app(
        'import { AlertDialogAction } from "@/components/ui/alert-dialog";\n'
        'import { Button } from "@/components/ui/button";',
        "<><Button /><AlertDialogAction /></>",
    )
    files["/components/ui/button.tsx"] = (
        'export const buttonVariants = () => "own-button-classes";\n'
        "export function Button() { return <b className={buttonVariants()}>own</b> }\n"
    )
    script = _script(build(files))
    assert "own-button-classes" in script  # the built-in alert dialog uses the own buttonVariants
    assert "has-[>svg]:px-3" not in script  # and the built-in button is not in the page


def test_a_tsconfig_alias_to_src_finds_the_own_file_and_built_ins_fill_the_rest(build):
    files = _app(
        'import { Button } from "@/components/ui/button";\n'
        'import { Badge } from "@/components/ui/badge";',
        "<><Button /><Badge /></>",
    )
    files["/tsconfig.json"] = '{"compilerOptions": {"paths": {"@/*": ["./src/*"]}}}'
    files["/src/components/ui/button.tsx"] = "export function Button() { return <i>mine</i> }\n"
    script = _script(build(files))
    assert '"mine"' in script and '"badge"' in script
    assert "has-[>svg]:px-3" not in script  # the built-in button


def test_an_unknown_component_names_the_built_in_ones(build_failure):
    failure = build_failure(
        _app('import { DataTable } from "@/components/ui/data-table";', "<DataTable />")
    )
    [error] = failure.diagnostics
    assert error.file == "/app/App.tsx" and error.line == 1
    assert error.message.startswith(
        'cannot import "@/components/ui/data-table": no session file at /components/ui/data-table, '
        "/src/components/ui/data-table, /app/components/ui/data-table"
    )
    assert "; the built-in components are accordion, alert, alert-dialog," in error.message


def test_the_built_ins_are_part_of_the_config_key(bundler):
    assert f":ui={UI.digest}" in bundler.config_key


@pytest.mark.parametrize(
    "specifier",
    ["@/components/ui/button", "@/lib/utils", "@/hooks/use-mobile", "@/components/ui/button.tsx"],
)
def test_built_in_specifiers(specifier):
    assert UI.module_for(specifier) is not None


@pytest.mark.parametrize(
    "specifier",
    [
        "@/components/ui/../../../etc/passwd",
        "@/lib/../../ui/lib/utils",
        "@/components/ui/Button",
        "components/ui/button",
        "@/components/ui/",
    ],
)
def test_no_other_specifier_reaches_a_built_in_or_leaves_their_folder(specifier):
    assert UI.module_for(specifier) is None


def test_components_doc_agrees_with_the_folder():
    committed = (ROOT / "docs" / "components.md").read_text("utf-8")
    assert committed == markdown(UI), (
        "docs/components.md is stale: run `python -m bundler.builtin_ui > docs/components.md`"
    )
