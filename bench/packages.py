"""What the package allowlist costs: the cold vendor build, a shadcn app's bundle stage,
and the esbuild service's memory.

    python -m bench.packages [--runs 20]

1. cold: every vendor chunk built from nothing (a fresh cache), as a worker's first start
   after a lock change does. Target: at most :data:`COLD_TARGET_S` seconds.
2. bundle stage: ``Bundler.build`` of ``bench/apps/shadcn`` (ten files: shadcn/ui button,
   card, dialog, dropdown menu, tabs, input, label, tooltip, ``cn()``, lucide icons), warm,
   each run with a new App.tsx literal; against bare ``esbuild --bundle --minify`` of the
   same app, one process per run.
3. RSS of the page-building esbuild service after those builds, and the peak RSS of the
   vendor build's own esbuild service, which stops when it is done.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.baselines import esbuild_cli, write_esbuild_project
from bench.gen_apps import folder_app
from bundler import Bundler, SourceFile

__all__ = ["COLD_TARGET_S", "main"]

COLD_TARGET_S = 30.0


def _rss_kb(pid: int | None) -> int | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.packages", description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    app = folder_app("shadcn")
    with tempfile.TemporaryDirectory(prefix="stage-packages-") as tmp:
        bundler = Bundler(vendor_cache=Path(tmp) / "vendor")
        try:
            started = time.perf_counter()
            vendor = bundler.load_vendor()
            cold_s = time.perf_counter() - started
            # The vendor build's esbuild service has exited: the largest child so far.
            vendor_peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            assert vendor is not None
            samples = []
            for n in range(args.runs + 3):  # three warm-ups
                files = app.variant(n)
                sources = [SourceFile(p, t.encode("utf-8")) for p, t in files.items()]
                started = time.perf_counter()
                bundle = bundler.build(sources)
                if n >= 3:
                    samples.append((time.perf_counter() - started) * 1000)
            rss = _rss_kb(bundler.service.pid)
        finally:
            bundler.close()
        entry = write_esbuild_project(app, Path(tmp) / "cli")
        cli = esbuild_cli(entry, args.runs)
    verdict = "PASS" if cold_s <= COLD_TARGET_S else "FAIL"
    print(
        f"cold vendor build: {cold_s:.1f} s for {len(vendor.chunks)} chunks "
        f"(target <= {COLD_TARGET_S:.0f} s): {verdict}"
    )
    print(
        f"shadcn app, Bundler.build warm: median {statistics.median(samples):.1f} ms "
        f"(min {min(samples):.1f}, max {max(samples):.1f}, {len(samples)} runs); "
        f"{len(bundle.page.vendor_scripts)} vendor scripts"
    )
    cli_ms = statistics.median(cli.samples_ms)
    print(
        f"shadcn app, esbuild --bundle --minify CLI: median {cli_ms:.1f} ms "
        f"({len(cli.samples_ms)} runs)"
    )
    print(f"esbuild service RSS after the builds: {rss} kB" if rss else "esbuild service gone")
    print(f"vendor build's esbuild service (stopped after it): peak RSS {vendor_peak_kb} kB")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
