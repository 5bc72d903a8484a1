"""``@stage/compute``: each published app's own documents, read by queries and written by
atomic mutations its routes call.

:func:`compute_module` builds the platform module from the host's settings: one SQLite file
in ``STAGE_HOST_DATA_DIR``, or PostgreSQL when ``STAGE_COMPUTE_DATABASE_URL`` is set.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from worker.host.compute.documents import MAX_DOCUMENT_BYTES, ComputeError
from worker.host.compute.keys import encode_key, encode_value
from worker.host.compute.module import ComputeModule
from worker.host.compute.store import ComputeStore, Limits, open_store
from worker.settings import Settings

__all__ = [
    "ComputeModule",
    "ComputeStore",
    "ComputeError",
    "ComputeUnavailable",
    "export_documents",
    "Limits",
    "MAX_DOCUMENT_BYTES",
    "compute_module",
    "encode_key",
    "encode_value",
    "open_store",
]


def store_from_settings(settings: Settings) -> ComputeStore:
    """The store of a host configured by ``settings`` (not yet migrated)."""
    limits = Limits(
        settings.compute_max_query_docs, settings.compute_max_writes, settings.compute_timeout_s
    )
    return open_store(settings.compute_database_url, settings.host_data_dir, limits)


class ComputeUnavailable(Exception):
    """The app data store could not be read (not reachable, not there)."""


def export_documents(settings: Settings, app: str) -> list[dict[str, Any]]:
    """Every document of ``app`` (for the gateway's ``apps.data(sid).export()``), read on
    a thread of its own so a caller's event loop is never in the way."""
    if not settings.compute_database_url:
        path = settings.host_data_dir / "compute.sqlite3"
        if not path.exists():
            raise ComputeUnavailable(
                f"no app data at {path}: run this where the API host keeps it "
                "(STAGE_HOST_DATA_DIR) or set STAGE_COMPUTE_DATABASE_URL"
            )

    async def read() -> list[dict[str, Any]]:
        store = store_from_settings(settings)
        try:
            await store.migrate()
            return await store.export(app)
        finally:
            await store.aclose()

    try:
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, read()).result()
    except (SQLAlchemyError, OSError) as exc:
        raise ComputeUnavailable(f"the app data store did not answer: {exc}") from None


def compute_module(settings: Settings) -> ComputeModule:
    """The ``compute`` module of a host configured by ``settings``."""
    return ComputeModule(store_from_settings(settings))
