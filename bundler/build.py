"""Session files in, browser artifacts (or every diagnostic) out."""

from __future__ import annotations

import json
import posixpath
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bundler.artifacts import (
    Artifact,
    Bundle,
    Diagnostic,
    Page,
    Route,
    Severity,
    SourceFile,
    content_type_for,
)
from bundler.barrels import Barrels
from bundler.css import TailwindCss
from bundler.diagnostics import (
    PathMap,
    import_chain,
    import_parents,
    outside_diagnostic,
    with_chain,
)
from bundler.entry import GENERATED_ENTRY_NAME, Entry, find_entry
from bundler.errors import DEFAULT_BUILD_TIMEOUT_S, BuildFailed
from bundler.esbuild import EsbuildService
from bundler.imports import ImportRules, Target
from bundler.index_html import read_index_html
from bundler.outputs import (
    FAVICONS,
    browser_artifacts,
    overlay_artifact,
    public_artifacts,
    server_artifacts,
)
from bundler.package_json import PACKAGE_JSON, package_json_warnings
from bundler.pins import Runtime
from bundler.requests import PAGE_FLAGS, SERVER_FLAGS, build_request
from bundler.shell import TEMPLATES_DIR
from bundler.syntax import merge, parse_errors
from bundler.tailwind import TailwindService
from bundler.tsconfig import read_aliases
from bundler.vendor import VendorSet, load_or_build_vendor
from bundler.workspace import Workspace

__all__ = ["Bundler", "api_routes"]

_OUT_DIR = "out"
_API_DIR = "/api/"
_ROUTE_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs")


def api_routes(paths: Sequence[str]) -> list[Route]:
    """Files under /api/ are routes (``/api/tasks.ts`` → ``/api/tasks``), but ``_helpers``."""
    routes = []
    for path in sorted(paths):
        stem, ext = posixpath.splitext(path)
        if not path.startswith(_API_DIR) or ext not in _ROUTE_EXTENSIONS or stem.endswith(".d"):
            continue
        if any(part.startswith("_") for part in path.split("/")):
            continue
        route = stem[:-len("/index")] if stem.endswith("/index") else stem
        routes.append(Route(route, path, "server" + stem + ".js"))
    return routes


def _duplicate_routes(routes: Sequence[Route]) -> list[Diagnostic]:
    seen: dict[str, str] = {}
    errors = []
    for route in routes:
        if route.route in seen:
            message = (f"{route.source} and {seen[route.route]} are both the route "
                       f"{route.route}; keep one of them")
            errors.append(Diagnostic(route.source, 0, 0, message, ""))
        seen.setdefault(route.route, route.source)
    return errors


class Bundler:
    """Builds session files with one long-lived esbuild service (per process)."""

    def __init__(self, runtime: Runtime | None = None,
                 timeout_s: float = DEFAULT_BUILD_TIMEOUT_S,
                 templates_dir: Path = TEMPLATES_DIR,
                 vendor_cache: Path | None = None, work_dir: Path | None = None,
                 node_binary: str = "node") -> None:
        """``vendor_cache`` turns on vendor chunks (see bundler.vendor), cached there.

        ``work_dir`` is where the build folder goes (default: tmpfs, else the temp folder).
        ``node_binary`` runs the Tailwind service.
        """
        self.runtime = runtime or Runtime()
        self.timeout_s = timeout_s
        self.templates_dir = templates_dir
        self.vendor_cache = vendor_cache
        self.work_dir = work_dir
        self.service = EsbuildService(self.runtime.binary, self.runtime.esbuild_version)
        self.tailwind = TailwindService(node_binary)
        self._css = TailwindCss(self.tailwind, timeout_s)
        self._vendor: VendorSet | None = None
        self._barrels = Barrels(self.runtime.node_modules, self.runtime.allowed_packages)
        self._workspace: Workspace | None = None
        self._shims: dict[str, Path] = {}  # vendored specifier → its shim, in the workspace
        self._lock = threading.Lock()  # one build at a time: they share the workspace

    def load_vendor(self) -> VendorSet | None:
        """The vendor chunks, read from the cache or built into it (tens of seconds, in an
        esbuild service of their own that stops afterwards); None when off."""
        if self.vendor_cache is not None and self._vendor is None:
            with EsbuildService(self.runtime.binary, self.runtime.esbuild_version) as service:
                self._vendor = load_or_build_vendor(service, self.runtime, self.vendor_cache,
                                                    self.timeout_s * 6)
        return self._vendor

    @property
    def config_key(self) -> str:
        """What besides the files decides the output: part of every render's input hash."""
        vendor = self.load_vendor()
        return (f"{self.runtime.lock_hash}:vendor={vendor.key if vendor else 'off'}"
                f":tailwind={self.runtime.tailwind_version}+{self._css.digest}")

    def close(self) -> None:
        self.service.close()
        self.tailwind.close()
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None

    def build(self, files: Sequence[SourceFile]) -> Bundle:
        """Bundle ``files`` for the browser (and /api/ routes for the server).

        Raises :class:`BuildFailed` with every diagnostic when the files do not build.
        """
        sources = {f.path: f for f in files}
        index_page = read_index_html(sources)
        entry = find_entry(sources, index_page)
        public, errors = public_artifacts(files)
        routes = api_routes(list(sources))
        errors += _duplicate_routes(routes)
        with self._lock:
            if self._workspace is None:
                self._workspace = Workspace(self.work_dir)
            # esbuild would read /package.json as the root's manifest (and fail on a broken
            # one); it is the session's wish list, only read for warnings.
            css = self._css.compile_entries(sources)
            self._workspace.sync([SourceFile(f.path, css.compiled[f.path])
                                  if f.path in css.compiled else f
                                  for f in files if f.path != PACKAGE_JSON])
            vendor = self.load_vendor()
            if vendor is not None and not self._shims:
                self._shims = vendor.write_shims(self._shim_folder)
            root = self._workspace.tree
            paths = PathMap(root, self.runtime.node_modules, entry, self._shim_folder)
            browser = self._esbuild(root, entry, sources, "browser")
            errors += browser.errors
            warnings = [*package_json_warnings(sources, self.runtime.allowed_packages),
                        *(index_page.warnings if index_page else []), *browser.warnings]
            server = None
            if routes:
                server = self._esbuild(root, entry, sources, "server", routes)
                errors += server.errors
                warnings += server.warnings
            if errors:
                if any(d.file for d in browser.errors):
                    parents = self._parents_for_chains(root, entry, sources, paths)
                    errors = [with_chain(d, parents) for d in errors]
                # Files esbuild never reached, behind one it could not parse, are parsed
                # alone so their errors come in this render too (only when it failed).
                errors = merge(errors, parse_errors(self.service, files, paths, sources,
                                                    self.timeout_s))
                raise BuildFailed(f"build failed with {len(errors)} error(s)", errors + warnings)

            _check_inputs(browser.metafile, paths, browser=True)
            out_root = root / _OUT_DIR
            scripts, styles, artifacts = browser_artifacts(
                browser.outputs, browser.metafile, paths, out_root,
                [a.path for a in public])
            tailwind = self._css.zero_config(sources, css, _session_styles(browser.metafile, paths))
            if tailwind is not None:  # before the app's own styles, which may override it
                styles.insert(0, tailwind.path)
                artifacts.append(tailwind)
            if server is not None:
                _check_inputs(server.metafile, paths, browser=False)
                artifacts += server_artifacts(server.outputs, out_root)
            overlay = overlay_artifact(self.templates_dir / "overlay.js")
            public_names = {a.path for a in public}
            vendor_scripts = vendor.scripts_for(browser.vendored) if vendor else []
            chunks = {vendor.folder + c.file: c for c in vendor.chunks.values()} if vendor else {}
            page = Page(
                entry=entry.path,
                scripts=scripts,
                styles=[*(index_page.styles if index_page else []), *styles],
                overlay=overlay.path,
                vendor_scripts=vendor_scripts,
                favicon=next((name for name in FAVICONS if name in public_names), None),
                routes=routes,
                title=index_page.title if index_page else None,
                meta=index_page.meta if index_page else [],
                mount_ids=index_page.mount_ids if index_page else [],
            )
            return Bundle(
                page=page,
                artifacts=sorted([*artifacts, *public], key=lambda a: a.path),
                warnings=warnings,
                vendor=[overlay, *(Artifact(path, chunks[path].content, content_type_for(path),
                                            "vendor") for path in vendor_scripts)],
                css_ms=css.ms,
            )

    @property
    def _shim_folder(self) -> Path:
        assert self._workspace is not None, "the workspace exists once a build started"
        return self._workspace.root / "vendor-shims"

    def _esbuild(self, root: Path, entry: Entry, sources: Mapping[str, SourceFile],
                 target: Target, routes: Sequence[Route] = (), analyze: bool = False
                 ) -> _Result:
        tsconfig = sources.get("/tsconfig.json")
        rules = ImportRules(root, self.runtime.node_modules, sources,
                            self.runtime.allowed_packages, target=target, analyze=analyze,
                            aliases=read_aliases(tsconfig.content if tsconfig else None),
                            vendor=self._vendor,
                            barrels=self._barrels.modules_for(
                                {path: f.content for path, f in sources.items()}))
        node_modules = self.runtime.node_modules
        if target == "server":
            request = build_request(
                [*SERVER_FLAGS, f"--outdir={root / _OUT_DIR / 'server'}", f"--outbase={root}"],
                working_dir=root, node_modules=node_modules, plugin=rules.plugin,
                entries=[("", Path(str(root) + r.source)) for r in routes])
        else:
            flags = [*PAGE_FLAGS, f"--outdir={root / _OUT_DIR}",
                     *(f"--alias:{spec}={shim}" for spec, shim in self._shims.items())]
            if entry.mount_source is None:
                request = build_request(flags, working_dir=root, node_modules=node_modules,
                                        plugin=rules.plugin,
                                        entries=[("", Path(str(root) + entry.path))])
            else:
                request = build_request(
                    [*flags, f"--sourcefile={GENERATED_ENTRY_NAME}", "--loader=jsx"],
                    working_dir=root, node_modules=node_modules, plugin=rules.plugin,
                    stdin=entry.mount_source.encode("utf-8"),
                    stdin_resolve_dir=Path(str(root) + posixpath.dirname(entry.path)))
        response = self.service.build(request, rules.handle, self.timeout_s)
        paths = PathMap(root, self.runtime.node_modules, entry, self._shim_folder)

        def convert(severity: Severity) -> list[Diagnostic]:
            key = "errors" if severity == "error" else "warnings"
            return [paths.diagnostic(m, severity, sources) for m in response.get(key, [])]

        metafile = json.loads(response["metafile"]) if response.get("metafile") else {}
        vendored = set(rules.vendored)  # asked about (analysis builds)
        if self._vendor is not None:  # or reached through --alias
            for name in metafile.get("inputs", {}):
                specifier = paths.vendor_specifier(str(root / name))
                chunk = self._vendor.chunk_of(specifier) if specifier else None
                if chunk is not None:
                    vendored.add(chunk)
        return _Result(convert("error"), convert("warning"), metafile,
                       response.get("outputFiles") or [], rules.parents, vendored)

    def _parents_for_chains(self, root: Path, entry: Entry,
                            sources: Mapping[str, SourceFile], paths: PathMap) -> dict[str, str]:
        """Build again with every rejected import made external, to learn the import graph.

        Only on the failure path: watching every import during a normal build costs a
        callback per import.
        """
        analysis = self._esbuild(root, entry, sources, "browser", analyze=True)
        if not analysis.errors:
            return import_parents(analysis.metafile, paths)
        return analysis.parents


class _Result:
    def __init__(self, errors: list[Diagnostic], warnings: list[Diagnostic],
                 metafile: dict[str, Any], outputs: list[dict[str, Any]],
                 parents: dict[str, str], vendored: set[str]) -> None:
        self.parents = parents
        self.vendored = vendored
        self.errors = errors
        self.warnings = warnings
        self.metafile = metafile
        self.outputs = outputs


def _session_styles(metafile: Mapping[str, Any], paths: PathMap) -> list[str]:
    """The session stylesheets the browser build bundled, as pushed."""
    named = (paths.display(name) for name in metafile.get("inputs", {}))
    return [name for name in named if name.endswith(".css") and name.startswith("/")
            and not name.startswith("/node_modules/")]


def _check_inputs(metafile: Mapping[str, Any], paths: PathMap, *, browser: bool) -> None:
    """Fail the build if it read anything outside the session and the runtime, or if
    browser code reached /api/ by a way the import rules did not see (a tsconfig alias).
    """
    outside = [name for name in metafile.get("inputs", {}) if paths.outside(name)]
    if outside:
        raise BuildFailed("build read files outside the session",
                          [outside_diagnostic(name) for name in outside])
    if not browser:
        return
    backend = [paths.display(n) for n in metafile.get("inputs", {})
               if paths.display(n).startswith(_API_DIR)]
    if backend:
        parents = import_parents(metafile, paths)
        diagnostics = []
        for path in backend:
            chain = import_chain(path, parents)
            diagnostics.append(Diagnostic(
                chain[-2] if len(chain) > 1 else "", 0, 0,
                f"{path} is an API backend route and cannot enter the browser bundle "
                f"(import chain: {' → '.join(chain)})", "", "error", tuple(chain)))
        raise BuildFailed("browser code imports API backend files", diagnostics)
