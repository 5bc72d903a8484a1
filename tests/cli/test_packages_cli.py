"""``stage-render packages``: the allowlist with the versions the lock pins, and the
committed docs/packages.md that a gateway puts in its agent's prompt."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import stage_render

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "bundler" / "runtime"


def test_packages_json_lists_every_dependency_but_the_build_tools_at_its_locked_version():
    result = stage_render("packages", "--json")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((RUNTIME / "package.json").read_text())
    lock = json.loads((RUNTIME / "package-lock.json").read_text())["packages"]
    tools = {
        "esbuild",
        "tailwindcss",
        "@tailwindcss/oxide",
        "@tailwindcss/typography",
        "tw-animate-css",
        "tailwindcss3",
        "tailwindcss-animate",
        "@tailwindcss/forms",
        "@tailwindcss/aspect-ratio",
        "@tailwindcss/container-queries",
    }
    expected = {
        name: lock[f"node_modules/{name}"]["version"]
        for name in manifest["dependencies"]
        if name not in tools
    }
    assert json.loads(result.stdout) == expected
    assert manifest["dependencies"] == {
        **expected,
        **{name: manifest["dependencies"][name] for name in tools},
    }


def test_plain_listing_is_one_package_and_version_a_line():
    result = stage_render("packages")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "radix-ui 1.8.1" in lines and "react 19.3.1" in lines
    assert all(len(line.split(" ")) == 2 for line in lines)


def test_committed_packages_doc_agrees_with_the_lock():
    result = stage_render("packages", "--markdown")
    assert result.returncode == 0, result.stderr
    committed = (ROOT / "docs" / "packages.md").read_text("utf-8")
    assert result.stdout == committed, (
        "docs/packages.md is stale: run `stage-render packages --markdown > docs/packages.md`"
    )
