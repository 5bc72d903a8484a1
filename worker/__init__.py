"""The Stage render worker: Celery tasks, the session store, artifact stores and the client."""

from worker.errors import (
    BrokerUnavailableError,
    BundlerServiceError,
    ConfigError,
    FileNotFoundInSessionError,
    InfrastructureError,
    InvalidInputError,
    RenderNotFoundError,
    RenderTimeoutError,
    SessionNotFoundError,
    StageError,
    StorageError,
    StoreUnavailableError,
    UploadError,
)
from worker.settings import Settings

__all__ = [
    "BrokerUnavailableError",
    "BundlerServiceError",
    "ConfigError",
    "FileNotFoundInSessionError",
    "InfrastructureError",
    "InvalidInputError",
    "RenderNotFoundError",
    "RenderTimeoutError",
    "SessionNotFoundError",
    "Settings",
    "StageError",
    "StorageError",
    "StoreUnavailableError",
    "UploadError",
]
