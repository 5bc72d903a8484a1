"""A gateway process imports only what it uses: no build machinery behind worker.client."""

from __future__ import annotations

import ast
import subprocess
import sys

from services import ROOT

BUILD_MODULES = ("jinja2", "bundler.esbuild", "bundler.build")


def loaded_after(statement: str) -> list[str]:
    code = (
        f"{statement}; import sys; print(sorted(m for m in sys.modules "
        f"if m.startswith({BUILD_MODULES!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    return ast.literal_eval(result.stdout)


def test_importing_the_client_loads_no_jinja2_esbuild_driver_or_build_code():
    assert loaded_after("import worker.client") == []


def test_the_bundler_loads_its_build_code_when_first_asked_for_it():
    loaded = loaded_after("import bundler; bundler.Bundler")
    assert {"bundler.build", "bundler.esbuild", "jinja2"} <= set(loaded)
