"""``manifest.json``, the record every version folder carries beside its ``index.html``.

The storage layout's contract (docs/contract.md): what the version is (session, version,
status, input hash, the pins it was built with), every file in the folder with its kind,
size, sha256 and Content-Type, and — for a ready version — the page it loads (so a version
reusing another's files renders its own page from it) or — for a failed build — the error.
Written by the render pipeline, read by reuse, publishing and ``stage-render serve``: here,
once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from bundler import Diagnostic, Page
from worker.models import RenderError

__all__ = ["MANIFEST", "Manifest", "ManifestFile"]

#: The manifest's name in every version folder.
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ManifestFile:
    """One file of the version folder (``kind`` decides its Cache-Control)."""

    path: str
    kind: str
    size: int
    sha256: str
    content_type: str

    @classmethod
    def of(cls, path: str, kind: str, body: bytes, content_type: str) -> ManifestFile:
        return cls(path, kind, len(body), hashlib.sha256(body).hexdigest(), content_type)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "contentType": self.content_type,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestFile:
        return cls(
            data["path"],
            data.get("kind", "asset"),
            int(data.get("size", 0)),
            data.get("sha256", ""),
            data.get("contentType", ""),
        )


@dataclass(frozen=True)
class Manifest:
    """A version folder's manifest: a ready version's page or a failed build's error."""

    session_id: str
    version: int
    status: Literal["ready", "failed"]
    input_hash: str | None
    esbuild_version: str
    tailwind_version: str
    lock_hash: str
    shell_version: str
    created_at: str
    files: list[ManifestFile]
    page: Page | None = None
    warnings: list[Diagnostic] = field(default_factory=list)
    reused_from: str | None = None
    error: RenderError | None = None

    def kind_of(self, path: str) -> str:
        """The kind of ``path`` in the folder; the manifest itself is ``html`` like the page."""
        if path == MANIFEST:
            return "html"
        return next((f.kind for f in self.files if f.path == path), "html")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sessionId": self.session_id,
            "version": self.version,
            "status": self.status,
            "inputHash": self.input_hash,
            "esbuildVersion": self.esbuild_version,
            "tailwindVersion": self.tailwind_version,
            "lockHash": self.lock_hash,
            "shellVersion": self.shell_version,
            "createdAt": self.created_at,
        }
        if self.page is not None:
            data.update(self.page.to_dict())
            data["warnings"] = [w.to_dict() for w in self.warnings]
            data["reusedFrom"] = self.reused_from
        if self.error is not None:
            data["error"] = self.error.to_dict()
        data["files"] = [f.to_dict() for f in self.files]
        return data

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, body: bytes | str) -> Manifest:
        """Parse a stored manifest. Raises ValueError (or KeyError, TypeError) when it is not
        one; manifests written before the page moved to the top level kept it under "page"."""
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a manifest is a JSON object")
        recorded = data.get("page", data)
        ready = data.get("status", "ready") == "ready"
        return cls(
            session_id=data.get("sessionId", ""),
            version=int(data.get("version", 0)),
            status="ready" if ready else "failed",
            input_hash=data.get("inputHash"),
            esbuild_version=data.get("esbuildVersion", ""),
            tailwind_version=data.get("tailwindVersion", ""),
            lock_hash=data.get("lockHash", ""),
            shell_version=data.get("shellVersion", ""),
            created_at=data.get("createdAt", ""),
            files=[ManifestFile.from_dict(f) for f in data.get("files", [])],
            page=Page.from_dict(recorded) if ready and "scripts" in recorded else None,
            warnings=[Diagnostic.from_dict(w) for w in recorded.get("warnings", [])],
            reused_from=data.get("reusedFrom"),
            error=RenderError.from_dict(data["error"]) if data.get("error") else None,
        )
