"""What collecting costs, and what it keeps: gc throughput and bytes kept per session.

    python -m bench.lifecycle [--quick]

Real services as in ``bench.run``: Redis, moto's S3 server in a process of its own, and
for the second phase one ``stage-render worker`` process.

1. **gc throughput**: sessions of 51 ready versions of 5 objects each (the shape of an
   agent's session: a render after every edit), written straight to Redis and the bucket;
   with ``STAGE_KEEP_RENDERS=1`` one :func:`worker.collector.collect` run expires 50
   versions per session and deletes their objects. 40 sessions: 10,000 objects. Reported
   as objects/s; the target is 10,000 objects in 15 s or less.
2. **bytes kept per session**: the reference app rendered 40 times in one session (a new
   start literal each time, as ``bench.run`` does), a collection after each render with
   the default ``STAGE_KEEP_RENDERS`` (20); the bytes under ``sessions/<id>/`` after each,
   beside the bytes every render uploaded. Flat after the 21st render: no later value more
   than 5% above the one after the 21st.

Prints a table and writes ``bench/results.lifecycle.json`` and the chart
``bench/results.lifecycle.png``. Exit 0 when everything was measured (a missed target
prints FAIL), 1 when the bench itself could not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.gen_apps import BENCH, GENERATED_DIR, reference
from bench.services import AWS_ENV, BenchError, BenchWorker, cpu_s, running_services
from worker.client import StageClient
from worker.lifecycle.collector import collect
from worker.lifecycle.retention import Lifecycle
from worker.settings import Settings
from worker.state.stores import RedisStores
from worker.storage import ArtifactStore, StoredObject, store_from_settings

__all__ = ["main"]

RESULTS = BENCH / "results.lifecycle.json"  # ignored by git, like results.json
CHART = BENCH / "results.lifecycle.png"
GC_TARGET_S = 15.0  # 10,000 expired objects
GC_TARGET_OBJECTS = 10_000
FLAT_TOLERANCE = 0.05  # bytes kept after render 21+ stay within 5% of render 21's
VERSIONS_PER_SESSION = 51  # 50 expire with STAGE_KEEP_RENDERS=1, the live one stays
OBJECTS_PER_VERSION = 5  # script, stylesheet, their maps... index.html, manifest.json
OBJECT_BYTES = 2048


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="1,000 objects and 25 renders, to try the harness"
    )
    args = parser.parse_args(argv)
    os.environ.update(AWS_ENV)  # the client's boto3 talks to moto, never to a real account
    sessions, renders = (4, 25) if args.quick else (40, 40)
    try:
        results = _run(sessions, renders)
    except BenchError as exc:
        print(f"bench.lifecycle: {exc}", file=sys.stderr)
        return 1
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print(_table(results))
    written = [RESULTS]
    try:
        _draw(results, CHART)
        written.append(CHART)
    except ModuleNotFoundError as exc:  # the chart is extra: the numbers stand without it
        print(
            f"bench.lifecycle: no chart ({exc}); make bench installs bench/requirements.txt",
            file=sys.stderr,
        )
    print(
        "bench.lifecycle: wrote " + " and ".join(str(w.relative_to(BENCH.parent)) for w in written)
    )
    return 0


def _run(sessions: int, renders: int) -> dict[str, Any]:
    with _services() as (env, logs, s3_pid):
        results: dict[str, Any] = {
            "load_average_at_start": os.getloadavg(),
            "cpus": os.cpu_count(),
            "gc": _gc_throughput(env, sessions, s3_pid),
        }
        worker = BenchWorker(
            {**env, "STAGE_CHECK": "false", "STAGE_GC_INTERVAL_S": "0"},
            logs / "lifecycle-worker.log",
        )
        try:
            worker.wait_ready()
            results["kept"] = _bytes_kept(env, renders)
        finally:
            worker.stop()
    return results


def _gc_throughput(env: dict[str, str], sessions: int, s3_pid: int) -> dict[str, Any]:
    settings = Settings.from_env({**env, "STAGE_KEEP_RENDERS": "1"})
    stores, store = RedisStores.connect(settings), store_from_settings(settings)
    try:
        _say(
            f"gc: writing {sessions} sessions x {VERSIONS_PER_SESSION} versions x "
            f"{OBJECTS_PER_VERSION} objects"
        )
        for _ in range(sessions):
            session_id = stores.sessions.create("bench gc").id
            for _ in range(VERSIONS_PER_SESSION):
                _ready_version(stores, store, session_id)
            Lifecycle(stores).mark_due(session_id, time.time())
        _say("gc: one collection run")
        started, s3_cpu, own_cpu = time.perf_counter(), cpu_s(s3_pid), time.process_time()
        report = collect(stores, store)
        seconds = time.perf_counter() - started
        s3_cpu, own_cpu = cpu_s(s3_pid) - s3_cpu, time.process_time() - own_cpu
    finally:
        stores.close()
    objects = report.objects_deleted
    return {
        "sessions": sessions,
        "versions_expired": report.versions_expired,
        "objects_deleted": objects,
        "bytes_deleted": report.bytes_deleted,
        "seconds": round(seconds, 3),
        "objects_per_s": round(objects / seconds, 1),
        "seconds_per_10000": round(seconds * GC_TARGET_OBJECTS / max(objects, 1), 2),
        # Where the time went: moto's S3 server (one process) and the collector itself.
        "s3_server_cpu_s": round(s3_cpu, 2),
        "collector_cpu_s": round(own_cpu, 2),
        # What 10,000 would take if neither waited for a CPU (a machine not shared).
        "cpu_s_per_10000": round((s3_cpu + own_cpu) * GC_TARGET_OBJECTS / max(objects, 1), 2),
    }


def _ready_version(stores: RedisStores, store: ArtifactStore, session_id: str) -> None:
    """A ready version and its objects, as a render leaves them."""
    record = stores.records.request(session_id)
    folder = f"sessions/{session_id}/renders/{record.version}/"
    names = ["app.js", "app.js.map", "app.css", "index.html", "manifest.json"]
    store.put_many(
        [
            StoredObject(folder + name, b"x" * OBJECT_BYTES, "text/plain")
            for name in names[:OBJECTS_PER_VERSION]
        ]
    )
    building = record.started()
    stores.records.transition(session_id, building)
    stores.records.transition(session_id, building.finished(index_key=folder + "index.html"))


def _bytes_kept(env: dict[str, str], renders: int) -> dict[str, Any]:
    settings = Settings.from_env({**env, "STAGE_CHECK": "false"})
    app = reference()
    stores, store = RedisStores.connect(settings), store_from_settings(settings)
    kept, uploaded = [], []
    total_uploaded = 0
    with StageClient(settings) as client:
        session = client.sessions.create(name="bench lifecycle")
        client.sessions.push_files(
            session.id, [{"path": p, "content": c} for p, c in app.files.items()]
        )
        _say(f"bytes kept: {renders} renders of the reference app, a collection after each")
        for n in range(1, renders + 1):
            client.sessions.push_files(
                session.id, [{"path": "/app/App.tsx", "content": app.variant(n)["/app/App.tsx"]}]
            )
            record = client.sessions.wait_for_render(
                session.id, client.sessions.render(session.id).version, 120
            )
            if record.status != "ready":
                raise BenchError(f"render {n} ended {record.status}: {record.error}")
            folder = f"sessions/{session.id}/renders/{record.version}/"
            total_uploaded += sum(o.size for o in store.list_objects(folder))
            collect(stores, store)
            kept.append(sum(o.size for o in store.list_objects(f"sessions/{session.id}/")))
            uploaded.append(total_uploaded)
    stores.close()
    keep = settings.keep_renders
    after = kept[keep:] if len(kept) > keep else []
    growth = (max(after) / kept[keep] - 1) if len(after) > 1 else None
    return {
        "keep_renders": keep,
        "renders": renders,
        "bytes_kept": kept,
        "bytes_uploaded": uploaded,
        "growth_after_keep": growth,
    }


def _table(r: dict[str, Any]) -> str:
    gc, kept = r["gc"], r["kept"]
    gc_ok = gc["seconds_per_10000"] <= GC_TARGET_S
    load = r["load_average_at_start"][0]
    lines = [
        *(
            [
                f"WARNING: load average {load:.1f} on {r['cpus']} CPUs at the start: numbers from "
                "a busy machine are inflated"
            ]
            if load > (r["cpus"] or 1)
            else []
        ),
        f"gc: {gc['objects_deleted']} objects ({gc['versions_expired']} versions, "
        f"{gc['bytes_deleted']} bytes) in {gc['seconds']:.2f} s = {gc['objects_per_s']:.0f} "
        f"objects/s; 10,000 in {gc['seconds_per_10000']:.2f} s (target <= {GC_TARGET_S:g} s) "
        + ("PASS" if gc_ok else "FAIL")
        + f" [CPU: S3 server {gc['s3_server_cpu_s']:.1f} s, collector "
        f"{gc['collector_cpu_s']:.1f} s; {gc['cpu_s_per_10000']:.1f} CPU-s per 10,000]",
    ]
    growth = kept["growth_after_keep"]
    if growth is None:
        lines.append(f"bytes kept: {kept['renders']} renders are too few to show the plateau")
    else:
        flat = growth <= FLAT_TOLERANCE
        lines.append(
            f"bytes kept per session (STAGE_KEEP_RENDERS={kept['keep_renders']}): "
            f"{kept['bytes_kept'][kept['keep_renders']]} after render "
            f"{kept['keep_renders'] + 1}, {kept['bytes_kept'][-1]} after render "
            f"{kept['renders']} (+{growth * 100:.1f}%, target <= {FLAT_TOLERANCE * 100:g}%) "
            + ("PASS" if flat else "FAIL")
            + f"; uploaded in all: {kept['bytes_uploaded'][-1]}"
        )
    return "\n".join(lines)


def _draw(r: dict[str, Any], path: Path) -> None:
    """Bytes kept in the session's folder, and bytes uploaded in all, against renders."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kept = r["kept"]
    renders = list(range(1, len(kept["bytes_kept"]) + 1))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(
        renders,
        [b / 1024 for b in kept["bytes_uploaded"]],
        label="uploaded in all",
        color="#bbbbbb",
        linestyle="--",
    )
    ax.plot(
        renders,
        [b / 1024 for b in kept["bytes_kept"]],
        label="kept (after gc)",
        color="#1f77b4",
        marker="o",
        markersize=3,
    )
    ax.axvline(kept["keep_renders"] + 1, color="#999999", linewidth=0.8)
    ax.set_xlabel("renders of the reference app in one session")
    ax.set_ylabel("KiB under sessions/<id>/")
    ax.set_title(
        f"Bytes kept per session, STAGE_KEEP_RENDERS={kept['keep_renders']}; "
        f"gc {r['gc']['objects_per_s']:.0f} objects/s"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@contextlib.contextmanager
def _services() -> Iterator[tuple[dict[str, str], Path, int]]:
    logs = GENERATED_DIR / "lifecycle-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with running_services(GENERATED_DIR / "vendor-cache", _say) as services:
        yield services.env, logs, services.s3.pid


def _say(message: str) -> None:
    print(f"bench.lifecycle: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
