"""The records a gateway sees. ``to_dict()`` is the JSON it returns, camelCase as in the SDK.

Render records are stored in Redis in exactly their ``to_dict()`` form (see
docs/contract.md), so a gateway in another language reads the same JSON.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from bundler import Diagnostic

__all__ = [
    "RenderStatus",
    "ErrorKind",
    "TERMINAL_STATUSES",
    "RenderError",
    "RenderRecord",
    "CheckStatus",
    "CheckError",
    "Check",
    "Session",
    "FileInfo",
    "FileContent",
    "SessionStatus",
    "utc_now",
]

#: superseded: a newer render of the session was pending when this one's turn came, so it
#: was not built (terminal, like ready and failed; the live version does not move).
#: expired: a version past the session's retention whose objects were deleted; the record
#: stays as a tombstone (when, and why) so status and waits stay truthful.
RenderStatus = Literal["queued", "building", "ready", "failed", "superseded", "expired"]
ErrorKind = Literal["build", "infrastructure"]
#: passed: no runtime error and something visible; failed: a runtime error, or a blank
#: page; error: the checker itself failed (its browser died twice), so nothing is known.
CheckStatus = Literal["passed", "failed", "error"]
TERMINAL_STATUSES = frozenset({"ready", "failed", "superseded", "expired"})


def utc_now() -> str:
    """ISO 8601 in UTC with milliseconds: ``2026-11-28T14:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RenderError:
    """Why a render failed: ``build`` (the session's code) or ``infrastructure``."""

    kind: ErrorKind
    message: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderError:
        return cls(
            kind=data["kind"],
            message=data.get("message", ""),
            diagnostics=[Diagnostic.from_dict(d) for d in data.get("diagnostics", [])],
        )


@dataclass(frozen=True)
class CheckError:
    """One runtime error of a checked page: where it happened in the session's files.

    ``kind`` is ``pageerror`` (an uncaught exception), ``unhandledrejection`` or
    ``console.error``; ``file``/``line``/``column`` come through the version's source maps
    and are None when no frame maps to a session file.
    """

    kind: str
    message: str
    stack: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def format(self) -> str:
        """``/app/components/Chart.tsx:14:9: message``, as compilers print errors."""
        place = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        return f"{place}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "stack": self.stack,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckError:
        return cls(
            data.get("kind", "pageerror"),
            data.get("message", ""),
            data.get("stack", ""),
            data.get("file"),
            data.get("line"),
            data.get("column"),
        )


@dataclass(frozen=True)
class Check:
    """What opening a ready version in headless Chromium showed (``record.check``)."""

    status: CheckStatus
    errors: list[CheckError] = field(default_factory=list)
    blank: bool = False
    blocked_requests: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    screenshot_url: str | None = None
    thumbnail_url: str | None = None
    checked_at: str = ""
    message: str | None = None  # why a check failed or errored beyond its errors
    #: Class names in the page's DOM that no stylesheet defines (the first 50, sorted):
    #: informational, never a failure.
    unstyled_classes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "errors": [e.to_dict() for e in self.errors],
            "blank": self.blank,
            "blockedRequests": list(self.blocked_requests),
            "timingsMs": dict(self.timings_ms),
            "screenshotUrl": self.screenshot_url,
            "thumbnailUrl": self.thumbnail_url,
            "checkedAt": self.checked_at,
            "message": self.message,
            "unstyledClasses": list(self.unstyled_classes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(
            status=data["status"],
            errors=[CheckError.from_dict(e) for e in data.get("errors") or []],
            blank=bool(data.get("blank", False)),
            blocked_requests=list(data.get("blockedRequests") or []),
            timings_ms=dict(data.get("timingsMs") or {}),
            screenshot_url=data.get("screenshotUrl"),
            thumbnail_url=data.get("thumbnailUrl"),
            checked_at=data.get("checkedAt", ""),
            message=data.get("message"),
            unstyled_classes=list(data.get("unstyledClasses") or []),
        )


@dataclass(frozen=True)
class RenderRecord:
    """One render version of a session and how it went."""

    version: int
    status: RenderStatus
    requested_at: str
    started_at: str | None = None
    finished_at: str | None = None
    attempts: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)
    input_hash: str | None = None
    index_key: str | None = None
    url: str | None = None
    index_path: str | None = None  # the local store only: where index.html is on disk
    error: RenderError | None = None
    warnings: list[Diagnostic] = field(default_factory=list)
    check: Check | None = None  # set once, by the boot check of a ready version
    expired_at: str | None = None  # set on the tombstone of an expired version
    expired_reason: str | None = None

    @classmethod
    def queued(cls, version: int) -> RenderRecord:
        """A render just requested."""
        return cls(version=version, status="queued", requested_at=utc_now())

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def started(self) -> RenderRecord:
        """This render as a new attempt at it begins."""
        return dataclasses.replace(
            self, status="building", started_at=utc_now(), attempts=self.attempts + 1
        )

    def finished(
        self,
        *,
        error: RenderError | None = None,
        timings_ms: dict[str, float] | None = None,
        input_hash: str | None = None,
        index_key: str | None = None,
        url: str | None = None,
        index_path: str | None = None,
        warnings: Sequence[Diagnostic] = (),
    ) -> RenderRecord:
        """This render ended: ``ready``, or ``failed`` with ``error``.

        ``timings_ms`` replaces the timings so far when given; the stored page's place
        (``index_key``, ``url``, ``index_path``) is set for a failed build too, whose page
        says why.
        """
        return dataclasses.replace(
            self,
            status="failed" if error else "ready",
            error=error,
            finished_at=utc_now(),
            timings_ms=self.timings_ms if timings_ms is None else dict(timings_ms),
            input_hash=input_hash,
            index_key=index_key,
            url=url,
            index_path=index_path,
            warnings=list(warnings),
        )

    def failed(
        self, error: RenderError, timings_ms: dict[str, float] | None = None
    ) -> RenderRecord:
        """This render ended without a page (an infrastructure error, a lost session)."""
        return self.finished(error=error, timings_ms=timings_ms)

    def superseded(self, timings_ms: dict[str, float]) -> RenderRecord:
        """This render was not built: a newer one of the session was waiting."""
        return dataclasses.replace(
            self, status="superseded", finished_at=utc_now(), timings_ms=dict(timings_ms)
        )

    def checked(self, check: Check) -> RenderRecord:
        """This ready version with its boot check (status and live never change for it)."""
        return dataclasses.replace(self, check=check)

    def expired(self, at: str, reason: str) -> RenderRecord:
        """The tombstone of this ended version once its objects are deleted: no page, no
        check, the rest kept (timings, input hash, error) with when and why it expired."""
        return dataclasses.replace(
            self,
            status="expired",
            index_key=None,
            url=None,
            index_path=None,
            warnings=[],
            check=None,
            expired_at=at,
            expired_reason=reason,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": self.version,
            "status": self.status,
            "requestedAt": self.requested_at,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "attempts": self.attempts,
            "timingsMs": dict(self.timings_ms),
            "inputHash": self.input_hash,
            "indexKey": self.index_key,
            "url": self.url,
            "error": self.error.to_dict() if self.error else None,
            "warnings": [w.to_dict() for w in self.warnings],
            "check": self.check.to_dict() if self.check else None,
        }
        if self.index_path is not None:
            data["indexPath"] = self.index_path
        if self.status == "expired":
            data["expiredAt"] = self.expired_at
            data["expiredReason"] = self.expired_reason
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderRecord:
        return cls(
            version=int(data["version"]),
            status=data["status"],
            requested_at=data.get("requestedAt", ""),
            started_at=data.get("startedAt"),
            finished_at=data.get("finishedAt"),
            attempts=int(data.get("attempts", 0)),
            timings_ms=dict(data.get("timingsMs") or {}),
            input_hash=data.get("inputHash"),
            index_key=data.get("indexKey"),
            url=data.get("url"),
            index_path=data.get("indexPath"),
            error=RenderError.from_dict(data["error"]) if data.get("error") else None,
            warnings=[Diagnostic.from_dict(w) for w in data.get("warnings") or []],
            check=Check.from_dict(data["check"]) if data.get("check") else None,
            expired_at=data.get("expiredAt"),
            expired_reason=data.get("expiredReason"),
        )


@dataclass(frozen=True)
class Session:
    """What ``sessions.create`` returns."""

    id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class FileInfo:
    """One entry of ``status.files``."""

    path: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size}


@dataclass(frozen=True)
class FileContent:
    """What ``sessions.read_file`` returns: text as pushed, or base64 for binary pushes."""

    path: str
    content: str
    encoding: str = "utf-8"

    @property
    def data(self) -> bytes:
        """The file's bytes, whichever way it was pushed."""
        if self.encoding == "base64":
            return base64.b64decode(self.content)
        return self.content.encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "content": self.content, "encoding": self.encoding}


@dataclass(frozen=True)
class SessionStatus:
    """What ``sessions.status`` returns: files, scopes, the newest render and the live one."""

    id: str
    name: str
    files: list[FileInfo]
    google_scopes: list[str]
    render: RenderRecord | None
    live: RenderRecord | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "files": [f.to_dict() for f in self.files],
            "googleScopes": list(self.google_scopes),
            "render": self.render.to_dict() if self.render else None,
            "live": self.live.to_dict() if self.live else None,
        }
