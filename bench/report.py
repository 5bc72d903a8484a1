"""Numbers in, verdicts out: summaries, the performance targets the README lists, the table
and the chart.

Every ratio compares medians (or a p95 with a median) measured in the same run. A target
that is missed prints FAIL; nothing here rounds, clamps or drops a sample.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["STAGES", "summarize", "percentile", "check_targets", "format_table", "draw"]

#: The worker's own stage timings (``timingsMs``), in the order a render runs them.
STAGES = ("record", "gather", "bundle", "css", "shell", "upload")
#: Other processes using more of the CPUs than this, and the table says it was not quiet.
QUIET_BUSY_PCT = 10.0


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(samples: Sequence[float]) -> dict[str, Any]:
    """Median, p95, min and max of ``samples`` (ms), and the samples in the order taken."""
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "samples_ms": [round(s, 2) for s in samples],
    }


def _target(
    name: str, value: float, limit: float, *, at_least: bool = False, detail: str = ""
) -> dict[str, Any]:
    passed = value >= limit if at_least else value <= limit
    return {
        "name": name,
        "value": round(value, 3),
        "limit": limit,
        "op": ">=" if at_least else "<=",
        "pass": passed,
        "detail": detail,
    }


def check_targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The performance targets the README lists, from one run's results."""
    esb, vite, wk = r["esbuild_cli"], r["vite_build"], r["worker"]
    ref_esb, ref_wk = esb["reference"]["median_ms"], wk["reference"]
    big, mid = "modules-1000", "modules-100"
    tput = r["throughput"]
    rss = r["peak_rss_mb"]
    return [
        _target(
            "e2e p50 vs bare esbuild CLI (reference app)",
            ref_wk["median_ms"] / ref_esb,
            0.5,
            detail=f"{ref_wk['median_ms']:.1f} ms / {ref_esb:.1f} ms",
        ),
        _target(
            "e2e p95 vs bare esbuild CLI (reference app)",
            ref_wk["p95_ms"] / ref_esb,
            1.0,
            detail=f"{ref_wk['p95_ms']:.1f} ms / {ref_esb:.1f} ms",
        ),
        _target(
            "e2e p50 vs vite build (reference app)",
            ref_wk["median_ms"] / vite["reference"]["median_ms"],
            0.05,
            detail=f"{ref_wk['median_ms']:.1f} ms / {vite['reference']['median_ms']:.0f} ms",
        ),
        _target(
            "renders/s, 2 workers vs 1",
            tput["2"]["renders_per_s"] / tput["1"]["renders_per_s"],
            1.7,
            at_least=True,
            detail=f"{tput['2']['renders_per_s']:.1f} / {tput['1']['renders_per_s']:.1f}",
        ),
        _target(
            "e2e p50, 1,000-module app vs 100-module app",
            wk[big]["median_ms"] / wk[mid]["median_ms"],
            12.0,
            detail=f"{wk[big]['median_ms']:.0f} ms / {wk[mid]['median_ms']:.0f} ms",
        ),
        _target(
            "e2e p50 vs bare esbuild CLI (1,000-module app)",
            wk[big]["median_ms"] / esb[big]["median_ms"],
            2.0,
            detail=f"{wk[big]['median_ms']:.0f} ms / {esb[big]['median_ms']:.0f} ms",
        ),
        _target(
            "worker process peak RSS, MB (main and pool)",
            max(rss["main"], rss["pool"]),
            150.0,
            detail=f"main {rss['main']:.0f}, pool child {rss['pool']:.0f}; "
            f"esbuild service {rss['esbuild']:.0f} (not a worker process)",
        ),
        *_big_app_targets(r),
        *_fidelity_targets(r),
    ]


def _big_app_targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """400 and 1,000 modules against the esbuild CLI built between the renders, on each
    render's files (``side_by_side``): e2e p50 ≤ 1.0x, and the worker's own work ≤ 0.5x,
    its own work being the median of each render's e2e minus esbuild's own bundling time
    of the same files measured right after it (the worker's flags as a plain request to a
    kept esbuild service: no plugin, no Python)."""
    ref = r["worker"]["reference"]
    ref_own = ref["stages_ms"].get("total", 0.0) - ref["stages_ms"].get("upload", 0.0)
    ref_cli = r["esbuild_cli"]["reference"]["median_ms"]
    targets = [
        _target(
            "worker's own work p50 (total - upload) vs bare esbuild CLI (reference app)",
            ref_own / ref_cli,
            0.15,
            detail=f"{ref_own:.1f} ms / {ref_cli:.1f} ms",
        )
    ]
    for name in ("modules-400", "modules-1000"):
        side = r.get("side_by_side", {}).get(name)
        if side is None or name not in r["worker"]:
            continue
        cli = side["esbuild_cli"]["median_ms"]
        e2e = r["worker"][name]["median_ms"]
        targets.append(
            _target(
                f"e2e p50 vs bare esbuild CLI, side by side ({name})",
                e2e / cli,
                1.0,
                detail=f"{e2e:.0f} ms / {cli:.0f} ms",
            )
        )
        own, esbuild = side["own_work"]["median_ms"], side["esbuild_service"]["median_ms"]
        targets.append(
            _target(
                f"worker's own work (e2e - esbuild's own bundling) vs CLI ({name})",
                own / cli,
                0.5,
                detail=f"{own:.0f} ms / {cli:.0f} ms; esbuild's own bundling p50 {esbuild:.0f} ms",
            )
        )
    return targets


def _fidelity_targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets for apps as AI builders write them (Tailwind, shadcn/ui), same run."""
    fid, esb = r["worker_fidelity"]["shadcn"], r["esbuild_cli_fidelity"]["shadcn"]
    ref_css = r["worker"]["reference"]["stages_ms"].get("css", 0.0)
    own, cold, rss = fid["own_work_ms"]["median_ms"], r["cold_start"], r["peak_rss_mb"]
    targets = [
        _target("css stage median, ms (reference app)", ref_css, 10.0),
        _target(
            "css stage median, ms (11-file shadcn/Tailwind app)",
            fid["stages_ms"].get("css", 0.0),
            30.0,
        ),
        _target(
            "worker's own work p50 (total - upload) vs bare esbuild CLI (shadcn app)",
            own / esb["median_ms"],
            0.25,
            detail=f"{own:.1f} ms / {esb['median_ms']:.1f} ms",
        ),
        _target(
            "first render after a cold start (empty vendor cache), s",
            cold["first_render_ready_s"],
            30.0,
            detail=f"worker ready after {cold['worker_ready_s']:.1f} s",
        ),
        _target(
            "peak RSS of each process, MB (main, pool, esbuild, tailwind)",
            max(rss.values()),
            200.0,
            detail=", ".join(f"{kind} {mb:.0f}" for kind, mb in rss.items()),
        ),
    ]
    weight = r.get("page_weight")
    if weight:
        targets.append(
            _target(
                "page JavaScript vs esbuild --bundle --minify (weight app)",
                weight["ratio"],
                1.25,
                detail=weight["detail"],
            )
        )
    return targets


def format_table(r: dict[str, Any]) -> str:
    """The table `make bench` prints."""
    lines = [
        f"make bench — {r['environment']['cpu_count']} CPUs, "
        f"esbuild {r['environment']['esbuild']}, vite {r['environment']['vite']}, "
        f"{r['environment']['started_at']}"
    ]
    if r.get("quick"):
        lines.append("--quick: a few runs of each; these numbers are not measurements")
    env = r["environment"]
    if max(env["cpu_busy_before_pct"], env["others_cpu_pct"]) > QUIET_BUSY_PCT:
        lines.append(
            f"WARNING: the machine was not quiet: other processes kept "
            f"{env['cpu_busy_before_pct']:.0f}% of the CPUs busy before the bench and "
            f"{env['others_cpu_pct']:.0f}% during it; every number below is inflated"
        )
    lines.append("")
    head = (
        f"{'app':<13}{'modules':>8}{'esbuild CLI':>13}{'(React ext)':>13}{'vite build':>12}"
        f"{'worker p50':>12}{'worker p95':>12}{'p50/esbuild':>13}{'p50/vite':>10}"
    )
    lines += [head, "-" * len(head)]
    for name, app in r["apps"].items():
        esb = r["esbuild_cli"][name]["median_ms"]
        vite = r["vite_build"][name]["median_ms"]
        wk = r["worker"][name]
        lines.append(
            f"{name:<13}{app['modules']:>8}{esb:>10.1f} ms"
            f"{r['esbuild_cli_react_external'][name]['median_ms']:>10.1f} ms{vite:>9.0f} ms"
            f"{wk['median_ms']:>9.1f} ms{wk['p95_ms']:>9.1f} ms"
            f"{wk['median_ms'] / esb:>12.2f}x{wk['median_ms'] / vite:>9.3f}x"
        )
    lines += [
        "",
        "worker stages, median ms (wait = e2e - the worker's total: broker hop, "
        "pick-up, notification)",
    ]
    head = (
        f"{'app':<13}{'n':>4}{'wait':>8}"
        + "".join(f"{s:>8}" for s in STAGES)
        + f"{'total':>8}{'e2e p50':>9}"
    )
    lines += [head, "-" * len(head)]
    rows = [(name, wk) for name, wk in r["worker"].items()]
    rows += [(name, wk) for name, wk in r["worker_fidelity"].items()]
    rows += [(f"{name} novendor", wk) for name, wk in r["worker_no_vendor"].items()]
    for name, wk in rows:
        stages = "".join(f"{wk['stages_ms'].get(s, 0.0):>8.1f}" for s in STAGES)
        lines.append(
            f"{name:<13}{wk['n']:>4}{wk['wait_ms']:>8.1f}{stages}"
            f"{wk['stages_ms'].get('total', 0.0):>8.1f}{wk['median_ms']:>9.1f}"
        )
    lines.append("")
    floor = r.get("s3_put")
    if floor:
        ref = r["worker"]["reference"]
        without = ref["median_ms"] - ref["stages_ms"].get("upload", 0.0)
        esb = r["esbuild_cli"]["reference"]["median_ms"]
        lines.append(
            f"S3 floor (moto over HTTP): one 2 KB PUT {floor['1']['median_ms']:.1f} ms, "
            f"2 at once {floor['2']['median_ms']:.1f} ms, 4 at once "
            f"{floor['4']['median_ms']:.1f} ms; reference p50 without its upload "
            f"stage {without:.1f} ms = {without / esb:.2f}x the esbuild CLI"
        )
    with_v = r["worker"]["reference"]["median_ms"]
    without = r["worker_no_vendor"]["reference"]["median_ms"]
    lines.append(
        f"vendor chunks: reference p50 {with_v:.1f} ms with, {without:.1f} ms without "
        f"(STAGE_VENDOR=0): {without / with_v:.2f}x faster with them"
    )
    lines.append(
        "growth with module count (median): "
        + _growth("esbuild CLI", r["esbuild_cli"])
        + "; "
        + _growth("worker", r["worker"])
    )
    for name, ways in r.get("service_vs_process", {}).items():
        service, process = ways["service"]["median_ms"], ways["process"]["median_ms"]
        full = ways["bundler"]["median_ms"]
        lines.append(
            f"bundling {name}, the worker's flags: one esbuild process per build "
            f"{process:.1f} ms, the kept esbuild service {service:.1f} ms "
            f"({process / service:.2f}x faster), Bundler.build with import rules "
            f"and output checks {full:.1f} ms"
        )
    for name, side in r.get("side_by_side", {}).items():
        e2e = r["worker"][name]["median_ms"]
        cli = side["esbuild_cli"]["median_ms"]
        lines.append(
            f"{name} side by side (a CLI and a service build after each render): e2e p50 "
            f"{e2e:.1f} ms, esbuild CLI {cli:.1f} ms ({e2e / cli:.2f}x), esbuild's own "
            f"bundling (service, no plugin) {side['esbuild_service']['median_ms']:.1f} ms, "
            f"the worker's own work (e2e - that) {side['own_work']['median_ms']:.1f} ms "
            f"({side['own_work']['median_ms'] / cli:.2f}x)"
        )
    tput = r["throughput"]
    lines.append(
        f"throughput ({tput['renders']} renders of the reference app submitted at "
        f"once): 1 worker {tput['1']['renders_per_s']:.1f}/s, 2 workers "
        f"{tput['2']['renders_per_s']:.1f}/s "
        f"({tput['2']['renders_per_s'] / tput['1']['renders_per_s']:.2f}x)"
    )
    for workers in ("1", "2"):
        cpu = tput[workers]["cpu_ms_per_render"]
        roles = ", ".join(f"{role} {ms:.0f}" for role, ms in cpu.items() if role != "total")
        cpus = r["environment"]["cpu_count"]
        lines.append(
            f"  CPU ms per render, {workers} worker(s): {roles}; total {cpu['total']:.0f}"
            f" -> at most {cpus * 1000 / cpu['total']:.1f} renders/s on {cpus} CPUs"
        )
    rss = r["peak_rss_mb"]
    lines.append(
        f"peak RSS (VmHWM): worker main {rss['main']:.0f} MB, pool child "
        f"{rss['pool']:.0f} MB, esbuild service {rss['esbuild']:.0f} MB, "
        f"Tailwind service {rss['tailwind']:.0f} MB"
    )
    fid = r["worker_fidelity"]["shadcn"]
    esb = r["esbuild_cli_fidelity"]["shadcn"]["median_ms"]
    lines.append(
        f"shadcn (11 files: shadcn/ui components, Tailwind, radix, lucide): "
        f"bare esbuild CLI {esb:.1f} ms; worker e2e p50 {fid['median_ms']:.1f} ms, "
        f"own work (total - upload) p50 {fid['own_work_ms']['median_ms']:.1f} ms, "
        f"css {fid['stages_ms'].get('css', 0.0):.1f} ms"
    )
    cold = r["cold_start"]
    lines.append(
        f"cold start (empty vendor cache): worker ready {cold['worker_ready_s']:.1f} s, "
        f"first render ready {cold['first_render_ready_s']:.1f} s after its start"
    )
    lines += ["", "targets (same run):"]
    for t in r["targets"]:
        verdict = "PASS" if t["pass"] else "FAIL"
        lines.append(
            f"  {verdict}  {t['name']}: {t['value']:.2f} {t['op']} {t['limit']:g}  ({t['detail']})"
        )
    return "\n".join(lines)


def _growth(label: str, by_app: dict[str, Any]) -> str:
    m10, m100, m1000 = (by_app[f"modules-{n}"]["median_ms"] for n in (10, 100, 1000))
    return f"{label} 100/10 {m100 / m10:.1f}x, 1000/100 {m1000 / m100:.1f}x"


def draw(r: dict[str, Any], path: Path) -> None:
    """results.png: per app, where the worker's time goes beside the one-shot builds; then
    latency against module count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    apps = list(r["apps"])
    fig = plt.figure(figsize=(15, 9), layout="constrained")
    grid = fig.add_gridspec(2, len(apps))
    palette = plt.get_cmap("tab10")
    colors = {stage: palette(i) for i, stage in enumerate(("wait", *STAGES))}
    for column, name in enumerate(apps):
        ax = fig.add_subplot(grid[0, column])
        bars = [("worker", r["worker"][name])]
        if name in r["worker_no_vendor"]:
            bars.append(("worker, no vendor", r["worker_no_vendor"][name]))
        labels = []
        for row, (label, wk) in enumerate(bars):
            left = 0.0
            for stage in ("wait", *STAGES):
                ms = wk["wait_ms"] if stage == "wait" else wk["stages_ms"].get(stage, 0.0)
                ax.barh(
                    row,
                    ms,
                    left=left,
                    color=colors[stage],
                    label=stage if column == 0 and row == 0 else None,
                )
                left += ms
            labels.append(f"{label}\n(p50 {wk['median_ms']:.0f} ms)")
        for label, key, color in (
            ("esbuild CLI", "esbuild_cli", "0.35"),
            ("vite build", "vite_build", "0.7"),
        ):
            ax.barh(len(labels), r[key][name]["median_ms"], color=color)
            labels.append(f"{label}\n({r[key][name]['median_ms']:.0f} ms)")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ms (median)")
        ax.set_title(f"{name} ({r['apps'][name]['modules']} modules)")
    fig.legend(loc="outside upper center", ncols=len(STAGES) + 1, title="worker stages")
    ax = fig.add_subplot(grid[1, :])
    names = [n for n in apps if n.startswith("modules-")]
    modules = [r["apps"][n]["modules"] for n in names]
    for label, key, style in (
        ("worker e2e p50", "worker", "o-"),
        ("bare esbuild CLI", "esbuild_cli", "s--"),
        ("esbuild CLI, React external", "esbuild_cli_react_external", "s:"),
        ("vite build", "vite_build", "^-."),
    ):
        ax.plot(modules, [r[key][n]["median_ms"] for n in names], style, label=label)
    ax.plot(
        modules,
        [r["worker"][n]["stages_ms"].get("bundle", 0.0) for n in names],
        "o:",
        label="worker bundle stage",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("TSX modules")
    ax.set_ylabel("ms (median)")
    ax.set_title("latency by module count")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)
