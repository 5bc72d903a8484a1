"""Both deployments side by side: one Redis as broker and store, and RabbitMQ with a Redis
Cluster. Renders/s and CPU-ms per render with 1, 2 and 4 worker processes on each.

    python -m bench.scale [--quick]

Real services: moto's S3 server and Redis as in ``bench.run``; a 6-node Redis Cluster
started here (``tests/clusters.py``) and a vhost of its own on the machine's RabbitMQ (or a
RabbitMQ node of its own when none answers on 127.0.0.1:5672). Each worker process is
``stage-render worker --concurrency=1``. A throughput round sends the reference app to as
many fresh sessions at once (one render each, so none is coalesced) and waits for all.

CPU-ms per render is what the worker processes (main, pool child, esbuild, Tailwind)
spent, divided by the renders. The store and broker cost beside them is reported for the
cluster (its six nodes are ours), not for the shared Redis and RabbitMQ. Target: the
cluster configuration within 1.2x the single-Redis CPU per render at every process count.

Prints a table and writes ``bench/results.scale.json``. Exit 0 when everything was
measured (a missed target prints FAIL), 1 when the bench itself could not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import e2e
from bench.gen_apps import BENCH, reference
from bench.machine import environment
from bench.services import AWS_ENV, BenchError, BenchWorker, cpu_s, running_services
from tests.clusters import RabbitNode, RabbitVhost, RedisClusterServers, rabbit_answers
from worker.client import StageClient
from worker.settings import Settings

__all__ = ["main"]

WORKER_COUNTS = (1, 2, 4)
CPU_RATIO_TARGET = 1.2  # cluster CPU-ms per render / single-Redis CPU-ms per render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a few renders per round, to try the harness"
    )
    args = parser.parse_args(argv)
    renders, warmup = (8, 2) if args.quick else (40, 6)
    os.environ.update(AWS_ENV)
    try:
        results = _run(renders, warmup)
    except BenchError as exc:
        print(f"bench.scale: {exc}", file=sys.stderr)
        return 1
    results["quick"] = args.quick
    (BENCH / "results.scale.json").write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(format_table(results))
    print(f"\nwrote {BENCH / 'results.scale.json'}")
    return 0


def _run(renders: int, warmup: int) -> dict[str, Any]:
    results: dict[str, Any] = {
        "environment": _environment(),
        "renders": renders,
        "warmup": warmup,
        "configurations": {},
    }
    with (
        tempfile.TemporaryDirectory(prefix="stage-bench-scale-") as tmp,
        running_services(Path(tmp) / "vendor-cache", _say, STAGE_CHECK="0") as services,
        _cluster() as cluster,
        _rabbitmq() as broker_url,
    ):
        configurations = {
            "single-redis": ({}, None),
            "cluster+rabbitmq": (
                {"STAGE_REDIS_URL": cluster.url, "STAGE_BROKER_URL": broker_url},
                cluster,
            ),
        }
        for name, (overrides, nodes) in configurations.items():
            env = {**services.env, **overrides}
            rounds = {}
            for count in WORKER_COUNTS:
                _say(f"{name}: {count} worker process(es), {warmup} warm-up + {renders} renders")
                rounds[str(count)] = _throughput(env, count, renders, warmup, Path(tmp), nodes)
            results["configurations"][name] = rounds
    results["targets"] = check_targets(results)
    return results


@contextlib.contextmanager
def _cluster() -> Iterator[RedisClusterServers]:
    _say("starting a 6-node Redis Cluster")
    try:
        cluster = RedisClusterServers()
    except FileNotFoundError as exc:
        raise BenchError(str(exc)) from exc
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@contextlib.contextmanager
def _rabbitmq() -> Iterator[str]:
    if rabbit_answers():
        _say("using a vhost of its own on the RabbitMQ at 127.0.0.1:5672")
        vhost = RabbitVhost()
        try:
            yield vhost.start()
        finally:
            vhost.stop()
        return
    _say("no RabbitMQ on 127.0.0.1:5672: starting a node of our own")
    node = RabbitNode()
    try:
        yield node.start()
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        raise BenchError(f"RabbitMQ: {exc}") from exc
    finally:
        node.remove()


def _throughput(
    env: dict[str, str],
    count: int,
    renders: int,
    warmup: int,
    logs: Path,
    cluster: RedisClusterServers | None,
) -> dict[str, Any]:
    workers = [
        BenchWorker(env, logs / f"worker-{time.monotonic_ns()}-{n}.log") for n in range(count)
    ]
    client = StageClient(Settings.from_env(env))
    try:
        for worker in workers:
            worker.wait_ready()
        app = reference()
        e2e.render_all(client, app, e2e.prepare(client, app, warmup * count))
        sessions = e2e.prepare(client, app, renders)
        before, store_before = _cpu(workers), _store_cpu(cluster)
        seconds = e2e.render_all(client, app, sessions)
        after, store_after = _cpu(workers), _store_cpu(cluster)
    finally:
        client.close()
        for worker in workers:
            worker.stop()
    per_render = {role: round((after[role] - before[role]) * 1000 / renders, 1) for role in after}
    result: dict[str, Any] = {
        "renders_per_s": round(renders / seconds, 2),
        "seconds": round(seconds, 3),
        "cpu_ms_per_render": {**per_render, "total": round(sum(per_render.values()), 1)},
    }
    if cluster is not None:
        result["cluster_nodes_cpu_ms_per_render"] = round(
            (store_after - store_before) * 1000 / renders, 1
        )
    return result


def _cpu(workers: list[BenchWorker]) -> dict[str, float]:
    total: dict[str, float] = {}
    for worker in workers:
        for role, seconds in worker.cpu_s().items():
            total[role] = total.get(role, 0.0) + seconds
    return total


def _store_cpu(cluster: RedisClusterServers | None) -> float:
    if cluster is None:
        return 0.0
    return sum(cpu_s(proc.pid) for proc in cluster.procs.values())


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    single = results["configurations"]["single-redis"]
    scaled = results["configurations"]["cluster+rabbitmq"]
    targets = []
    for count in single:
        base = single[count]["cpu_ms_per_render"]["total"]
        ratio = scaled[count]["cpu_ms_per_render"]["total"] / base if base else float("inf")
        targets.append(
            {
                "target": f"cluster CPU-ms/render <= {CPU_RATIO_TARGET}x single, {count} worker(s)",
                "value": round(ratio, 2),
                "ok": ratio <= CPU_RATIO_TARGET,
            }
        )
    return targets


def format_table(results: dict[str, Any]) -> str:
    lines = [
        f"{'configuration':<18} {'workers':>7} {'renders/s':>10} {'CPU-ms/render':>14} "
        f"{'cluster nodes':>14}"
    ]
    for name, rounds in results["configurations"].items():
        for count, r in rounds.items():
            nodes = r.get("cluster_nodes_cpu_ms_per_render")
            lines.append(
                f"{name:<18} {count:>7} {r['renders_per_s']:>10.2f} "
                f"{r['cpu_ms_per_render']['total']:>14.1f} "
                f"{'' if nodes is None else f'{nodes:.1f}':>14}"
            )
    lines.append("")
    for target in results["targets"]:
        lines.append(f"{'ok  ' if target['ok'] else 'FAIL'} {target['target']}: {target['value']}x")
    return "\n".join(lines)


def _environment() -> dict[str, Any]:
    try:
        return environment()
    except (OSError, subprocess.CalledProcessError):  # bench/'s npm packages not installed
        return {
            "cpu_count": os.cpu_count(),
            "load_average_before": os.getloadavg()[0],
            "platform": platform.platform(),
        }


def _say(message: str) -> None:
    print(f"bench.scale: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
