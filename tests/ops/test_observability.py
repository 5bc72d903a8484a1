"""What operators see: metrics scraped from a running worker, JSON logs, health, the CLI."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from services import free_port, wait_for
from stage_samples import BROKEN, EXAMPLES, HELLO

pytestmark = pytest.mark.integration


def scrape(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_and_json_logs_from_a_running_worker(namespace, start_worker):
    port = free_port()
    worker = start_worker(
        namespace, concurrency=2, STAGE_METRICS_PORT=str(port), STAGE_LOG_FORMAT="json"
    )
    queue = namespace.env["STAGE_QUEUE"]
    with namespace.client() as client:
        session = client.sessions.create(name="observed")
        client.sessions.push_files(session.id, HELLO)
        ready = client.sessions.wait_for_render(
            session.id, client.sessions.render(session.id).version
        )
        client.sessions.push_files(session.id, BROKEN)
        failed = client.sessions.wait_for_render(
            session.id, client.sessions.render(session.id).version
        )
    assert (ready.status, failed.status) == ("ready", "failed")

    wait_for(
        lambda: scrape(port).get('stage_renders_total{error_kind="build",status="failed"}') == 1.0,
        20,
        "metrics",
    )
    samples = scrape(port)
    assert samples['stage_renders_total{error_kind="",status="ready"}'] == 1.0
    assert samples['stage_render_stage_seconds_count{stage="bundle"}'] == 2.0
    assert samples['stage_render_stage_seconds_count{stage="total"}'] == 2.0
    assert samples["stage_uploaded_bytes_total"] > 100_000  # React alone is 190 kB
    assert samples[f'stage_queue_depth{{queue="{queue}"}}'] == 0.0

    def json_lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in worker.log.splitlines() if line.startswith("{")]

    # The outcome line follows the stored record: wait for both.
    wait_for(
        lambda: sum(e.get("event") == "render" for e in json_lines()) == 2, 10, "two render lines"
    )
    lines = json_lines()
    renders = [entry for entry in lines if entry.get("event") == "render"]
    assert [(r["session"], r["version"], r["status"], r["errorKind"]) for r in renders] == [
        (session.id, 1, "ready", None),
        (session.id, 2, "failed", "build"),
    ]
    # A plain send's task id is a UUID; a send routed to the worker holding the session's
    # warm context is one of a pair of copies (contract §2a).
    assert re.fullmatch(r"[0-9a-f-]{36}", renders[0]["taskId"])
    for entry in renders:
        assert re.fullmatch(r"[0-9a-f-]{36}|[0-9a-f]{32}\.(holder|fallback)", entry["taskId"])
        assert {"gather", "bundle", "upload", "total"} <= set(entry["timingsMs"])
        assert entry["level"] == "INFO" and entry["time"].endswith("Z")
    assert any(entry["message"].endswith(" ready.") for entry in lines)  # Celery's own


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**clean, **env},
    )


def test_health_passes_with_services_and_names_what_is_down(namespace):
    good = run_cli("health", env=namespace.env)
    assert good.returncode == 0, good.stdout
    assert [line.split()[:2] for line in good.stdout.splitlines()] == [
        ["ok", "redis"],
        ["ok", "storage"],
        ["ok", "esbuild"],
        ["ok", "tailwind"],
        ["ok", "tailwind3"],
    ]

    down = run_cli(
        "health", env={**namespace.env, "STAGE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    )
    assert down.returncode == 1
    lines = down.stdout.splitlines()
    assert lines[0].startswith("FAIL redis    ConnectionError:")
    assert lines[1].startswith("ok   storage") and lines[2].startswith("ok   esbuild")
    assert lines[3].startswith("ok   tailwind")

    no_node = run_cli("health", env={**namespace.env, "STAGE_NODE_BINARY": "/nonexistent/node"})
    assert no_node.returncode == 1
    assert no_node.stdout.splitlines()[3].startswith("FAIL tailwind BundlerCrashed:"), (
        no_node.stdout
    )


def test_health_fails_for_a_missing_bucket(namespace):
    result = run_cli("health", env={**namespace.env, "STAGE_S3_BUCKET": "no-such-bucket"})
    assert result.returncode == 1
    assert "FAIL storage  UploadError: could not upload s3://no-such-bucket/health/probe-" in (
        result.stdout
    )


def test_render_prints_a_progress_line_per_stage_on_a_terminal(tmp_path):
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker.cli",
            "render",
            str(EXAMPLES / "shiftcal"),
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    out, _ = proc.communicate(timeout=60)
    terminal = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(leader)
    assert proc.returncode == 0
    stages = re.findall(rb"^  (\w+) +\d+ ms\r?$", terminal, re.M)
    assert stages == [b"bundle", b"css", b"shell", b"upload"]
    assert "rendered 'shiftcal' version 1" in out


def test_serve_and_open_send_the_headers_the_bucket_sends(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker.cli",
            "render",
            str(EXAMPLES / "shiftcal"),
            "--out",
            str(tmp_path),
            "--open",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            match = re.search(r"serving .* at (http://\S+)", line)
            if match:
                url = match[1]
                break
        assert url.endswith("/sessions/shiftcal/renders/1/index.html")
        with urllib.request.urlopen(url, timeout=5) as page:
            assert page.headers["Content-Type"] == "text/html; charset=utf-8"
            assert page.headers["Cache-Control"] == "no-cache"
            script = re.search(rb'src="(app-\w+\.js)"', page.read())[1].decode()
        with urllib.request.urlopen(url.rsplit("/", 1)[0] + "/" + script, timeout=5) as js:
            assert js.headers["Content-Type"] == "text/javascript; charset=utf-8"
            assert js.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
    assert Path(tmp_path, "sessions/shiftcal/renders/1/manifest.json").is_file()
