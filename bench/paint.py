"""From ``render()`` to the page's first contentful paint, as a person editing sees it.

    .venv/bin/python -m bench.paint [--quick]    # writes bench/results.paint.json

Redis, moto's S3 server in a process of its own, one ``stage-render worker --concurrency 1``
and headless Chromium (``STAGE_CHROMIUM_PATH``, default /usr/bin/chromium) driven by
Playwright. For each app, every render gets a new start literal (pushed, untimed); then,
timed: ``sessions.render()``, ``wait_for_render()`` until ``ready``, and the version's URL
opened in the same tab (one browser context and tab per app), over HTTP from the store
(moto), as a preview pane reloads after an edit: the shared scripts (the
overlay, vendor chunks) come from the browser's cache after the first render, as they do
for a person, and the version's own script, stylesheet and index.html are new every time.
FCP is read from the Performance API (``first-contentful-paint``).

Per render it records (medians printed, all samples written):

- ``render``: ``render()`` called → the ``ready`` record seen by the client;
- ``open``: ready → the navigation's start (``performance.timeOrigin``): the tab told to
  load the new version (Playwright's call) and leaving the last one;
- ``document``: navigation start → the document's last byte (``responseEnd``);
- ``scripts``: the document's last byte → the last script's last byte (the page's own
  script, the overlay and the vendor chunks, from the store or the browser's cache);
- ``paint``: navigation start → first contentful paint (includes ``document``, ``scripts``
  and running them: React's first render);
- ``total``: ``render()`` called → first contentful paint (``render`` + ``open`` + ``paint``).

Targets: total p50 ≤ 150 ms for the reference app, ≤ 300 ms for the shadcn app; the 90-file
Lovable-shaped app is reported.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.gen_apps import BENCH, BenchApp, lovable, reference, shadcn
from bench.report import percentile
from bench.services import AWS_ENV, BenchError, BenchWorker, running_services
from worker.client import StageClient
from worker.settings import DEFAULT_CHROMIUM_PATH, Settings

__all__ = ["main", "TARGETS_MS"]

RESULTS = BENCH / "results.paint.json"
#: render() → first contentful paint, p50, per app; None: reported, no target.
TARGETS_MS: dict[str, float | None] = {"reference": 150.0, "shadcn": 300.0, "lovable-90": None}
PARTS = ("render", "open", "document", "scripts", "paint", "total")
_LOAD_TIMEOUT_MS = 30_000
_variants = itertools.count(1_000_000)  # above bench.e2e's, for a run sharing its sessions

#: Runs in the page once FCP happened (or resolves with null after the load plus a second
#: without one): the paint entry and the timings of the navigation and of every script.
_READ_TIMINGS = """
() => new Promise((resolve) => {
  const answer = (fcp) => {
    const nav = performance.getEntriesByType("navigation")[0];
    const scripts = performance.getEntriesByType("resource")
      .filter((r) => r.initiatorType === "script")
      .map((r) => ({name: r.name, responseEnd: r.responseEnd, transferSize: r.transferSize}));
    resolve({
      fcp,
      timeOrigin: performance.timeOrigin,
      responseEnd: nav ? nav.responseEnd : null,
      scripts,
    });
  };
  const seen = performance.getEntriesByName("first-contentful-paint")[0];
  if (seen) { answer(seen.startTime); return; }
  new PerformanceObserver((list, observer) => {
    const entry = list.getEntriesByName("first-contentful-paint")[0];
    if (entry) { observer.disconnect(); answer(entry.startTime); }
  }).observe({type: "paint", buffered: true});
  setTimeout(() => answer(null), 1000);
})
"""


@dataclass
class PaintSample:
    """One render of one app, from ``render()`` to its first contentful paint (ms)."""

    parts_ms: dict[str, float]
    scripts: int
    script_bytes: int
    script_timings: list[dict[str, Any]]  # each script: its name, end (ms), bytes transferred
    stages_ms: dict[str, float] = field(default_factory=dict)  # the worker's timingsMs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paint", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few runs: numbers mean little")
    args = parser.parse_args(argv)
    os.environ.update(AWS_ENV)  # the client's boto3 talks to moto, never to a real account
    warmup, renders = (2, 4) if args.quick else (5, 20)
    apps = [reference(), shadcn(), lovable()]
    try:
        results = _run(apps, warmup, renders)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print()
    for name, app in results["apps"].items():
        medians = app["median_ms"]
        target = TARGETS_MS.get(name)
        verdict = (
            f" (target ≤ {target:.0f}) {'PASS' if medians['total'] <= target else 'FAIL'}"
            if target is not None
            else " (reported)"
        )
        print(
            f"{name}: render → first contentful paint p50 {medians['total']:.1f} ms, "
            f"p95 {app['p95_ms']['total']:.1f} ms{verdict}"
        )
        print(
            "  parts p50 (ms): "
            + ", ".join(f"{part} {medians[part]:.1f}" for part in PARTS if part != "total")
            + f"; worker stages p50: {app['stages_median_ms']}"
        )
    print(f"\nwrote {RESULTS}")
    return 0


def _run(apps: list[BenchApp], warmup: int, renders: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("STAGE_CHROMIUM_PATH", DEFAULT_CHROMIUM_PATH)
    if not Path(chromium).exists():
        raise BenchError(f"no Chromium at {chromium} (STAGE_CHROMIUM_PATH)")
    results: dict[str, Any] = {
        "warmup": warmup,
        "renders": renders,
        "load_average_before": os.getloadavg()[0],
        "apps": {},
    }
    with tempfile.TemporaryDirectory(prefix="stage-bench-paint-") as folder:
        work = Path(folder)
        with running_services(work / "vendor-cache", _say) as services:
            worker = BenchWorker(services.env, work / "worker.log")
            client = StageClient(Settings.from_env(services.env))
            try:
                worker.wait_ready()
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=chromium,
                        headless=True,
                        args=["--no-sandbox"] if os.geteuid() == 0 else [],
                    )
                    try:
                        for app in apps:
                            _say(f"render → first paint: {app.name}, {warmup} + {renders}")
                            samples = _paint_samples(client, browser, app, warmup, renders)
                            results["apps"][app.name] = _summary(samples)
                    finally:
                        browser.close()
            finally:
                client.close()
                worker.stop()
    results["load_average_after"] = os.getloadavg()[0]
    return results


def _paint_samples(
    client: StageClient, browser: Any, app: BenchApp, warmup: int, renders: int
) -> list[PaintSample]:
    session = client.sessions.create(name=f"bench paint {app.name}")
    client.sessions.push_files(
        session.id, [{"path": path, "content": text} for path, text in app.files.items()]
    )
    context = browser.new_context()
    page = context.new_page()  # one tab, sent to each new version: a preview reloading
    samples = []
    try:
        for index in range(warmup + renders):
            app_file = app.variant(next(_variants))[app.app_file]
            client.sessions.push_files(session.id, [{"path": app.app_file, "content": app_file}])
            started = time.time() * 1000  # epoch ms: the browser's timeOrigin is one too
            ticket = client.sessions.render(session.id)
            record = client.sessions.wait_for_render(session.id, ticket.version, 120.0)
            ready = time.time() * 1000
            if record.status != "ready" or not record.url:
                raise BenchError(f"{app.name}: render {record.version} ended {record.status}")
            page.goto(record.url, wait_until="load", timeout=_LOAD_TIMEOUT_MS)
            seen = page.evaluate(_READ_TIMINGS)
            if seen["fcp"] is None:
                raise BenchError(f"{app.name}: {record.url} never painted any content")
            if index < warmup:
                continue
            origin, fcp = seen["timeOrigin"], seen["fcp"]
            document = seen["responseEnd"] or 0.0
            last_script = max((s["responseEnd"] for s in seen["scripts"]), default=document)
            samples.append(
                PaintSample(
                    {
                        "render": ready - started,
                        "open": origin - ready,
                        "document": document,
                        "scripts": max(0.0, last_script - document),
                        "paint": fcp,
                        "total": origin + fcp - started,
                    },
                    len(seen["scripts"]),
                    sum(s["transferSize"] for s in seen["scripts"]),
                    [
                        {
                            "name": s["name"].rsplit("/", 1)[-1],
                            "response_end_ms": round(s["responseEnd"], 1),
                            "transfer_bytes": s["transferSize"],
                        }
                        for s in seen["scripts"]
                    ],
                    dict(record.timings_ms),
                )
            )
    finally:
        context.close()
    return samples


def _summary(samples: list[PaintSample]) -> dict[str, Any]:
    stages = sorted({k for s in samples for k in s.stages_ms})
    return {
        "median_ms": {
            part: round(statistics.median(s.parts_ms[part] for s in samples), 1) for part in PARTS
        },
        "p95_ms": {
            part: round(percentile([s.parts_ms[part] for s in samples], 0.95), 1) for part in PARTS
        },
        "stages_median_ms": {
            stage: round(statistics.median(s.stages_ms.get(stage, 0.0) for s in samples), 1)
            for stage in stages
        },
        "scripts": samples[-1].scripts,
        "last_render_scripts": samples[-1].script_timings,
        "script_bytes_transferred_median": statistics.median(s.script_bytes for s in samples),
        "samples_ms": [{k: round(v, 1) for k, v in s.parts_ms.items()} for s in samples],
    }


def _say(message: str) -> None:
    print(f"bench: {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
