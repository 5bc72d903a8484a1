"""Vendor chunks: the allowlisted packages, built once per lock, shared by every render.

Bundling React into every render costs ~60 ms of a ~70 ms build; bundling
lucide-react for one icon costs ~550 ms (esbuild parses all 4,872 icons). So each
allowlisted package is built once into its own classic script that registers its modules
on ``globalThis.__STAGE_VENDOR__``, and a render bundles only the session's code, where
each import of a vendored specifier is a one-line shim reading that registry.

- One React: every chunk and every render reach ``react`` through the registry, and only
  the react chunk contains it.
- Classic scripts (not ES modules or an import map), so a page works from any static host
  and from ``file://``.
- Chunks live at ``vendor/<key>/<package>-<hash>.js`` at the store root; a version folder
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.errors import BundlerCrashed
from bundler.esbuild import EsbuildService
from bundler.pins import Runtime, package_name

__all__ = ["ALIASED_PACKAGES", "VendorChunk", "VendorSet", "load_or_build_vendor",
           "shim_source", "REGISTRY", "VENDOR_NAMESPACE"]

log = logging.getLogger(__name__)

#: Bump when chunk contents or the registry protocol change: it is part of the key.
VENDOR_FORMAT = "1"
REGISTRY = "__STAGE_VENDOR__"
VENDOR_NAMESPACE = "stage-vendor"
#: Subpath entry points vendored beside a package's root. Other subpaths (date-fns/format,
#: lucide-react/icons/x) are bundled into the render, tree-shaken; their imports of
#: vendored specifiers still go through the registry.
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
_FLAGS = [
    "--bundle", "--minify", "--format=iife", "--platform=browser", "--target=es2020",
    "--charset=utf8", "--log-level=silent", "--log-limit=0", "--metafile",
    "--define:process.env.NODE_ENV=\"production\"",
]


def shim_source(specifier: str) -> str:
    """The module a render bundles in place of a vendored specifier."""
    return f"module.exports = globalThis.{REGISTRY}[{json.dumps(specifier)}];\n"


@dataclass(frozen=True)
class VendorChunk:
    package: str
    file: str  # "<package>-<hash>.js"
    specifiers: tuple[str, ...]
    deps: tuple[str, ...]  # packages whose chunks must load first
    content: bytes


@dataclass(frozen=True)
class VendorSet:
    key: str
    chunks: Mapping[str, VendorChunk]  # by package

    @property
    def folder(self) -> str:
        """Where the chunks live, relative to the store root."""
        return f"vendor/{self.key}/"

    def package_of(self, specifier: str) -> str | None:
        """The package whose chunk registers ``specifier``, or None if it is not vendored."""
        package = package_name(specifier)
        chunk = self.chunks.get(package)
        return package if chunk is not None and specifier in chunk.specifiers else None

    @property
    def aliased_specifiers(self) -> list[str]:
        """The specifiers of :data:`ALIASED_PACKAGES` (``react``, ``react/jsx-runtime``, …)."""
        return sorted(s for package, chunk in self.chunks.items()
                      if package in ALIASED_PACKAGES for s in chunk.specifiers)

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

    def scripts_for(self, packages: Iterable[str]) -> list[str]:
        """Chunk paths (relative to the store root) for ``packages``, dependencies first."""
        ordered: list[str] = []

        def visit(package: str) -> None:
            if package in ordered:
                return
            for dep in self.chunks[package].deps:
                visit(dep)
            ordered.append(package)

        for package in sorted(packages):
            visit(package)
        return [self.folder + self.chunks[p].file for p in ordered]


def vendor_key(runtime: Runtime) -> str:
    material = f"{runtime.lock_hash}:{runtime.esbuild_version}:{VENDOR_FORMAT}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def load_or_build_vendor(service: EsbuildService, runtime: Runtime, cache_dir: Path,
                         timeout_s: float) -> VendorSet:
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


def _build(service: EsbuildService, runtime: Runtime, key: str, timeout_s: float) -> VendorSet:
    owners = {}
    for package in runtime.allowed_packages:
        for specifier in (package, *(f"{package}/{s}" for s in _SUBPATHS.get(package, ()))):
            owners[specifier] = package
    chunks = {}
    for package in runtime.allowed_packages:
        specifiers = tuple(s for s, p in owners.items() if p == package)
        content, deps = _build_chunk(service, runtime, package, specifiers, owners, timeout_s)
        digest = hashlib.sha256(content).hexdigest()[:10]
        chunks[package] = VendorChunk(package, f"{package.replace('/', '__')}-{digest}.js",
                                      specifiers, deps, content)
    return VendorSet(key, chunks)


def _build_chunk(service: EsbuildService, runtime: Runtime, package: str,
                 specifiers: tuple[str, ...], owners: Mapping[str, str],
                 timeout_s: float) -> tuple[bytes, tuple[str, ...]]:
    lines = [f"const r = globalThis.{REGISTRY} || (globalThis.{REGISTRY} = {{}});",
             # esbuild gives a consumer's default import the whole object unless it is
             # marked as an ES module namespace.
             "const esm = (m) => Object.defineProperty(Object.assign({}, m), "
             "'__esModule', { value: true });"]
    for index, specifier in enumerate(specifiers):
        lines.append(f"import * as m{index} from {json.dumps(specifier)};")
        lines.append(f"r[{json.dumps(specifier)}] = esm(m{index});")
    deps: set[str] = set()

    def on_request(request: dict[str, Any]) -> dict[str, Any]:
        callback_id = request["ids"][0]
        if request["command"] == "on-load":
            return {"id": callback_id, "contents": shim_source(request["path"]).encode(),
                    "loader": "js"}
        owner = owners.get(request["path"])
        if owner is not None and owner != package:
            deps.add(owner)
            return {"id": callback_id, "path": request["path"], "namespace": VENDOR_NAMESPACE}
        return {}

    with tempfile.TemporaryDirectory(prefix="stage-vendor-") as tmp:
        request = {
            "command": "build", "key": 0, "entries": [],
            "flags": [*_FLAGS, f"--outfile={Path(tmp) / 'chunk.js'}",
                      "--sourcefile=<stage:vendor>"],
            "write": False, "stdinContents": "\n".join(lines).encode(),
            "stdinResolveDir": str(runtime.root), "absWorkingDir": tmp,
            "nodePaths": [str(runtime.node_modules)], "context": False,
            "plugins": [{"name": "stage-vendor", "onStart": False, "onEnd": False,
                         "onResolve": [{"id": 0, "filter": "^[^./]", "namespace": ""}],
                         "onLoad": [{"id": 1, "filter": ".*", "namespace": VENDOR_NAMESPACE}]}],
        }
        response = service.build(request, on_request, timeout_s)
    errors = response.get("errors") or []
    if errors:
        # The pinned packages do not build: the runtime is broken, not the session's code.
        texts = "; ".join(str(e.get("text")) for e in errors[:5])
        raise BundlerCrashed(service.command, None, f"vendor chunk {package} failed: {texts}")
    [output] = [o for o in response["outputFiles"] if o["path"].endswith(".js")]
    return bytes(output["contents"]), tuple(sorted(deps))


def _write_cache(vendor: VendorSet, cache_dir: Path, folder: Path) -> None:
    """Write the set beside its final place, then rename: readers see all of it or none."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vendor-", dir=cache_dir))
    for chunk in vendor.chunks.values():
        (staging / chunk.file).write_bytes(chunk.content)
    index = {p: {"file": c.file, "specifiers": list(c.specifiers), "deps": list(c.deps)}
             for p, c in vendor.chunks.items()}
    (staging / "chunks.json").write_text(json.dumps(index, indent=2))
    try:
        os.rename(staging, folder)
    except OSError:  # another process cached it first: theirs is the same
        shutil.rmtree(staging, ignore_errors=True)


def _read_cache(key: str, folder: Path, index_path: Path) -> VendorSet:
    index = json.loads(index_path.read_text())
    chunks = {}
    for package, entry in index.items():
        content = (folder / entry["file"]).read_bytes()
        if not entry["file"].endswith(hashlib.sha256(content).hexdigest()[:10] + ".js"):
            raise ValueError(f"{entry['file']} does not match its content")
        chunks[package] = VendorChunk(package, entry["file"], tuple(entry["specifiers"]),
                                      tuple(entry["deps"]), content)
    return VendorSet(key, chunks)
