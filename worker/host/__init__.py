"""The API host: published apps' pages and their ``/api/**`` routes on one origin.

Each app version's routes run in a Deno process of their own (:mod:`worker.host.sandbox`),
started on first request and kept warm by :mod:`worker.host.pool`; routes reach the host
only through the platform endpoint (:mod:`worker.host.platform`), where ``@stage/*``
platform modules plug in. ``stage-render host`` runs it (:func:`run_host`).
"""

from worker.host.platform import CallContext, PlatformError, PlatformModule, Streamed
from worker.host.server import run_host, serve_forever

__all__ = [
    "run_host",
    "serve_forever",
    "PlatformModule",
    "PlatformError",
    "CallContext",
    "Streamed",
]
