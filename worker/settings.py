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
from bundler.contexts import (
    DEFAULT_WARM_CONTEXTS,
    DEFAULT_WARM_IDLE_S,
    DEFAULT_WARM_SOURCE_BYTES,
    DEFAULT_WARM_TOTAL_SOURCE_BYTES,
)
from worker.errors import ConfigError
from worker.state.cluster import is_cluster_url, startup_nodes

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
KEEP_RENDERS = 20  # an agent's last edits can be compared and rolled back; older ones rarely are
SESSION_TTL_DAYS = 30.0  # a month without a push or a render: the session was abandoned
GC_INTERVAL_S = 60.0  # how often one worker collects; work per run is bounded by the batch
GC_BATCH = 200  # sessions looked at per run: seconds of work, so a run never holds up a host
LOG_FORMATS = ("text", "json")
_SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD")  # in a variable's name: never print it
STORE_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster")
BROKER_SCHEMES = ("redis", "rediss", "unix", "amqp", "amqps")
QUEUE_TYPES = ("quorum", "classic")  # RabbitMQ: quorum replicates; classic for servers < 3.8
HOST_PORT = 8080  # the API host's public port
DEFAULT_HOST_DATA_DIR = ".stage/host"  # route code folders, written once per app version
API_IDLE_S = 300.0  # a warm app version costs ~15 MB; five quiet minutes give it back
API_MAX_PROCESSES = 64  # ~1 GB of warm Deno processes at ~15 MB each
API_TIMEOUT_S = 10.0  # a route that has not answered by then is stuck, not slow
API_START_TIMEOUT_S = 10.0  # Deno starts in ~30 ms; a module whose top level hangs does not
API_HEAP_MB = 128  # V8 heap per app version: far above a route's needs, far below the host's
API_RSS_MB = 384  # the whole process (heap, buffers, code); past it the process is killed
API_CPU_S = 600  # CPU seconds a process may use in its life (rlimit backstop to the deadline)
API_MAX_BODY_BYTES = 5 * 1024 * 1024  # a request body: JSON and small uploads
API_MAX_RESPONSE_BYTES = 20 * 1024 * 1024  # a response body the host passes on
API_MAX_FETCHES = 50  # outbound fetches per route request
API_LOG_LINES = 500  # console lines kept per app version
COMPUTE_TIMEOUT_S = 10.0  # a mutation holds its app's write lock at most this long
COMPUTE_MAX_QUERY_DOCS = 8192  # one answer stays a few MB; more is paginated with take(n)
COMPUTE_MAX_WRITES = 1000  # one mutation's writes: a transaction that stays short
INFERENCE_TIMEOUT_S = 60.0  # a long answer from a large model; retries and waits included
INFERENCE_RETRIES = 3  # 429 and 5xx are usually seconds of overload, not an outage
INFERENCE_MAX_TOKENS = 4096  # an answer's tokens when the call names none, and the most it may
INFERENCE_APP_QUOTA_TOKENS = 1_000_000  # a busy app's day of chat; a runaway loop stops here
INFERENCE_APP_QUOTA_IMAGES = 200  # images are the costly calls: a few dollars a day at most


def _env(name: str, meaning: str, default_text: str | None = None) -> dict[str, Any]:
    """A field's variable, what it means, and how its default reads in the docs."""
    return {"env": ENV_PREFIX + name, "meaning": meaning, "default_text": default_text}


@dataclass(frozen=True)
class Settings:
    """Everything the worker and the client are configured with."""

    redis_url: str = field(
        default=DEFAULT_REDIS_URL,
        metadata=_env(
            "REDIS_URL",
            "sessions, files and render records; `redis+cluster://host:port[,host:port…]` (or "
            "`rediss+cluster://`) is a Redis Cluster, reached from any of those nodes",
        ),
    )
    broker_url: str = field(
        default="",
        metadata=_env(
            "BROKER_URL",
            "Celery broker: a Redis URL, or RabbitMQ as `amqp://user:password@host:5672/vhost` "
            "(or `amqps://`); required when the store is a Redis Cluster",
            default_text="the Redis URL",
        ),
    )
    broker_queue_type: str = field(
        default="quorum",
        metadata=_env(
            "BROKER_QUEUE_TYPE",
            "RabbitMQ: type of the render and check queues, `quorum` (replicated, RabbitMQ 3.8+) "
            "or `classic` (durable on one node)",
        ),
    )
    key_prefix: str = field(
        default=DEFAULT_KEY_PREFIX,
        metadata=_env("KEY_PREFIX", "prefix of every Redis key of the contract"),
    )
    queue: str = field(
        default=DEFAULT_QUEUE, metadata=_env("QUEUE", "queue the task is sent to and consumed from")
    )
    s3_bucket: str = field(
        default="",
        metadata=_env(
            "S3_BUCKET",
            "set → artifacts go to this bucket; unset → local folder",
            default_text="unset",
        ),
    )
    s3_endpoint_url: str = field(
        default="",
        metadata=_env(
            "S3_ENDPOINT_URL", "S3-compatible endpoint (MinIO, R2, …)", default_text="unset"
        ),
    )
    s3_prefix: str = field(
        default="", metadata=_env("S3_PREFIX", "key prefix inside the bucket", default_text="empty")
    )
    artifacts_dir: Path = field(
        default=Path(DEFAULT_ARTIFACTS_DIR),
        metadata=_env("ARTIFACTS_DIR", "the local store's folder"),
    )
    public_base_url: str = field(
        default="",
        metadata=_env(
            "PUBLIC_BASE_URL",
            'URL serving the storage root; `url = base + "/" + indexKey`. Unset: the '
            "endpoint's path-style URL, or a `file://` URL for the local store",
            default_text="unset",
        ),
    )
    npm_runtime_dir: str = field(
        default="",
        metadata=_env(
            "NPM_RUNTIME_DIR",
            "the pinned npm runtime: a folder with bundler/runtime's package.json, lock and "
            "service script where `npm ci` was run (an installed package ships them without "
            "node_modules)",
            default_text="`bundler/runtime` beside the code",
        ),
    )
    esbuild_binary: str = field(
        default="",
        metadata=_env(
            "ESBUILD_BINARY",
            "another esbuild binary of the same version",
            default_text="the pinned binary",
        ),
    )
    build_dir: str = field(
        default="",
        metadata=_env(
            "BUILD_DIR",
            "where each process keeps its build folder (session files as of its last build; only "
            "changed files are written)",
            default_text="`/dev/shm` if writable, else the temp folder",
        ),
    )
    node_binary: str = field(
        default="node",
        metadata=_env(
            "NODE_BINARY",
            "the Node binary that runs the Tailwind service (Node 18+)",
            default_text="`node` (on `PATH`)",
        ),
    )
    build_timeout_s: float = field(
        default=DEFAULT_BUILD_TIMEOUT_S,
        metadata=_env(
            "BUILD_TIMEOUT_S", "esbuild is killed after this long (an infrastructure error)"
        ),
    )
    soft_time_limit_s: float = field(
        default=SOFT_TIME_LIMIT_S,
        metadata=_env("SOFT_TIME_LIMIT_S", "Celery soft time limit of a render"),
    )
    hard_time_limit_s: float = field(
        default=HARD_TIME_LIMIT_S,
        metadata=_env(
            "HARD_TIME_LIMIT_S",
            "Celery hard time limit; the pool child is killed and the message requeued",
        ),
    )
    visibility_timeout_s: float = field(
        default=VISIBILITY_TIMEOUT_S,
        metadata=_env(
            "VISIBILITY_TIMEOUT_S",
            "Redis broker: an unacked message is redelivered after this long; must exceed the hard "
            "limit",
        ),
    )
    render_max_retries: int = field(
        default=MAX_RETRIES,
        metadata=_env(
            "RENDER_MAX_RETRIES", "retries of an infrastructure error before the render fails"
        ),
    )
    retry_backoff_s: float = field(
        default=RETRY_BACKOFF_S,
        metadata=_env(
            "RETRY_BACKOFF_S", "first retry delay; doubles per attempt, times a random 0.5 to 1"
        ),
    )
    retry_backoff_max_s: float = field(
        default=RETRY_BACKOFF_MAX_S, metadata=_env("RETRY_BACKOFF_MAX_S", "cap of one retry delay")
    )
    max_files: int = field(default=MAX_FILES, metadata=_env("MAX_FILES", "files per session"))
    max_file_bytes: int = field(
        default=MAX_FILE_BYTES,
        metadata=_env("MAX_FILE_BYTES", "bytes per file (decoded bytes for base64)"),
    )
    max_session_bytes: int = field(
        default=MAX_SESSION_BYTES, metadata=_env("MAX_SESSION_BYTES", "bytes per session")
    )
    max_path_length: int = field(
        default=MAX_PATH_LENGTH, metadata=_env("MAX_PATH_LENGTH", "characters per path")
    )
    max_scopes: int = field(
        default=MAX_SCOPES, metadata=_env("MAX_SCOPES", "Google scopes per session")
    )
    max_name_length: int = field(
        default=MAX_NAME_LENGTH, metadata=_env("MAX_NAME_LENGTH", "characters of a session name")
    )
    max_output_bytes: int = field(
        default=MAX_OUTPUT_BYTES,
        metadata=_env(
            "MAX_OUTPUT_BYTES",
            "bytes a version folder may hold; more fails the render (kind `build`)",
        ),
    )
    reap_interval_s: float = field(
        default=REAP_INTERVAL_S,
        metadata=_env(
            "REAP_INTERVAL_S",
            "how often a worker looks for renders stuck in `building` past the visibility timeout; `0`"
            " turns it off",
        ),
    )
    prefetch_multiplier: int = field(
        default=PREFETCH_MULTIPLIER,
        metadata=_env(
            "PREFETCH_MULTIPLIER",
            "Celery `worker_prefetch_multiplier`: messages a pool process reserves ahead",
        ),
    )
    soft_shutdown_timeout_s: float = field(
        default=SOFT_SHUTDOWN_TIMEOUT_S,
        metadata=_env(
            "SOFT_SHUTDOWN_TIMEOUT_S",
            "on SIGQUIT (cold shutdown), running renders get this long, then go back to the queue",
        ),
    )
    metrics_port: int = field(
        default=0,
        metadata=_env(
            "METRICS_PORT",
            "serve Prometheus metrics on this port from each worker",
            default_text="`0` (off)",
        ),
    )
    vendor: bool = field(
        default=True,
        metadata=_env(
            "VENDOR",
            "build the allowlisted packages once into shared vendor chunks; `false` bundles them into "
            "every render",
        ),
    )
    coalesce: bool = field(
        default=True,
        metadata=_env(
            "COALESCE",
            "a queued render with a newer one pending ends `superseded` instead of being built",
        ),
    )
    dedupe: bool = field(
        default=True,
        metadata=_env(
            "DEDUPE",
            "a render with the inputs of a stored version copies its files instead of building",
        ),
    )
    warm_contexts: int = field(
        default=DEFAULT_WARM_CONTEXTS,
        metadata=_env(
            "WARM_CONTEXTS",
            "sessions per worker process whose incremental esbuild context is kept between "
            "renders (least recently rendered leave first); `0` builds every render cold",
        ),
    )
    warm_source_bytes: int = field(
        default=DEFAULT_WARM_SOURCE_BYTES,
        metadata=_env(
            "WARM_SOURCE_BYTES", "a session with more source bytes than this is built cold"
        ),
    )
    warm_total_source_bytes: int = field(
        default=DEFAULT_WARM_TOTAL_SOURCE_BYTES,
        metadata=_env(
            "WARM_TOTAL_SOURCE_BYTES",
            "source bytes of all warm sessions of a worker process together; the least "
            "recently rendered leave first (esbuild's peak memory grows ~120 bytes per source byte)",
        ),
    )
    warm_idle_s: float = field(
        default=DEFAULT_WARM_IDLE_S,
        metadata=_env(
            "WARM_IDLE_S",
            "a warm context unused this long is disposed (checked at the process's next render)",
        ),
    )
    affinity: bool = field(
        default=True,
        metadata=_env(
            "AFFINITY",
            "the gateway sends a session's render to the worker holding its warm context "
            "(its own queue `<STAGE_QUEUE>.<node>`) while that worker is alive",
        ),
    )
    affinity_fallback_s: float = field(
        default=3.0,
        metadata=_env(
            "AFFINITY_FALLBACK_S",
            "a routed render is also sent to the shared queue this much later; the copy that "
            "starts first builds it",
        ),
    )
    worker_heartbeat_s: float = field(
        default=10.0,
        metadata=_env(
            "WORKER_HEARTBEAT_S",
            "a render worker's heartbeat key lives this long, renewed three times as often",
        ),
    )
    vendor_cache_dir: Path = field(
        default=Path(DEFAULT_VENDOR_CACHE_DIR),
        metadata=_env("VENDOR_CACHE_DIR", "where built vendor chunks are kept between processes"),
    )
    log_format: str = field(
        default="text", metadata=_env("LOG_FORMAT", "`json`: one JSON object per log line")
    )
    check: bool = field(
        default=True,
        metadata=_env(
            "CHECK",
            "when a render turns `ready`, send `stage.check` for it (after the record is stored; a "
            "send that fails is logged, the render stays ready); `false` sends nothing",
        ),
    )
    check_queue: str = field(
        default=DEFAULT_CHECK_QUEUE,
        metadata=_env(
            "CHECK_QUEUE",
            "queue of the boot check, consumed by `stage-render checker`; must differ from "
            "`STAGE_QUEUE`",
        ),
    )
    check_timeout_s: float = field(
        default=CHECK_TIMEOUT_S,
        metadata=_env(
            "CHECK_TIMEOUT_S",
            'a page that has not settled by then is recorded `failed` ("did not settle in N s") and '
            "its Chromium replaced",
        ),
    )
    chromium_path: str = field(
        default=DEFAULT_CHROMIUM_PATH,
        metadata=_env(
            "CHROMIUM_PATH",
            "the Chromium the checker drives through Playwright (`executable_path`; no browser "
            "download)",
        ),
    )

    keep_renders: int = field(
        default=KEEP_RENDERS,
        metadata=_env(
            "KEEP_RENDERS",
            "render versions kept per session besides the live one (and any being published); older "
            "ones become `expired` tombstones and their objects are deleted",
        ),
    )
    session_ttl_days: float = field(
        default=SESSION_TTL_DAYS,
        metadata=_env(
            "SESSION_TTL_DAYS",
            "a session with no push and no render for this long is deleted with its records and "
            "objects (its published apps stay)",
        ),
    )
    gc_interval_s: float = field(
        default=GC_INTERVAL_S,
        metadata=_env(
            "GC_INTERVAL_S",
            "how often a worker collects expired versions, idle and deleted sessions (one worker per "
            "interval); `0` turns it off (`stage-render gc` still runs it)",
        ),
    )
    gc_batch: int = field(
        default=GC_BATCH,
        metadata=_env("GC_BATCH", "sessions one collection run looks at in each of its passes"),
    )
    host_port: int = field(
        default=HOST_PORT,
        metadata=_env("HOST_PORT", "`stage-render host`: the port serving published apps"),
    )
    host_bind: str = field(
        default="127.0.0.1",
        metadata=_env(
            "HOST_BIND", "`stage-render host`: the address to bind (`0.0.0.0` in a container)"
        ),
    )
    host_data_dir: Path = field(
        default=Path(DEFAULT_HOST_DATA_DIR),
        metadata=_env(
            "HOST_DATA_DIR",
            "`stage-render host`: where the route code of each running app version is unpacked "
            "(removed when its process stops), and the apps' `@stage/compute` data "
            "(`compute.sqlite3`) unless `STAGE_COMPUTE_DATABASE_URL` is set",
        ),
    )
    host_sessions: bool = field(
        default=False,
        metadata=_env(
            "HOST_SESSIONS",
            "the host also serves each session's live render (page and routes) at `/sessions/<id>/`;"
            " for previews, never on a public host",
        ),
    )
    api_idle_s: float = field(
        default=API_IDLE_S,
        metadata=_env(
            "API_IDLE_S", "an app version's Deno process stops after this long without a request"
        ),
    )
    api_max_processes: int = field(
        default=API_MAX_PROCESSES,
        metadata=_env(
            "API_MAX_PROCESSES",
            "Deno processes per host; starting one more stops the least recently used",
        ),
    )
    api_timeout_s: float = field(
        default=API_TIMEOUT_S,
        metadata=_env(
            "API_TIMEOUT_S",
            "a route request's deadline: its process is killed (restarted on the next request) and "
            "the caller gets 504",
        ),
    )
    api_start_timeout_s: float = field(
        default=API_START_TIMEOUT_S,
        metadata=_env(
            "API_START_TIMEOUT_S", "a Deno process that is not listening by then is killed"
        ),
    )
    api_heap_mb: int = field(
        default=API_HEAP_MB,
        metadata=_env(
            "API_HEAP_MB", "V8 heap of one app version's process (`--max-old-space-size`)"
        ),
    )
    api_rss_mb: int = field(
        default=API_RSS_MB,
        metadata=_env(
            "API_RSS_MB",
            "resident memory of one app version's process (buffers outside the heap included); the "
            "host kills a process above it",
        ),
    )
    api_cpu_s: int = field(
        default=API_CPU_S,
        metadata=_env(
            "API_CPU_S", "CPU seconds one Deno process may use in its life (`RLIMIT_CPU`)"
        ),
    )
    api_max_body_bytes: int = field(
        default=API_MAX_BODY_BYTES,
        metadata=_env("API_MAX_BODY_BYTES", "a route request's body; more is refused with 413"),
    )
    api_max_response_bytes: int = field(
        default=API_MAX_RESPONSE_BYTES,
        metadata=_env(
            "API_MAX_RESPONSE_BYTES",
            "a route response's body (and an outbound fetch's); more ends the response",
        ),
    )
    api_max_fetches: int = field(
        default=API_MAX_FETCHES,
        metadata=_env("API_MAX_FETCHES", "outbound fetches one route request may make"),
    )
    api_fetch_hosts: str = field(
        default="",
        metadata=_env(
            "API_FETCH_HOSTS",
            "`name=address,…` answers for these names before DNS (as /etc/hosts does) for the "
            "routes' outbound fetch; the address rules apply to them as to any",
            default_text="empty",
        ),
    )
    api_log_lines: int = field(
        default=API_LOG_LINES,
        metadata=_env("API_LOG_LINES", "console lines kept per app version (`stage-render logs`)"),
    )
    api_user: str = field(
        default="nobody",
        metadata=_env(
            "API_USER", "the unprivileged user Deno processes run as when the host runs as root"
        ),
    )

    inference_base_url: str = field(
        default="",
        metadata=_env(
            "INFERENCE_BASE_URL",
            "`@stage/inference`: the model provider's OpenAI-compatible API, ending in `/v1` "
            "(`https://api.openai.com/v1`, vLLM's or llama.cpp's `http://host:8000/v1`, Ollama's "
            "`http://host:11434/v1`); unset: every call fails and says to set it",
            default_text="unset",
        ),
    )
    # repr=False: the key never shows in a printed Settings (a log line, a traceback).
    inference_api_key: str = field(
        default="",
        repr=False,
        metadata=_env(
            "INFERENCE_API_KEY",
            "the provider's key, sent as `Authorization: Bearer`; only the host holds it (never a "
            "route, a log line or a response)",
            default_text="unset (no `Authorization` header)",
        ),
    )
    inference_models: str = field(
        default="",
        metadata=_env(
            "INFERENCE_MODELS",
            "the models apps may call, `name[=provider model],…` (`gpt-4o-mini,fast=llama3.1:8b`); "
            "another name is refused with 400. Empty: any name, passed to the provider as is",
            default_text="empty (any model)",
        ),
    )
    inference_timeout_s: float = field(
        default=INFERENCE_TIMEOUT_S,
        metadata=_env(
            "INFERENCE_TIMEOUT_S",
            "deadline of one model call, retries included; a route's own deadline is "
            "`STAGE_API_TIMEOUT_S`",
        ),
    )
    inference_retries: int = field(
        default=INFERENCE_RETRIES,
        metadata=_env(
            "INFERENCE_RETRIES",
            "retries of a call the provider answered 429 or 5xx (or could not be reached), with "
            "backoff or the provider's `Retry-After`, within the deadline",
        ),
    )
    inference_max_tokens: int = field(
        default=INFERENCE_MAX_TOKENS,
        metadata=_env(
            "INFERENCE_MAX_TOKENS", "`max_tokens` of a chat that names none, and the most one may"
        ),
    )
    inference_app_quota_tokens: int = field(
        default=INFERENCE_APP_QUOTA_TOKENS,
        metadata=_env(
            "INFERENCE_APP_QUOTA_TOKENS",
            "tokens (prompt and answer, chat and embeddings) one app may use per UTC day; a call "
            "that could pass it is refused with 429. `0`: no quota",
        ),
    )
    inference_app_quota_images: int = field(
        default=INFERENCE_APP_QUOTA_IMAGES,
        metadata=_env(
            "INFERENCE_APP_QUOTA_IMAGES",
            "images one app may generate per UTC day; past it 429. `0`: no quota",
        ),
    )

    # repr=False: a URL may carry the database's password.
    compute_database_url: str = field(
        default="",
        repr=False,
        metadata=_env(
            "COMPUTE_DATABASE_URL",
            "`@stage/compute`: the apps' data in PostgreSQL (`postgresql://user@host:5432/db`); "
            "unset: one SQLite file, `compute.sqlite3` in `STAGE_HOST_DATA_DIR`",
            default_text="unset (SQLite)",
        ),
    )
    compute_timeout_s: float = field(
        default=COMPUTE_TIMEOUT_S,
        metadata=_env(
            "COMPUTE_TIMEOUT_S",
            "deadline of one `@stage/compute` database call, and the longest a mutation's "
            "transaction stays open (then it is rolled back)",
        ),
    )
    compute_max_query_docs: int = field(
        default=COMPUTE_MAX_QUERY_DOCS,
        metadata=_env(
            "COMPUTE_MAX_QUERY_DOCS",
            "documents one `ctx.db` query may return; more is refused with 400 (use `take(n)`)",
        ),
    )
    compute_max_writes: int = field(
        default=COMPUTE_MAX_WRITES,
        metadata=_env(
            "COMPUTE_MAX_WRITES",
            "inserts, patches, replaces and deletes of one mutation; more is refused with 400",
        ),
    )

    def __post_init__(self) -> None:
        self._validate()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``environ`` (default ``os.environ``), then ``overrides`` by field name."""
        environ = os.environ if environ is None else environ
        by_var = {f.metadata["env"]: f for f in fields(cls)}
        unknown = sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in by_var)
        if unknown:
            name = unknown[0]
            # A misspelled key must not be printed with the error that names it.
            secret = any(word in name for word in _SECRET_WORDS)
            shown = "(value hidden)" if secret else repr(environ[name])
            raise ConfigError(
                f"unknown setting {name}={shown}; known settings: {', '.join(sorted(by_var))}"
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
        for name, schemes in (("redis_url", STORE_SCHEMES), ("broker_url", BROKER_SCHEMES)):
            value = getattr(self, name)
            if value and urlsplit(value).scheme not in schemes:
                self._fail(
                    name,
                    "must be a "
                    + ", ".join(f"{s}://" for s in schemes[:-1])
                    + f" or {schemes[-1]}:// URL",
                )
        if is_cluster_url(self.redis_url):
            try:
                startup_nodes(self.redis_url)
            except ConfigError as exc:
                self._fail("redis_url", str(exc))
        if "+cluster" in urlsplit(self.redis_url).scheme and not self.broker_url:
            self._fail(
                "broker_url",
                f"must be set when {self.variable('redis_url')} is a "
                "Redis Cluster (a cluster cannot be the Celery broker; "
                "use RabbitMQ, amqp://…)",
            )
        if self.broker_queue_type not in QUEUE_TYPES:
            self._fail("broker_queue_type", f"must be one of {', '.join(QUEUE_TYPES)}")
        for name in ("s3_endpoint_url", "public_base_url"):
            value = getattr(self, name)
            if value and urlsplit(value).scheme not in ("http", "https"):
                self._fail(name, "must be an http:// or https:// URL")
        if not self.key_prefix or any(c.isspace() for c in self.key_prefix):
            self._fail("key_prefix", "must be non-empty and contain no whitespace")
        if "{" in self.key_prefix or "}" in self.key_prefix:
            self._fail(
                "key_prefix",
                "may not contain { or }: the braces in a key are its Redis "
                "Cluster hash tag, the session's or the app's id",
            )
        if not self.queue:
            self._fail("queue", "must not be empty")
        if not self.check_queue:
            self._fail("check_queue", "must not be empty")
        if self.check_queue == self.queue:
            self._fail(
                "check_queue",
                f"must differ from {self.variable('queue')}: render "
                "workers and checkers consume their own queues",
            )
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
        if not 0 < self.host_port <= 65535:
            self._fail("host_port", "must be a TCP port (1-65535)")
        if self.inference_base_url and urlsplit(self.inference_base_url).scheme not in (
            "http",
            "https",
        ):
            self._fail("inference_base_url", "must be an http:// or https:// URL")
        for entry in filter(None, self.inference_models.split(",")):
            name, _, target = entry.partition("=")
            if not name.strip() or ("=" in entry and not target.strip()):
                self._fail("inference_models", f"{entry!r} is not name or name=provider model")
        if self.compute_database_url and urlsplit(self.compute_database_url).scheme not in (
            "postgresql",
            "postgres",
        ):
            self._fail("compute_database_url", "must be a postgresql:// URL")
        for entry in filter(None, self.api_fetch_hosts.split(",")):
            if entry.count("=") != 1 or not all(entry.split("=")):
                self._fail("api_fetch_hosts", f"{entry!r} is not name=address")
        for name in (
            "build_timeout_s",
            "soft_time_limit_s",
            "hard_time_limit_s",
            "max_files",
            "max_file_bytes",
            "max_session_bytes",
            "max_path_length",
            "max_output_bytes",
            "check_timeout_s",
            "keep_renders",
            "session_ttl_days",
            "gc_batch",
            "api_timeout_s",
            "api_start_timeout_s",
            "api_max_processes",
            "api_heap_mb",
            "api_rss_mb",
            "api_cpu_s",
            "api_max_body_bytes",
            "api_max_response_bytes",
            "api_log_lines",
            "inference_timeout_s",
            "inference_max_tokens",
            "compute_timeout_s",
            "compute_max_query_docs",
            "compute_max_writes",
            "worker_heartbeat_s",
        ):
            if getattr(self, name) <= 0:
                self._fail(name, "must be greater than 0")
        order = (
            "build_timeout_s",
            "soft_time_limit_s",
            "hard_time_limit_s",
            "visibility_timeout_s",
        )
        for shorter, longer in itertools.pairwise(order):
            if getattr(self, shorter) >= getattr(self, longer):
                self._fail(
                    shorter, f"must be less than {self.variable(longer)}={getattr(self, longer):g}"
                )

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
