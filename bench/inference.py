"""What ``@stage/inference`` adds to a model call: a route's ``inference.chat`` through the
host against a local OpenAI-compatible server, beside the same call made directly.

    python -m bench.inference [--quick]

Real services as in ``bench.host`` (Redis, moto, a worker that renders one app, a
``stage-render host``); the provider is the tests' small OpenAI-compatible server
(``tests/model_provider.py``), in this process, answering at once. Three sequential series:

1. the provider called directly (client → provider): what the call itself costs here;
2. a route that answers JSON without a platform call (client → host → Deno → back);
3. a route that calls ``inference.chat`` (… → Deno → platform endpoint → quota reserve in
   Redis → provider → settle in Redis → back).

The host's overhead is (3) - (2) - (1): the platform hop, validation and both Redis scripts.
Prints a table and writes ``bench/results.inference.json``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
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
from tests.model_provider import ModelProvider
from tests.services import HostProcess, remove_tree
from worker.client import StageClient
from worker.settings import Settings

RESULTS = BENCH / "results.inference.json"
PAGE = "export default function App() { return <h1>bench</h1>; }\n"
PLAIN = "export function GET() { return Response.json({ ok: true }); }\n"
CHAT = """import { inference } from "@stage/inference";

export async function GET() {
  const messages = [{ role: "user", content: "say hello" }];
  return Response.json(await inference.chat({ model: "gpt-4o-mini", messages, max_tokens: 16 }));
}
"""
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "say hello"}]}


def _say(text: str) -> None:
    print(f"[bench.inference] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    return host_bench_main(
        "bench.inference", __doc__, _run, _table, RESULTS, concurrency=8, argv=argv
    )


def _run(*, quick: bool, concurrency: int) -> dict[str, Any]:
    n = 50 if quick else 300
    results: dict[str, Any] = {"environment": environment()}
    key = "sk-bench-" + secrets.token_hex(8)
    with (
        running_services(GENERATED_DIR / "vendor-cache", _say) as services,
        ModelProvider(key) as provider,
    ):
        logs = GENERATED_DIR / "inference-logs"
        logs.mkdir(parents=True, exist_ok=True)
        data_dir = Path("/tmp") / f"stage-bench-inference-{os.getpid()}"
        data_dir.mkdir(mode=0o755, exist_ok=True)
        worker = BenchWorker(services.env, logs / "worker.log")
        host = HostProcess(
            {
                **services.env,
                "STAGE_HOST_DATA_DIR": str(data_dir),
                "STAGE_INFERENCE_BASE_URL": provider.url,
                "STAGE_INFERENCE_API_KEY": key,
                "STAGE_INFERENCE_MODELS": "gpt-4o-mini",
                "STAGE_INFERENCE_APP_QUOTA_TOKENS": str(10**9),
            },
            logs / "host.log",
        )
        try:
            worker.wait_ready()
            host.wait_ready()
            sid = _publish(Settings.from_env(services.env))
            base = f"{host.url}/{sid}/@preview/api"
            with httpx.Client(timeout=60, trust_env=False) as http:
                direct = f"{provider.url}/chat/completions"
                auth = {"authorization": f"Bearer {key}"}
                body = {**BODY, "max_tokens": 16}

                def call_direct() -> float:
                    return timed_request(lambda: http.post(direct, json=body, headers=auth))

                series = {
                    "provider_direct_ms": call_direct,
                    "plain_route_ms": lambda: timed_request(lambda: http.get(f"{base}/plain")),
                    "chat_route_ms": lambda: timed_request(lambda: http.get(f"{base}/chat")),
                }
                for name, one in series.items():
                    _say(f"{name}: {n} sequential requests")
                    for _ in range(10):
                        one()
                    results[name] = latency_summary([one() for _ in range(n)])
                _say(f"chat route requests/s, {concurrency} in flight")
                results["chat_requests_per_s"] = asyncio.run(
                    requests_per_s(f"{base}/chat", concurrency, 2.0 if quick else 5.0)
                )
            results["host_overhead_p50_ms"] = round(
                results["chat_route_ms"]["p50"]
                - results["plain_route_ms"]["p50"]
                - results["provider_direct_ms"]["p50"],
                2,
            )
            results["load_average_at_end"] = os.getloadavg()
        finally:
            host.stop()
            worker.stop()
            remove_tree(data_dir)
    return results


def _publish(settings: Settings) -> str:
    with StageClient(settings) as client:
        session = client.sessions.create(name="inference bench")
        client.sessions.push_files(
            session.id,
            [
                {"path": "/app/App.tsx", "content": PAGE},
                {"path": "/api/plain.ts", "content": PLAIN},
                {"path": "/api/chat.ts", "content": CHAT},
            ],
        )
        ticket = client.sessions.render(session.id)
        record = client.sessions.wait_for_render(session.id, ticket.version, timeout=180)
        if record.status != "ready":
            raise BenchError(f"the bench app did not render: {record.error}")
        return client.apps.publish(session.id, name="inference bench", author="b@example.com").sid


def _table(results: dict[str, Any]) -> str:
    rows = [
        ("provider called directly p50", f"{results['provider_direct_ms']['p50']} ms"),
        ("route without a platform call p50", f"{results['plain_route_ms']['p50']} ms"),
        ("route calling inference.chat p50", f"{results['chat_route_ms']['p50']} ms"),
        ("host overhead p50 (chat - route - provider)", f"{results['host_overhead_p50_ms']} ms"),
        ("inference.chat routes/s", str(results["chat_requests_per_s"])),
    ]
    lines = [f"{a:<46} {b}" for a, b in rows]
    load = results["environment"]["load_average_at_start"]
    lines.append(
        f"(load average at start {load[0]:.1f} on {results['environment']['cpus']} "
        "CPUs: latencies on a shared machine are upper bounds)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
