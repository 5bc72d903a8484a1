"""`make bench`: bare esbuild, `vite build` and the worker end to end, on the same apps, in one run.

    python -m bench.run [--quick]

Phases run one after another so nothing else competes for the two cores while one is
measured: (1) bare esbuild CLI, (2) vite build, (3) worker latency per app, (4) throughput
with 1 then 2 worker processes, (5) the worker with vendor chunks off. Then the table is
printed and bench/results.json and bench/results.png are written. Exit 0 when everything
was measured (a missed target prints FAIL, it does not fail the command), 1 when the
bench itself could not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import baselines, e2e
from bench.gen_apps import BENCH, GENERATED_DIR, BenchApp, all_apps, folder_app, shadcn
from bench.machine import CpuMeter, environment
from bench.report import STAGES, check_targets, draw, format_table, percentile, summarize
from bench.services import (
    AWS_ENV,
    BenchError,
    BenchRedis,
    BenchWorker,
    S3Server,
    cpu_s,
    running_services,
)
from bench.weight import measure
from bundler import Bundler
from worker.client import StageClient
from worker.settings import Settings
from worker.storage import S3Store, StoredObject

__all__ = ["main"]


@dataclass(frozen=True)
class Counts:
    """How many times each thing is measured (warm-up runs are not counted)."""

    esbuild_runs: int = 15
    vite_runs: int = 5
    renders: int = 40  # the reference app: the headline numbers
    renders_generated: int = 30
    renders_1000: int = 12  # ~1 s each; ten or more still gives a stable median
    warmup: int = 5
    throughput_renders: int = 60
    throughput_warmup: int = 6
    s3_puts: int = 30


QUICK = Counts(
    esbuild_runs=3,
    vite_runs=1,
    renders=10,
    renders_generated=5,
    renders_1000=2,
    warmup=2,
    throughput_renders=10,
    throughput_warmup=2,
    s3_puts=5,
)
#: The apps whose targets compare e2e and the worker's own work with the esbuild CLI.
_BIG = ("modules-400", "modules-1000")
MAX_FILES = 2000  # the 1,000-module app has 1,100 files; the default STAGE_MAX_FILES is 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few runs of each, to try the harness (numbers not meaningful)",
    )
    args = parser.parse_args(argv)
    counts = QUICK if args.quick else Counts()
    os.environ.update(AWS_ENV)  # the client's boto3 talks to moto, never to a real account
    try:
        results = _run(counts)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    draw(results, BENCH / "results.png")
    print()
    print(format_table(results))
    print(f"\nwrote {BENCH / 'results.json'} and {BENCH / 'results.png'}")
    return 0


def _run(counts: Counts) -> dict[str, Any]:
    apps = all_apps()
    meter = CpuMeter()
    results: dict[str, Any] = {
        "environment": environment(),
        "counts": counts.__dict__,
        "quick": counts == QUICK,
        "apps": {
            a.name: {"modules": a.modules, "files": len(a.files), "bytes": a.total_bytes}
            for a in apps
        },
    }
    # Outside the repository: no node_modules above it, so esbuild finds React by NODE_PATH.
    with tempfile.TemporaryDirectory(prefix="stage-bench-") as tmp:
        work = Path(tmp)
        _one_shot_builds(apps, counts, work, results)
        _worker_phases(apps, counts, work, results)
    results["peak_rss_mb"] = {
        kind: max(
            (kb for phase in results["rss_kb_by_phase"].values() for kb in phase.get(kind, ())),
            default=0,
        )
        / 1024
        for kind in ("main", "pool", "esbuild", "tailwind")
    }
    results["environment"]["load_average_after"] = os.getloadavg()[0]
    results["environment"]["others_cpu_pct"] = meter.others_pct()
    results["targets"] = check_targets(results)
    return results


def _one_shot_builds(
    apps: list[BenchApp], counts: Counts, work: Path, results: dict[str, Any]
) -> None:
    shutil.rmtree(GENERATED_DIR / "vite", ignore_errors=True)
    for key, external in (("esbuild_cli", False), ("esbuild_cli_react_external", True)):
        results[key] = {}
        for app in apps:
            _say(
                f"bare esbuild CLI{' (React external)' if external else ''}: {app.name}, "
                f"{counts.esbuild_runs} runs"
            )
            entry = baselines.write_esbuild_project(app, work / "esbuild" / app.name)
            timed = baselines.esbuild_cli(entry, counts.esbuild_runs, react_external=external)
            results[key][app.name] = {
                **summarize(timed.samples_ms),
                "output_bytes": timed.output_bytes,
            }
    app = shadcn()
    _say(f"bare esbuild CLI: {app.name}, {counts.esbuild_runs} runs")
    entry = baselines.write_esbuild_project(app, work / "esbuild" / app.name)
    timed = baselines.esbuild_cli(entry, counts.esbuild_runs)
    results["esbuild_cli_fidelity"] = {
        app.name: {**summarize(timed.samples_ms), "output_bytes": timed.output_bytes}
    }
    _say("page weight: icons, two date-fns functions and a chart, worker page vs bare esbuild")
    bundler = Bundler(vendor_cache=work / "vendor-cache-weight")
    try:
        weight = measure(folder_app("weight"), bundler)
    finally:
        bundler.close()
    results["page_weight"] = {
        "ratio": round(weight.ratio, 3),
        "page_bytes": weight.page_bytes,
        "esbuild_bytes": weight.esbuild_bytes,
        "scripts": len(weight.scripts),
        "detail": f"{weight.page_bytes:,} B in {len(weight.scripts)} scripts / "
        f"{weight.esbuild_bytes:,} B",
    }
    results["service_vs_process"] = {}
    for app in apps:
        if app.name not in ("reference", *_BIG):
            continue
        runs = counts.esbuild_runs if app.name == "reference" else max(3, counts.esbuild_runs // 3)
        _say(f"esbuild service vs one process per build: {app.name}, {runs} runs each")
        both = baselines.service_vs_process(
            app, work / "service" / app.name, work / "vendor-cache", runs
        )
        results["service_vs_process"][app.name] = {way: summarize(ms) for way, ms in both.items()}
    results["vite_build"] = {}
    for app in apps:
        _say(f"vite build: {app.name}, {counts.vite_runs} runs")
        project = baselines.write_vite_project(app, GENERATED_DIR / "vite" / app.name)
        timed = baselines.vite_build(project, counts.vite_runs)
        results["vite_build"][app.name] = {
            **summarize(timed.samples_ms),
            "output_bytes": timed.output_bytes,
        }


def _worker_phases(
    apps: list[BenchApp], counts: Counts, work: Path, results: dict[str, Any]
) -> None:
    rss: dict[str, Any] = {}
    results["rss_kb_by_phase"] = rss
    with _services(work) as stack:
        results["environment"]["redis"] = stack.redis.version()
        _say("S3 floor: PUTs of 2 KB through the worker's S3Store, alone and in parallel")
        results["s3_put"] = _s3_floor(Settings.from_env(stack.env), counts.s3_puts)
        client = StageClient(Settings.from_env(stack.env))
        try:
            first = stack.start_worker()
            results["worker"] = {}
            results["side_by_side"] = {}
            for app in apps:
                renders = {
                    "reference": counts.renders,
                    "modules-400": counts.renders_generated,
                    "modules-1000": counts.renders_1000,
                }.get(app.name, counts.renders_generated)
                warmup = counts.warmup if app.name == "reference" else max(2, counts.warmup // 2)
                if app.name in _BIG:
                    _say(
                        f"worker e2e: {app.name}, {warmup} warm-up + {renders} renders, each "
                        "followed by an esbuild CLI build and an esbuild service build of its files"
                    )
                    side = baselines.SideBySide(
                        app, work / "side" / app.name, work / "vendor-cache"
                    )
                    try:
                        samples = e2e.latency(client, app, renders, warmup, side.measure)
                    finally:
                        side.close()
                    results["side_by_side"][app.name] = {
                        "esbuild_cli": summarize(side.cli_ms),
                        "esbuild_service": summarize(side.service_ms),
                        "own_work": summarize(
                            [s.e2e_ms - ms for s, ms in zip(samples, side.service_ms, strict=True)]
                        ),
                    }
                else:
                    _say(f"worker e2e: {app.name}, {warmup} warm-up + {renders} renders")
                    samples = e2e.latency(client, app, renders, warmup)
                results["worker"][app.name] = _latency_summary(samples)
            app = shadcn()
            _say(
                f"worker e2e: {app.name}, {counts.warmup} warm-up + "
                f"{counts.renders_generated} renders"
            )
            samples = e2e.latency(client, app, counts.renders_generated, counts.warmup)
            results["worker_fidelity"] = {
                app.name: {
                    **_latency_summary(samples),
                    "own_work_ms": summarize(
                        [
                            s.timings_ms.get("total", 0.0) - s.timings_ms.get("upload", 0.0)
                            for s in samples
                        ]
                    ),
                }
            }
            rss["latency"] = first.peak_rss_kb()

            reference = apps[0]
            results["throughput"] = {"renders": counts.throughput_renders}
            _say(f"throughput: 1 worker, {counts.throughput_renders} renders at once")
            results["throughput"]["1"] = _throughput(client, reference, counts, stack, [first])
            second = stack.start_worker()
            _say(f"throughput: 2 workers, {counts.throughput_renders} renders at once")
            results["throughput"]["2"] = _throughput(
                client, reference, counts, stack, [first, second]
            )
            rss["throughput_first"] = first.peak_rss_kb()
            rss["throughput_second"] = second.peak_rss_kb()
            first.stop()
            second.stop()

            novendor = stack.start_worker(STAGE_VENDOR="0")
            _say(
                f"worker e2e, STAGE_VENDOR=0: reference, {counts.warmup} warm-up + "
                f"{counts.renders} renders"
            )
            results["worker_no_vendor"] = {
                "reference": _latency_summary(
                    e2e.latency(client, reference, counts.renders, counts.warmup)
                )
            }
            rss["no_vendor"] = novendor.peak_rss_kb()
            novendor.stop()
            results["cold_start"] = _cold_start(client, stack, reference, work)
        finally:
            client.close()


def _cold_start(client: StageClient, stack: _Stack, app: BenchApp, work: Path) -> dict[str, Any]:
    """A worker with an empty vendor cache: its start (vendor chunks for the whole
    allowlist are built before it takes work) and its first render, as a gateway sees them."""
    _say("cold start: a worker with an empty vendor cache, then its first render")
    session = e2e.prepare(client, app, 1)[0]
    started = time.perf_counter()
    worker = stack.start_worker(STAGE_VENDOR_CACHE_DIR=str(work / "vendor-cache-cold"))
    ready_s = time.perf_counter() - started
    version = client.sessions.render(session).version
    record = client.sessions.wait_for_render(session, version, e2e.RENDER_TIMEOUT_S)
    total_s = time.perf_counter() - started
    worker.stop()
    if record.status != "ready":
        raise BenchError(f"cold start: the first render ended {record.status}: {record.error}")
    return {"worker_ready_s": round(ready_s, 2), "first_render_ready_s": round(total_s, 2)}


def _s3_floor(settings: Settings, rounds: int) -> dict[str, Any]:
    """What S3 alone costs a render: one PUT, and 2 and 4 at once (a render's waves)."""
    store = S3Store(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url)
    samples: dict[str, list[float]] = {"1": [], "2": [], "4": []}
    for n in range(rounds + 3):
        for width in samples:
            objects = [
                StoredObject(
                    f"bench-floor/{n}-{width}-{i}",
                    os.urandom(2048),
                    "text/javascript; charset=utf-8",
                )
                for i in range(int(width))
            ]
            started = time.perf_counter()
            store.put_many(objects)
            if n >= 3:
                samples[width].append((time.perf_counter() - started) * 1000)
    return {width: summarize(ms) for width, ms in samples.items()}


def _throughput(
    client: StageClient, app: BenchApp, counts: Counts, stack: _Stack, workers: list[BenchWorker]
) -> dict[str, Any]:
    """Renders/s of ``workers``, and the CPU each render cost every process it ran through."""
    e2e.render_all(client, app, e2e.prepare(client, app, counts.throughput_warmup))
    sessions = e2e.prepare(client, app, counts.throughput_renders)
    before = stack.cpu_s(workers)
    seconds = e2e.render_all(client, app, sessions)
    after = stack.cpu_s(workers)
    per_render = {
        role: round((after[role] - before[role]) * 1000 / len(sessions), 1) for role in after
    }
    return {
        "renders_per_s": round(len(sessions) / seconds, 2),
        "seconds": round(seconds, 3),
        "cpu_ms_per_render": {**per_render, "total": round(sum(per_render.values()), 1)},
    }


def _latency_summary(samples: list[e2e.Sample]) -> dict[str, Any]:
    stages = {
        stage: round(statistics.median(s.timings_ms.get(stage, 0.0) for s in samples), 2)
        for stage in (*STAGES, "total")
    }
    return {
        **summarize([s.e2e_ms for s in samples]),
        "stages_ms": stages,
        "stages_p95_ms": {
            stage: round(percentile([s.timings_ms.get(stage, 0.0) for s in samples], 0.95), 2)
            for stage in (*STAGES, "total")
        },
        "wait_ms": round(
            statistics.median(s.e2e_ms - s.timings_ms.get("total", 0.0) for s in samples), 2
        ),
        "queued_ms": round(statistics.median(s.queued_ms for s in samples), 2),
    }


@dataclass
class _Stack:
    """The services of one run and the workers started on them."""

    env: dict[str, str]
    redis: BenchRedis
    s3: S3Server
    logs: Path
    workers: list[BenchWorker] = field(default_factory=list)

    def start_worker(self, **extra: str) -> BenchWorker:
        worker = BenchWorker({**self.env, **extra}, self.logs / f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def cpu_s(self, workers: list[BenchWorker]) -> dict[str, float]:
        """CPU seconds so far of everything a render runs through, by role."""
        totals: dict[str, float] = {
            "worker main": 0.0,
            "pool child": 0.0,
            "esbuild": 0.0,
            "tailwind": 0.0,
        }
        for worker in workers:
            for role, seconds in worker.cpu_s().items():
                totals[role] += seconds
        own = resource.getrusage(resource.RUSAGE_SELF)
        totals["bench client"] = own.ru_utime + own.ru_stime
        totals["s3 (moto)"] = cpu_s(self.s3.pid)
        if self.redis.pid is not None:
            totals["redis"] = cpu_s(self.redis.pid)
        return totals


@contextlib.contextmanager
def _services(work: Path) -> Iterator[_Stack]:
    """Redis, S3 and a namespace of our own, with the STAGE_* env workers get.

    Every worker started through it, and every service it started, is stopped on the way out.
    """
    logs = GENERATED_DIR / "logs"  # kept after the run, for a render that went wrong
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    with running_services(work / "vendor-cache", _say, STAGE_MAX_FILES=str(MAX_FILES)) as services:
        stack = _Stack(services.env, services.redis, services.s3, logs)
        try:
            yield stack
        finally:
            for worker in stack.workers:
                worker.stop()


def _say(message: str) -> None:
    print(f"bench: {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
