"""The two one-shot builds the worker is measured against, each a fresh process per run.

1. bare esbuild: the native binary pinned by ``bundler/runtime``, ``--bundle --minify``
   of the app with React, resolved through ``NODE_PATH=bundler/runtime/node_modules``.
2. ``vite build`` (Vite 8 from ``bench/node_modules``) of the same files.

Both start from the entry the worker generates for ``/app/App.tsx`` (mount the default
export into ``#root``), and both build for production (``NODE_ENV=production``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.gen_apps import BENCH, BenchApp, mount_source, write_files
from bench.services import BenchError
from bundler import Runtime
from bundler.protocol import BuildRequest

__all__ = [
    "Timed",
    "esbuild_cli",
    "vite_build",
    "write_esbuild_project",
    "write_vite_project",
    "esbuild_version",
    "vite_version",
    "service_vs_process",
]

VITE_JS = BENCH / "node_modules" / "vite" / "bin" / "vite.js"
_ESBUILD_FLAGS = [
    "--bundle",
    "--minify",
    "--jsx=automatic",
    "--log-level=warning",
    '--define:process.env.NODE_ENV="production"',
]
_INDEX_HTML = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>bench</title></head>
  <body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body>
</html>
"""
_VITE_CONFIG = """import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({ plugins: [react()], logLevel: "warn" });
"""


@dataclass(frozen=True)
class Timed:
    """Wall times of repeated runs of one command, and the size of what it wrote."""

    samples_ms: list[float]
    output_bytes: int


def write_esbuild_project(app: BenchApp, root: Path) -> Path:
    """The app's files plus ``entry.jsx`` under ``root``; returns the entry.

    ``root`` must lie outside any folder with a node_modules, so React comes from NODE_PATH.
    """
    write_files(root, app.files)
    if app.entry is not None:  # a Vite app: its own main.tsx mounts it and imports its CSS
        return root / app.entry.lstrip("/")
    entry = root / "entry.jsx"
    entry.write_text(mount_source("./app/App"), "utf-8")
    return entry


def write_vite_project(app: BenchApp, root: Path) -> Path:
    """index.html, src/main.tsx and vite.config.mjs around the app's files, under bench/."""
    if not root.resolve().is_relative_to(BENCH):
        raise ValueError(f"{root}: a Vite project must sit under {BENCH} to find node_modules")
    write_files(root, app.files)
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "main.tsx").write_text(mount_source("../app/App"), "utf-8")
    (root / "index.html").write_text(_INDEX_HTML, "utf-8")
    (root / "vite.config.mjs").write_text(_VITE_CONFIG, "utf-8")
    return root


def esbuild_cli(entry: Path, runs: int, *, react_external: bool = False) -> Timed:
    """``runs`` builds of ``entry`` by the pinned binary, one process each."""
    runtime = Runtime()
    out = entry.parent / ("out-external" if react_external else "out")
    command = [str(runtime.binary), entry.name, *_ESBUILD_FLAGS, f"--outdir={out}"]
    if react_external:
        command += [
            "--external:react",
            "--external:react-dom",
            "--external:react/*",
            "--external:react-dom/*",
        ]
    env = {**os.environ, "NODE_PATH": str(runtime.node_modules)}
    samples = [_timed_run(command, entry.parent, env) for _ in range(runs)]
    return Timed(samples, _folder_bytes(out))


def vite_build(project: Path, runs: int) -> Timed:
    """``runs`` of ``vite build`` in ``project``, one Node process each."""
    node = shutil.which("node")
    if node is None:
        raise BenchError("node is not on PATH: Vite needs Node 20.19+")
    command = [node, str(VITE_JS), "build", "--emptyOutDir"]  # production mode by default
    samples = [_timed_run(command, project, dict(os.environ)) for _ in range(runs)]
    return Timed(samples, _folder_bytes(project / "dist"))


def esbuild_version() -> str:
    runtime = Runtime()
    return subprocess.run(
        [str(runtime.binary), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def vite_version() -> str:
    out = subprocess.run(
        ["node", str(VITE_JS), "--version"], capture_output=True, text=True, check=True, cwd=BENCH
    ).stdout.strip()
    return out.split()[0].removeprefix("vite/")


def _timed_run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode("utf-8", "replace")
        raise BenchError(
            f"{' '.join(command)} (in {cwd}) exited with {result.returncode}:\n{output}"
        )
    return elapsed_ms


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def service_vs_process(
    app: BenchApp, root: Path, vendor_cache: Path, runs: int
) -> dict[str, list[float]]:
    """The worker's browser build three ways, same flags, same files, alternating runs:

    - ``process``: one esbuild process per build, with the vendor aliases but no plugin
      (a CLI cannot call back into Python);
    - ``service``: the same request to the long-lived ``esbuild --service`` the worker
      keeps, over its stdio protocol, no plugin: service mode against process per build;
    - ``bundler``: :meth:`bundler.Bundler.build` as the worker runs it: the import rules
      as a plugin, the workspace sync, source-map renaming and the input checks.

    Each sample changes App.tsx first, as a render would.
    """
    from bundler import Bundler, SourceFile
    from bundler.requests import PAGE_FLAGS

    bundler = Bundler(vendor_cache=vendor_cache, work_dir=root)
    try:
        vendor = bundler.load_vendor()
        assert vendor is not None
        shims = vendor.write_shims(root / "cli-shims")
        project = root / "cli"
        write_files(project, app.files)
        entry = project / "entry.jsx"
        entry.write_text(mount_source("./app/App"), "utf-8")
        flags = [
            f"--metafile={project / 'meta.json'}" if f == "--metafile" else f for f in PAGE_FLAGS
        ]
        command = [
            str(bundler.runtime.binary),
            entry.name,
            *flags,
            f"--outdir={project / 'out'}",
            *(f"--alias:{spec}={path}" for spec, path in shims.items()),
        ]
        env = {**os.environ, "NODE_PATH": str(bundler.runtime.node_modules)}
        aliases = [f"--alias:{spec}={path}" for spec, path in shims.items()]
        raw_request: BuildRequest = {
            "command": "build",
            "key": 0,
            "entries": [["", str(entry)]],
            "flags": [*PAGE_FLAGS, *aliases, f"--outdir={project / 'out'}"],
            "write": False,
            "stdinContents": None,
            "stdinResolveDir": None,
            "absWorkingDir": str(project),
            "nodePaths": [str(bundler.runtime.node_modules)],
            "context": False,
            "plugins": [],
        }
        samples: dict[str, list[float]] = {"service": [], "process": [], "bundler": []}
        for n in range(runs + 2):  # two warm-ups each
            files = app.variant(10_000 + n)
            (project / "app" / "App.tsx").write_text(files["/app/App.tsx"], "utf-8")
            process_ms = _timed_run(command, project, env)
            started = time.perf_counter()
            response = bundler.service.build(raw_request, lambda _: {}, 60.0)
            service_ms = (time.perf_counter() - started) * 1000
            if response.get("errors"):
                raise BenchError(f"service build of {app.name} failed: {response['errors'][:1]}")
            started = time.perf_counter()
            bundler.build([SourceFile(p, t.encode("utf-8")) for p, t in files.items()])
            bundler_ms = (time.perf_counter() - started) * 1000
            if n >= 2:
                samples["process"].append(process_ms)
                samples["service"].append(service_ms)
                samples["bundler"].append(bundler_ms)
        return samples
    finally:
        bundler.close()


_SETTLE_S = 0.3


class SideBySide:
    """The two references of one app, built again at each worker render and on its files:
    the bare esbuild CLI (as :func:`esbuild_cli`) and the worker's browser build as a plain
    request to a kept esbuild service (the worker's flags and vendor aliases, no plugin, no
    Python: esbuild's own bundling time). Taken between renders, each sample sees the
    machine as the render beside it did: on a shared machine, phases measured minutes
    apart can differ by 2x.
    """

    def __init__(self, app: BenchApp, root: Path, vendor_cache: Path) -> None:
        from bundler import Bundler
        from bundler.requests import PAGE_FLAGS

        self.app = app
        self.cli_entry = write_esbuild_project(app, root / "cli")
        runtime = Runtime()
        self._cli = [
            str(runtime.binary),
            self.cli_entry.name,
            *_ESBUILD_FLAGS,
            f"--outdir={self.cli_entry.parent / 'out'}",
        ]
        self._env = {**os.environ, "NODE_PATH": str(runtime.node_modules)}
        self._bundler = Bundler(vendor_cache=vendor_cache, work_dir=root)
        vendor = self._bundler.load_vendor()
        shims = vendor.write_shims(root / "shims") if vendor is not None else {}
        self.project = root / "service"
        write_files(self.project, app.files)
        entry = self.project / "entry.jsx"
        entry.write_text(mount_source("./app/App"), "utf-8")
        self._request: BuildRequest = {
            "command": "build",
            "key": 0,
            "entries": [["", str(entry)]],
            "flags": [
                *PAGE_FLAGS,
                *(f"--alias:{spec}={path}" for spec, path in shims.items()),
                f"--outdir={self.project / 'out'}",
            ],
            "write": False,
            "stdinContents": None,
            "stdinResolveDir": None,
            "absWorkingDir": str(self.project),
            "nodePaths": [str(runtime.node_modules)],
            "context": False,
            "plugins": [],
        }
        self.cli_ms: list[float] = []
        self.service_ms: list[float] = []

    def measure(self, files: dict[str, str]) -> None:
        """One CLI build and one service build of ``files`` (a variant of the app)."""
        app_file = self.app.app_file.lstrip("/")
        (self.cli_entry.parent / app_file).write_text(files[self.app.app_file], "utf-8")
        (self.project / app_file).write_text(files[self.app.app_file], "utf-8")
        self.cli_ms.append(_timed_run(self._cli, self.cli_entry.parent, self._env))
        started = time.perf_counter()
        response = self._bundler.service.build(self._request, lambda _: {}, 60.0)
        self.service_ms.append((time.perf_counter() - started) * 1000)
        if response.get("errors"):
            raise BenchError(f"service build of {self.app.name} failed: {response['errors'][:1]}")
        # What the two builds leave running (the service's garbage collection, the CLI's
        # output written back to disk) ends before the next render starts, not during it.
        time.sleep(_SETTLE_S)

    def close(self) -> None:
        self._bundler.close()
