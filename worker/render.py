"""One render: a snapshot of session files in, a stored version folder out.

No Redis here: the Celery task and the embedded ``stage-render render`` both call
:func:`render_snapshot`. Upload order is what makes a version safe to read while it is
being written: assets first, then ``index.html``, then ``manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from bundler import Bundler, Diagnostic, SourceFile
from bundler.shell import SHELL_VERSION, render_index
from worker.models import utc_now
from worker.storage import CACHE_REVALIDATE, ArtifactStore, StoredObject

__all__ = ["RenderInput", "Rendered", "render_snapshot", "version_prefix", "input_hash"]


@dataclass(frozen=True)
class RenderInput:
    """Everything a render depends on besides the bundler's own pins."""

    session_id: str
    version: int
    name: str
    google_scopes: list[str]
    files: list[SourceFile]


@dataclass(frozen=True)
class Rendered:
    """A stored version: where its page is, and what it cost."""

    index_key: str  # full key in the store, prefix included
    url: str
    index_path: str | None
    input_hash: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)


def version_prefix(session_id: str, version: int) -> str:
    """The folder of one render version, relative to the store's prefix."""
    return f"sessions/{session_id}/renders/{version}/"


def input_hash(job: RenderInput, bundler: Bundler) -> str:
    """sha256 over files, name, scopes and the pins that change output (lock, shell)."""
    digest = hashlib.sha256()
    header = {"name": job.name, "googleScopes": job.google_scopes,
              "lock": bundler.runtime.lock_hash, "shell": SHELL_VERSION}
    digest.update(json.dumps(header, sort_keys=True).encode("utf-8"))
    for f in sorted(job.files, key=lambda f: f.path):
        path = f.path.encode("utf-8")
        digest.update(len(path).to_bytes(4, "big") + path)
        digest.update(len(f.content).to_bytes(8, "big") + f.content)
    return digest.hexdigest()


def render_snapshot(job: RenderInput, *, bundler: Bundler, store: ArtifactStore) -> Rendered:
    """Build, wrap and upload one version. Raises BuildFailed, BundlerUnavailable, StorageError."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    bundle = bundler.build(job.files)
    timings["bundle"] = _ms_since(started)

    started = time.perf_counter()
    html = render_index(bundle, session_id=job.session_id, version=job.version, name=job.name,
                        google_scopes=job.google_scopes)
    digest = input_hash(job, bundler)
    folder = version_prefix(job.session_id, job.version)
    assets = [StoredObject(folder + a.path, a.content, a.content_type) for a in bundle.artifacts]
    index = StoredObject(folder + "index.html", html, "text/html; charset=utf-8",
                         CACHE_REVALIDATE)
    manifest = {
        "sessionId": job.session_id,
        "version": job.version,
        "inputHash": digest,
        "entry": bundle.entry,
        "scripts": bundle.scripts,
        "styles": bundle.styles,
        "esbuildVersion": bundler.runtime.esbuild_version,
        "lockHash": bundler.runtime.lock_hash,
        "shellVersion": SHELL_VERSION,
        "createdAt": utc_now(),
        "files": [
            {"path": obj.key[len(folder):], "size": len(obj.body),
             "sha256": hashlib.sha256(obj.body).hexdigest(), "contentType": obj.content_type}
            for obj in [*assets, index]
        ],
    }
    manifest_obj = StoredObject(folder + "manifest.json",
                                json.dumps(manifest, indent=2).encode("utf-8"),
                                "application/json; charset=utf-8", CACHE_REVALIDATE)
    timings["shell"] = _ms_since(started)

    started = time.perf_counter()
    store.put_many(assets)
    store.put_many([index])
    store.put_many([manifest_obj])
    timings["upload"] = _ms_since(started)

    local = store.local_path(index.key)
    return Rendered(
        index_key=store.prefix + index.key,
        url=store.url_for(index.key),
        index_path=str(local) if local else None,
        input_hash=digest,
        timings_ms=timings,
        warnings=bundle.warnings,
    )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
