"""Build one version: a session's files in, a stored version folder out.

No Redis here: the job (:mod:`worker.render.job`) and the embedded ``stage-render render`` both
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
from typing import Any, Literal

from bundler import BuildFailed, Bundler, BundlerUnavailable, Diagnostic, Page, Runtime, SourceFile
from bundler.pins import DEFAULT_RUNTIME_DIR
from bundler.shell import SHELL_VERSION, error_html, index_html
from worker.errors import BundlerServiceError, ConfigError, StorageError
from worker.logs import ms_since
from worker.manifest import MANIFEST, Manifest, ManifestFile
from worker.models import RenderError, RenderRecord, utc_now
from worker.settings import Settings
from worker.storage import ArtifactStore, StoredObject, cache_control_for, version_folder

__all__ = [
    "RenderInput",
    "BuiltVersion",
    "build_version",
    "input_hash",
    "bundler_from_settings",
    "runtime_from_settings",
    "store_refused_version",
]


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
    input_hash: str | None = None
    shared: list[str] = field(default_factory=list)  # vendor/ keys the page loads

    def finish(self, record: RenderRecord, timings_ms: dict[str, float]) -> RenderRecord:
        """``record`` (building) ended with this version: ``ready``, or ``failed`` with the
        build error its page shows. The job and ``stage-render render`` both end here."""
        return record.finished(
            error=self.error,
            timings_ms=timings_ms,
            input_hash=self.input_hash,
            index_key=self.index_key,
            url=self.url,
            index_path=self.index_path,
            warnings=self.warnings,
        )


def input_hash(job: RenderInput, bundler: Bundler) -> str:
    """sha256 over files, name, scopes and the pins that change output (lock, shell)."""
    digest = hashlib.sha256()
    header = {
        "name": job.name,
        "googleScopes": job.google_scopes,
        "bundler": bundler.config_key,
        "shell": SHELL_VERSION,
    }
    digest.update(json.dumps(header, sort_keys=True).encode("utf-8"))
    for f in sorted(job.files, key=lambda f: f.path):
        path = f.path.encode("utf-8")
        digest.update(len(path).to_bytes(4, "big") + path)
        digest.update(len(f.content).to_bytes(8, "big") + f.content)
    return digest.hexdigest()


def runtime_from_settings(settings: Settings) -> Runtime:
    """The pinned npm runtime (``STAGE_NPM_RUNTIME_DIR``). Raises ConfigError naming the
    setting when it is not installed there."""
    root = Path(settings.npm_runtime_dir) if settings.npm_runtime_dir else DEFAULT_RUNTIME_DIR
    binary = Path(settings.esbuild_binary) if settings.esbuild_binary else None
    runtime = Runtime(root=root, binary_override=binary)
    try:
        runtime.check()
    except FileNotFoundError as exc:
        raise ConfigError(f"STAGE_NPM_RUNTIME_DIR={str(root)!r}: {exc}") from exc
    return runtime


def bundler_from_settings(settings: Settings) -> Bundler:
    """The bundler a worker process (or ``stage-render render``) uses."""
    return Bundler(
        runtime_from_settings(settings),
        timeout_s=settings.build_timeout_s,
        vendor_cache=settings.vendor_cache_dir if settings.vendor else None,
        work_dir=Path(settings.build_dir) if settings.build_dir else None,
        node_binary=settings.node_binary,
        warm_contexts=settings.warm_contexts,
        warm_source_bytes=settings.warm_source_bytes,
        warm_idle_s=settings.warm_idle_s,
        warm_total_source_bytes=settings.warm_total_source_bytes,
    )


def build_version(
    job: RenderInput,
    *,
    digest: str,
    bundler: Bundler,
    store: ArtifactStore,
    max_output_bytes: int | None = None,
    progress: Callable[[str, float], None] | None = None,
    reuse: str | None = None,
) -> BuiltVersion:
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
        bundle = bundler.build(job.files, warm_key=job.session_id)
        if max_output_bytes is not None and bundle.total_bytes > max_output_bytes:
            message = (
                f"the build output is {bundle.total_bytes} bytes, more than the limit "
                f"STAGE_MAX_OUTPUT_BYTES={max_output_bytes}"
            )
            raise BuildFailed(message, [Diagnostic("", 0, 0, message, "")])
    except BuildFailed as exc:
        timings["bundle"] = ms_since(started)
        return _store_error_page(job, exc, digest, folder, store, bundler, timings)
    except BundlerUnavailable as exc:  # esbuild crashed, hung or could not start
        raise BundlerServiceError(str(exc)) from exc
    # Tailwind runs inside the build; it is reported as a stage of its own.
    timings["bundle"] = round(ms_since(started) - bundle.css_ms, 2)
    timings["css"] = bundle.css_ms

    started = time.perf_counter()
    assets = [
        StoredObject(folder + a.path, a.content, a.content_type, cache_control_for(a.kind))
        for a in bundle.artifacts
    ]
    files = [ManifestFile.of(a.path, a.kind, a.content, a.content_type) for a in bundle.artifacts]
    index, manifest = _page_objects(
        job, bundle.page, bundle.warnings, files, folder, digest, bundler
    )
    timings["shell"] = ms_since(started)

    started = time.perf_counter()
    shared = [
        StoredObject(a.path, a.content, a.content_type, cache_control_for(a.kind))
        for a in bundle.vendor
    ]
    # Two waves: what the page loads, then the two files that name it. A store that
    # has the shared files already (the usual case) is not asked about them again.
    shared_missing = store.put_missing(shared)
    store.put_many(assets)
    store.put_many([index, manifest])
    timings["upload"] = ms_since(started)
    uploaded = sum(len(o.body) for o in [*assets, index, manifest])
    uploaded += sum(len(o.body) for o in shared) if shared_missing else 0
    return _built(
        store,
        folder,
        digest,
        timings,
        uploaded,
        warnings=bundle.warnings,
        cache_hits={"vendor": len(shared) - shared_missing},
        shared=_shared_keys(bundle.page),
    )


def store_refused_version(
    session_id: str,
    version: int,
    message: str,
    path: str,
    *,
    bundler: Bundler,
    store: ArtifactStore,
) -> BuiltVersion:
    """The error page of a version whose session breaks the input rules, nothing built.

    ``message`` names the rule, ``path`` the file (``""`` when the rule is not about one);
    the returned version carries the build error. No input hash: the inputs were refused.
    """
    job = RenderInput(session_id, version, f"session {session_id}", [], [])
    failure = BuildFailed(message, [Diagnostic(path, 0, 0, message, "")])
    return _store_error_page(
        job, failure, None, version_folder(session_id, version), store, bundler, _Timings(None)
    )


def _reuse(
    job: RenderInput,
    source: str,
    folder: str,
    digest: str,
    store: ArtifactStore,
    bundler: Bundler,
    timings: dict[str, float],
) -> BuiltVersion | None:
    """The version folder copied from ``source`` (same inputs), or None if it is unusable."""
    started = time.perf_counter()
    try:
        old = Manifest.from_json(store.get(source + MANIFEST))
    except (StorageError, ValueError, KeyError, TypeError):
        return None  # gone, or not a manifest: build instead
    if old.page is None:
        return None  # a manifest from before pages were recorded: build instead
    page, warnings = old.page, old.warnings
    files = [f for f in old.files if f.path != "index.html"]
    timings["bundle"] = 0.0
    index, manifest = _page_objects(
        job, page, warnings, files, folder, digest, bundler, reused_from=source
    )
    timings["shell"] = ms_since(started)
    started = time.perf_counter()
    store.copy_many([(source + f.path, folder + f.path) for f in files])
    store.put_many([index, manifest])
    timings["upload"] = ms_since(started)
    return _built(
        store,
        folder,
        digest,
        timings,
        len(index.body) + len(manifest.body),
        warnings=warnings,
        cache_hits={"dedupe": 1},
        shared=_shared_keys(page),
    )


def _shared_keys(page: Page) -> list[str]:
    """The shared objects (overlay, vendor chunks) a page loads, relative to the store root."""
    return [*([page.overlay] if page.overlay else []), *page.vendor_scripts]


def _page_objects(
    job: RenderInput,
    page: Page,
    warnings: list[Diagnostic],
    files: list[ManifestFile],
    folder: str,
    digest: str,
    bundler: Bundler,
    reused_from: str | None = None,
) -> tuple[StoredObject, StoredObject]:
    """index.html for this version, and the manifest listing it beside ``files``."""
    html = index_html(
        page,
        session_id=job.session_id,
        version=job.version,
        name=job.name,
        google_scopes=job.google_scopes,
        root_url="../" * folder.count("/"),
    )
    index = StoredObject(
        folder + "index.html", html, "text/html; charset=utf-8", cache_control_for("html")
    )
    manifest = _manifest(
        job,
        digest,
        bundler,
        "ready",
        [*files, ManifestFile.of("index.html", "html", html, index.content_type)],
        page=page,
        warnings=warnings,
        reused_from=reused_from,
    )
    return index, _manifest_object(folder, manifest, cache_control_for("html"))


def _store_error_page(
    job: RenderInput,
    exc: BuildFailed,
    digest: str | None,
    folder: str,
    store: ArtifactStore,
    bundler: Bundler,
    timings: dict[str, float],
) -> BuiltVersion:
    # A failed version is a page that says why, never a blank one, and never cached.
    started = time.perf_counter()
    html = error_html(exc.diagnostics, message=exc.message, version=job.version, name=job.name)
    index = StoredObject(
        folder + "index.html",
        html,
        "text/html; charset=utf-8",
        cache_control_for("html", failed=True),
    )
    error = RenderError("build", exc.message, exc.diagnostics)
    manifest = _manifest(
        job,
        digest,
        bundler,
        "failed",
        [ManifestFile.of("index.html", "html", html, index.content_type)],
        error=error,
    )
    timings["shell"] = ms_since(started)
    started = time.perf_counter()
    manifest_obj = _manifest_object(folder, manifest, cache_control_for("html", failed=True))
    store.put_many([index, manifest_obj])
    timings["upload"] = ms_since(started)
    return _built(store, folder, digest, timings, len(html) + len(manifest_obj.body), error=error)


class _Timings(dict[str, float]):
    """Stage timings that also tell ``progress`` as each stage ends."""

    def __init__(self, progress: Callable[[str, float], None] | None) -> None:
        super().__init__()
        self._progress = progress

    def __setitem__(self, stage: str, ms: float) -> None:
        super().__setitem__(stage, ms)
        if self._progress is not None:
            self._progress(stage, ms)


def _manifest(
    job: RenderInput,
    digest: str | None,
    bundler: Bundler,
    status: Literal["ready", "failed"],
    files: list[ManifestFile],
    **outcome: Any,
) -> Manifest:
    return Manifest(
        session_id=job.session_id,
        version=job.version,
        status=status,
        input_hash=digest,
        esbuild_version=bundler.runtime.esbuild_version,
        tailwind_version=bundler.runtime.tailwind_version,
        lock_hash=bundler.runtime.lock_hash,
        shell_version=SHELL_VERSION,
        created_at=utc_now(),
        files=files,
        **outcome,
    )


def _manifest_object(folder: str, manifest: Manifest, cache: str) -> StoredObject:
    return StoredObject(
        folder + MANIFEST, manifest.to_json(), "application/json; charset=utf-8", cache
    )


def _built(
    store: ArtifactStore,
    folder: str,
    digest: str | None,
    timings: dict[str, float],
    uploaded_bytes: int,
    warnings: list[Diagnostic] | None = None,
    error: RenderError | None = None,
    cache_hits: dict[str, int] | None = None,
    shared: list[str] | None = None,
) -> BuiltVersion:
    index_key = folder + "index.html"
    local = store.local_path(index_key)
    return BuiltVersion(
        folder=folder,
        index_key=store.prefix + index_key,
        url=store.url_for(index_key),
        index_path=str(local) if local else None,
        timings_ms=dict(timings),
        warnings=warnings or [],
        error=error,
        uploaded_bytes=uploaded_bytes,
        cache_hits=cache_hits or {},
        input_hash=digest,
        shared=shared or [],
    )
