"""Build one version: a session's files in, a stored version folder out.

No Redis here: the job (:mod:`worker.jobs`) and the embedded ``stage-render render`` both
call :func:`build_version`. Upload order is what makes a version safe to read while it is
being written: assets first, then ``index.html`` and ``manifest.json`` together. A version
whose build failed gets an error page as its ``index.html`` and is never cached.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler import BuildFailed, Bundler, BundlerUnavailable, Diagnostic, Page, Runtime, SourceFile
from bundler.shell import SHELL_VERSION, error_html, index_html
from worker.errors import BundlerServiceError, StorageError
from worker.models import RenderError, utc_now
from worker.settings import Settings
from worker.storage import ArtifactStore, StoredObject, cache_control_for, version_folder

__all__ = ["RenderInput", "BuiltVersion", "build_version", "input_hash", "bundler_from_settings"]


@dataclass(frozen=True)
class RenderInput:
    """Everything a version depends on besides the bundler's own pins."""

    session_id: str
    version: int
    name: str
    google_scopes: list[str]
    files: list[SourceFile]


@dataclass(frozen=True)
class BuiltVersion:
    """A stored version: where its page is, and what it cost."""

    folder: str  # relative to the store's prefix: sessions/<id>/renders/<v>/
    index_key: str  # full key in the store, prefix included
    url: str
    index_path: str | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    error: RenderError | None = None  # set when the build failed and index.html says why
    uploaded_bytes: int = 0
    cache_hits: dict[str, int] = field(default_factory=dict)  # "vendor", "dedupe"


def input_hash(job: RenderInput, bundler: Bundler) -> str:
    """sha256 over files, name, scopes and the pins that change output (lock, shell)."""
    digest = hashlib.sha256()
    header = {"name": job.name, "googleScopes": job.google_scopes,
              "bundler": bundler.config_key, "shell": SHELL_VERSION}
    digest.update(json.dumps(header, sort_keys=True).encode("utf-8"))
    for f in sorted(job.files, key=lambda f: f.path):
        path = f.path.encode("utf-8")
        digest.update(len(path).to_bytes(4, "big") + path)
        digest.update(len(f.content).to_bytes(8, "big") + f.content)
    return digest.hexdigest()


def bundler_from_settings(settings: Settings) -> Bundler:
    """The bundler a worker process (or ``stage-render render``) uses."""
    binary = Path(settings.esbuild_binary) if settings.esbuild_binary else None
    return Bundler(Runtime(binary_override=binary), timeout_s=settings.build_timeout_s,
                   vendor_cache=settings.vendor_cache_dir if settings.vendor else None,
                   work_dir=Path(settings.build_dir) if settings.build_dir else None,
                   node_binary=settings.node_binary)


def build_version(job: RenderInput, *, digest: str, bundler: Bundler, store: ArtifactStore,
                  max_output_bytes: int | None = None,
                  progress: Callable[[str, float], None] | None = None,
                  reuse: str | None = None) -> BuiltVersion:
    """Build, wrap and upload one version folder. ``digest`` is :func:`input_hash` of ``job``.

    ``reuse`` names the folder of a ready version built from the same inputs: its files
    are copied inside the store instead of building again, and only index.html (which
    names this version) and manifest.json are written. A build error still stores a page:
    ``index.html`` is the error page, and the returned version carries the error. Raises
    BundlerServiceError or StorageError (infrastructure errors) for failures not in the
    session's code.
    """
    timings: dict[str, float] = _Timings(progress)
    folder = version_folder(job.session_id, job.version)
    if reuse is not None:
        reused = _reuse(job, reuse, folder, digest, store, bundler, timings)
        if reused is not None:
            return reused
    started = time.perf_counter()
    try:
        bundle = bundler.build(job.files)
        if max_output_bytes is not None and bundle.total_bytes > max_output_bytes:
            message = (f"the build output is {bundle.total_bytes} bytes, more than the limit "
                       f"STAGE_MAX_OUTPUT_BYTES={max_output_bytes}")
            raise BuildFailed(message, [Diagnostic("", 0, 0, message, "")])
    except BuildFailed as exc:
        timings["bundle"] = _ms_since(started)
        return _store_error_page(job, exc, digest, folder, store, bundler, timings)
    except BundlerUnavailable as exc:  # esbuild crashed, hung or could not start
        raise BundlerServiceError(str(exc)) from exc
    # Tailwind runs inside the build; it is reported as a stage of its own.
    timings["bundle"] = round(_ms_since(started) - bundle.css_ms, 2)
    timings["css"] = bundle.css_ms

    started = time.perf_counter()
    assets = [StoredObject(folder + a.path, a.content, a.content_type, cache_control_for(a.kind))
              for a in bundle.artifacts]
    files = [_file_entry(a.path, a.kind, a.content, a.content_type) for a in bundle.artifacts]
    index, manifest = _page_objects(job, bundle.page, bundle.warnings, files, folder, digest,
                                    bundler)
    timings["shell"] = _ms_since(started)

    started = time.perf_counter()
    shared = [StoredObject(a.path, a.content, a.content_type, cache_control_for(a.kind))
              for a in bundle.vendor]
    # Two waves: what the page loads, then the two files that name it. A store that
    # has the shared files already (the usual case) is not asked about them again.
    shared_missing = store.put_missing(shared)
    store.put_many(assets)
    store.put_many([index, manifest])
    timings["upload"] = _ms_since(started)
    uploaded = sum(len(o.body) for o in [*assets, index, manifest])
    uploaded += sum(len(o.body) for o in shared) if shared_missing else 0
    return _built(store, folder, timings, uploaded, warnings=bundle.warnings,
                  cache_hits={"vendor": len(shared) - shared_missing})


def _reuse(job: RenderInput, source: str, folder: str, digest: str, store: ArtifactStore,
           bundler: Bundler, timings: dict[str, float]) -> BuiltVersion | None:
    """The version folder copied from ``source`` (same inputs), or None if it is unusable."""
    started = time.perf_counter()
    try:
        old = json.loads(store.get(source + "manifest.json"))
        # Manifests written before the page moved to the top level kept it under "page".
        recorded = old.get("page", old)
        page = Page.from_dict(recorded)
        warnings = [Diagnostic.from_dict(w) for w in recorded["warnings"]]
        files = [f for f in old["files"] if f["path"] != "index.html"]
    except (StorageError, ValueError, KeyError, TypeError):
        return None  # gone, or a manifest from before pages were recorded: build instead
    timings["bundle"] = 0.0
    index, manifest = _page_objects(job, page, warnings, files, folder, digest, bundler,
                                    reused_from=source)
    timings["shell"] = _ms_since(started)
    started = time.perf_counter()
    store.copy_many([(source + f["path"], folder + f["path"]) for f in files])
    store.put_many([index, manifest])
    timings["upload"] = _ms_since(started)
    return _built(store, folder, timings, len(index.body) + len(manifest.body),
                  warnings=warnings, cache_hits={"dedupe": 1})


def _page_objects(job: RenderInput, page: Page, warnings: list[Diagnostic],
                  files: list[dict[str, Any]], folder: str, digest: str, bundler: Bundler,
                  reused_from: str | None = None) -> tuple[StoredObject, StoredObject]:
    """index.html for this version, and the manifest listing it beside ``files``."""
    html = index_html(page, session_id=job.session_id, version=job.version, name=job.name,
                      google_scopes=job.google_scopes, root_url="../" * folder.count("/"))
    index = StoredObject(folder + "index.html", html, "text/html; charset=utf-8",
                         cache_control_for("html"))
    manifest: dict[str, Any] = {
        **_manifest_header(job, digest, bundler, "ready"),
        **page.to_dict(),
        "warnings": [w.to_dict() for w in warnings],
        "reusedFrom": reused_from,
        "files": [*files, _file_entry("index.html", "html", html, index.content_type)],
    }
    return index, _manifest_object(folder, manifest, cache_control_for("html"))


def _file_entry(path: str, kind: str, body: bytes, content_type: str) -> dict[str, Any]:
    return {"path": path, "kind": kind, "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(), "contentType": content_type}


def _store_error_page(job: RenderInput, exc: BuildFailed, digest: str, folder: str,
                      store: ArtifactStore, bundler: Bundler,
                      timings: dict[str, float]) -> BuiltVersion:
    # A failed version is a page that says why, never a blank one, and never cached.
    started = time.perf_counter()
    html = error_html(exc.diagnostics, message=exc.message, version=job.version, name=job.name)
    index = StoredObject(folder + "index.html", html, "text/html; charset=utf-8",
                         cache_control_for("html", failed=True))
    manifest = {
        **_manifest_header(job, digest, bundler, "failed"),
        "error": {"kind": "build", "message": exc.message,
                  "diagnostics": [d.to_dict() for d in exc.diagnostics]},
        "files": [_file_entry("index.html", "html", html, index.content_type)],
    }
    timings["shell"] = _ms_since(started)
    started = time.perf_counter()
    manifest_obj = _manifest_object(folder, manifest, cache_control_for("html", failed=True))
    store.put_many([index, manifest_obj])
    timings["upload"] = _ms_since(started)
    return _built(store, folder, timings, len(html) + len(manifest_obj.body),
                  error=RenderError("build", exc.message, exc.diagnostics))


class _Timings(dict[str, float]):
    """Stage timings that also tell ``progress`` as each stage ends."""

    def __init__(self, progress: Callable[[str, float], None] | None) -> None:
        super().__init__()
        self._progress = progress

    def __setitem__(self, stage: str, ms: float) -> None:
        super().__setitem__(stage, ms)
        if self._progress is not None:
            self._progress(stage, ms)


def _manifest_header(job: RenderInput, digest: str, bundler: Bundler,
                     status: str) -> dict[str, Any]:
    return {
        "sessionId": job.session_id,
        "version": job.version,
        "status": status,
        "inputHash": digest,
        "esbuildVersion": bundler.runtime.esbuild_version,
        "tailwindVersion": bundler.runtime.tailwind_version,
        "lockHash": bundler.runtime.lock_hash,
        "shellVersion": SHELL_VERSION,
        "createdAt": utc_now(),
    }


def _manifest_object(folder: str, manifest: dict[str, Any], cache: str) -> StoredObject:
    return StoredObject(folder + "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"),
                        "application/json; charset=utf-8", cache)


def _built(store: ArtifactStore, folder: str, timings: dict[str, float], uploaded_bytes: int,
           warnings: list[Diagnostic] | None = None, error: RenderError | None = None,
           cache_hits: dict[str, int] | None = None) -> BuiltVersion:
    index_key = folder + "index.html"
    local = store.local_path(index_key)
    return BuiltVersion(folder=folder, index_key=store.prefix + index_key,
                        url=store.url_for(index_key),
                        index_path=str(local) if local else None, timings_ms=dict(timings),
                        warnings=warnings or [], error=error, uploaded_bytes=uploaded_bytes,
                        cache_hits=cache_hits or {})


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
