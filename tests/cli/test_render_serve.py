"""``stage-render render DIR --serve``: the page and its routes on one port, no Redis, no S3;
the route's process stops when idle and starts again on the next request."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from services import ROOT, remove_tree, wait_for

ROUTE = """const started = Date.now();
export function GET(request: Request, { params }: { params: { id: string } }) {
  console.log("asked for", params.id);
  return Response.json({ id: params.id, started });
}
"""
PAGE = """export default function App() { return <h1>served</h1>; }
"""


def deno_children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and b"deno" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_render_serve_answers_the_page_and_routes_and_stops_an_idle_process(tmp_path):
    app = tmp_path / "app"
    (app / "app").mkdir(parents=True)
    (app / "api" / "items").mkdir(parents=True)
    (app / "app" / "App.tsx").write_text(PAGE)
    (app / "api" / "items" / "[id].ts").write_text(ROUTE)
    # Deno runs as an unprivileged user under root: its code folder must be reachable.
    data = Path(tempfile.mkdtemp(prefix="stage-serve-"))
    data.chmod(0o755)
    env = {
        "PATH": "/usr/bin:/bin",
        "STAGE_REDIS_URL": "redis://127.0.0.1:1/0",
        "STAGE_HOST_DATA_DIR": str(data),
        "STAGE_API_IDLE_S": "1",
        "STAGE_VENDOR_CACHE_DIR": str(ROOT / ".stage" / "vendor-cache"),
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},
    }
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker.cli",
            "render",
            str(app),
            "--out",
            str(tmp_path / "out"),
            "--serve",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert serve.stdout is not None
        line = ""
        deadline = time.monotonic() + 90
        while "serving the page and its routes" not in line and time.monotonic() < deadline:
            line = serve.stdout.readline()
            assert line or serve.poll() is None, "render --serve exited"
        url = re.search(r"http://127\.0\.0\.1:\d+/local/", line)
        assert url is not None, line
        base = url.group(0)
        with httpx.Client(timeout=30, trust_env=False) as http:
            assert "<h1>" not in http.get(base).text  # the shell; React renders the heading
            assert '<meta name="stage-base" content="/local/">' in http.get(base).text
            first = http.get(base + "api/items/7").json()
            assert first["id"] == "7"
            assert len(deno_children(serve.pid)) == 1
            wait_for(lambda: deno_children(serve.pid) == [], 10, "the idle process to stop")
            again = http.get(base + "api/items/8").json()
            assert again["id"] == "8" and again["started"] > first["started"]  # a new process
            running = deno_children(serve.pid)
            assert len(running) == 1
        serve.terminate()
        serve.wait(20)
        # Stopping the host stops its Deno processes; none is left behind.
        wait_for(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in running),
            5,
            "the Deno process to end with the host",
        )
        killed = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "worker.cli",
                "render",
                str(app),
                "--out",
                str(tmp_path / "out2"),
                "--serve",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert killed.stdout is not None
        url2 = ""
        while not url2:
            line = killed.stdout.readline()
            assert line or killed.poll() is None, "render --serve exited"
            found = re.search(r"http://127\.0\.0\.1:\d+/local/", line)
            url2 = found.group(0) if found else ""
        assert httpx.get(url2 + "api/items/1", timeout=30).status_code == 200
        orphans = deno_children(killed.pid)
        killed.kill()  # SIGKILL: no shutdown code runs, the children still die with it
        killed.wait(10)
        killed.stdout.close()
        wait_for(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in orphans),
            5,
            "the Deno process to die with its SIGKILLed host",
        )
    finally:
        serve.terminate()
        serve.wait(20)
        if serve.stdout is not None:
            serve.stdout.close()
        remove_tree(data)
