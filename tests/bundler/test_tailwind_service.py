"""The Tailwind service: Tailwind's own compiler behind one long-lived Node process.

Its output is a function of the request alone, a mistake in the session's CSS is a located
build error, and a crash or a hang is an infrastructure error after which it starts again.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundler import (
    BuildFailed,
    BundlerCrashed,
    BundlerTimeout,
    BundlerUnavailable,
    Diagnostic,
    TailwindService,
)
from bundler.tailwind import SERVICE_SCRIPT

TIMEOUT_S = 20.0
ENTRY = "/app/globals.css"
TAILWIND = '@import "tailwindcss";\n'
APP = {
    "/app/App.tsx": 'export const A = () => <div className="flex w-[137px] md:grid '
    'hover:bg-red-500/50 grid-cols-[1fr_2fr]">hi</div>;\n'
}


@pytest.fixture(scope="module")
def service() -> Iterator[TailwindService]:
    running = TailwindService()
    yield running
    running.close()


def compile_failure(service: TailwindService, css: str, files: dict[str, str] = APP) -> BuildFailed:
    with pytest.raises(BuildFailed) as info:
        service.compile(ENTRY, css, files, TIMEOUT_S)
    return info.value


def fake_service(folder: Path, script: str) -> Path:
    """A Node script standing in for the service; it records its pid beside itself."""
    path = folder / "fake-service.mjs"
    path.write_text(
        'import { writeFileSync } from "node:fs";\n'
        'writeFileSync(new URL("./pid", import.meta.url), String(process.pid));\n' + script
    )
    return path


def assert_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_utilities_the_files_use_are_compiled_with_variants_and_arbitrary_values(service):
    css = service.compile(ENTRY, TAILWIND, APP, TIMEOUT_S).css
    assert css is not None
    assert ".flex {\n    display: flex;\n  }" in css
    assert ".w-\\[137px\\] {\n    width: 137px;\n  }" in css
    assert ".grid-cols-\\[1fr_2fr\\] {\n    grid-template-columns: 1fr 2fr;\n  }" in css
    assert "@media (width >= 48rem) {\n    .md\\:grid {\n      display: grid;" in css
    assert (
        ".hover\\:bg-red-500\\/50:hover {\n      background-color: color-mix(in srgb, "
        "oklch(63.7% 0.237 25.331) 50%, transparent);" in css
    )
    assert ".block" not in css  # not used by the files


def test_a_compile_never_carries_classes_of_an_earlier_one(service):
    other = {"/app/App.tsx": 'export const B = () => <p className="italic">b</p>;\n'}
    first = service.compile(ENTRY, TAILWIND, APP, TIMEOUT_S).css
    second = service.compile(ENTRY, TAILWIND, other, TIMEOUT_S).css
    assert first is not None and second is not None
    assert ".italic" in second and ".flex" not in second and ".w-\\[137px\\]" not in second
    with TailwindService() as fresh:
        assert fresh.compile(ENTRY, TAILWIND, other, TIMEOUT_S).css == second
        assert fresh.compile(ENTRY, TAILWIND, APP, TIMEOUT_S).css == first


def test_theme_apply_utility_and_custom_variant_compile(service):
    css = service.compile(
        ENTRY,
        TAILWIND
        + (
            "@theme { --color-brand: #123456; }\n"
            "@custom-variant pointer (@media (pointer: fine));\n"
            "@utility content-auto { content-visibility: auto; }\n"
            ".card { @apply p-4 bg-brand; }\n"
        ),
        {"/app/A.tsx": '"content-auto pointer:flex"'},
        TIMEOUT_S,
    ).css
    assert css is not None
    assert "--color-brand: #123456;" in css
    assert (
        ".card {\n  background-color: var(--color-brand);\n  padding: calc(var(--spacing) * 4);"
    ) in css
    assert ".content-auto {\n    content-visibility: auto;" in css
    assert "@media (pointer: fine) {\n    .pointer\\:flex {\n      display: flex;" in css


def test_the_typography_plugin_and_tw_animate_css_are_available(service):
    css = service.compile(
        ENTRY,
        TAILWIND + '@plugin "@tailwindcss/typography";\n@import "tw-animate-css";\n',
        {"/app/A.tsx": '"prose animate-in fade-in-0"'},
        TIMEOUT_S,
    ).css
    assert css is not None
    assert ".prose {" in css and ".animate-in {" in css and "--tw-enter-opacity: 0" in css


def test_a_session_stylesheet_can_be_imported(service):
    files = {**APP, "/app/theme/colors.css": "@theme { --color-brand: #abcdef; }\n"}
    css = service.compile(
        ENTRY,
        TAILWIND + '@import "./theme/colors.css";\n',
        {**files, "/app/A.tsx": '"bg-brand"'},
        TIMEOUT_S,
    ).css
    assert css is not None and "background-color: var(--color-brand)" in css


def test_an_unknown_apply_class_is_a_located_build_error(service):
    error = compile_failure(service, TAILWIND + ".card {\n  color: red;\n  @apply p-4 bogus;\n}\n")
    assert error.diagnostics == [
        Diagnostic(
            ENTRY, 4, 14, "Cannot apply unknown utility class `bogus`", "  @apply p-4 bogus;"
        )
    ]
    assert str(error) == (
        f"Tailwind could not compile {ENTRY}\n"
        f"{ENTRY}:4:14: error: Cannot apply unknown utility class `bogus`"
    )


def test_a_syntax_error_is_located(service):
    error = compile_failure(service, TAILWIND + ".card {\n  color: red;\n")
    assert error.diagnostics == [Diagnostic(ENTRY, 2, 1, "Missing closing } at .card", ".card {")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '@import "bootstrap";',
            '@import "bootstrap" is not available; a stylesheet may import '
            "session files, tailwindcss, tw-animate-css",
        ),
        (
            '@import "../../etc/passwd";',
            '@import "../../etc/passwd": /etc/passwd is not a session '
            "file; a stylesheet may import session files, tailwindcss, "
            "tw-animate-css",
        ),
        (
            '@import "/app/missing.css";',
            '@import "/app/missing.css": /app/missing.css is not a '
            "session file; a stylesheet may import session files, "
            "tailwindcss, tw-animate-css",
        ),
        (
            '@plugin "daisyui";',
            '@plugin "daisyui" is not available; the plugins are @tailwindcss/typography',
        ),
        (
            '@config "./tailwind.config.js";',
            '@config "./tailwind.config.js": JavaScript config files '
            "are not run; use @theme in CSS, and @plugin for "
            "@tailwindcss/typography",
        ),
    ],
    ids=["package", "outside-session", "missing-file", "plugin", "config"],
)
def test_only_session_files_and_pinned_packages_can_be_loaded(service, line, message):
    error = compile_failure(service, TAILWIND + line + "\n")
    assert error.diagnostics == [Diagnostic(ENTRY, 2, 1, message, line)]


def test_a_probe_without_utilities_compiles_nothing(service):
    assert service.compile(ENTRY, TAILWIND, APP, TIMEOUT_S, probe="card title").css is None
    assert service.compile(ENTRY, TAILWIND, APP, TIMEOUT_S, probe="card flex").css is not None


def test_too_many_candidates_is_a_build_error():
    words = " ".join(f"w{i}" for i in range(300))
    with TailwindService(max_candidates=100) as small, pytest.raises(BuildFailed) as info:
        small.compile(ENTRY, TAILWIND, {"/app/words.ts": words}, TIMEOUT_S)
    assert info.value.diagnostics[0].message == (
        "the session's files hold 300 distinct class candidates, more than the limit of 100"
    )


def test_a_ten_megabyte_class_string_is_refused_quickly(service):
    huge = 'export const c = "' + " ".join(f"p-[{i}px]" for i in range(1_000_000)) + '";\n'
    assert len(huge) > 10_000_000
    # Refused by its count, not by a deadline: the message says which. The deadline is a
    # minute so that a loaded machine still gets to the count.
    with pytest.raises(BuildFailed) as info:
        service.compile(ENTRY, TAILWIND, {"/app/huge.ts": huge}, 60.0)
    # a million arbitrary values, and "export", "const", "c"
    assert info.value.diagnostics[0].message == (
        "the session's files hold 1000003 distinct class candidates, more than the limit of 100000"
    )
    assert service.compile(ENTRY, TAILWIND, APP, TIMEOUT_S).css  # and it still serves


def test_a_killed_service_is_started_again_on_the_next_compile():
    with TailwindService() as running:
        assert running.compile(ENTRY, TAILWIND, APP, TIMEOUT_S).css
        dead = running.pid
        assert dead is not None
        os.kill(dead, 9)  # no pause: the next request may find it dying, not yet dead
        assert running.compile(ENTRY, TAILWIND, APP, TIMEOUT_S).css
        assert running.pid not in (None, dead)


def test_a_hanging_service_times_out_and_is_killed(tmp_path):
    # A Python stand-in for node: it writes its pid at once, however loaded the machine.
    node = tmp_path / "node"
    node.write_text(
        f"#!{sys.executable}\nimport os, time\n"
        "open(os.path.join(os.path.dirname(__file__), 'pid'), 'w')"
        ".write(str(os.getpid()))\ntime.sleep(600)\n"
    )
    node.chmod(0o755)
    hanging = TailwindService(node=str(node))
    started = time.monotonic()
    with pytest.raises(BundlerTimeout) as info:
        hanging.compile(ENTRY, TAILWIND, APP, 1.0)
    assert str(info.value) == (
        f"command: {node} --max-old-space-size=256 {SERVICE_SCRIPT}\n"
        "the Tailwind service did not finish within 1s (build timeout) and was killed"
    )
    assert isinstance(info.value, BundlerUnavailable)
    assert time.monotonic() - started < 5
    assert hanging.pid is None
    assert_gone(int((tmp_path / "pid").read_text()))


def test_a_service_that_exits_is_a_crash_with_its_output(tmp_path):
    script = fake_service(tmp_path, 'process.stderr.write("out of memory\\n");\nprocess.exit(7);\n')
    with pytest.raises(BundlerCrashed) as info:
        TailwindService(script=script).compile(ENTRY, TAILWIND, APP, TIMEOUT_S)
    assert str(info.value) == (
        f"command: node --max-old-space-size=256 {script}\n"
        "exit code: 7\n"
        "output: the Tailwind service exited during a request\nout of memory"
    )


def test_a_service_that_answers_garbage_is_a_crash(tmp_path):
    script = fake_service(
        tmp_path, 'process.stdout.write("hello\\n");\nsetInterval(() => {}, 1000);\n'
    )
    with pytest.raises(BundlerCrashed) as info:
        TailwindService(script=script).compile(ENTRY, TAILWIND, APP, TIMEOUT_S)
    assert info.value.output == "the Tailwind service wrote something that is not JSON: b'hello'"
    assert_gone(int((tmp_path / "pid").read_text()))


def test_a_missing_node_binary_is_a_crash():
    with pytest.raises(BundlerCrashed) as info:
        TailwindService(node="/nonexistent/node").compile(ENTRY, TAILWIND, APP, TIMEOUT_S)
    assert info.value.exit_code is None
    assert info.value.output.startswith("could not start the Tailwind service: ")
