"""Errors the worker package raises.

    StageError
     ├── InvalidInputError (ValueError)    a request broke an input rule; nothing was stored
     │    ├── MalformedMessage               a task message does not follow the contract
     │    └── StoredInputError               what a session holds breaks a rule (a build error)
     ├── NotFoundError (LookupError)        the thing asked for does not exist
     │    ├── SessionNotFoundError           no session has that id
     │    ├── RenderNotFoundError            the session has no render with that version
     │    ├── FileNotFoundInSessionError     the session has no file at that path
     │    ├── AppNotFoundError               no published app has that sid
     │    └── AppVersionNotFoundError        the app has no version with that sid
     ├── RenderTimeoutError (TimeoutError)  wait_for_render gave up before the render ended
     ├── ConfigError (ValueError)           a STAGE_* variable is unknown or has a bad value
     ├── ClaimedByOtherCopy                 the other copy of a routed render is building it
     └── InfrastructureError                a service failed; renders retry these with backoff
          ├── StoreUnavailableError          Redis did not answer
          ├── BrokerUnavailableError         the render could not be queued
          ├── BundlerServiceError            esbuild crashed, timed out or could not start
          ├── BrowserCrashed                 the checker's Chromium died or stopped answering
          └── StorageError                   the artifact store failed
               └── UploadError               an object could not be written

Build errors (the session's code does not compile) are :class:`bundler.BuildFailed`; the
worker records them on the render and never retries them. The bundler's own
:class:`bundler.BundlerUnavailable` becomes :class:`BundlerServiceError` where the worker
calls the bundler, so every retried error has one root.
"""

from __future__ import annotations

__all__ = [
    "StageError",
    "InvalidInputError",
    "MalformedMessage",
    "StoredInputError",
    "NotFoundError",
    "SessionNotFoundError",
    "AppNotFoundError",
    "AppVersionNotFoundError",
    "RenderNotFoundError",
    "RenderTimeoutError",
    "FileNotFoundInSessionError",
    "ConfigError",
    "ClaimedByOtherCopy",
    "InfrastructureError",
    "StoreUnavailableError",
    "BrokerUnavailableError",
    "BundlerServiceError",
    "BrowserCrashed",
    "StorageError",
    "UploadError",
]


class StageError(Exception):
    """Root of every error the worker package raises."""


class InvalidInputError(StageError, ValueError):
    """A request broke an input rule. The message names the file or field and the rule."""


class MalformedMessage(InvalidInputError):
    """A task message that does not follow the contract; it is dropped with one log line."""


_STORED_BY_GATEWAY = (
    "the session's stored data breaks the contract's input rules (a gateway "
    "stored it without checking it)"
)


class StoredInputError(InvalidInputError):
    """What a session holds in Redis breaks an input rule; ``path`` is the file, if one.

    A gateway stored it without checking; the render that reads it fails as a build error
    naming the path and the rule, and a correct push repairs the session.
    """

    def __init__(self, rule: str, path: str = "") -> None:
        super().__init__(f"{_STORED_BY_GATEWAY}: {rule}")
        self.rule = rule
        self.path = path


class NotFoundError(StageError, LookupError):
    """The session, render, file, app or app version asked for does not exist."""


class SessionNotFoundError(NotFoundError):
    """No session has this id."""


class RenderNotFoundError(NotFoundError):
    """The session never requested a render with this version."""


class FileNotFoundInSessionError(NotFoundError):
    """The session has no file at this path."""


class AppNotFoundError(NotFoundError):
    """No published app has this sid."""


class AppVersionNotFoundError(NotFoundError):
    """The app has no version with this sid."""


class RenderTimeoutError(StageError, TimeoutError):
    """The render did not reach ``ready`` or ``failed`` in the time given."""


class ConfigError(StageError, ValueError):
    """A ``STAGE_*`` environment variable is unknown or has a bad value."""


class ClaimedByOtherCopy(StageError):
    """The other copy of a routed render claimed it, on a worker that is alive: this copy
    builds nothing now, and looks again later in case that worker dies."""

    def __init__(self, node: str) -> None:
        super().__init__(f"claimed by the other copy on {node}")
        self.node = node


class InfrastructureError(StageError):
    """A service the worker depends on failed; renders retry these with backoff."""


class StoreUnavailableError(InfrastructureError):
    """Redis, which holds sessions and renders, did not answer."""


class BrokerUnavailableError(InfrastructureError):
    """The broker did not take the render message."""


class BundlerServiceError(InfrastructureError):
    """The bundler could not build (esbuild crashed, timed out or could not start)."""


class BrowserCrashed(InfrastructureError):
    """Chromium died or stopped answering while a page was open."""


class StorageError(InfrastructureError):
    """The artifact store (S3 or the local folder) failed."""


class UploadError(StorageError):
    """An artifact could not be written."""
