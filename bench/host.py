"""The API host under load: warm route latency, cold starts, memory per warm app, many apps.

    python -m bench.host [--quick]

Real services as in ``bench.run``: Redis, moto's S3 server, a ``stage-render worker`` that
renders one app (a page and a route that answers JSON, no platform calls), published as
50 apps, and a ``stage-render host`` process serving them. Phases:

1. cold start: the first request of each of ``--cold`` apps, one after another (route code
   read from the store, a Deno process started, the request answered);
2. warm route latency through the host: sequential requests to one warm app (client to
   host to Deno and back; the client's own time included);
3. requests/s for one app: ``--concurrency`` requests in flight for a few seconds;
4. fifty apps warm: every app answered once, then the Deno processes counted and their
   resident (RSS) and proportional (PSS) memory read from /proc. PSS is what each app
   adds: RSS counts the Deno binary's pages, shared by every process, once per process.

Prints a table and writes ``bench/results.host.json``; targets as the README lists them.
Exit 0 when everything was measured (a missed target prints FAIL), 1 when it could not.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.gen_apps import BENCH, GENERATED_DIR
from bench.services import (
    BenchError,
    BenchWorker,
    environment,
    host_bench_main,
    latency_summary,
    requests_per_s,
    running_services,
    timed_request,
)
from tests.services import HostProcess, remove_tree
from worker.client import StageClient
from worker.settings import Settings

RESULTS = BENCH / "results.host.json"
TARGETS = {
    "warm_p50_ms": 2.0,
    "cold_start_p50_ms": 60.0,
    "memory_per_app_mb": 25.0,
    "apps_warm": 50,
}
APPS = 50
ROUTE = """export function GET(request: Request) {
  return Response.json({ ok: true, path: new URL(request.url).pathname });
}
"""
PAGE = "export default function App() { return <h1>bench</h1>; }\n"


def _say(text: str) -> None:
    print(f"[bench.host] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    return host_bench_main("bench.host", __doc__, _run, _table, RESULTS, concurrency=16, argv=argv)


def _run(*, quick: bool, concurrency: int) -> dict[str, Any]:
    warm_requests = 50 if quick else 500
    results: dict[str, Any] = {"environment": environment()}
    vendor_cache = GENERATED_DIR / "vendor-cache"
    with running_services(vendor_cache, _say) as services:
        logs = GENERATED_DIR / "host-logs"
        logs.mkdir(parents=True, exist_ok=True)
        data_dir = Path("/tmp") / f"stage-bench-host-{os.getpid()}"
        data_dir.mkdir(mode=0o755, exist_ok=True)
        worker = BenchWorker(services.env, logs / "worker.log")
        host = HostProcess(
            {
                **services.env,
                "STAGE_HOST_DATA_DIR": str(data_dir),
                "STAGE_API_MAX_PROCESSES": str(APPS + 10),
            },
            logs / "host.log",
        )
        try:
            worker.wait_ready()
            host.wait_ready()
            sids = _publish(Settings.from_env(services.env), APPS)
            with httpx.Client(timeout=60, trust_env=False) as http:

                def get_ms(url: str) -> float:
                    return timed_request(lambda: http.get(url))

                cold_n = 5 if quick else 20
                _say(f"cold starts: first request of {cold_n} apps")
                cold = [get_ms(f"{host.url}/{sid}/@preview/api/hello") for sid in sids[:cold_n]]
                results["cold_start_ms"] = latency_summary(cold)
                results["deno_start_ms"] = latency_summary(_start_times(host.log) or [0.0])
                _say(f"warm route: {warm_requests} sequential requests to one app")
                url = f"{host.url}/{sids[0]}/@preview/api/hello"
                for _ in range(20):
                    get_ms(url)
                results["warm_route_ms"] = latency_summary(
                    [get_ms(url) for _ in range(warm_requests)]
                )
                _say(f"requests/s for one app, {concurrency} in flight")
                results["requests_per_s_one_app"] = asyncio.run(
                    requests_per_s(url, concurrency, 2.0 if quick else 5.0)
                )
                _say(f"{APPS} apps warm")
                for sid in sids:
                    get_ms(f"{host.url}/{sid}/@preview/api/hello")
            pids = host.deno_pids()
            rss = [_memory_kb(pid, "Rss") for pid in pids]
            pss = [_memory_kb(pid, "Pss") for pid in pids]
            results["apps_warm"] = len(pids)
            results["rss_per_app_mb"] = round(statistics.median(rss) / 1024, 1) if rss else None
            results["pss_per_app_mb"] = round(statistics.median(pss) / 1024, 1) if pss else None
            results["load_average_at_end"] = os.getloadavg()
        finally:
            host.stop()
            worker.stop()
            remove_tree(data_dir)
    results["targets"] = TARGETS
    return results


def _publish(settings: Settings, count: int) -> list[str]:
    with StageClient(settings) as client:
        session = client.sessions.create(name="host bench")
        client.sessions.push_files(
            session.id,
            [
                {"path": "/app/App.tsx", "content": PAGE},
                {"path": "/api/hello.ts", "content": ROUTE},
            ],
        )
        ticket = client.sessions.render(session.id)
        record = client.sessions.wait_for_render(session.id, ticket.version, timeout=180)
        if record.status != "ready":
            raise BenchError(f"the bench app did not render: {record.error}")
        _say(f"publishing {count} apps")
        return [
            client.apps.publish(session.id, name=f"bench {i}", author="bench@example.com").sid
            for i in range(count)
        ]


def _start_times(log: str) -> list[float]:
    """Spawn-to-listening of each cold start, from the host's request lines."""
    times = []
    for line in log.splitlines():
        if "worker.host.requests" in line and '"cold": true' in line:
            times.append(float(json.loads(line.split(" worker.host.requests ", 1)[1])["start_ms"]))
    return times


def _memory_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _table(results: dict[str, Any]) -> str:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    warm, cold = results["warm_route_ms"]["p50"], results["cold_start_ms"]["p50"]
    start = results["deno_start_ms"]["p50"]
    pss = results["pss_per_app_mb"] or 0.0
    rows = [
        (
            "warm route p50 through the host",
            f"{warm} ms",
            f"≤ {TARGETS['warm_p50_ms']} ms",
            verdict(warm <= TARGETS["warm_p50_ms"]),
        ),
        (
            "cold start p50: Deno spawn → listening",
            f"{start} ms",
            f"≤ {TARGETS['cold_start_p50_ms']} ms",
            verdict(start <= TARGETS["cold_start_p50_ms"]),
        ),
        ("cold first request p50 (code from S3)", f"{cold} ms", "reported", ""),
        (
            "memory per warm app: PSS (RSS)",
            f"{pss} MB ({results['rss_per_app_mb']} MB)",
            f"≤ {TARGETS['memory_per_app_mb']} MB",
            verdict(pss <= TARGETS["memory_per_app_mb"]),
        ),
        (
            "apps warm at once",
            str(results["apps_warm"]),
            f"{TARGETS['apps_warm']}",
            verdict(results["apps_warm"] >= TARGETS["apps_warm"]),
        ),
        ("requests/s, one app", str(results["requests_per_s_one_app"]), "reported", ""),
    ]
    lines = [f"{'measure':<34} {'value':<28} {'target':<12} verdict"]
    lines += [f"{a:<34} {b:<28} {c:<12} {d}" for a, b, c, d in rows]
    load = results["environment"]["load_average_at_start"]
    lines.append(
        f"(load average at start {load[0]:.1f} on {results['environment']['cpus']} "
        "CPUs: latencies on a shared machine are upper bounds)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
