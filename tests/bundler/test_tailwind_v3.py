"""Tailwind v3 projects (real esbuild, real Tailwind 3.4, configs evaluated in real Deno).

A stylesheet written for v3 is compiled by Tailwind 3.4 with the session's
``tailwind.config.*``; the config runs in a sandbox with no access to anything, and every
way out of it fails the build with a message at the config's line.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bundler import BuildFailed, Bundle, Diagnostic
from bundler.tailwind3 import TailwindV3
from bundler.tailwind_config import PLUGINS, ConfigSandbox, find_config

V3_CSS = "@tailwind base;\n@tailwind components;\n@tailwind utilities;\n"

LOVABLE_CONFIG = """import type { Config } from "tailwindcss";
import { fontFamily } from "tailwindcss/defaultTheme";

export default {
  darkMode: ["class"],
  content: ["./src/**/*.{ts,tsx}"],
  theme: {
    container: { center: true, padding: "2rem", screens: { "2xl": "1400px" } },
    extend: {
      colors: {
        border: "hsl(var(--border))",
        primary: { DEFAULT: "hsl(var(--primary))", foreground: "hsl(var(--primary-foreground))" },
      },
      borderRadius: { lg: "var(--radius)" },
      fontFamily: { sans: ["Inter", ...fontFamily.sans] },
      keyframes: { "accordion-down": { from: { height: "0" }, to: { height: "1px" } } },
      animation: { "accordion-down": "accordion-down 0.2s ease-out" },
    },
  },
  plugins: [require("tailwindcss-animate")],
} satisfies Config;
"""

APP = (
    'import "./index.css";\n'
    "export default function App() {\n"
    '  return <div className="container bg-primary/90 text-primary-foreground rounded-lg '
    'font-sans dark:bg-primary animate-in fade-in animate-accordion-down ring shadow-sm">'
    "hi</div>;\n}\n"
)


def lovable(
    css: str = V3_CSS + "@layer base {\n  * {\n    @apply border-border;\n  }\n}\n",
    config: str = LOVABLE_CONFIG,
    app: str = APP,
    config_name: str = "/tailwind.config.ts",
) -> dict[str, str]:
    return {"/src/App.tsx": app, "/src/index.css": css, config_name: config}


def css_of(bundle: Bundle) -> str:
    contents = {a.path: a.content for a in bundle.artifacts}
    (style,) = bundle.page.styles
    return contents[style].decode("utf-8")


def test_config_tokens_plugin_and_dark_class_compile_as_tailwind_3(build):
    css = css_of(build(lovable()))
    assert ".bg-primary\\/90{background-color:hsl(var(--primary) / .9)}" in css
    assert "*{border-color:hsl(var(--border))}" in css  # @apply with the config's colour
    assert ".dark\\:bg-primary:is(.dark *){background-color:hsl(var(--primary))}" in css
    assert "@keyframes enter{" in css and ".animate-in{animation-name:enter" in css  # plugin
    assert ".fade-in{--tw-enter-opacity: 0}" in css
    assert ".animate-accordion-down{animation:accordion-down .2s ease-out}" in css
    assert "@keyframes accordion-down{" in css
    assert ".rounded-lg{border-radius:var(--radius)}" in css
    assert "font-family:Inter,ui-sans-serif,system-ui" in css  # ...defaultTheme.fontFamily
    assert "padding-right:2rem;padding-left:2rem" in css and "max-width:1400px" in css
    # Tailwind 3's own defaults, which v4 changed: preflight borders, ring, shadow scale.
    assert "border-color:#e5e7eb" in css
    assert "--tw-ring-color: rgb(59 130 246 / .5)" in css
    assert ".shadow-sm{--tw-shadow: 0 1px 2px 0 rgb(0 0 0 / .05)" in css


def test_import_of_v3_entry_points_is_read_as_the_directives(build):
    css = css_of(
        build(
            lovable(
                css="@import 'tailwindcss/base';\n"
                "@import 'tailwindcss/components';\n"
                "@import 'tailwindcss/utilities';\n"
            )
        )
    )
    assert "border-color:#e5e7eb" in css and ".bg-primary\\/90{" in css


@pytest.mark.parametrize(
    ("dark_mode", "selector"),
    [
        ('"class"', ".dark\\:bg-primary:is(.dark *){"),
        ('"media"', "@media(prefers-color-scheme:dark){.dark\\:bg-primary{"),
        ('"selector"', ".dark\\:bg-primary:where(.dark,.dark *){"),
        ('["selector", "[data-mode=dark]"]', ".dark\\:bg-primary:where([data-mode=dark],"),
    ],
    ids=["class", "media", "selector", "custom-selector"],
)
def test_dark_mode_forms(build, dark_mode, selector):
    config = LOVABLE_CONFIG.replace('darkMode: ["class"]', f"darkMode: {dark_mode}")
    assert selector in css_of(build(lovable(config=config)))


def test_every_pinned_plugin_is_mapped_and_commonjs_configs_work(build):
    config = (
        "module.exports = {\n  theme: { extend: {} },\n  plugins: [\n"
        '    require("@tailwindcss/typography"),\n'
        '    require("@tailwindcss/forms")({ strategy: "class" }),\n'
        '    require("@tailwindcss/aspect-ratio"),\n'
        '    require("@tailwindcss/container-queries"),\n'
        '    require("tailwindcss-animate"),\n  ],\n};\n'
    )
    app = (
        'import "./index.css";\nexport default () => <article className="prose '
        'form-input aspect-w-16 @container @md:flex animate-in">x</article>;\n'
    )
    css = css_of(
        build(lovable(css=V3_CSS, config=config, app=app, config_name="/tailwind.config.js"))
    )
    assert ".prose{color:var(--tw-prose-body)" in css
    assert ".form-input," in css or ".form-input{" in css
    assert ".aspect-w-16{" in css
    assert ".\\@container{container-type:inline-size}" in css
    assert "@container (min-width: 28rem){.\\@md\\:flex{display:flex}}" in css
    assert "@keyframes enter{" in css
    assert set(PLUGINS) == {
        "tailwindcss-animate",
        "@tailwindcss/typography",
        "@tailwindcss/forms",
        "@tailwindcss/aspect-ratio",
        "@tailwindcss/container-queries",
    }


def test_unknown_plugin_fails_at_its_line(build_failure):
    config = LOVABLE_CONFIG.replace(
        'plugins: [require("tailwindcss-animate")]', 'plugins: [require("daisyui")]'
    )
    error = build_failure(lovable(config=config))
    assert error.diagnostics == [
        Diagnostic(
            "/tailwind.config.ts",
            20,
            22,
            '"daisyui" cannot be loaded by a Tailwind config; it may load tailwindcss, '
            "tailwindcss/defaultTheme, tailwindcss/colors, tailwindcss-animate, "
            "@tailwindcss/typography, @tailwindcss/forms, @tailwindcss/aspect-ratio, "
            "@tailwindcss/container-queries",
            '  plugins: [require("daisyui")],',
        )
    ]


def test_custom_plugin_function_fails_at_the_plugins_line(build_failure):
    config = (
        "export default {\n  theme: {},\n  plugins: [\n"
        "    function ({ addUtilities }) { addUtilities({ '.x': { color: 'red' } }) },\n"
        "  ],\n};\n"
    )
    (diagnostic,) = build_failure(lovable(config=config)).diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("/tailwind.config.ts", 3, 3)
    assert diagnostic.message.startswith(
        "plugins[0] is a function: a config is data, and the plugins are tailwindcss-animate, "
    )


def test_unknown_apply_class_fails_at_its_line(build_failure):
    css = V3_CSS + ".card {\n  @apply p-4 shadow-glow;\n}\n"
    (diagnostic,) = build_failure(lovable(css=css)).diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.line_text) == (
        "/src/index.css",
        5,
        "  @apply p-4 shadow-glow;",
    )
    assert "`shadow-glow` class does not exist" in diagnostic.message


ESCAPES = {
    "read-file": (
        'const secret = Deno.readTextFileSync("/etc/hostname");',
        'a Tailwind config may not read files ("/etc/hostname")',
    ),
    "environment": (
        "const secret = process.env.HOME;",
        'a Tailwind config may not read the environment ("HOME")',
    ),
    "network": (
        'const secret = await fetch("http://127.0.0.1:6379/");',
        'a Tailwind config may not use the network ("127.0.0.1:6379")',
    ),
    "spawn": (
        'const secret = new Deno.Command("/usr/bin/id").outputSync();',
        'a Tailwind config may not start processes ("/usr/bin/id")',
    ),
    "dynamic-import-of-a-file": (
        'const secret = await import("file:///etc/hostname");',
        '"file:///etc/hostname" cannot be loaded by a Tailwind config',
    ),
    "remote-module": (
        'import secret from "https://deno.land/x/secret.ts";',
        '"https://deno.land/x/secret.ts" cannot be loaded by a Tailwind config',
    ),
}


@pytest.mark.parametrize("escape", list(ESCAPES), ids=list(ESCAPES))
def test_config_escapes_fail_the_build_at_their_line(build_failure, escape):
    statement, message = ESCAPES[escape]
    config = f"{statement}\nexport default {{ theme: {{ extend: {{}} }} }};\n"
    (diagnostic,) = build_failure(lovable(config=config)).diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.line_text) == (
        "/tailwind.config.ts",
        1,
        statement,
    )
    assert diagnostic.message.startswith(message), diagnostic.message
    hostname = Path("/etc/hostname").read_text().strip()
    assert hostname not in diagnostic.message and os.environ.get(
        "HOME", "~"
    ) not in diagnostic.message.replace('"HOME"', "")


def test_escape_through_a_forbidden_import_is_caught_by_the_sandbox_too():
    # The import check reads the text; a specifier built at run time gets past it, not
    # past Deno's permissions.
    sandbox = ConfigSandbox()
    config = (
        'const where = ["file:", "", "", "etc", "hostname"].join("/");\n'
        "const secret = await import(where);\nexport default {};\n"
    )
    with pytest.raises(BuildFailed) as info:
        sandbox.evaluate("/tailwind.config.ts", config)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.line == 2
    assert "Requires read access" in diagnostic.message or "may not read" in diagnostic.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("while (true) {}", "the config used more than 2 s of CPU (does it loop forever?)"),
        (
            "const kept = []; for (;;) kept.push(new Array(1e6).fill(1));",
            "the config used more than its memory limit (64 MB heap)",
        ),
        (
            "const kept = []; for (;;) kept.push(new Uint8Array(1e7).fill(1));",
            "the config used more than its memory limit",
        ),
    ],
    ids=["loops-forever", "heap-without-end", "buffers-without-end"],
)
def test_runaway_config_fails_the_build_and_the_next_build_works(
    bundler, build, build_failure, body, message
):
    config = f"{body}\nexport default {{}};\n"
    (diagnostic,) = build_failure(lovable(config=config)).diagnostics
    assert diagnostic.file == "/tailwind.config.ts"
    assert diagnostic.message.startswith(message), diagnostic.message
    assert _children_named("deno") == []  # the sandbox process is gone
    assert ".bg-primary\\/90{" in css_of(build(lovable()))


def test_config_evaluation_is_cached_by_content(bundler, build):
    sandbox = bundler._css.v3.sandbox
    config = LOVABLE_CONFIG.replace("2rem", "3rem")
    build(lovable(config=config))
    evaluations = sandbox.evaluations
    started = time.perf_counter()
    sandbox.evaluate("/tailwind.config.ts", config)
    assert time.perf_counter() - started < 0.01
    css = css_of(build(lovable(config=config, app=APP.replace("ring ", "ring-2 "))))
    assert sandbox.evaluations == evaluations  # a warm render paid nothing for the config
    assert "padding-right:3rem" in css


def test_the_nearest_config_up_from_the_stylesheet_is_used():
    paths = ["/tailwind.config.js", "/web/tailwind.config.ts", "/web/src/index.css"]
    assert find_config(paths, "/web/src/index.css") == "/web/tailwind.config.ts"
    assert find_config(paths, "/other/a.css") == "/tailwind.config.js"
    assert (
        find_config(["/a/tailwind.config.ts", "/b/c/tailwind.config.js"], "/x.css")
        == "/a/tailwind.config.ts"
    )
    assert find_config(["/src/index.css"], "/src/index.css") is None


def test_v3_stylesheet_without_config_gets_tailwind_3_defaults(build):
    files = lovable()
    del files["/tailwind.config.ts"]
    files["/src/App.tsx"] = (
        'import "./index.css";\nexport default () => <p className="bg-blue-500 ring">x</p>;\n'
    )
    css = css_of(build({**files, "/src/index.css": V3_CSS}))
    assert (
        ".bg-blue-500{--tw-bg-opacity: 1;background-color:rgb(59 130 246 / "
        "var(--tw-bg-opacity, 1))}"
    ) in css


def _children_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if comm == name and ppid == os.getpid():
            found.append(int(entry))
    return found


def test_a_kept_context_answers_exactly_as_a_fresh_one():
    css = V3_CSS + ".card {\n  @apply border-border p-4;\n}\n"
    config = {"theme": {"extend": {"colors": {"border": "hsl(var(--border))"}}}}
    pages = [
        '<p className="m-2 text-center">',
        '<p className="m-2">',
        '<p className="m-2 text-center underline">',
        '<p className="m-2 text-center underline">words',  # no new class: the last answer
        '<p className="m-2 text-center underline p-1">words',
        '<p className="m-2 border-border">',
    ]
    kept, fresh = TailwindV3(), TailwindV3()
    try:
        for n, page in enumerate(pages):
            files = {"/src/App.tsx": page, "/src/index.css": css}
            again = kept.service.compile("/src/index.css", css, files, 30, config=config)
            # A stylesheet the fresh service never saw (a rule apart) gets a new context.
            marked = f"{css}.fresh-{n} {{}}\n"
            once = str(
                fresh.service.compile("/src/index.css", marked, files, 30, config=config).css
            )
            assert once.endswith(f"\n.fresh-{n} {{}}\n")
            assert again.css == once.removesuffix(f".fresh-{n} {{}}\n"), page
        assert ".border-border {" in str(again.css)  # used in a file: a utility again
    finally:
        kept.close()
        fresh.close()


def test_an_answer_forged_by_the_config_is_read_as_plain_data():
    sandbox = ConfigSandbox()
    forged = (
        '{"config": {"__proto__": {"polluted": true}, "theme": {"constructor": {}, "extend": {}}}}'
    )
    config = (
        "const out = new TextEncoder().encode('\\n" + forged + "\\n');\n"
        "Deno.stdout.writeSync(out);\nDeno.exit(0);\n"
    )
    assert sandbox.evaluate("/tailwind.config.js", config) == {"theme": {"extend": {}}}


def test_a_config_that_exits_fails_the_build_without_retry():
    with pytest.raises(BuildFailed) as info:
        ConfigSandbox().evaluate("/tailwind.config.js", "Deno.exit(3);\n")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message == (
        "the config ended the sandbox without an answer (exit code 3): nothing"
    )


def test_too_many_class_candidates_fail_the_build(build_failure):
    huge = "".join(f'export const c{i} = "p-[{i}px]";\n' for i in range(120_000))
    (diagnostic,) = build_failure({**lovable(), "/src/huge.ts": huge}).diagnostics
    assert diagnostic.message.startswith("the session's files hold ")
    assert diagnostic.message.endswith(" distinct class candidates, more than the limit of 100000")


def test_theme_functions_are_called_as_tailwind_3_calls_them():
    config = (
        "module.exports = { theme: { extend: {\n"
        '  colors: { brand: "#123456" },\n'
        "  typography: ({ theme }) => ({ DEFAULT: { css: { color: theme('colors.brand'),"
        " a: { color: theme('colors.blue.500') } } } }),\n"
        "  spacing: (theme) => ({ huge: theme('spacing.96') }),\n"
        "} } };\n"
    )
    evaluated = ConfigSandbox().evaluate("/tailwind.config.js", config)
    assert evaluated["theme"]["extend"]["typography"] == {
        "DEFAULT": {"css": {"color": "#123456", "a": {"color": "#3b82f6"}}}
    }
    assert evaluated["theme"]["extend"]["spacing"] == {"huge": "24rem"}


def test_session_stylesheets_imported_by_a_v3_entry_get_apply_too(build):
    css = css_of(
        build(
            {
                **lovable(css="@import './extra.css';\n" + V3_CSS),
                "/src/extra.css": ".extra {\n  @apply p-4 bg-primary;\n}\n",
            }
        )
    )
    assert ".extra{background-color:hsl(var(--primary));padding:1rem}" in css


def test_a_timer_left_behind_or_an_await_that_never_ends_does_not_hang():
    sandbox = ConfigSandbox()
    config = (
        "setTimeout(() => { for (;;) {} }, 0);\nDeno.exit = () => {};\n"
        "module.exports = { theme: {} };\n"
    )
    assert sandbox.evaluate("/tailwind.config.js", config) == {"theme": {}}
    with pytest.raises(BuildFailed) as info:
        sandbox.evaluate(
            "/tailwind.config.js", "await new Promise(() => {});\nexport default {};\n"
        )
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message == "the config awaits something that never comes (a top-level await)"


def test_a_stylesheet_the_code_imports_beside_the_v3_entry_gets_apply_too(build):
    app = (
        'import "./index.css";\nimport "./App.css";\nexport default () => <p className="logo" />;\n'
    )
    css = "".join(
        css_of_all(build({**lovable(app=app), "/src/App.css": ".logo {\n  @apply p-4;\n}\n"}))
    )
    assert ".logo{padding:1rem}" in css


def css_of_all(bundle: Bundle) -> list[str]:
    contents = {a.path: a.content for a in bundle.artifacts}
    return [contents[style].decode("utf-8") for style in bundle.page.styles]


def test_a_v4_stylesheet_stays_v4_beside_a_config(bundler, build):
    evaluations = bundler._css.v3.sandbox.evaluations
    css = css_of(build(lovable(css='@import "tailwindcss";\n', app=APP.replace("ring ", ""))))
    assert "tailwindcss v4." in css and "border-color:#e5e7eb" not in css
    assert bundler._css.v3.sandbox.evaluations == evaluations  # the config was not run


def test_a_lovable_stylesheet_importing_a_google_font_renders_without_it(build):
    # Lovable and bolt put the font's stylesheet first in src/index.css.
    url = "https://fonts.googleapis.com/css2?family=Inter:wght@400;500;600&display=swap"
    bundle = build(lovable(css=f"@import url('{url}');\n" + V3_CSS))
    css = css_of(bundle)
    assert "googleapis" not in css and ".bg-primary\\/90{" in css
    assert any(w.message.startswith(f'@import "{url}" skipped') for w in bundle.warnings)
