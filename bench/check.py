"""The boot check under load: warm check latency by stage, checks/s, checker RSS, and the
render latency with ``STAGE_CHECK`` on and off, in one run.

    python -m bench.check [--quick]

Real services as in ``bench.run``: Redis, moto's S3 server, ``stage-render worker`` and
``stage-render checker`` processes. Phases run one after another:

1. a render worker and one checker; the reference app rendered again and again (a new
   start literal each time, after a pause in which the checker opens its next context, as
   between a person's edits), each render waiting for its check: the check's own
   ``timingsMs`` by stage (Chromium reused, a new context per check), and ready → stored;
2. checks/s: versions rendered with ``STAGE_CHECK=false``, then their ``stage.check``
   messages sent at once, consumed by one checker process, then by two;
3. render latency from ``render()`` to ready with ``STAGE_CHECK`` off, on with no checker
   (the send alone), and on with a checker busy beside the worker (sharing the CPUs).

Prints a table and writes ``bench/results.check.json``. Exit 0 when everything was
measured (a missed target prints FAIL), 1 when the bench itself could not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import e2e
from bench.gen_apps import BENCH, GENERATED_DIR, BenchApp, reference
from bench.report import summarize
from bench.services import (
    AWS_ENV,
    BenchError,
    BenchWorker,
    cpu_s,
    peak_rss_kb,
    running_services,
)
from worker.client import StageClient
from worker.messages import CHECK_TASK_NAME, create_celery
from worker.settings import Settings

__all__ = ["main"]

RESULTS = BENCH / "results.check.json"  # ignored by git, like results.json
WARM_P50_TARGET_MS = 400.0  # a warm check of the reference app, inside the checker
CHECK_TIMEOUT_S = 120.0  # a check takes well under a second warm; this is a hang
EDIT_PAUSE_S = 0.5  # between a check and the next render; checks/s measures back to back
_STAGES = ("context", "load", "settle", "inspect", "screenshot", "upload", "total")


@dataclass(frozen=True)
class Counts:
    checks: int = 30
    warmup: int = 3
    throughput: int = 24
    renders: int = 30

    @classmethod
    def quick(cls) -> Counts:
        return cls(checks=8, warmup=2, throughput=8, renders=8)


class BenchChecker(BenchWorker):
    """One ``stage-render checker --concurrency=1`` and the Chromium its pool child runs."""

    def __init__(self, env: dict[str, str], log_path: Path, command: str = "checker") -> None:
        super().__init__(env, log_path, command=command)

    def rss_kb(self) -> dict[str, int]:
        """Peak RSS of the main process and the pool child; Chromium's processes now, as
        RSS summed (counts shared pages once per process) and as PSS (shares them out)."""
        pool, _ = self.family()
        chromium = [pid for pid in _descendants(pool) if _comm(pid) == "chromium"]
        return {
            "main_peak": peak_rss_kb(self.proc.pid),
            "pool_child_peak": sum(peak_rss_kb(pid) for pid in pool),
            "chromium_rss_sum": sum(_memory_kb(pid, "/status", "VmRSS:") for pid in chromium),
            "chromium_pss_sum": sum(_memory_kb(pid, "/smaps_rollup", "Pss:") for pid in chromium),
            "chromium_processes": len(chromium),
        }

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds so far of the pool child and everything below it, by role. Each
        process counts with the children it reaped: a renderer that exited is in its
        zygote's share, so nothing that ran is missed and nothing counts twice."""
        pool, _ = self.family()
        roles = {"checker (Python)": sum(cpu_s(pid) for pid in pool)}
        for pid in _descendants(pool):
            with contextlib.suppress(OSError):  # it exited while we looked
                role = _role(pid)
                roles[role] = roles.get(role, 0.0) + cpu_s(pid, reaped_children=True)
        return roles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.check", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer checks, for a smoke run")
    args = parser.parse_args(argv)
    counts = Counts.quick() if args.quick else Counts()
    os.environ.update(AWS_ENV)  # the client's boto3 talks to moto, never to a real account
    try:
        results = _run(counts)
    except BenchError as exc:
        print(f"bench.check: {exc}", file=sys.stderr)
        return 1
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print(_table(results))
    print(f"bench.check: wrote {RESULTS.relative_to(BENCH.parent)}")
    return 0


def _run(counts: Counts) -> dict[str, Any]:
    app = reference()
    results: dict[str, Any] = {
        "environment": {
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
        },
        "counts": counts.__dict__,
    }
    with _services() as stack:
        client = StageClient(Settings.from_env(stack.env))
        try:
            worker = stack.start(BenchWorker)
            checker = stack.start(BenchChecker)
            _say(f"warm checks: reference app, {counts.warmup} warm-up + {counts.checks}")
            cpu_before = checker.cpu_s()
            results["warm_check"] = _warm_checks(client, app, counts)
            results["checker_cpu_ms_per_check"] = _per_check(
                cpu_before, checker.cpu_s(), counts.warmup + counts.checks
            )
            results["checker_rss_kb"] = checker.rss_kb()

            _say(f"checks/s: {counts.throughput} checks at once, 1 then 2 checkers")
            worker.stop()
            quiet = stack.start(BenchWorker, STAGE_CHECK="false")
            results["checks_per_s"] = {"1": _throughput(client, stack, app, counts.throughput)}
            second = stack.start(BenchChecker)
            results["checks_per_s"]["2"] = _throughput(client, stack, app, counts.throughput)
            results["checker_rss_kb_second"] = second.rss_kb()
            second.stop()

            checker.stop()
            _say(f"render latency, STAGE_CHECK=false: {counts.renders} renders")
            results["render_check_off"] = _render_latency(client, app, counts)
            quiet.stop()
            stack.start(BenchWorker)
            _say(f"render latency, STAGE_CHECK=true, no checker: {counts.renders} renders")
            results["render_check_on_sent"] = _render_latency(client, app, counts)
            stack.start(BenchChecker)
            _say(f"render latency, STAGE_CHECK=true, a checker busy beside: {counts.renders}")
            results["render_check_on"] = _render_latency(client, app, counts)
        finally:
            client.close()
    return results


def _warm_checks(client: StageClient, app: BenchApp, counts: Counts) -> dict[str, Any]:
    session = client.sessions.create(name="bench check")
    client.sessions.push_files(
        session.id, [{"path": p, "content": c} for p, c in app.files.items()]
    )
    stages: dict[str, list[float]] = {stage: [] for stage in _STAGES}
    after_ready: list[float] = []
    for index in range(counts.warmup + counts.checks):
        time.sleep(EDIT_PAUSE_S)
        variant = app.variant(10_000 + index)["/app/App.tsx"]
        client.sessions.push_files(session.id, [{"path": "/app/App.tsx", "content": variant}])
        version = client.sessions.render(session.id).version
        ready = client.sessions.wait_for_render(session.id, version, e2e.RENDER_TIMEOUT_S)
        if ready.status != "ready":
            raise BenchError(f"render {version} ended {ready.status}: {ready.error}")
        seen_ready = time.perf_counter()
        record = client.sessions.wait_for_check(session.id, version, CHECK_TIMEOUT_S)
        stored_ms = (time.perf_counter() - seen_ready) * 1000
        if record.check is None or record.check.status != "passed":
            raise BenchError(f"the reference app's check did not pass: {record.check}")
        if index >= counts.warmup:
            after_ready.append(stored_ms)
            for stage in _STAGES:
                stages[stage].append(record.check.timings_ms.get(stage, 0.0))
    total = stages["total"]
    return {
        **summarize(total),
        "stages_p50_ms": {s: round(statistics.median(v), 1) for s, v in stages.items()},
        "ready_to_stored": summarize(after_ready),
        "target_p50_ms": WARM_P50_TARGET_MS,
        "pass": statistics.median(total) <= WARM_P50_TARGET_MS,
    }


def _per_check(before: dict[str, float], after: dict[str, float], checks: int) -> dict[str, float]:
    """CPU ms per check by role, the total last."""
    spent = {role: (after[role] - before.get(role, 0.0)) * 1000 / checks for role in after}
    return {
        **{role: round(ms, 1) for role, ms in sorted(spent.items(), key=lambda r: -r[1])},
        "total": round(sum(spent.values()), 1),
    }


def _throughput(client: StageClient, stack: _Stack, app: BenchApp, checks: int) -> dict[str, Any]:
    """Checks/s: ``checks`` ready versions (rendered with no check), checked all at once."""
    versions = []
    for index in range(checks):
        session = client.sessions.create(name="bench checks/s")
        client.sessions.push_files(
            session.id, [{"path": p, "content": c} for p, c in app.variant(20_000 + index).items()]
        )
        versions.append((session.id, client.sessions.render(session.id).version))
    for session_id, version in versions:
        if (
            client.sessions.wait_for_render(session_id, version, e2e.RENDER_TIMEOUT_S).status
            != "ready"
        ):
            raise BenchError(f"render {session_id}/{version} did not become ready")
    celery = create_celery(Settings.from_env(stack.env))
    try:
        started = time.perf_counter()
        for session_id, version in versions:
            celery.send_task(
                CHECK_TASK_NAME,
                kwargs={"session_id": session_id, "version": version},
                queue=stack.env["STAGE_CHECK_QUEUE"],
            )
        for session_id, version in versions:
            record = client.sessions.wait_for_check(session_id, version, CHECK_TIMEOUT_S)
            if record.check is None:
                raise BenchError(f"no check stored for {session_id}/{version}")
        seconds = time.perf_counter() - started
    finally:
        celery.close()
    return {
        "checks": checks,
        "seconds": round(seconds, 2),
        "checks_per_s": round(checks / seconds, 2),
    }


def _render_latency(client: StageClient, app: BenchApp, counts: Counts) -> dict[str, Any]:
    samples = e2e.latency(client, app, counts.renders, counts.warmup)
    return summarize([s.e2e_ms for s in samples])


@dataclass
class _Stack:
    env: dict[str, str]
    logs: Path
    processes: list[BenchWorker] = field(default_factory=list)

    def start(self, kind: type[BenchWorker], **extra: str) -> Any:
        process = kind(
            {**self.env, **extra}, self.logs / f"{kind.__name__}-{len(self.processes)}.log"
        )
        self.processes.append(process)
        process.wait_ready()
        return process


@contextlib.contextmanager
def _services() -> Iterator[_Stack]:
    logs = GENERATED_DIR / "check-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with running_services(GENERATED_DIR / "vendor-cache", _say) as services:
        stack = _Stack(services.env, logs)
        try:
            yield stack
        finally:
            for process in stack.processes:
                process.stop()


def _table(results: dict[str, Any]) -> str:
    warm = results["warm_check"]
    lines = [
        f"warm check (inside the checker), reference app: p50 {warm['median_ms']:.0f} ms, "
        f"p95 {warm['p95_ms']:.0f} ms  [{'PASS' if warm['pass'] else 'FAIL'} "
        f"p50 <= {warm['target_p50_ms']:.0f} ms]",
        "  stages p50 ms: " + ", ".join(f"{k} {v:.0f}" for k, v in warm["stages_p50_ms"].items()),
        f"  ready -> check stored (as a gateway sees it): p50 "
        f"{warm['ready_to_stored']['median_ms']:.0f} ms",
        "checker CPU ms per check, opening the next context included: "
        + ", ".join(f"{role} {ms:.0f}" for role, ms in results["checker_cpu_ms_per_check"].items()),
        "checks/s: "
        + ", ".join(
            f"{n} checker(s) {r['checks_per_s']:.2f}" for n, r in results["checks_per_s"].items()
        ),
        "checker RSS KiB: " + ", ".join(f"{k} {v}" for k, v in results["checker_rss_kb"].items()),
        "render p50 / p95 ms: "
        + ", ".join(
            f"{label} {results[key]['median_ms']:.0f} / {results[key]['p95_ms']:.0f}"
            for label, key in (
                ("STAGE_CHECK=false", "render_check_off"),
                ("true (sent, no checker)", "render_check_on_sent"),
                ("true (checker busy beside)", "render_check_on"),
            )
        ),
    ]
    return "\n".join(lines)


def _descendants(roots: list[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _role(pid: int) -> str:
    """What a process below the checker is, from its command line (Chromium rewrites its
    own into one string, so the flag is searched for, not split out)."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    if b"run-driver" in command:
        return "Playwright driver"
    if _comm(pid) != "chromium":
        return "other"
    kind = re.search(rb"--type=([\w-]+)", command)
    return {
        None: "chromium browser",
        "zygote": "chromium renderers",
        "renderer": "chromium renderers",
        "gpu-process": "chromium gpu",
    }.get(kind[1].decode() if kind else None, "chromium utility")


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _memory_kb(pid: int, file: str, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}{file}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _say(message: str) -> None:
    print(f"bench.check: {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
