"""Session files in, browser artifacts (or every diagnostic) out."""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
import threading
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from bundler.artifacts import (
    Artifact,
    Bundle,
    ComputeModule,
    Diagnostic,
    Page,
    Route,
    Severity,
    SourceFile,
    content_type_for,
)
from bundler.barrels import Barrels
from bundler.builtin_ui import UI_PREFIX, BuiltinUi, own_file_finder
from bundler.contexts import (
    DEFAULT_WARM_IDLE_S,
    DEFAULT_WARM_SOURCE_BYTES,
    DEFAULT_WARM_TOTAL_SOURCE_BYTES,
    WarmContexts,
    WarmSession,
)
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
from bundler.esbuild import PAGE_SERVICE_ENV, EsbuildService
from bundler.imports import ImportRules, Target
from bundler.index_html import read_index_html
from bundler.nextjs import (
    MODULES_DIGEST,
    NextModules,
    at_import,
    server_only_errors,
)
from bundler.nextjs import env_defines as process_env_defines
from bundler.outputs import (
    FAVICONS,
    browser_artifacts,
    overlay_artifact,
    public_artifacts,
    server_artifacts,
)
from bundler.package_json import PACKAGE_JSON, package_json_warnings
from bundler.pins import Runtime
from bundler.project_folder import find_project_folder
from bundler.requests import PAGE_FLAGS, SERVER_FLAGS, build_request
from bundler.shell import TEMPLATES_DIR
from bundler.syntax import merge, parse_errors
from bundler.tailwind import TailwindService
from bundler.tsconfig import session_aliases
from bundler.vendor import VENDOR_NAMESPACE, VendorSet, load_or_build_vendor
from bundler.vite import ViteAliases, read_vite_aliases
from bundler.vite import env_defines as import_meta_defines
from bundler.workspace import Workspace

__all__ = ["Bundler", "api_routes", "compute_modules", "ROUTE_METHODS"]

_OUT_DIR = "out"
_API_DIR = "/api/"
_COMPUTE_DIR = "/compute/"
_COMPUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_ROUTE_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs")
#: The handlers a route may export (the Web standard, as Next.js route handlers name them);
#: a default export with a ``fetch`` method answers every method (Deno's ``serve`` shape).
ROUTE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def api_routes(paths: Sequence[str]) -> list[Route]:
    """Files under /api/ are routes (``/api/tasks.ts`` → ``/api/tasks``), but ``_helpers``."""
    routes = []
    for path in sorted(paths):
        stem, ext = posixpath.splitext(path)
        if not path.startswith(_API_DIR) or ext not in _ROUTE_EXTENSIONS or stem.endswith(".d"):
            continue
        if any(part.startswith("_") for part in path.split("/")):
            continue
        route = stem[: -len("/index")] if stem.endswith("/index") else stem
        routes.append(Route(route, path, "server" + stem + ".js"))
    return routes


def compute_modules(paths: Sequence[str]) -> list[ComputeModule]:
    """Files directly in /compute/ are the app's compute modules (``/compute/tasks.ts`` is
    ``tasks``), but ``_helpers``; ``schema`` declares the tables and their indexes."""
    found = []
    for path in sorted(paths):
        stem, ext = posixpath.splitext(path)
        name = stem.removeprefix(_COMPUTE_DIR)
        if not path.startswith(_COMPUTE_DIR) or ext not in _ROUTE_EXTENSIONS:
            continue
        if _COMPUTE_NAME.fullmatch(name):
            found.append(ComputeModule(name, path, "server" + stem + ".js"))
    return found


def _with_methods(
    routes: Sequence[Route], metafile: Mapping[str, Any], root: Path
) -> tuple[list[Route], list[Diagnostic]]:
    """Each route with the handlers its bundle exports, and an error for each that has none."""
    exports: dict[str, list[str]] = {}
    for output in metafile.get("outputs", {}).values():
        if output.get("entryPoint"):
            source = "/" + posixpath.normpath(output["entryPoint"]).lstrip("/")
            exports[source.removeprefix(str(root))] = list(output.get("exports") or [])
    found, errors = [], []
    for route in routes:
        names = exports.get(route.source, [])
        methods = tuple(m for m in ROUTE_METHODS if m in names)
        if "default" in names:
            methods += ("fetch",)
        if not methods:
            errors.append(
                Diagnostic(
                    route.source,
                    1,
                    1,
                    (
                        f"{route.source} is the route {route.route} but exports no handler; export "
                        f"{', '.join(ROUTE_METHODS[:5])} (each (request, {{params}}) => Response) or a "
                        "default { fetch }"
                    ),
                    "",
                )
            )
        found.append(Route(route.route, route.source, route.path, methods))
    return found, errors


def _duplicate_routes(routes: Sequence[Route]) -> list[Diagnostic]:
    seen: dict[str, str] = {}
    errors = []
    for route in routes:
        if route.route in seen:
            message = (
                f"{route.source} and {seen[route.route]} are both the route "
                f"{route.route}; keep one of them"
            )
            errors.append(Diagnostic(route.source, 0, 0, message, ""))
        seen.setdefault(route.route, route.source)
    return errors


class Bundler:
    """Builds session files with one long-lived esbuild service (per process)."""

    def __init__(
        self,
        runtime: Runtime | None = None,
        timeout_s: float = DEFAULT_BUILD_TIMEOUT_S,
        templates_dir: Path = TEMPLATES_DIR,
        vendor_cache: Path | None = None,
        work_dir: Path | None = None,
        node_binary: str = "node",
        warm_contexts: int = 0,
        warm_source_bytes: int = DEFAULT_WARM_SOURCE_BYTES,
        warm_idle_s: float = DEFAULT_WARM_IDLE_S,
        warm_total_source_bytes: int = DEFAULT_WARM_TOTAL_SOURCE_BYTES,
    ) -> None:
        """``vendor_cache`` turns on vendor chunks (see bundler.vendor), cached there.

        ``work_dir`` is where the build folder goes (default: tmpfs, else the temp folder).
        ``node_binary`` runs the Tailwind service. ``warm_contexts`` sessions (0: none)
        keep an incremental esbuild context between builds named by ``build(warm_key=…)``
        (see bundler.contexts), each of at most ``warm_source_bytes`` of sources and all
        together of ``warm_total_source_bytes``, disposed after ``warm_idle_s`` unused.
        """
        self.runtime = runtime or Runtime()
        self.timeout_s = timeout_s
        self.templates_dir = templates_dir
        self.vendor_cache = vendor_cache
        self.work_dir = work_dir
        self.service = EsbuildService(
            self.runtime.binary, self.runtime.esbuild_version, PAGE_SERVICE_ENV
        )
        self.tailwind = TailwindService(node_binary, self.runtime.tailwind_service)
        self._css = TailwindCss(self.tailwind, timeout_s)
        self._vendor: VendorSet | None = None
        self._barrels = Barrels(self.runtime.node_modules, self.runtime.allowed_packages)
        self._ui = BuiltinUi()
        self._workspace: Workspace | None = None
        self._shims: dict[str, Path] = {}  # vendored specifier → its shim, in the workspace
        self._lock = threading.Lock()  # one build at a time: they share the workspace
        self.warm = WarmContexts(
            warm_contexts, warm_source_bytes, warm_idle_s, work_dir, warm_total_source_bytes
        )
        self._active: WarmSession | None = None  # the warm session being built, if any
        self._cold_workspace: Workspace | None = None  # builds without a warm session
        self._cold_shims: dict[str, Path] = {}

    def load_vendor(self) -> VendorSet | None:
        """The vendor chunks, read from the cache or built into it (tens of seconds, in an
        esbuild service of their own that stops afterwards); None when off."""
        if self.vendor_cache is not None and self._vendor is None:
            with EsbuildService(self.runtime.binary, self.runtime.esbuild_version) as service:
                self._vendor = load_or_build_vendor(
                    service, self.runtime, self.vendor_cache, self.timeout_s * 6
                )
        return self._vendor

    @property
    def config_key(self) -> str:
        """What besides the files decides the output: part of every render's input hash."""
        vendor = self.load_vendor()
        return (
            f"{self.runtime.lock_hash}:vendor={vendor.key if vendor else 'off'}"
            f":next={MODULES_DIGEST}"
            f":tailwind={self.runtime.tailwind_version}+{self._css.digest}"
            f":ui={self._ui.digest}"
        )

    def close(self) -> None:
        with self._lock:
            self.warm.close(self.service)
            self._active = None
        self.service.close()
        self.tailwind.close()
        self._css.close()
        for workspace in (self._workspace, self._cold_workspace):
            if workspace is not None:
                workspace.close()
        self._workspace = self._cold_workspace = None

    def build(self, files: Sequence[SourceFile], warm_key: str | None = None) -> Bundle:
        """Bundle ``files`` for the browser (and /api/ routes for the server).

        ``warm_key`` (a session id) builds in that session's warm context when warm
        contexts are on: the same output as a cold build, sooner after a small edit.

        Raises :class:`BuildFailed` with every diagnostic when the files do not build.
        A session whose project sits in one top folder is built from that folder
        (see bundler.project_folder).
        """
        folder = find_project_folder([f.path for f in files])
        if folder is None:
            return self._build(files, warm_key)
        try:
            bundle = self._build(folder.inside(files), warm_key)
        except BuildFailed as exc:
            raise BuildFailed(
                exc.message, [folder.warning, *map(folder.as_pushed, exc.diagnostics)]
            ) from None
        page = dataclasses.replace(
            bundle.page,
            entry=folder.path + bundle.page.entry,
            routes=[
                dataclasses.replace(r, source=folder.path + r.source) for r in bundle.page.routes
            ],
            compute=[
                dataclasses.replace(c, source=folder.path + c.source) for c in bundle.page.compute
            ],
        )
        return dataclasses.replace(
            bundle,
            page=page,
            artifacts=[folder.artifact_as_pushed(a) for a in bundle.artifacts],
            warnings=[folder.warning, *map(folder.as_pushed, bundle.warnings)],
        )

    def _build(self, files: Sequence[SourceFile], warm_key: str | None = None) -> Bundle:
        sources = {f.path: f for f in files}
        index_page = read_index_html(sources)
        vite = read_vite_aliases(sources)
        entry = find_entry(sources, index_page)
        public, errors = public_artifacts(files)
        routes = api_routes(list(sources))
        errors += _duplicate_routes(routes)
        compute = compute_modules(list(sources))
        with self._lock:
            self._enter_tree(warm_key, files)
            if self._workspace is None:
                self._workspace = Workspace(self.work_dir)
            # esbuild would read /package.json as the root's manifest (and fail on a broken
            # one); it is the session's wish list, only read for warnings.
            builtins = self._builtins_used(sources)
            css = self._css.compile_entries(sources, builtins)
            self._workspace.sync(
                [
                    SourceFile(f.path, css.compiled[f.path]) if f.path in css.compiled else f
                    for f in files
                    if f.path != PACKAGE_JSON
                ]
            )
            vendor = self.load_vendor()
            if vendor is not None and not self._shims:
                self._shims = vendor.write_shims(self._shim_folder)
            root = self._workspace.tree
            paths = PathMap(root, self.runtime.node_modules, entry, self._shim_folder)
            browser = self._checked_esbuild(root, entry, sources, vite, paths, "browser", builtins)
            errors += browser.errors
            warnings = [
                *package_json_warnings(sources, self.runtime.allowed_packages),
                *(index_page.warnings if index_page else []),
                *vite.warnings,
                *browser.warnings,
            ]
            server = None
            if routes or compute:
                server = self._checked_esbuild(
                    root, entry, sources, vite, paths, "server", routes=[*routes, *compute]
                )
                errors += server.errors
                warnings += server.warnings
                if not server.errors:
                    routes, unanswered = _with_methods(routes, server.metafile, root)
                    errors += unanswered
            # A stylesheet Tailwind refused fails the render only when the page loads it
            # (unknown when the build failed: then it is reported with the other errors).
            session_styles = _session_styles(browser.metafile, paths)
            styles_loaded = set(session_styles)
            for path, failure in sorted(css.failures.items()):
                if browser.errors or path in styles_loaded:
                    errors += failure
            if errors:
                loaded: set[str] | None = None  # every file the page loads, when known
                if any(d.file for d in browser.errors):
                    parents, complete = self._parents_for_chains(root, entry, sources, vite, paths)
                    errors = [with_chain(d, parents) for d in errors]
                    loaded = {entry.path, *parents} if complete else None
                # Files esbuild never reached, behind one it could not parse, are parsed
                # alone so their errors come in this render too (only when it failed).
                errors = merge(
                    errors, parse_errors(self.service, files, paths, sources, self.timeout_s)
                )
                if loaded is not None:
                    errors = [
                        _unused(d)
                        if d.file.startswith("/")
                        and d.file not in loaded
                        and not d.file.startswith(_API_DIR)
                        else d
                        for d in errors
                    ]
                raise BuildFailed(f"build failed with {len(errors)} error(s)", errors + warnings)

            _check_inputs(browser.metafile, paths, browser=True)
            server_only = server_only_errors(
                (paths.display(name) for name in browser.metafile.get("inputs", {})), sources
            )
            if server_only:
                parents = import_parents(browser.metafile, paths)
                raise BuildFailed(
                    "the page imports server-only Next.js code",
                    [_chained(d, parents, sources) for d in server_only] + warnings,
                )
            out_root = root / _OUT_DIR
            scripts, styles, artifacts = browser_artifacts(
                browser.outputs, browser.metafile, paths, out_root, [a.path for a in public]
            )
            tailwind = self._css.zero_config(sources, css, session_styles, builtins)
            if tailwind is not None:  # before the app's own styles, which may override it
                styles.insert(0, tailwind.path)
                artifacts.append(tailwind)
            if server is not None:
                _check_inputs(server.metafile, paths, browser=False)
                artifacts += server_artifacts(server.outputs, out_root)
            overlay = overlay_artifact(
                self.templates_dir / "overlay.js", self.templates_dir / "storage.js"
            )
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
                compute=compute,
                title=index_page.title if index_page else None,
                meta=index_page.meta if index_page else [],
                mount_ids=index_page.mount_ids if index_page else [],
                blocked_scripts=index_page.blocked_scripts if index_page else [],
            )
            return Bundle(
                page=page,
                artifacts=sorted([*artifacts, *public], key=lambda a: a.path),
                warnings=warnings,
                vendor=[
                    overlay,
                    *(
                        Artifact(path, chunks[path].content, content_type_for(path), "vendor")
                        for path in vendor_scripts
                    ),
                ],
                css_ms=css.ms,
            )

    def _enter_tree(self, warm_key: str | None, files: Sequence[SourceFile]) -> None:
        """Make the build folder (and its vendor shims) the warm session's, or the cold one."""
        if self._active is not None:
            self._active.shims = self._shims
        else:
            self._cold_workspace, self._cold_shims = self._workspace, self._shims
        self._active = self.warm.session(warm_key, files, self.service) if warm_key else None
        if self._active is None:
            self._workspace, self._shims = self._cold_workspace, self._cold_shims
        else:
            self._workspace, self._shims = self._active.workspace, self._active.shims

    def _builtins_used(self, sources: Mapping[str, SourceFile]) -> dict[str, str]:
        """The built-in ui modules the session reaches (``stage-ui:<module>`` → text)."""
        own_file = own_file_finder(sources, session_aliases(sources))
        code = {
            path: f.content.decode("utf-8", "replace")
            for path, f in sources.items()
            if b"@/" in f.content
        }
        return self._ui.used_by(code, own_file)

    @property
    def _shim_folder(self) -> Path:
        assert self._workspace is not None, "the workspace exists once a build started"
        return self._workspace.root / "vendor-shims"

    def _checked_esbuild(
        self,
        root: Path,
        entry: Entry,
        sources: Mapping[str, SourceFile],
        vite: ViteAliases,
        paths: PathMap,
        target: Target,
        builtins: Mapping[str, str] | None = None,
        routes: Sequence[Route | ComputeModule] = (),
    ) -> _Result:
        """A build whose ``../`` imports esbuild resolved itself (a 1,000-module app with a
        stylesheet for every tenth component asks ~100 times otherwise), and whose ``@/``
        imports were answered ahead (see ``ImportRules.native_aliases``), kept when it
        succeeded and each ``../`` import stayed where the import rules allow; else the
        build again with every such import asked about, for the rules' own diagnostics."""
        fast = self._esbuild(
            root,
            entry,
            sources,
            vite,
            target,
            routes,
            builtins=builtins,
            paths=paths,
            native_relative=True,
        )
        # The @/ imports answered ahead assumed the built-in ui modules the scan found are
        # all the build loads (their own @/ imports were weighed): any other, build again.
        loaded_ui = {n for n in fast.metafile.get("inputs", {}) if n.startswith(UI_PREFIX)}
        if (
            not fast.errors
            and not _relative_escapes(fast.metafile, paths, sources, target)
            and loaded_ui <= (builtins or {}).keys()
        ):
            return fast
        return self._esbuild(
            root, entry, sources, vite, target, routes, builtins=builtins, paths=paths
        )

    def _esbuild(
        self,
        root: Path,
        entry: Entry,
        sources: Mapping[str, SourceFile],
        vite: ViteAliases,
        target: Target,
        routes: Sequence[Route | ComputeModule] = (),
        analyze: bool = False,
        builtins: Mapping[str, str] | None = None,
        native_relative: bool = False,
        paths: PathMap | None = None,
    ) -> _Result:
        rules = ImportRules(
            root,
            self.runtime.node_modules,
            sources,
            self.runtime.allowed_packages,
            target=target,
            analyze=analyze,
            aliases=session_aliases(sources),
            vite_aliases=vite,
            vendor=self._vendor,
            ui=self._ui,
            barrels=self._barrels.modules_for(
                {
                    **{path: f.content for path, f in sources.items()},
                    **{name: text.encode() for name, text in (builtins or {}).items()},
                }
            ),
            next_modules=NextModules(root, self.runtime.node_modules, sources),
            native_relative=native_relative,
            session_code={path: f.content for path, f in sources.items()},
            ui_code=builtins,
        )
        node_modules = self.runtime.node_modules
        if target == "server":
            request = build_request(
                [*SERVER_FLAGS, f"--outdir={root / _OUT_DIR / 'server'}", f"--outbase={root}"],
                working_dir=root,
                node_modules=node_modules,
                plugin=rules.plugin,
                entries=[("", Path(str(root) + r.source)) for r in routes],
            )
        else:
            # process.env (Next.js's NEXT_PUBLIC_*) and import.meta.env (Vite's VITE_*).
            flags = [
                *PAGE_FLAGS,
                *process_env_defines(sources),
                *import_meta_defines(sources),
                f"--outdir={root / _OUT_DIR}",
                *(f"--alias:{spec}={shim}" for spec, shim in self._shims.items()),
                *rules.alias_flags,
            ]
            if entry.mount_source is None:
                request = build_request(
                    flags,
                    working_dir=root,
                    node_modules=node_modules,
                    plugin=rules.plugin,
                    entries=[("", Path(str(root) + entry.path))],
                )
            else:
                request = build_request(
                    [*flags, f"--sourcefile={GENERATED_ENTRY_NAME}", "--loader=jsx"],
                    working_dir=root,
                    node_modules=node_modules,
                    plugin=rules.plugin,
                    stdin=entry.mount_source.encode("utf-8"),
                    stdin_resolve_dir=Path(str(root) + posixpath.dirname(entry.path)),
                )
        # Read below with its message lists as plain dicts, as the diagnostics take them.
        if target == "browser" and not analyze and self._active is not None:
            built = self.warm.build(
                self._active, self.service, request, rules.handle, self.timeout_s
            )
        else:
            built = self.service.build(request, rules.handle, self.timeout_s)
        response: dict[str, Any] = dict(built)
        if paths is None:
            paths = PathMap(root, self.runtime.node_modules, entry, self._shim_folder)

        def convert(severity: Severity) -> list[Diagnostic]:
            key = "errors" if severity == "error" else "warnings"
            return [
                paths.diagnostic(self._barrels.explain(m), severity, sources)
                for m in response.get(key, [])
            ]

        metafile = json.loads(response["metafile"]) if response.get("metafile") else {}
        vendored = set(rules.vendored)  # asked about (analysis builds)
        if self._vendor is not None:  # or reached through --alias
            shim = VENDOR_NAMESPACE + ":"  # how PathMap names a vendor shim
            for name in metafile.get("inputs", {}):
                named = paths.display(name)
                specifier = named[len(shim) :] if named.startswith(shim) else None
                chunk = self._vendor.chunk_of(specifier) if specifier else None
                if chunk is not None:
                    vendored.add(chunk)
        return _Result(
            convert("error"),
            convert("warning"),
            metafile,
            response.get("outputFiles") or [],
            rules.parents,
            vendored,
        )

    def _parents_for_chains(
        self,
        root: Path,
        entry: Entry,
        sources: Mapping[str, SourceFile],
        vite: ViteAliases,
        paths: PathMap,
    ) -> tuple[dict[str, str], bool]:
        """Build again with every rejected import made external, to learn the import graph:
        each file's first importer, and whether that is every file the page loads (not
        when a file could not be parsed, whose imports stay unknown).

        Only on the failure path: watching every import during a normal build costs a
        callback per import.
        """
        analysis = self._esbuild(
            root,
            entry,
            sources,
            vite,
            "browser",
            analyze=True,
            builtins=self._builtins_used(sources),
        )
        if not analysis.errors:
            return import_parents(analysis.metafile, paths), True
        return analysis.parents, False


class _Result:
    def __init__(
        self,
        errors: list[Diagnostic],
        warnings: list[Diagnostic],
        metafile: dict[str, Any],
        outputs: list[dict[str, Any]],
        parents: dict[str, str],
        vendored: set[str],
    ) -> None:
        self.parents = parents
        self.vendored = vendored
        self.errors = errors
        self.warnings = warnings
        self.metafile = metafile
        self.outputs = outputs


def _chained(
    diagnostic: Diagnostic, parents: Mapping[str, str], sources: Mapping[str, SourceFile]
) -> Diagnostic:
    chain = import_chain(diagnostic.file, parents)
    return at_import(
        Diagnostic(
            diagnostic.file,
            diagnostic.line,
            diagnostic.column,
            f"{diagnostic.message} (import chain: {' → '.join(chain)})",
            diagnostic.line_text,
            diagnostic.severity,
            tuple(chain),
        ),
        chain,
        sources,
    )


def _unused(diagnostic: Diagnostic) -> Diagnostic:
    """A diagnostic of a file no entry loads: reported, marked, never the render's cause."""
    return dataclasses.replace(
        diagnostic,
        message=diagnostic.message + " (this file is unused: no entry of the page loads it)",
    )


def _session_styles(metafile: Mapping[str, Any], paths: PathMap) -> list[str]:
    """The session stylesheets the browser build bundled, as pushed."""
    named = (paths.display(name) for name in metafile.get("inputs", {}))
    return [
        name
        for name in named
        if name.endswith(".css") and name.startswith("/") and not name.startswith("/node_modules/")
    ]


def _relative_escapes(
    metafile: Mapping[str, Any], paths: PathMap, sources: Collection[str], target: Target
) -> bool:
    """True when a build with ``native_relative`` import rules may differ from one that
    asked about every ``../`` import: one of them led where the rules refuse (out of the
    session, into the runtime's packages or a vendor shim, into /api/ from browser code),
    or came from neither a session file (``sources``) nor a package file (whose imports
    the rules leave to esbuild anyway).

    Reads each input's import records: ``original`` is the specifier as written (esbuild
    leaves it out when it equals the resolved path, as for ``../x.js`` from the root).
    """
    packages = str(paths.node_modules) + os.sep
    for name, info in metafile.get("inputs", {}).items():
        for record in info.get("imports") or ():
            specifier = record.get("original", record.get("path", ""))
            if not specifier.startswith(".") or ".." not in specifier:
                continue  # plain ./x imports are asked about in neither build
            importer = os.path.normpath(os.path.join(paths.root, name))
            if importer.startswith(packages):
                break  # a package's own imports
            if paths.session_path(importer) not in sources or record.get("external"):
                return True
            resolved = paths.session_path(os.path.join(paths.root, record.get("path", "")))
            if resolved is None or resolved not in sources:
                return True
            if target == "browser" and resolved.startswith(_API_DIR):
                return True
    return False


def _check_inputs(metafile: Mapping[str, Any], paths: PathMap, *, browser: bool) -> None:
    """Fail the build if it read anything outside the session and the runtime, or if
    browser code reached /api/ by a way the import rules did not see (a tsconfig alias).
    """
    outside = [name for name in metafile.get("inputs", {}) if paths.outside(name)]
    if outside:
        raise BuildFailed(
            "build read files outside the session", [outside_diagnostic(name) for name in outside]
        )
    if not browser:
        return
    backend = [
        paths.display(n)
        for n in metafile.get("inputs", {})
        if paths.display(n).startswith(_API_DIR)
    ]
    if backend:
        parents = import_parents(metafile, paths)
        diagnostics = []
        for path in backend:
            chain = import_chain(path, parents)
            diagnostics.append(
                Diagnostic(
                    chain[-2] if len(chain) > 1 else "",
                    0,
                    0,
                    f"{path} is an API backend route and cannot enter the browser bundle "
                    f"(import chain: {' → '.join(chain)})",
                    "",
                    "error",
                    tuple(chain),
                )
            )
        raise BuildFailed("browser code imports API backend files", diagnostics)
