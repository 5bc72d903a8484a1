"""One-file edits of a 400-module app: warm renders (the session's esbuild context kept in
the worker) against cold ones and against the bare esbuild CLI building the whole app.

    .venv/bin/python -m bench.edits [--quick]    # writes bench/results.edits.json

Each render changes App.tsx's start literal (one file of 400 modules) and renders, through
``worker.client``, real Redis, moto's S3 server and one ``stage-render worker
--concurrency 1``: first with warm contexts on (the default), then with
``STAGE_WARM_CONTEXTS=0``. The bare esbuild CLI (one process per build, the anchor of
``make bench``) builds the whole app. Then, in this process, the same edits through one
Bundler split a warm build into esbuild's rebuild and the rest (Tailwind, the import
plugin's answers, output renaming and checks). Peak RSS (VmHWM) of the worker's pool child
and of its esbuild service is read after the warm renders, with the context held; the
in-process esbuild service's after ``STAGE_WARM_CONTEXTS`` sessions of this app were built
warm under the default limits (the source budget keeps fewer of them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import baselines, e2e
from bench.gen_apps import BENCH, BenchApp, generated
from bench.services import AWS_ENV, BenchWorker, peak_rss_kb, running_services
from bundler import Bundler, SourceFile
from bundler.contexts import DEFAULT_WARM_CONTEXTS
from worker.client import StageClient
from worker.settings import Settings

__all__ = ["main"]

RESULTS = BENCH / "results.edits.json"
MODULES = 400
TARGET = 0.3  # warm e2e p50 / bare esbuild CLI p50
RSS_TARGET_MB = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edits")
    parser.add_argument("--quick", action="store_true", help="a few runs: numbers mean little")
    args = parser.parse_args(argv)
    os.environ.update(AWS_ENV)  # the client's boto3 talks to moto, never to a real account
    esbuild_runs, warmup, renders = (3, 2, 5) if args.quick else (15, 5, 30)
    app = generated(MODULES)
    with tempfile.TemporaryDirectory(prefix="stage-bench-edits-") as folder:
        work = Path(folder)
        _say(f"bare esbuild CLI: {app.name} ({len(app.files)} files), {esbuild_runs} runs")
        entry = baselines.write_esbuild_project(app, work / "esbuild")
        esbuild_ms = statistics.median(baselines.esbuild_cli(entry, esbuild_runs).samples_ms)
        runs: dict[str, Any] = {}
        with running_services(work / "vendor-cache", _say) as services:
            for mode, extra in (("warm", {}), ("cold", {"STAGE_WARM_CONTEXTS": "0"})):
                _say(f"worker e2e {mode}: {warmup} warm-up + {renders} one-file edits")
                runs[mode] = _worker_run(
                    {**services.env, **extra}, work / f"{mode}.log", app, warmup, renders
                )
        _say(f"in-process split of a warm build: {renders} edits")
        split = _split(app, warmup, renders)
    warm, cold = runs["warm"], runs["cold"]
    ratio = warm["e2e_p50_ms"] / esbuild_ms
    rss_ok = max(warm["peak_rss_mb"].values()) <= RSS_TARGET_MB
    result = {
        "app": app.name,
        "files": len(app.files),
        "esbuild_cli_p50_ms": round(esbuild_ms, 1),
        "warm": warm,
        "cold": cold,
        "warm_in_process_split_p50_ms": split,
        "ratio_warm_e2e_to_esbuild": round(ratio, 3),
        "ratio_cold_e2e_to_esbuild": round(cold["e2e_p50_ms"] / esbuild_ms, 3),
        "target": TARGET,
        "pass": ratio <= TARGET,
        "rss_target_mb": RSS_TARGET_MB,
        "rss_pass": rss_ok,
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(
        f"{app.name}, one-file edit: warm e2e p50 {warm['e2e_p50_ms']} ms / bare esbuild p50 "
        f"{result['esbuild_cli_p50_ms']} ms = {ratio:.2f} (target ≤ {TARGET}) "
        f"{'PASS' if result['pass'] else 'FAIL'}"
    )
    print(
        f"  cold e2e p50 {cold['e2e_p50_ms']} ms = {result['ratio_cold_e2e_to_esbuild']:.2f}"
        f" x esbuild; warm is {cold['e2e_p50_ms'] / warm['e2e_p50_ms']:.2f}x faster than cold"
    )
    print(f"  warm stages p50 (ms): {warm['stages_p50_ms']}")
    print(f"  cold stages p50 (ms): {cold['stages_p50_ms']}")
    print(f"  warm bundle split p50 (ms, in process; and esbuild's RSS): {split}")
    print(
        f"  peak RSS with contexts held (MB): {warm['peak_rss_mb']} "
        f"(target ≤ {RSS_TARGET_MB} each) {'PASS' if rss_ok else 'FAIL'}"
    )
    return 0


def _worker_run(
    env: dict[str, str], log: Path, app: BenchApp, warmup: int, renders: int
) -> dict[str, Any]:
    worker = BenchWorker(env, log)
    try:
        worker.wait_ready()
        client = StageClient(Settings.from_env(env))
        try:
            samples = e2e.latency(client, app, renders, warmup)
        finally:
            client.close()
        rss = worker.peak_rss_kb()
    finally:
        worker.stop()
    stages = {
        stage: round(statistics.median(s.timings_ms.get(stage, 0.0) for s in samples), 1)
        for stage in sorted({k for s in samples for k in s.timings_ms})
    }
    return {
        "e2e_p50_ms": round(statistics.median(s.e2e_ms for s in samples), 1),
        "stages_p50_ms": stages,
        "peak_rss_mb": {
            "pool child": round(max(rss["pool"]) / 1024, 1),
            "esbuild": round(max(rss["esbuild"]) / 1024, 1),
        },
    }


def _split(app: BenchApp, warmup: int, renders: int) -> dict[str, float]:
    """A warm build in this process: esbuild's rebuild (its own work and the plugin's
    answers, which it waits for) against the whole ``Bundler.build``."""
    bundler = Bundler(warm_contexts=1)
    rebuild_ms: list[float] = []
    build_ms: list[float] = []
    service_rebuild = bundler.service.rebuild

    def timed(*a: Any, **k: Any) -> Any:
        return _timed(service_rebuild, rebuild_ms, *a, **k)

    bundler.service.rebuild = timed  # type: ignore[method-assign]
    try:
        for n in range(warmup + renders):
            files = [SourceFile(p, t.encode()) for p, t in app.variant(10_000 + n).items()]
            started = time.perf_counter()
            bundler.build(files, warm_key="bench")
            if n >= warmup:
                build_ms.append((time.perf_counter() - started) * 1000)
            else:
                rebuild_ms.clear()
        bundler.service.rebuild = service_rebuild  # type: ignore[method-assign]
        # Then as many sessions of this app as a worker process keeps warm by default.
        bundler.warm.max_contexts = DEFAULT_WARM_CONTEXTS
        for n in range(DEFAULT_WARM_CONTEXTS):
            files = [SourceFile(p, t.encode()) for p, t in app.variant(20_000 + n).items()]
            bundler.build(files, warm_key=f"bench-{n}")
        assert bundler.service.pid is not None
        full_mb = peak_rss_kb(bundler.service.pid) / 1024
        held = len(bundler.warm)
    finally:
        bundler.close()
    build, rebuild = statistics.median(build_ms), statistics.median(rebuild_ms)
    return {
        "build": round(build, 1),
        "esbuild_rebuild": round(rebuild, 1),
        "rest": round(build - rebuild, 1),
        "esbuild_peak_rss_mb_default_limits_full": round(full_mb, 1),
        "contexts_held_at_default_limits": held,
    }


def _timed(call: Callable[..., Any], into: list[float], *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return call(*args, **kwargs)
    finally:
        into.append((time.perf_counter() - started) * 1000)


def _say(message: str) -> None:
    print(f"bench: {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
