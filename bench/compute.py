"""What ``@stage/compute`` costs a route: a query of 100 documents by index and a mutation
inserting one, each called from a route through the host, on SQLite and on PostgreSQL.

    python -m bench.compute [--quick]

Real services as in ``bench.inference`` (Redis, moto, a worker that renders one app, a
``stage-render host`` per database). For each database, three sequential series:

1. a route that answers JSON without a platform call (client → host → Deno → back);
2. a route whose ``compute.query`` reads 100 documents through an index (one platform
   round trip: ``compute/db``);
3. a route whose ``compute.mutation`` inserts one document (two: ``compute/db`` opening the
   transaction with the insert, ``compute/commit``).

The compute part is (2) - (1) and (3) - (1). Then requests/s of each with 8 in flight.
Targets: query p50 ≤ 5 ms on SQLite and ≤ 10 ms on PostgreSQL. Prints a table and writes
``bench/results.compute.json``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from functools import partial
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

RESULTS = BENCH / "results.compute.json"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
TARGET_QUERY_P50_MS = {"sqlite": 5.0, "postgresql": 10.0}
FILES = {
    "/app/App.tsx": "export default function App() { return <h1>bench</h1>; }\n",
    "/api/plain.ts": "export function GET() { return Response.json({ ok: true }); }\n",
    "/compute/schema.ts": """import { defineSchema, defineTable } from "@stage/compute";
export default defineSchema({ items: defineTable({}).index("by_group", ["group"]) });
""",
    "/compute/items.ts": """import { mutation, query } from "@stage/compute";
export const list = query(async (ctx, { group }: { group: string }) =>
  await ctx.db.query("items").withIndex("by_group", (q) => q.eq("group", group)).collect());
export const add = mutation(async (ctx, { group }: { group: string }) =>
  await ctx.db.insert("items", { group, title: "an item of the bench", done: false }));
export const seed = mutation(async (ctx, { group, n }: { group: string; n: number }) => {
  await Promise.all(Array.from({ length: n }, (_, i) =>
    ctx.db.insert("items", { group, title: `item ${i}`, done: i % 2 === 0 })));
  return n;
});
""",
    "/api/query.ts": """import { compute } from "@stage/compute";
export async function GET() {
  const items = await compute.query("items", "list", { group: "read" });
  return Response.json({ n: items.length });
}
""",
    "/api/insert.ts": """import { compute } from "@stage/compute";
export async function GET() {
  return Response.json({ id: await compute.mutation("items", "add", { group: "written" }) });
}
""",
    "/api/seed.ts": """import { compute } from "@stage/compute";
export async function GET() {
  return Response.json({ n: await compute.mutation("items", "seed", { group: "read", n: 100 }) });
}
""",
}


def _say(text: str) -> None:
    print(f"[bench.compute] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    return host_bench_main(
        "bench.compute", __doc__, _run, _table, RESULTS, concurrency=8, argv=argv
    )


def _run(*, quick: bool, concurrency: int) -> dict[str, Any]:
    n = 50 if quick else 300
    results: dict[str, Any] = {"environment": environment()}
    with running_services(GENERATED_DIR / "vendor-cache", _say) as services:
        logs = GENERATED_DIR / "compute-logs"
        logs.mkdir(parents=True, exist_ok=True)
        worker = BenchWorker(services.env, logs / "worker.log")
        try:
            worker.wait_ready()
            for backend in ("sqlite", "postgresql"):
                results[backend] = _measure(
                    backend, services.env, logs, n=n, concurrency=concurrency, quick=quick
                )
        finally:
            worker.stop()
    results["load_average_at_end"] = os.getloadavg()
    return results


def _measure(
    backend: str, env: dict[str, str], logs: Path, *, n: int, concurrency: int, quick: bool
) -> dict[str, Any]:
    data_dir = Path("/tmp") / f"stage-bench-compute-{backend}-{os.getpid()}"
    data_dir.mkdir(mode=0o755, exist_ok=True)
    host_env = {**env, "STAGE_HOST_DATA_DIR": str(data_dir)}
    if backend == "postgresql":
        host_env["STAGE_COMPUTE_DATABASE_URL"] = POSTGRES_URL
    host = HostProcess(host_env, logs / f"host-{backend}.log")
    measured: dict[str, Any] = {}
    try:
        host.wait_ready()
        sid = _publish(Settings.from_env(env))  # a new app: its own rows in a shared database
        base = f"{host.url}/{sid}/@preview/api"
        with httpx.Client(timeout=60, trust_env=False) as http:
            seeded = http.get(f"{base}/seed")
            if seeded.status_code != 200:
                raise BenchError(f"seeding failed: {seeded.status_code} {seeded.text[:200]}")
            if http.get(f"{base}/query").json() != {"n": 100}:
                raise BenchError("the query route did not read the 100 seeded documents")
            for name in ("plain", "query", "insert"):
                _say(f"{backend}: {name} route, {n} sequential requests")
                url = f"{base}/{name}"
                for _ in range(10):
                    timed_request(partial(http.get, url))
                measured[f"{name}_route_ms"] = latency_summary(
                    [timed_request(partial(http.get, url)) for _ in range(n)]
                )
        for name in ("query", "insert"):
            _say(f"{backend}: {name} routes/s, {concurrency} in flight")
            measured[f"{name}_requests_per_s"] = asyncio.run(
                requests_per_s(f"{base}/{name}", concurrency, 2.0 if quick else 5.0)
            )
            measured[f"{name}_compute_p50_ms"] = round(
                measured[f"{name}_route_ms"]["p50"] - measured["plain_route_ms"]["p50"], 2
            )
        measured["query_target_p50_ms"] = TARGET_QUERY_P50_MS[backend]
    finally:
        host.stop()
        remove_tree(data_dir)
    return measured


def _publish(settings: Settings) -> str:
    with StageClient(settings) as client:
        session = client.sessions.create(name="compute bench")
        client.sessions.push_files(
            session.id, [{"path": path, "content": text} for path, text in FILES.items()]
        )
        ticket = client.sessions.render(session.id)
        record = client.sessions.wait_for_render(session.id, ticket.version, timeout=180)
        if record.status != "ready":
            raise BenchError(f"the bench app did not render: {record.error}")
        return client.apps.publish(session.id, name="compute bench", author="b@example.com").sid


def _table(results: dict[str, Any]) -> str:
    lines = []
    for backend in ("sqlite", "postgresql"):
        r = results[backend]
        target = r["query_target_p50_ms"]
        verdict = "ok" if r["query_route_ms"]["p50"] <= target else "FAIL"
        rows = [
            ("route without a platform call p50", f"{r['plain_route_ms']['p50']} ms"),
            (
                "route: compute.query, 100 docs by index p50",
                f"{r['query_route_ms']['p50']} ms (target ≤ {target:g} ms: {verdict})",
            ),
            ("  of which compute (query - plain)", f"{r['query_compute_p50_ms']} ms"),
            ("route: compute.mutation, 1 insert p50", f"{r['insert_route_ms']['p50']} ms"),
            ("  of which compute (insert - plain)", f"{r['insert_compute_p50_ms']} ms"),
            ("query routes/s, 8 in flight", str(r["query_requests_per_s"])),
            ("insert routes/s, 8 in flight", str(r["insert_requests_per_s"])),
        ]
        lines.append(f"{backend}:")
        lines += [f"  {a:<46} {b}" for a, b in rows]
    load = results["environment"]["load_average_at_start"]
    lines.append(
        f"(load average at start {load[0]:.1f} on {results['environment']['cpus']} "
        "CPUs: latencies on a shared machine are upper bounds)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
