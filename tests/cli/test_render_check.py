"""``stage-render render DIR --check``: the boot check in-process against the local folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from png import decode_png
from stage_samples import EXAMPLES, THROWS_AT_MOUNT
from test_cli import NO_SERVICES, stage_render, write_app

pytestmark = pytest.mark.browser


def test_render_check_prints_each_runtime_error_and_exits_1(tmp_path: Path):
    folder = write_app(tmp_path / "chart", {f["path"]: f["content"] for f in THROWS_AT_MOUNT})

    result = stage_render("render", str(folder), "--out", str(tmp_path / "out"), "--check")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "/app/components/Chart.tsx:3:11: no points to chart\n" in result.stderr
    assert "check failed in " in result.stderr
    assert result.stdout.startswith("rendered 'chart' version 1")  # the build itself worked


def test_render_check_of_a_working_app_exits_0_with_a_screenshot_beside_index(tmp_path: Path):
    out = tmp_path / "out"
    result = stage_render(
        "render", str(EXAMPLES / "shiftcal"), "--out", str(out), "--check", "--json"
    )

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "ready" and record["check"]["status"] == "passed"
    index = Path(record["indexPath"])
    screenshot = index.parent / "check" / "screenshot.png"
    assert record["check"]["screenshotUrl"] == screenshot.as_uri()
    image = decode_png(screenshot.read_bytes())
    assert (image.width, image.height) == (1280, 800) and image.luminance_stdev() > 5


def test_render_without_check_opens_no_browser(tmp_path: Path):
    result = stage_render(
        "render",
        str(EXAMPLES / "shiftcal"),
        "--out",
        str(tmp_path),
        "--json",
        env={**NO_SERVICES, "STAGE_CHROMIUM_PATH": "/nonexistent/chromium"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["check"] is None
