"""What goes into the bundler (source files) and what comes out (artifacts, diagnostics)."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["SourceFile", "Artifact", "ArtifactKind", "Bundle", "Diagnostic", "Route",
           "content_type_for"]

Severity = Literal["error", "warning"]
#: script/style: what index.html loads; asset: files the code imports; sourcemap; public:
#: /public/ copied as is; server: an API route bundle; overlay: the runtime error overlay.
ArtifactKind = Literal["script", "style", "asset", "sourcemap", "public", "server", "overlay",
                       "vendor"]

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
    def immutable(self) -> bool:
        """Content-hashed names never change; /public/ files keep the names they were given."""
        return self.kind != "public"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Route:
    """A published API backend route and its server bundle (``/api/tasks`` → ``server/…``)."""

    route: str
    source: str
    path: str


@dataclass(frozen=True)
class Bundle:
    """A successful build: the page's scripts and styles plus every other output file."""

    scripts: list[str]
    styles: list[str]
    artifacts: list[Artifact]
    warnings: list[Diagnostic] = field(default_factory=list)
    entry: str = ""  # the session file the page starts from
    routes: list[Route] = field(default_factory=list)
    favicon: str | None = None  # a /public/ icon, relative to the version folder
    #: The runtime error overlay script, loaded first; relative to the store root.
    overlay: str | None = None
    #: Vendor chunks the page loads before ``scripts``, relative to the store root (shared
    #: by every version: they are not in ``artifacts``), and the files to upload there
    #: when the store lacks them (the chunks and the overlay).
    vendor_scripts: list[str] = field(default_factory=list)
    vendor: list[Artifact] = field(default_factory=list)
    #: From the session's /index.html, when it has one: its <title>, the <meta> elements
    #: kept (``{"attribute": "name" | "property", "value": …, "content": …}``) and the ids
    #: its body declares besides ``root`` (the shell adds an element for each).
    title: str | None = None
    meta: list[dict[str, str]] = field(default_factory=list)
    mount_ids: list[str] = field(default_factory=list)
    #: Milliseconds spent compiling Tailwind stylesheets (part of the build's time).
    css_ms: float = 0.0

    @property
    def total_bytes(self) -> int:
        return sum(len(a.content) for a in self.artifacts)
