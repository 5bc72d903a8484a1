"""Vendor chunks: the allowed packages, built once per lock, shared by every render.

Bundling React into every render costs ~60 ms of a ~70 ms build. So the installed
packages are built once into classic scripts that register their modules on
``globalThis.__STAGE_VENDOR__``, and a render bundles only the session's code (and the
modules it names from barrel packages, see bundler.barrels), where each import of a
vendored specifier is a one-line shim reading that registry.

- One copy of every package: packages are grouped by which allowed packages reach them
  (bundler.packages), each group is one chunk, and an import that crosses from one
  group to another goes through the registry. So one React, and one of each radix
  internal that primitives share.
- Classic scripts (not ES modules or an import map), so a page works from any static host
  and from ``file://``.
- Chunks live at ``vendor/<key>/<name>-<hash>.js`` at the store root; a version folder
  (``sessions/<id>/renders/<v>/``, or an app version) loads them by relative URL. ``key``
  changes with the lock, the esbuild version and this module's format.
- A page loads only the chunks its code uses, after the chunks they need.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.barrels import read_barrel
from bundler.errors import BundlerCrashed
from bundler.esbuild import EsbuildService
from bundler.packages import Group, dependency_graph, group_packages, package_of_path
from bundler.pins import Runtime, package_name
from bundler.requests import BROWSER_FLAGS, Plugin, build_request

__all__ = [
    "ALIASED_PACKAGES",
    "VendorChunk",
    "VendorSet",
    "load_or_build_vendor",
    "shim_source",
    "REGISTRY",
    "VENDOR_NAMESPACE",
]

log = logging.getLogger(__name__)

#: Bump when chunk contents or the registry protocol change: it is part of the key.
VENDOR_FORMAT = "5"
REGISTRY = "__STAGE_VENDOR__"
VENDOR_NAMESPACE = "stage-vendor"
#: Subpath entry points registered beside a package's root. Other subpaths (date-fns/format,
#: lucide-react/icons/x) are bundled into the render, tree-shaken, unless another chunk
#: imports them; their imports of vendored specifiers still go through the registry.
_SUBPATHS: Mapping[str, tuple[str, ...]] = {
    "react": ("jsx-runtime", "jsx-dev-runtime", "compiler-runtime"),
    "react-dom": ("client",),
}
#: Packages nearly every module imports (JSX alone imports react/jsx-runtime), resolved by
#: esbuild's ``--alias`` to shim files rather than through a plugin callback per import.
#: esbuild's alias also takes ``pkg/anything``, so a page may import only the specifiers
#: their chunks register; every other package keeps the callback, and its subpaths
#: (``date-fns/addDays``) are bundled.
ALIASED_PACKAGES = ("react", "react-dom")
#: Barrels whose exports are whole packages: those packages get chunks of their own, so a
#: page using three radix primitives loads three, not all of them.
_PACKAGE_BARRELS = ("radix-ui",)
#: Rounds of building every chunk: each round registers the specifiers the previous one
#: found other chunks importing (``use-sync-external-store/shim/with-selector``).
_MAX_ROUNDS = 4
#: Chunks smaller than this that hold no allowed package (radix's one-hook packages, 1-4 kB
#: each) are joined, one chunk per npm scope: a page with a radix dialog would otherwise
#: load some thirty scripts. Joined, a page may load a few kB it does not use.
_SMALL_CHUNK_BYTES = 4_096


def shim_source(specifier: str) -> str:
    """The module a render bundles in place of a vendored specifier."""
    return f"module.exports = globalThis.{REGISTRY}[{json.dumps(specifier)}];\n"


@dataclass(frozen=True)
class VendorChunk:
    name: str  # its first allowed package, else its first package, else "<scope>/shared"
    file: str  # "<name>-<hash>.js"
    packages: tuple[str, ...]  # whose code it holds
    specifiers: tuple[str, ...]  # what it registers
    deps: tuple[str, ...]  # chunks that must load first
    content: bytes


@dataclass(frozen=True)
class VendorSet:
    key: str
    chunks: Mapping[str, VendorChunk]  # by name
    _owners: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owners = {s: c.name for c in self.chunks.values() for s in c.specifiers}
        object.__setattr__(self, "_owners", owners)

    @property
    def folder(self) -> str:
        """Where the chunks live, relative to the store root."""
        return f"vendor/{self.key}/"

    def chunk_of(self, specifier: str) -> str | None:
        """The chunk that registers ``specifier``, or None if it is not vendored."""
        return self._owners.get(specifier)

    @property
    def aliased_specifiers(self) -> list[str]:
        """The specifiers of :data:`ALIASED_PACKAGES` (``react``, ``react/jsx-runtime``, …)."""
        return sorted(
            s
            for chunk in self.chunks.values()
            for s in chunk.specifiers
            if package_name(s) in ALIASED_PACKAGES
        )

    def write_shims(self, folder: Path) -> dict[str, Path]:
        """A shim file per aliased specifier under ``folder``, for esbuild's ``--alias``.

        esbuild resolves an aliased specifier itself, from session code and package code
        alike, so a build asks no plugin about it.
        """
        shims = {}
        for specifier in self.aliased_specifiers:
            path = folder / f"{specifier}.js"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(shim_source(specifier), "utf-8")
            shims[specifier] = path
        return shims

    def scripts_for(self, chunks: Iterable[str]) -> list[str]:
        """Chunk paths (relative to the store root) for ``chunks``, dependencies first."""
        return [self.folder + self.chunks[name].file for name in self.load_order(chunks)]

    def load_order(self, chunks: Iterable[str]) -> list[str]:
        """``chunks`` and every chunk they need, each after the ones it needs.

        Raises ValueError when chunks need each other in a cycle (no order loads them).
        """
        ordered: list[str] = []
        visiting: list[str] = []

        def visit(name: str) -> None:
            if name in ordered:
                return
            if name in visiting:
                cycle = [*visiting[visiting.index(name) :], name]
                raise ValueError(f"vendor chunks need each other: {' → '.join(cycle)}")
            visiting.append(name)
            for dep in self.chunks[name].deps:
                visit(dep)
            visiting.pop()
            ordered.append(name)

        for name in sorted(chunks):
            visit(name)
        return ordered


def vendor_key(runtime: Runtime) -> str:
    material = f"{runtime.lock_hash}:{runtime.esbuild_version}:{VENDOR_FORMAT}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def load_or_build_vendor(
    service: EsbuildService, runtime: Runtime, cache_dir: Path, timeout_s: float
) -> VendorSet:
    """The vendor set from ``cache_dir``, built (and cached) when it is not there yet."""
    key = vendor_key(runtime)
    folder = cache_dir / key
    index = folder / "chunks.json"
    if index.is_file():
        try:
            return _read_cache(key, folder, index)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("vendor cache %s unreadable (%s); building again", folder, exc)
    vendor = _build(service, runtime, key, timeout_s)
    _write_cache(vendor, cache_dir, folder)
    return vendor


def vendor_groups(runtime: Runtime) -> list[Group]:
    """The installed packages as the chunks will hold them."""
    roots = set(runtime.allowed_packages)
    for barrel in _PACKAGE_BARRELS:
        if barrel in roots:
            roots.update(read_barrel(runtime.node_modules, barrel).namespace_packages)
    return group_packages(dependency_graph(runtime.node_modules, roots), roots)


def _build(service: EsbuildService, runtime: Runtime, key: str, timeout_s: float) -> VendorSet:
    groups = {g.name: g for g in vendor_groups(runtime)}
    owner = {p: g.name for g in groups.values() for p in g.packages}
    registered: dict[str, set[str]] = {name: set() for name in groups}
    for group in groups.values():
        for root in group.roots:
            registered[group.name].update([root, *(f"{root}/{s}" for s in _SUBPATHS.get(root, ()))])
    contents: dict[str, bytes] = {}
    deps: dict[str, set[str]] = {}
    pending = [name for name in groups if registered[name]]
    for _ in range(_MAX_ROUNDS):
        # Only chunks that register more than last round change: a chunk's imports from
        # other chunks read the registry whatever those register.
        built, found, crossings = _build_chunks(
            service, runtime, pending, owner, registered, timeout_s
        )
        contents.update(built)
        deps.update(found)
        missing = {
            (owner[package_name(s)], s)
            for s in crossings
            if s not in registered[owner[package_name(s)]]
        }
        if not missing:
            break
        for name, specifier in missing:
            registered[name].add(specifier)
        pending = sorted({name for name, _ in missing})
    else:
        raise BundlerCrashed(
            service.command,
            None,
            f"vendor chunks kept finding new imports between them after {_MAX_ROUNDS} rounds",
        )
    chunks = {}
    for name, content in contents.items():
        digest = hashlib.sha256(content).hexdigest()[:10]
        chunks[name] = VendorChunk(
            name,
            f"{name.replace('/', '__')}-{digest}.js",
            groups[name].packages,
            tuple(sorted(registered[name])),
            tuple(sorted(deps[name])),
            content,
        )
    try:
        VendorSet(key, chunks).load_order(chunks)
    except ValueError as exc:  # the runtime's packages cannot load: not the session's fault
        raise BundlerCrashed(service.command, None, str(exc)) from exc
    return VendorSet(key, _join_small(chunks, {g.name for g in groups.values() if g.roots}))


def _join_small(chunks: dict[str, VendorChunk], holding_roots: set[str]) -> dict[str, VendorChunk]:
    """``chunks`` with the small ones of each npm scope joined into one (see
    :data:`_SMALL_CHUNK_BYTES`), unless joining would make chunks need each other."""
    scopes: dict[str, list[str]] = {}
    for name, chunk in chunks.items():
        if (
            name.startswith("@")
            and name not in holding_roots
            and len(chunk.content) < _SMALL_CHUNK_BYTES
        ):
            scopes.setdefault(name.split("/")[0], []).append(name)
    for scope, members in scopes.items():
        if len(members) < 2:
            continue
        order = [n for n in VendorSet("", chunks).load_order(members) if n in members]
        content = b";\n".join(chunks[n].content for n in order)  # classic scripts, in order
        name = f"{scope}/shared"
        joined = VendorChunk(
            name,
            f"{name.replace('/', '__')}-{hashlib.sha256(content).hexdigest()[:10]}.js",
            tuple(sorted(p for n in members for p in chunks[n].packages)),
            tuple(sorted(s for n in members for s in chunks[n].specifiers)),
            tuple(sorted({d for n in members for d in chunks[n].deps} - set(members))),
            content,
        )
        trial = {n: c for n, c in chunks.items() if n not in members}
        trial = {n: _renamed_deps(c, set(members), name) for n, c in trial.items()}
        trial[name] = joined
        try:
            VendorSet("", trial).load_order(trial)
        except ValueError:
            continue
        chunks = trial
    return chunks


def _renamed_deps(chunk: VendorChunk, members: set[str], name: str) -> VendorChunk:
    if not members & set(chunk.deps):
        return chunk
    deps = tuple(sorted({name if d in members else d for d in chunk.deps}))
    return VendorChunk(
        chunk.name, chunk.file, chunk.packages, chunk.specifiers, deps, chunk.content
    )


def _build_chunks(
    service: EsbuildService,
    runtime: Runtime,
    names: list[str],
    owner: Mapping[str, str],
    registered: Mapping[str, set[str]],
    timeout_s: float,
) -> tuple[dict[str, bytes], dict[str, set[str]], set[str]]:
    """One esbuild build with an entry per chunk in ``names``: each chunk's content, the
    chunks each one imports from, and every specifier imported across chunks."""
    deps: dict[str, set[str]] = {name: set() for name in names}
    crossings: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="stage-vendor-") as tmp:
        entries = Path(tmp) / "entries"
        entries.mkdir()
        entry_of: dict[str, str] = {}
        for index, name in enumerate(names):
            path = entries / f"{index}.js"
            path.write_text(_registration(sorted(registered[name])), "utf-8")
            entry_of[str(path)] = name

        def on_request(request: dict[str, Any]) -> dict[str, Any]:
            callback_id = request["ids"][0]
            if request["command"] == "on-load":
                return {
                    "id": callback_id,
                    "contents": shim_source(request["path"]).encode(),
                    "loader": "js",
                }
            importer = request.get("importer", "")
            here = entry_of.get(importer) or owner.get(
                package_of_path(importer, runtime.node_modules) or ""
            )
            target = owner.get(package_name(request["path"]))
            if here is None or target is None or target == here:
                return {}
            deps[here].add(target)
            crossings.add(request["path"])
            return {"id": callback_id, "path": request["path"], "namespace": VENDOR_NAMESPACE}

        request = build_request(
            [*BROWSER_FLAGS, f"--outdir={Path(tmp) / 'out'}"],
            working_dir=Path(tmp),
            node_modules=runtime.node_modules,
            plugin=Plugin("stage-vendor", "^[^./]", (VENDOR_NAMESPACE,)),
            entries=[("", entries / f"{index}.js") for index in range(len(names))],
        )
        response = service.build(request, on_request, timeout_s)
    errors = response.get("errors") or []
    if errors:
        # The pinned packages do not build: the runtime is broken, not the session's code.
        texts = "; ".join(
            f"{(e.get('location') or {}).get('file')}: {e.get('text')}" for e in errors[:5]
        )
        raise BundlerCrashed(service.command, None, f"vendor chunks failed: {texts}")
    contents = {}
    for output in response["outputFiles"]:
        stem = Path(output["path"]).stem
        if output["path"].endswith(".js") and stem.isdigit():
            contents[names[int(stem)]] = bytes(output["contents"])
    return contents, deps, crossings


def _registration(specifiers: list[str]) -> str:
    lines = [
        f"const r = globalThis.{REGISTRY} || (globalThis.{REGISTRY} = {{}});",
        # A consumer's default import must get the default export: esbuild gives it
        # the whole object unless it is marked as an ES module namespace, and a
        # node-mode consumer (.mjs, "type": "module") always does, so a callable
        # default (clsx, Babel's helpers) is itself the registered object.
        "const esm = (m) => { const v = typeof m.default === 'function' ? m.default : {};"
        " for (const k of Object.keys(m)) if (!Object.prototype.hasOwnProperty.call(v, k))"
        " v[k] = m[k]; if (!v.__esModule) Object.defineProperty(v, '__esModule',"
        " { value: true }); return v; };",
    ]
    for index, specifier in enumerate(specifiers):
        lines.append(f"import * as m{index} from {json.dumps(specifier)};")
        lines.append(f"r[{json.dumps(specifier)}] = esm(m{index});")
    return "\n".join(lines) + "\n"


def _write_cache(vendor: VendorSet, cache_dir: Path, folder: Path) -> None:
    """Write the set beside its final place, then rename: readers see all of it or none."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vendor-", dir=cache_dir))
    for chunk in vendor.chunks.values():
        (staging / chunk.file).write_bytes(chunk.content)
    index = {
        c.name: {
            "file": c.file,
            "packages": list(c.packages),
            "specifiers": list(c.specifiers),
            "deps": list(c.deps),
        }
        for c in vendor.chunks.values()
    }
    (staging / "chunks.json").write_text(json.dumps(index, indent=2))
    try:
        os.rename(staging, folder)
    except OSError:  # another process cached it first: theirs is the same
        shutil.rmtree(staging, ignore_errors=True)


def _read_cache(key: str, folder: Path, index_path: Path) -> VendorSet:
    index = json.loads(index_path.read_text())
    chunks = {}
    for name, entry in index.items():
        content = (folder / entry["file"]).read_bytes()
        if not entry["file"].endswith(hashlib.sha256(content).hexdigest()[:10] + ".js"):
            raise ValueError(f"{entry['file']} does not match its content")
        chunks[name] = VendorChunk(
            name,
            entry["file"],
            tuple(entry["packages"]),
            tuple(entry["specifiers"]),
            tuple(entry["deps"]),
            content,
        )
    return VendorSet(key, chunks)
