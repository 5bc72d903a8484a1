"""What goes into the bundler (source files) and what comes out (artifacts, diagnostics)."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "SourceFile",
    "Artifact",
    "ArtifactKind",
    "Bundle",
    "ComputeModule",
    "Diagnostic",
    "Page",
    "Route",
    "content_type_for",
]

Severity = Literal["error", "warning"]
#: script/style: what index.html loads; asset: files the code imports; sourcemap; public:
#: /public/ copied as is; server: an API route bundle; overlay: the runtime error overlay.
ArtifactKind = Literal[
    "script", "style", "asset", "sourcemap", "public", "server", "overlay", "vendor"
]

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    # Not in Python's own table: on a host without /etc/mime.types (slim images) they
    # would be application/octet-stream.
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}


def content_type_for(path: str) -> str:
    """The Content-Type a static host should send for ``path``."""
    suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path, strict=False)
    return guessed or "application/octet-stream"


@dataclass(frozen=True)
class SourceFile:
    """One session file: an absolute POSIX path as pushed (``/app/App.tsx``) and its bytes."""

    path: str
    content: bytes


@dataclass(frozen=True)
class Diagnostic:
    """An error or warning, located in a file as it was pushed.

    ``line`` and ``column`` are 1-based (column counts characters); both are 0 when
    the message has no location (an entry that does not exist, say).
    """

    file: str
    line: int
    column: int
    message: str
    line_text: str
    severity: Severity = "error"
    #: For resolution errors: the files from the entry to the import, then the specifier
    #: (``/app/App.tsx``, ``/app/lib/api.ts``, ``@stage/inference``).
    import_chain: tuple[str, ...] = ()

    def format(self) -> str:
        """``/app/App.tsx:3:14: error: message``, the form compilers print."""
        if self.file and self.line:
            where = f"{self.file}:{self.line}:{self.column}: "
        else:
            where = f"{self.file}: " if self.file else ""
        return f"{where}{self.severity}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "lineText": self.line_text,
            "severity": self.severity,
            "importChain": list(self.import_chain),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(
            file=data.get("file", ""),
            line=int(data.get("line", 0)),
            column=int(data.get("column", 0)),
            message=data.get("message", ""),
            line_text=data.get("lineText", ""),
            severity=data.get("severity", "error"),
            import_chain=tuple(data.get("importChain") or ()),
        )


@dataclass(frozen=True)
class Artifact:
    """One output file, ``path`` relative to the version's folder (``assets/app-X.js``)."""

    path: str
    content: bytes
    content_type: str
    kind: ArtifactKind = "asset"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Route:
    """A published API backend route and its server bundle (``/api/tasks`` → ``server/…``).

    ``methods`` are the handlers the route exports (``GET``, ``POST``, …, or ``fetch`` for
    a default export that answers every method), as the build found them.
    """

    route: str
    source: str
    path: str
    methods: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "source": self.source,
            "path": self.path,
            "methods": list(self.methods),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Route:
        return cls(data["route"], data["source"], data["path"], tuple(data.get("methods") or ()))


@dataclass(frozen=True)
class ComputeModule:
    """A ``/compute/<name>.ts`` file of a published API backend and its server bundle
    (``tasks`` → ``server/compute/tasks.js``): the functions ``compute.query("tasks", …)``
    names. ``schema`` is the app's table and index declarations."""

    name: str
    source: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "path": self.path}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComputeModule:
        return cls(data["name"], data["source"], data["path"])


@dataclass(frozen=True)
class Page:
    """What a version's ``index.html`` loads, as the shell renders it and the manifest
    records it (so a version reusing another's files renders its own page from it).

    ``overlay`` and ``vendor_scripts`` are relative to the store root (shared by every
    version); the rest is relative to the version folder.
    """

    entry: str  # the session file the page starts from
    scripts: list[str]
    styles: list[str]
    overlay: str | None = None  # the runtime error overlay, loaded first
    vendor_scripts: list[str] = field(default_factory=list)  # loaded before ``scripts``
    favicon: str | None = None  # a /public/ icon
    routes: list[Route] = field(default_factory=list)
    compute: list[ComputeModule] = field(default_factory=list)
    #: From the session's /index.html, when it has one: its <title>, the <meta> elements
    #: kept (``{"attribute": "name" | "property", "value": …, "content": …}``) and the ids
    #: its body declares besides ``root`` (the shell adds an element for each).
    title: str | None = None
    meta: list[dict[str, str]] = field(default_factory=list)
    mount_ids: list[str] = field(default_factory=list)
    #: Scripts from other sites /index.html asks for: never loaded, named so the boot
    #: check reports them as blocked.
    blocked_scripts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The manifest's fields for the page (``vendor`` is ``vendor_scripts``)."""
        return {
            "entry": self.entry,
            "scripts": list(self.scripts),
            "styles": list(self.styles),
            "overlay": self.overlay,
            "vendor": list(self.vendor_scripts),
            "favicon": self.favicon,
            "routes": [r.to_dict() for r in self.routes],
            "compute": [c.to_dict() for c in self.compute],
            "title": self.title,
            "meta": [dict(m) for m in self.meta],
            "mountIds": list(self.mount_ids),
            "blockedScripts": list(self.blocked_scripts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Page:
        return cls(
            entry=data.get("entry", ""),
            scripts=list(data["scripts"]),
            styles=list(data["styles"]),
            overlay=data.get("overlay"),
            vendor_scripts=list(data.get("vendor") or []),
            favicon=data.get("favicon"),
            routes=[Route.from_dict(r) for r in data.get("routes") or []],
            compute=[ComputeModule.from_dict(c) for c in data.get("compute") or []],
            title=data.get("title"),
            meta=list(data.get("meta") or []),
            mount_ids=list(data.get("mountIds") or []),
            blocked_scripts=list(data.get("blockedScripts") or []),
        )


@dataclass(frozen=True)
class Bundle:
    """A successful build: the page, every file in the version folder, and the shared
    files (overlay, vendor chunks) to upload to the store root when it lacks them."""

    page: Page
    artifacts: list[Artifact]
    warnings: list[Diagnostic] = field(default_factory=list)
    vendor: list[Artifact] = field(default_factory=list)
    #: Milliseconds spent compiling Tailwind stylesheets (part of the build's time).
    css_ms: float = 0.0

    @property
    def total_bytes(self) -> int:
        return sum(len(a.content) for a in self.artifacts)
