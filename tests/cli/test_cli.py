"""``stage-render render``: the embedded default, with no Redis and no S3."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from services import free_port, wait_for
from stage_samples import EXAMPLES

# A Redis URL nothing listens on: the embedded render must not need one.
NO_SERVICES = {"PATH": "/usr/bin:/bin", "STAGE_REDIS_URL": "redis://127.0.0.1:1/0"}


def stage_render(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env or NO_SERVICES,
    )


def write_app(folder: Path, files: dict[str, str]) -> Path:
    for path, content in files.items():
        target = folder / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, "utf-8")
    return folder


def test_render_json_writes_a_version_folder_without_redis_or_s3(tmp_path):
    out = tmp_path / "out"
    result = stage_render("render", str(EXAMPLES / "shiftcal"), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "ready" and record["version"] == 1
    index = Path(record["indexPath"])
    assert index == out / "sessions" / "shiftcal" / "renders" / "1" / "index.html"
    manifest = json.loads((index.parent / "manifest.json").read_text())
    for entry in manifest["files"]:
        assert (index.parent / entry["path"]).stat().st_size == entry["size"]
    assert "<title>shiftcal</title>" in index.read_text()


def test_each_render_of_a_folder_gets_the_next_version(tmp_path):
    app = write_app(tmp_path / "app-dir", {"/app/App.tsx": "export default () => <p>hi</p>;"})
    out = tmp_path / "out"
    versions = []
    for _ in range(2):
        result = stage_render("render", str(app), "--out", str(out), "--json")
        versions.append(json.loads(result.stdout)["version"])
    assert versions == [1, 2]


def test_render_reads_env_files_and_inlines_only_their_public_values(tmp_path):
    app = write_app(
        tmp_path / "next-app",
        {
            "/app/page.tsx": "export default () => <p>{process.env.NEXT_PUBLIC_GREETING}</p>;",
            "/.env": "NEXT_PUBLIC_GREETING=hello-from-env\nAPI_KEY=secret-from-env\n",
        },
    )
    result = stage_render("render", str(app), "--out", str(tmp_path / "out"), "--json")
    assert result.returncode == 0, result.stderr
    folder = Path(json.loads(result.stdout)["indexPath"]).parent
    contents = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert b"hello-from-env" in contents and b"secret-from-env" not in contents


def test_build_error_exits_1_and_prints_compiler_style_diagnostics(tmp_path):
    app = write_app(
        tmp_path / "broken",
        {
            "/app/App.tsx": "import { x } from './util';\nexport default () => <p>{x}</p>;\n",
            "/app/util.ts": "export const x = ;\n",
        },
    )
    result = stage_render("render", str(app), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert '/app/util.ts:1:18: error: Unexpected ";"' in result.stderr
    assert "    1 | export const x = ;" in result.stderr
    error_page = tmp_path / "out" / "sessions" / "broken" / "renders" / "1" / "index.html"
    assert f"  error page: {error_page}" in result.stderr
    assert 'data-file="/app/util.ts" data-line="1" data-column="18"' in error_page.read_text()


def test_missing_folder_and_bad_settings_are_usage_errors(tmp_path):
    assert stage_render("render", str(tmp_path / "nope")).returncode == 2
    result = stage_render(
        "render", str(EXAMPLES / "shiftcal"), env={**NO_SERVICES, "STAGE_BUILD_TIMEOUT": "5"}
    )
    assert result.returncode == 2
    assert result.stderr.startswith("stage-render: unknown setting STAGE_BUILD_TIMEOUT='5'")


def test_invalid_file_in_folder_is_rejected_before_building(tmp_path):
    app = write_app(tmp_path / "bad", {"/app/App.tsx": "export default () => null;"})
    (app / "app" / "bad\x01name.ts").write_text("x")
    result = stage_render("render", str(app), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "paths may not contain control or invisible characters (found U+0001)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_printed_serve_command_serves_a_page_whose_every_script_loads(tmp_path):
    out = tmp_path / "out"
    result = stage_render("render", str(EXAMPLES / "shiftcal"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.strip().startswith("serve:")]
    command, url = line.split("serve:", 1)[1].split("→")
    port = free_port()
    argv = [sys.executable if part == "python3" else part for part in command.split()[:-1]] + [
        str(port)
    ]
    url = url.strip().replace(":8000/", f":{port}/")
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _get(url) is not None, 10, "the printed server")
        html = _get(url)
        assert html is not None and b"<title>shiftcal</title>" in html
        scripts = re.findall(rb'<script defer src="([^"]+)"', html)
        assert any(b"/vendor/" in s for s in scripts)  # reached above the version folder
        for src in scripts:
            body = _get(urllib.parse.urljoin(url, src.decode()))
            assert body, f"{src!r} did not load from {url}"
    finally:
        server.terminate()
        server.wait(10)


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bytes(response.read())
    except OSError:
        return None


def assert_one_line_exit_1(result: subprocess.CompletedProcess, starts: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines()[0].startswith(starts), result.stderr


def test_reap_with_redis_down_prints_one_line_and_exits_1():
    result = stage_render("reap", "--dry-run")
    assert_one_line_exit_1(
        result,
        "stage-render: Redis did not serve the request: "
        "ConnectionError: Error 111 connecting to 127.0.0.1:1.",
    )
    assert len(result.stderr.splitlines()) == 1


def test_health_with_redis_and_storage_down_fails_each_in_one_line():
    down = {
        **NO_SERVICES,
        "STAGE_S3_BUCKET": "b",
        "STAGE_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
    }
    result = stage_render("health", env=down)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    redis_line, storage_line, esbuild_line, tailwind_line, tailwind3_line = (
        result.stdout.splitlines()
    )
    assert redis_line.startswith(
        "FAIL redis    ConnectionError: Error 111 connecting to 127.0.0.1:1."
    )
    assert storage_line.startswith(
        "FAIL storage  UploadError: could not upload s3://b/health/probe-"
    )
    assert esbuild_line.startswith("ok   esbuild")
    assert tailwind_line.startswith("ok   tailwind ")
    assert tailwind3_line.startswith("ok   tailwind3")


def test_render_into_a_folder_it_cannot_write_fails_in_one_line(tmp_path):
    (tmp_path / "out").write_text("a file where the artifact folder should be")
    result = stage_render("render", str(EXAMPLES / "shiftcal"), "--out", str(tmp_path / "out"))
    assert_one_line_exit_1(
        result, f"render failed (infrastructure): could not write {tmp_path / 'out'}/"
    )


def test_serve_on_a_taken_port_prints_one_line_and_exits_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = stage_render("serve", str(tmp_path), "--port", str(port))
    assert_one_line_exit_1(
        result, f"stage-render: cannot serve on port {port}: Address already in use"
    )
