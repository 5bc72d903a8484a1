"""The Stage render worker: Celery tasks, the session store, artifact stores and the client.

Rooms by role: ``render/`` (the render task, job, pipeline, reaper), ``check/`` (the boot
check), ``state/`` (what lives in Redis), ``client/`` (the gateway library and publishing),
``cli/`` (``stage-render``); at the top what they share (settings, errors, models, inputs,
storage, messages, retry, logs, metrics, the process context).
"""

from worker.errors import (
    AppNotFoundError,
    AppVersionNotFoundError,
    BrokerUnavailableError,
    BrowserCrashed,
    BundlerServiceError,
    ClaimedByOtherCopy,
    ConfigError,
    FileNotFoundInSessionError,
    InfrastructureError,
    InvalidInputError,
    MalformedMessage,
    NotFoundError,
    RenderNotFoundError,
    RenderTimeoutError,
    SessionNotFoundError,
    StageError,
    StorageError,
    StoredInputError,
    StoreUnavailableError,
    UploadError,
)
from worker.settings import Settings

__all__ = [
    "AppNotFoundError",
    "AppVersionNotFoundError",
    "BrokerUnavailableError",
    "BrowserCrashed",
    "BundlerServiceError",
    "ClaimedByOtherCopy",
    "ConfigError",
    "FileNotFoundInSessionError",
    "InfrastructureError",
    "InvalidInputError",
    "MalformedMessage",
    "NotFoundError",
    "RenderNotFoundError",
    "RenderTimeoutError",
    "SessionNotFoundError",
    "Settings",
    "StageError",
    "StorageError",
    "StoreUnavailableError",
    "StoredInputError",
    "UploadError",
]
