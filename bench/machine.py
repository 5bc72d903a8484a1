"""The machine a run measured: versions, size, and how quiet the rest of it kept."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import celery
import moto

from bench.baselines import esbuild_version, vite_version
from bench.services import ROOT

__all__ = ["CpuMeter", "environment"]


def environment() -> dict[str, Any]:
    """Versions, CPU and memory, the commit, and how busy the CPUs were just before."""

    def output(*command: str) -> str:
        try:
            return subprocess.run(
                command, capture_output=True, text=True, cwd=ROOT, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        # Another busy process inflates every number: say so rather than hide it.
        "cpu_busy_before_pct": _cpu_busy_pct(1.0),
        "load_average_before": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "node": output("node", "--version"),
        "esbuild": esbuild_version(),
        "vite": vite_version(),
        "celery": celery.__version__,
        "boto3": boto3.__version__,
        "moto": moto.__version__,
        "git_commit": output("git", "rev-parse", "HEAD"),
        "git_dirty": bool(output("git", "status", "--porcelain", "--untracked-files=no")),
    }


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _cpu_busy_pct(seconds: float) -> float:
    """Share of all CPUs busy over ``seconds``, before the bench starts anything."""
    busy_before, total_before = _cpu_jiffies()
    time.sleep(seconds)
    busy_after, total_after = _cpu_jiffies()
    return round(100 * (busy_after - busy_before) / max(1, total_after - total_before), 1)


class CpuMeter:
    """CPU the rest of the machine used while the bench ran: all busy time less ours.

    Ours is this process and every child it waited for (builds, workers and their pool
    children and esbuild services, moto, a Redis started here). A shared Redis counts as
    the rest of the machine, though it serves the bench too.
    """

    def __init__(self) -> None:
        self._busy, self._total = _cpu_jiffies()
        self._ours = self._own_cpu_s()

    @staticmethod
    def _own_cpu_s() -> float:
        return sum(
            u.ru_utime + u.ru_stime
            for u in (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
        )

    def others_pct(self) -> float:
        busy, total = _cpu_jiffies()
        ticks_per_s = os.sysconf("SC_CLK_TCK")
        others_s = (busy - self._busy) / ticks_per_s - (self._own_cpu_s() - self._ours)
        return round(max(0.0, 100 * others_s * ticks_per_s / max(1, total - self._total)), 1)
