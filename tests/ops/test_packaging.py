"""A plain (non-editable) install carries its templates, page scripts and Lua scripts, and
finds the npm runtime through ``STAGE_NPM_RUNTIME_DIR``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "bundler" / "runtime"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the project installed from a wheel (not editable). Its third-party
    dependencies come from this test run's own environment through a path entry, so the
    test costs seconds, not a download of every dependency: the project itself is only
    the copy the wheel put in the new venv."""
    venv = tmp_path_factory.mktemp("plain") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    dependencies = next(p for p in map(Path, sys.path) if p.name == "site-packages")
    (site / "dependencies.pth").write_text(f"{dependencies}\n", "utf-8")
    wheels = venv.parent / "wheels"
    # setuptools builds in the source tree's build/; one left from an older tree would
    # smuggle modules that no longer exist into the wheel.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    quiet = ["--quiet", "--no-deps", "--disable-pip-version-check"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            *quiet,
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        timeout=600,
        capture_output=True,
        cwd=venv.parent,
    )
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    wheel = next(wheels.glob("stage_render-*.whl"))
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", *quiet, str(wheel)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    return venv


def run(venv: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # No Redis, no S3, no vendor chunks to build: the embedded default alone.
    base = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "STAGE_REDIS_URL": "redis://127.0.0.1:1/0",
        "STAGE_VENDOR": "false",
    }
    return subprocess.run(
        [str(venv / "bin" / "stage-render"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **env},
        check=False,
    )


@pytest.mark.timeout(900)
def test_a_plain_install_renders_the_example_from_another_folder(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import bundler.shell, worker; print(worker.__file__); "
            "print(bundler.shell.TEMPLATES_DIR)",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    module, templates = where.stdout.split()
    assert module.startswith(str(installed)) and templates.startswith(str(installed))

    result = run(
        installed,
        elsewhere,
        "render",
        str(ROOT / "examples" / "shiftcal"),
        "--out",
        str(tmp_path / "out"),
        "--json",
        STAGE_NPM_RUNTIME_DIR=str(RUNTIME),
    )

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "ready"
    page = Path(record["indexPath"]).read_text("utf-8")
    assert "<title>shiftcal</title>" in page and "app-" in page


def test_a_plain_install_without_the_npm_runtime_names_the_setting(installed, tmp_path):
    result = run(
        installed,
        tmp_path,
        "render",
        str(ROOT / "examples" / "shiftcal"),
        "--out",
        str(tmp_path / "out"),
    )

    assert result.returncode == 2
    assert result.stderr.startswith("stage-render: STAGE_NPM_RUNTIME_DIR=")
    assert "is not an installed npm runtime" in result.stderr or "npm ci" in result.stderr
    assert "Traceback" not in result.stderr
