"""One frozen settings object, read from ``STAGE_*`` environment variables and validated.

Every field is one variable: ``build_timeout_s`` is ``STAGE_BUILD_TIMEOUT_S``. A variable
that starts with ``STAGE_`` and is not a field fails loudly, so a misspelling is not a
silently ignored setting. AWS credentials and region come through boto3's own variables.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bundler import DEFAULT_BUILD_TIMEOUT_S
from worker.errors import ConfigError

__all__ = ["Settings", "ENV_PREFIX"]

ENV_PREFIX = "STAGE_"

# Defaults, each with its reason.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"  # a local Redis, as `make test` starts one
DEFAULT_KEY_PREFIX = "stage:"  # one prefix for every key, so a Redis can be shared
DEFAULT_QUEUE = "stage.render"  # the contract's queue name
DEFAULT_ARTIFACTS_DIR = ".stage/artifacts"  # the embedded default: no S3 needed
DEFAULT_VENDOR_CACHE_DIR = ".stage/vendor-cache"  # vendor chunks, built once per lock
SOFT_TIME_LIMIT_S = 60.0  # a build is killed at the build timeout, long before this
HARD_TIME_LIMIT_S = 90.0  # the pool child is killed here; the message is redelivered
VISIBILITY_TIMEOUT_S = 300.0  # > hard limit: a live task is never redelivered under it
MAX_RETRIES = 5  # ~1+2+4+8+16 s of backoff rides out a short storage or Redis outage
RETRY_BACKOFF_S = 1.0  # first retry delay; doubles each attempt, with jitter
RETRY_BACKOFF_MAX_S = 30.0  # no single wait longer than this
MAX_FILES = 500  # generous for a sandbox app; bounds a push's Redis transaction
MAX_FILE_BYTES = 2 * 1024 * 1024  # a large image or data file, not a video
MAX_SESSION_BYTES = 20 * 1024 * 1024  # bounds one session's Redis memory
MAX_PATH_LENGTH = 256  # longer paths are generated junk, and hurt every log line
MAX_SCOPES = 50  # Google's consent screen becomes unusable well before this
MAX_NAME_LENGTH = 200  # a name is a page title, not a document
MAX_OUTPUT_BYTES = 50 * 1024 * 1024  # a version folder; the full allowlist builds to ~6 MB
REAP_INTERVAL_S = 30.0  # how often a worker looks for renders stuck in building
PREFETCH_MULTIPLIER = 1  # a render is seconds of CPU: never hold one back from an idle worker
SOFT_SHUTDOWN_TIMEOUT_S = 30.0  # on SIGINT/SIGQUIT, renders get this long, then are requeued
DEFAULT_CHECK_QUEUE = "stage.check"  # the contract's boot-check queue
CHECK_TIMEOUT_S = 10.0  # a page that has not settled by then is hung (a loop in render)
DEFAULT_CHROMIUM_PATH = "/usr/bin/chromium"  # Debian's chromium package
LOG_FORMATS = ("text", "json")


def _env(name: str, meaning: str, default_text: str | None = None) -> dict[str, Any]:
    """A field's variable, what it means, and how its default reads in the docs."""
    return {"env": ENV_PREFIX + name, "meaning": meaning, "default_text": default_text}


@dataclass(frozen=True)
class Settings:
    """Everything the worker and the client are configured with."""

    redis_url: str = field(default=DEFAULT_REDIS_URL, metadata=_env(
        "REDIS_URL", "sessions, files and render records"))
    broker_url: str = field(default="", metadata=_env(
        "BROKER_URL", "Celery broker",
        default_text="the Redis URL"))
    key_prefix: str = field(default=DEFAULT_KEY_PREFIX, metadata=_env(
        "KEY_PREFIX", "prefix of every Redis key of the contract"))
    queue: str = field(default=DEFAULT_QUEUE, metadata=_env(
        "QUEUE", "queue the task is sent to and consumed from"))
    s3_bucket: str = field(default="", metadata=_env(
        "S3_BUCKET", "set → artifacts go to this bucket; unset → local folder",
        default_text="unset"))
    s3_endpoint_url: str = field(default="", metadata=_env(
        "S3_ENDPOINT_URL", "S3-compatible endpoint (MinIO, R2, …)",
        default_text="unset"))
    s3_prefix: str = field(default="", metadata=_env(
        "S3_PREFIX", "key prefix inside the bucket",
        default_text="empty"))
    artifacts_dir: Path = field(default=Path(DEFAULT_ARTIFACTS_DIR), metadata=_env(
        "ARTIFACTS_DIR", "the local store's folder"))
    public_base_url: str = field(default="", metadata=_env(
        "PUBLIC_BASE_URL",
        'URL serving the storage root; `url = base + "/" + indexKey`. Unset: the '
        "endpoint's path-style URL, or a `file://` URL for the local store",
        default_text="unset"))
    esbuild_binary: str = field(default="", metadata=_env(
        "ESBUILD_BINARY", "another esbuild binary of the same version",
        default_text="the pinned binary"))
    build_dir: str = field(default="", metadata=_env(
        "BUILD_DIR",
        "where each process keeps its build folder (session files as of its last build; only "
        "changed files are written)",
        default_text="`/dev/shm` if writable, else the temp folder"))
    node_binary: str = field(default="node", metadata=_env(
        "NODE_BINARY", "the Node binary that runs the Tailwind service (Node 18+)",
        default_text="`node` (on `PATH`)"))
    build_timeout_s: float = field(default=DEFAULT_BUILD_TIMEOUT_S, metadata=_env(
        "BUILD_TIMEOUT_S", "esbuild is killed after this long (an infrastructure error)"))
    soft_time_limit_s: float = field(default=SOFT_TIME_LIMIT_S, metadata=_env(
        "SOFT_TIME_LIMIT_S", "Celery soft time limit of a render"))
    hard_time_limit_s: float = field(default=HARD_TIME_LIMIT_S, metadata=_env(
        "HARD_TIME_LIMIT_S",
        "Celery hard time limit; the pool child is killed and the message requeued"))
    visibility_timeout_s: float = field(default=VISIBILITY_TIMEOUT_S, metadata=_env(
        "VISIBILITY_TIMEOUT_S",
        "Redis broker: an unacked message is redelivered after this long; must exceed the hard "
        "limit"))
    render_max_retries: int = field(default=MAX_RETRIES, metadata=_env(
        "RENDER_MAX_RETRIES", "retries of an infrastructure error before the render fails"))
    retry_backoff_s: float = field(default=RETRY_BACKOFF_S, metadata=_env(
        "RETRY_BACKOFF_S", "first retry delay; doubles per attempt, times a random 0.5 to 1"))
    retry_backoff_max_s: float = field(default=RETRY_BACKOFF_MAX_S, metadata=_env(
        "RETRY_BACKOFF_MAX_S", "cap of one retry delay"))
    max_files: int = field(default=MAX_FILES, metadata=_env(
        "MAX_FILES", "files per session"))
    max_file_bytes: int = field(default=MAX_FILE_BYTES, metadata=_env(
        "MAX_FILE_BYTES", "bytes per file (decoded bytes for base64)"))
    max_session_bytes: int = field(default=MAX_SESSION_BYTES, metadata=_env(
        "MAX_SESSION_BYTES", "bytes per session"))
    max_path_length: int = field(default=MAX_PATH_LENGTH, metadata=_env(
        "MAX_PATH_LENGTH", "characters per path"))
    max_scopes: int = field(default=MAX_SCOPES, metadata=_env(
        "MAX_SCOPES", "Google scopes per session"))
    max_name_length: int = field(default=MAX_NAME_LENGTH, metadata=_env(
        "MAX_NAME_LENGTH", "characters of a session name"))
    max_output_bytes: int = field(default=MAX_OUTPUT_BYTES, metadata=_env(
        "MAX_OUTPUT_BYTES",
        "bytes a version folder may hold; more fails the render (kind `build`)"))
    reap_interval_s: float = field(default=REAP_INTERVAL_S, metadata=_env(
        "REAP_INTERVAL_S",
        "how often a worker looks for renders stuck in `building` past the visibility timeout; `0`"
        " turns it off"))
    prefetch_multiplier: int = field(default=PREFETCH_MULTIPLIER, metadata=_env(
        "PREFETCH_MULTIPLIER",
        "Celery `worker_prefetch_multiplier`: messages a pool process reserves ahead"))
    soft_shutdown_timeout_s: float = field(default=SOFT_SHUTDOWN_TIMEOUT_S, metadata=_env(
        "SOFT_SHUTDOWN_TIMEOUT_S",
        "on SIGQUIT (cold shutdown), running renders get this long, then go back to the queue"))
    metrics_port: int = field(default=0, metadata=_env(
        "METRICS_PORT", "serve Prometheus metrics on this port from each worker",
        default_text="`0` (off)"))
    vendor: bool = field(default=True, metadata=_env(
        "VENDOR",
        "build the allowlisted packages once into shared vendor chunks; `false` bundles them into "
        "every render"))
    coalesce: bool = field(default=True, metadata=_env(
        "COALESCE",
        "a queued render with a newer one pending ends `superseded` instead of being built"))
    dedupe: bool = field(default=True, metadata=_env(
        "DEDUPE",
        "a render with the inputs of a stored version copies its files instead of building"))
    vendor_cache_dir: Path = field(default=Path(DEFAULT_VENDOR_CACHE_DIR), metadata=_env(
        "VENDOR_CACHE_DIR", "where built vendor chunks are kept between processes"))
    log_format: str = field(default="text", metadata=_env(
        "LOG_FORMAT", "`json`: one JSON object per log line"))
    check: bool = field(default=True, metadata=_env(
        "CHECK",
        "when a render turns `ready`, send `stage.check` for it (after the record is stored; a "
        "send that fails is logged, the render stays ready); `false` sends nothing"))
    check_queue: str = field(default=DEFAULT_CHECK_QUEUE, metadata=_env(
        "CHECK_QUEUE",
        "queue of the boot check, consumed by `stage-render checker`; must differ from "
        "`STAGE_QUEUE`"))
    check_timeout_s: float = field(default=CHECK_TIMEOUT_S, metadata=_env(
        "CHECK_TIMEOUT_S",
        'a page that has not settled by then is recorded `failed` ("did not settle in N s") and '
        "its Chromium replaced"))
    chromium_path: str = field(default=DEFAULT_CHROMIUM_PATH, metadata=_env(
        "CHROMIUM_PATH",
        "the Chromium the checker drives through Playwright (`executable_path`; no browser "
        "download)"))

    def __post_init__(self) -> None:
        self._validate()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``environ`` (default ``os.environ``), then ``overrides`` by field name."""
        environ = os.environ if environ is None else environ
        by_var = {f.metadata["env"]: f for f in fields(cls)}
        unknown = sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in by_var)
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]}={environ[unknown[0]]!r}; "
                f"known settings: {', '.join(sorted(by_var))}"
            )
        values: dict[str, Any] = {}
        for var, f in by_var.items():
            if var in environ:
                values[f.name] = _parse(var, environ[var], f.type)
        values.update(overrides)
        return cls(**values)

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable behind field ``name``."""
        return str(next(f.metadata["env"] for f in fields(Settings) if f.name == name))

    def _validate(self) -> None:
        for name in ("redis_url", "broker_url"):
            value = getattr(self, name)
            if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
                self._fail(name, "must be a redis://, rediss:// or unix:// URL")
        for name in ("s3_endpoint_url", "public_base_url"):
            value = getattr(self, name)
            if value and urlsplit(value).scheme not in ("http", "https"):
                self._fail(name, "must be an http:// or https:// URL")
        if not self.key_prefix or any(c.isspace() for c in self.key_prefix):
            self._fail("key_prefix", "must be non-empty and contain no whitespace")
        if not self.queue:
            self._fail("queue", "must not be empty")
        if not self.check_queue:
            self._fail("check_queue", "must not be empty")
        if self.check_queue == self.queue:
            self._fail("check_queue", f"must differ from {self.variable('queue')}: render "
                                      "workers and checkers consume their own queues")
        if self.log_format not in LOG_FORMATS:
            self._fail("log_format", f"must be one of {', '.join(LOG_FORMATS)}")
        if self.metrics_port > 65535:
            self._fail("metrics_port", "must be a TCP port (1-65535), or 0 for no metrics")
        if self.prefetch_multiplier < 1:
            self._fail("prefetch_multiplier", "must be at least 1")
        for f in fields(self):
            # nan compares false with everything, so it would slip past every rule below.
            if f.type == "float" and not math.isfinite(getattr(self, f.name)):
                self._fail(f.name, "must be a finite number")
            if f.type in ("int", "float") and getattr(self, f.name) < 0:
                self._fail(f.name, "must not be negative")
        for name in ("build_timeout_s", "soft_time_limit_s", "hard_time_limit_s", "max_files",
                     "max_file_bytes", "max_session_bytes", "max_path_length",
                     "max_output_bytes", "check_timeout_s"):
            if getattr(self, name) <= 0:
                self._fail(name, "must be greater than 0")
        order = ("build_timeout_s", "soft_time_limit_s", "hard_time_limit_s",
                 "visibility_timeout_s")
        for shorter, longer in itertools.pairwise(order):
            if getattr(self, shorter) >= getattr(self, longer):
                self._fail(shorter, f"must be less than {self.variable(longer)}"
                                    f"={getattr(self, longer):g}")

    @property
    def check_hard_limit_s(self) -> float:
        """A check's Celery hard time limit: two attempts and a browser relaunch, and slack."""
        return self.check_timeout_s * 3 + 30

    def _fail(self, name: str, rule: str) -> None:
        raise ConfigError(f"{self.variable(name)}={getattr(self, name)!r}: {rule}")


def _parse(var: str, raw: str, kind: Any) -> Any:
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        whole = "whole " if kind == "int" else ""
        raise ConfigError(f"{var}={raw!r}: must be a {whole}number") from None
    if kind == "Path":
        return Path(raw)
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{var}={raw!r}: must be true or false (1/0, yes/no, on/off)")
    return raw
