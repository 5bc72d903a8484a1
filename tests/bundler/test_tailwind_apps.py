"""Which apps get Tailwind, and what it gives them (real esbuild, real Tailwind).

An app with its own Tailwind entry has it compiled in place; an app that uses Tailwind
classes without one gets Tailwind with shadcn/ui-style tokens before its own styles; a
plain-CSS app is built exactly as if Tailwind did not exist.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from stage_samples import SHIFTCAL

from bundler import (
    Bundle,
    Bundler,
    BundlerCrashed,
    BundlerUnavailable,
    Diagnostic,
    SourceFile,
)
from bundler.css import DEFAULTS_PATH, tailwind_signal
from bundler.tailwind import SERVICE_SCRIPT
from bundler.tailwind3 import V3_SERVICE_SCRIPT
from bundler.tailwind_config import SANDBOX_SCRIPT

ZERO_CONFIG = {
    "/app/App.tsx": (
        "export default function App() {\n"
        '  return <main className="flex md:grid">\n'
        '    <button className="bg-primary hover:bg-primary/90 text-primary-foreground">ok</button>\n'
        '    <p className="bg-destructive w-[137px] grid-cols-[1fr_2fr] rounded-lg">x</p>\n'
        "  </main>;\n"
        "}\n"
    )
}

OWN_ENTRY = {
    "/app/App.tsx": (
        'import "./globals.css";\n'
        "export default function App() {\n"
        '  return <div className="card bg-brand content-auto pointer:flex '
        'top-[3px]">hi</div>;\n'
        "}\n"
    ),
    "/app/globals.css": (
        '@import "tailwindcss";\n'
        "@theme {\n  --color-brand: #123456;\n}\n"
        "@custom-variant pointer (@media (pointer: fine));\n"
        "@utility content-auto {\n  content-visibility: auto;\n}\n"
        ".card {\n  @apply p-4 rounded-lg;\n}\n"
    ),
}


def session(files: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(path, text.encode("utf-8")) for path, text in files.items()]


def styles_of(bundle: Bundle) -> list[bytes]:
    contents = {a.path: a.content for a in bundle.artifacts}
    return [contents[path] for path in bundle.page.styles]


def test_zero_config_app_gets_tailwind_with_default_tokens_before_its_own_styles(build):
    bundle = build(ZERO_CONFIG)
    (css,) = styles_of(bundle)
    assert bundle.page.styles[0].startswith("tailwind-")
    assert b"*, ::after, ::before, ::backdrop, ::file-selector-button {" in css  # preflight
    for rule in (
        b".flex {\n    display: flex;",
        b".w-\\[137px\\] {\n    width: 137px;",
        b".bg-destructive {\n    background-color: var(--destructive);",
        b".grid-cols-\\[1fr_2fr\\] {\n    grid-template-columns: 1fr 2fr;",
        b"@media (width >= 48rem) {\n    .md\\:grid {",
        b".hover\\:bg-primary\\/90:hover {",
        b"--destructive: oklch(0.577 0.245 27.325);",
        b".rounded-lg {\n    border-radius: var(--radius);",
    ):
        assert rule in css, rule
    assert bundle.css_ms > 0


def test_zero_config_stylesheet_goes_before_the_app_css_when_tailwind_signals(build):
    bundle = build(
        {
            **ZERO_CONFIG,
            "/components.json": "{}",
            "/app/App.tsx": 'import "./App.css";\n' + ZERO_CONFIG["/app/App.tsx"],
            "/app/App.css": ".mine { color: red; }\n",
        }
    )
    first, second = styles_of(bundle)
    assert b".bg-destructive {" in first
    assert b".mine{color:red}" in second


def test_own_entry_is_compiled_in_place_and_gets_no_default_tokens(build):
    bundle = build(OWN_ENTRY)
    (css,) = styles_of(bundle)
    assert bundle.page.styles[0].startswith("app-")
    assert b"--color-brand: #123456" in css
    assert b".card{border-radius:var(--radius-lg);padding:calc(var(--spacing) * 4)}" in css
    assert b".content-auto{content-visibility:auto}" in css
    assert b"@media(pointer:fine){.pointer\\:flex{display:flex}}" in css
    assert b".top-\\[3px\\]{top:3px}" in css
    assert b"--destructive" not in css and b"--color-primary" not in css


def test_v3_directives_are_compiled_by_tailwind_v3(build):
    bundle = build(
        {
            **OWN_ENTRY,
            "/app/globals.css": (
                "@tailwind base;\n@tailwind components;\n@tailwind utilities;\n"
                ".card {\n  @apply p-4;\n}\n"
            ),
        }
    )
    (css,) = styles_of(bundle)
    assert b".card{padding:1rem}" in css
    assert b"border-color:#e5e7eb" in css  # v3's preflight, not v4's currentColor
    assert b"--spacing" not in css and b".content-auto" not in css


def test_unknown_apply_class_fails_the_build_at_its_line(build_failure):
    error = build_failure(
        {
            **OWN_ENTRY,
            "/app/globals.css": ('@import "tailwindcss";\n.card {\n  @apply p-4 shadow-glow;\n}\n'),
        }
    )
    assert error.diagnostics == [
        Diagnostic(
            "/app/globals.css",
            3,
            14,
            "Cannot apply unknown utility class `shadow-glow`",
            "  @apply p-4 shadow-glow;",
        )
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '@import "bootstrap/dist/css/bootstrap.css";',
            '@import "bootstrap/dist/css/bootstrap.css" is not available; a stylesheet may import '
            "session files, tailwindcss, tw-animate-css",
        ),
        (
            '@import "../../../etc/hosts";',
            '@import "../../../etc/hosts": /etc/hosts is not a session file; a stylesheet may import '
            "session files, tailwindcss, tw-animate-css",
        ),
    ],
    ids=["unpinned-package", "outside-session"],
)
def test_stylesheets_outside_the_session_and_pins_fail_the_build(build_failure, line, message):
    error = build_failure({**OWN_ENTRY, "/app/globals.css": f'@import "tailwindcss";\n{line}\n'})
    assert error.diagnostics == [Diagnostic("/app/globals.css", 2, 1, message, line)]


@pytest.mark.parametrize(
    "package", ["tailwindcss", "@tailwindcss/oxide", "@tailwindcss/typography", "tw-animate-css"]
)
def test_tailwind_packages_are_not_importable_from_code(bundler, build_failure, package):
    error = build_failure(
        {
            "/app/App.tsx": f'import * as tool from "{package}";\n'
            "export default () => <p>{String(tool)}</p>;\n"
        }
    )
    (diagnostic,) = error.diagnostics
    allowed = bundler.runtime.allowed_packages
    assert diagnostic.message.startswith(
        f'cannot import "{package}": "{package}" is not an allowed package; allowed packages: '
        f"{', '.join(allowed)}"
    )
    assert package not in allowed


def without_tailwind() -> Bundler:
    """A bundler whose Tailwind service cannot start: a build that needs it fails."""
    return Bundler(node_binary="/nonexistent/node")


@pytest.mark.parametrize(
    "files",
    [
        {f["path"]: f["content"] for f in SHIFTCAL},
        {"/app/App.tsx": "export default function App() { return <h1>Hello</h1>; }\n"},
    ],
    ids=["shiftcal", "no-css"],
)
def test_apps_without_tailwind_build_exactly_as_without_the_tailwind_stage(build, files):
    bundle = build(files)
    plain = without_tailwind()
    try:
        reference = plain.build(session(files))
    finally:
        plain.close()
    assert bundle.page.styles == reference.page.styles
    assert styles_of(bundle) == styles_of(reference)
    assert [a.path for a in bundle.artifacts] == [a.path for a in reference.artifacts]
    assert not any(b"tailwindcss" in css for css in styles_of(bundle))


def test_classes_that_are_no_tailwind_utilities_get_no_tailwind(build):
    # "flex" and "hidden" are in the code, but no class attribute names a utility.
    bundle = build(
        {
            "/app/App.tsx": (
                'const hidden = "flex";\n'
                "export default function App() {\n"
                '  return <div className="card title" style={{display: hidden}}>hi</div>;\n}\n'
            )
        }
    )
    assert bundle.page.styles == []
    assert not any(a.path.endswith(".css") for a in bundle.artifacts)


def test_a_tailwind_service_that_cannot_start_is_an_infrastructure_error():
    broken = without_tailwind()
    try:
        with pytest.raises(BundlerUnavailable) as info:
            broken.build(session(ZERO_CONFIG))
    finally:
        broken.close()
    assert isinstance(info.value, BundlerCrashed)
    assert info.value.output.startswith("could not start the Tailwind service: ")


def test_a_killed_tailwind_service_is_restarted_by_the_next_build(bundler):
    bundler.build(session(ZERO_CONFIG))
    dead = bundler.tailwind.pid
    assert dead is not None
    os.kill(dead, 9)
    time.sleep(0.1)
    (css,) = styles_of(bundler.build(session(ZERO_CONFIG)))
    assert b".bg-destructive {" in css
    assert bundler.tailwind.pid not in (None, dead)


def test_tailwind_version_and_default_tokens_are_part_of_the_config_key(bundler):
    version = bundler.runtime.tailwind_version
    assert version.startswith("4.")
    tokens = hashlib.sha256(
        DEFAULTS_PATH.read_bytes()
        + SERVICE_SCRIPT.read_bytes()
        + V3_SERVICE_SCRIPT.read_bytes()
        + SANDBOX_SCRIPT.read_bytes()
    )
    assert f":tailwind={version}+{tokens.hexdigest()[:12]}:" in bundler.config_key + ":"


@pytest.mark.parametrize(
    ("files", "signal"),
    [
        ({"/components.json": "{}"}, "/components.json"),
        ({"/tailwind.config.ts": "export default {}"}, "/tailwind.config.ts"),
        (
            {"/lib/utils.ts": 'import { twMerge } from "tailwind-merge";\n'},
            "/lib/utils.ts imports tailwind-merge",
        ),
        (
            {"/ui/button.tsx": 'import { cva } from "class-variance-authority";\n'},
            "/ui/button.tsx imports class-variance-authority",
        ),
        ({"/package.json": '{"devDependencies": {"tailwindcss": "^4"}}'}, "/package.json"),
        ({"/package.json": '{"dependencies": {"react": "19"}}'}, None),
        ({"/app/App.tsx": 'import clsx from "clsx";\n'}, None),
    ],
)
def test_tailwind_signals(files, signal):
    assert (
        tailwind_signal({path: src for path, src in zip(files, session(files), strict=True)})
        == signal
    )
