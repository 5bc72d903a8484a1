"""Lean pages: a page loads what its code names, not whole libraries; and refused imports
say which allowed package does that job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import session

from bench.gen_apps import folder_app
from bench.weight import TARGET_RATIO, measure
from bundler import BuildFailed, Bundler, Runtime
from bundler.barrels import BARREL_PACKAGES, read_barrel, used_names
from bundler.requests import Plugin, build_request
from bundler.suggestions import suggestion

ALLOWED = Runtime().allowed_packages
LUCIDE = read_barrel(Runtime().node_modules, "lucide-react").version


@pytest.fixture(scope="module")
def vendored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundler]:
    built = Bundler(vendor_cache=tmp_path_factory.mktemp("vendor-cache"))
    built.load_vendor()
    yield built
    built.close()


def chunk_names(bundle) -> list[str]:
    return [Path(p).name.rsplit("-", 1)[0].replace("__", "/") for p in bundle.page.vendor_scripts]


def test_icons_dates_and_a_chart_weigh_at_most_a_quarter_more_than_bare_esbuild(vendored):
    weight = measure(folder_app("weight"), vendored)
    assert weight.ratio <= TARGET_RATIO, weight
    # None of the barrels comes whole: lucide-react alone is 881 kB as a chunk.
    assert not any(
        name in path for path in weight.scripts for name in ("lucide-react", "date-fns", "recharts")
    )


def test_a_page_using_three_radix_primitives_loads_those_and_what_they_share(vendored):
    bundle = vendored.build(session(folder_app("shadcn").files))
    names = chunk_names(bundle)
    for used in (
        "@radix-ui/react-dialog",
        "@radix-ui/react-tooltip",
        "@radix-ui/react-dropdown-menu",
        "@radix-ui/react-tabs",
        "@radix-ui/react-label",
        "class-variance-authority",
        "tailwind-merge",
    ):
        assert used in names
    for unused in (
        "radix-ui",
        "@radix-ui/react-select",
        "@radix-ui/react-slider",
        "@radix-ui/react-menubar",
        "@radix-ui/react-navigation-menu",
        "@radix-ui/react-toast",
        "lucide-react",
    ):
        assert unused not in names


def test_a_namespace_import_of_a_barrel_takes_the_whole_package(vendored):
    bundle = vendored.build(
        session(
            {
                "/app/App.tsx": (
                    'import * as Icons from "lucide-react";\n'
                    "export default () => <Icons.Camera />;\n"
                )
            }
        )
    )
    assert "lucide-react" in chunk_names(bundle)


@pytest.mark.parametrize("package", BARREL_PACKAGES)
def test_barrel_export_maps_name_every_export_esbuild_sees(vendored, package, tmp_path):
    request = build_request(
        [
            "--bundle",
            "--format=esm",
            "--metafile",
            "--log-level=silent",
            f"--outfile={tmp_path / 'out.js'}",
            "--external:react",
            "--external:react-dom",
        ],
        working_dir=tmp_path,
        node_modules=vendored.runtime.node_modules,
        plugin=Plugin("none", "^$", ()),
        stdin=f'export * from "{package}";\n'.encode(),
        stdin_resolve_dir=tmp_path,
    )
    response = vendored.service.build(request, lambda _: {}, 60)
    assert not response.get("errors")
    [output] = json.loads(response["metafile"])["outputs"].values()
    exports = read_barrel(vendored.runtime.node_modules, package).exports
    assert set(exports) - {"default"} == set(output["exports"])


@pytest.mark.parametrize(
    ("sources", "names"),
    [
        (['import { Camera, Heart as H, type Star } from "lucide-react";'], {"Camera", "Heart"}),
        (
            [
                "import {\n  Camera, // the lens\n  Bell,\n} from 'lucide-react'\nimport { a } from \"x\""
            ],
            {"Camera", "Bell"},
        ),
        (
            ['export { Camera } from "lucide-react";', 'import { Bell } from "lucide-react";'],
            {"Camera", "Bell"},
        ),
        (['import type { LucideProps } from "lucide-react";'], set()),
        (['import * as Icons from "lucide-react";'], None),
        (['import Icons from "lucide-react";'], None),
        (['import "lucide-react";'], None),
        (['const icons = import("lucide-react");'], None),
        (['const u = "https://x"; import { Bell } from "lucide-react";'], None),
        (['// import { Bell } from "lucide-react";\nimport { Camera } from "lucide-react";'], None),
    ],
)
def test_only_plain_named_imports_are_resolved_name_by_name(sources, names):
    assert used_names(sources, "lucide-react") == names


@pytest.mark.parametrize(
    ("package", "hint"),
    [
        ("@radix-ui/react-icons", 'did you mean "lucide-react"?'),
        ("@heroicons/react", 'did you mean "lucide-react"?'),
        ("react-router", 'did you mean "react-router-dom"?'),
        ("lodash-es", 'did you mean "lodash"?'),
        ("moment", 'did you mean "date-fns"?'),
        ("axios", "did you mean fetch() (built into the browser)?"),
        ("@radix-ui/react-toolbar", 'did you mean "radix-ui"? it exports every radix primitive'),
        ("rechart", 'did you mean "recharts"?'),
        ("zustnd", 'did you mean "zustand"?'),
        ("left-pad", None),
    ],
)
def test_near_misses_suggest_the_allowed_package(package, hint):
    assert suggestion(package, ALLOWED) == hint


def test_framer_motion_and_motion_stand_in_for_each_other():
    assert (
        suggestion("framer-motion", [p for p in ALLOWED if p != "framer-motion"])
        == 'did you mean "motion"?'
    )
    assert (
        suggestion("motion", [p for p in ALLOWED if p != "motion"])
        == 'did you mean "framer-motion"?'
    )


@pytest.mark.parametrize(
    ("specifier", "hint"),
    [
        ("moment", 'did you mean "date-fns"?'),
        ("@radix-ui/react-icons", 'did you mean "lucide-react"?'),
        ("react-router/dom", 'did you mean "react-router-dom"?'),
    ],
)
def test_a_refused_import_keeps_its_message_and_says_what_to_use(vendored, specifier, hint):
    with pytest.raises(BuildFailed) as failed:
        vendored.build(
            session(
                {
                    "/app/App.tsx": (
                        f'import * as m from "{specifier}";\n'
                        "export default () => <p>{Object.keys(m).length}</p>;\n"
                    )
                }
            )
        )
    [error] = failed.value.diagnostics
    package = specifier if specifier.startswith("@") else specifier.split("/")[0]
    assert error.message == (
        f'cannot import "{specifier}": "{package}" is not an allowed package ({hint}); '
        f"allowed packages: {', '.join(ALLOWED)} (import chain: /app/App.tsx → {specifier})"
    )
    assert (error.file, error.line) == ("/app/App.tsx", 1)


def test_type_names_beside_icons_keep_the_page_lean_and_a_wrong_icon_fails_the_build(vendored):
    bundle = vendored.build(
        session(
            {
                "/app/App.tsx": (
                    'import { Camera, type LucideProps, LucideIcon } from "lucide-react";\n'
                    "const Icon: LucideIcon = Camera;\n"
                    "export default (props: LucideProps) => <Icon {...props} />;\n"
                )
            }
        )
    )
    assert "lucide-react" not in chunk_names(bundle)
    with pytest.raises(BuildFailed) as failed:
        vendored.build(
            session(
                {
                    "/app/App.tsx": (
                        'import { NotAnIcon } from "lucide-react";\n'
                        "export default () => <NotAnIcon />;\n"
                    )
                }
            )
        )
    [error] = failed.value.diagnostics
    assert (error.file, error.line) == ("/app/App.tsx", 1)
    assert error.message.startswith(
        f'"NotAnIcon" is not exported by lucide-react {LUCIDE} (the version pages get, see '
        "docs/packages.md)"
    ), error.message


BRAND_ICONS = ("Github", "Twitter", "Linkedin", "Youtube", "Facebook", "Instagram")
BOLT_VITE_CONFIG = (
    "import { defineConfig } from 'vite';\n"
    "import react from '@vitejs/plugin-react';\n"
    "export default defineConfig({ plugins: [react()],\n"
    "  optimizeDeps: { exclude: ['lucide-react'] } });\n"
)


def test_lucide_is_the_version_builders_generate_for_with_its_brand_icons(vendored):
    assert LUCIDE.startswith("0.")  # 1.0 removed the brand icons generated footers use
    bundle = vendored.build(
        session(
            {
                "/app/App.tsx": (
                    f'import {{ {", ".join(BRAND_ICONS)} }} from "lucide-react";\n'
                    f"export default () => <p>{''.join(f'<{name} />' for name in BRAND_ICONS)}</p>;\n"
                )
            }
        )
    )
    assert "lucide-react" not in chunk_names(bundle)


@pytest.mark.parametrize(
    "files",
    [
        {"/vite.config.ts": BOLT_VITE_CONFIG},  # names lucide-react, never loaded by the page
        {"/app/Icons.tsx": 'import * as Icons from "lucide-react";\nexport default Icons;\n'},
        {
            "/app/App.tsx": (
                'import { Github, Githb } from "lucide-react";\n'
                'import * as Icons from "lucide-react";\n'
                "export default () => <p><Icons.Camera /><Github /><Githb /></p>;\n"
            )
        },
    ],
    ids=["bolt-vite-config", "namespace-import-elsewhere", "namespace-import-beside"],
)
def test_a_missing_icon_is_a_build_error_whatever_other_files_mention(vendored, files):
    with pytest.raises(BuildFailed) as failed:
        vendored.build(
            session(
                {
                    "/app/App.tsx": (
                        'import { Github, Githb } from "lucide-react";\n'
                        "export default () => <p><Github /><Githb /></p>;\n"
                    ),
                    **files,
                }
            )
        )
    [error] = [d for d in failed.value.diagnostics if d.severity == "error"]
    assert (error.file, error.line) == ("/app/App.tsx", 1)
    assert error.message == (
        f'"Githb" is not exported by lucide-react {LUCIDE} (the version pages get, see '
        'docs/packages.md); did you mean "Github"?'
    )


def test_template_packages_of_lovable_and_bolt_are_allowed_and_share_one_react(vendored):
    bundle = vendored.build(
        session(
            {
                "/app/App.tsx": (
                    'import { createClient } from "@supabase/supabase-js";\n'
                    'import { ThemeProvider, useTheme } from "next-themes";\n'
                    'import i18n from "i18next";\n'
                    'import { initReactI18next, useTranslation } from "react-i18next";\n'
                    'import LanguageDetector from "i18next-browser-languagedetector";\n'
                    "i18n.use(LanguageDetector).use(initReactI18next).init({ resources: {} });\n"
                    'export const db = createClient("https://x.supabase.co", "anon");\n'
                    "const Inner = () => { const { t } = useTranslation(); const { theme } = useTheme();\n"
                    "  return <p>{t('x')}{theme}</p>; };\n"
                    "export default () => <ThemeProvider><Inner /></ThemeProvider>;\n"
                )
            }
        )
    )
    assert {
        "next-themes",
        "i18next",
        "react-i18next",
        "i18next-browser-languagedetector",
        "@supabase/supabase-js",
    } <= set(chunk_names(bundle))
