"""``@stage/compute`` on the host: the platform endpoint's ``compute/<fn>`` calls.

The app's functions run in its route's Deno process (``runtime/stage-compute.js``); what
reaches the host are their ``ctx.db`` operations, batched:

    compute/db      {ops: [...], begin?: "mutation" | tx?: id} → {tx?, results: [...]}
    compute/commit  {tx}   a mutation's writes, all at once
    compute/abort   {tx}   none of them (the handler threw)
    compute/schema  {tables: {name: {indexes: {name: [field, …]}}}}

The app is always the platform token's (``CallContext.app``), so a route can reach its own
app's documents only. A mutation's transaction belongs to the process that opened it: it is
rolled back when that process ends, or when it outlives ``STAGE_COMPUTE_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from worker.host.compute.documents import ComputeError, Indexes
from worker.host.compute.store import ComputeStore, Transaction
from worker.host.platform import CallContext, Encoded, Grant, PlatformError

__all__ = ["ComputeModule"]

log = logging.getLogger(__name__)


@dataclass
class _Open:
    tx: Transaction
    process: str
    expiry: asyncio.TimerHandle


class ComputeModule:
    """The ``compute`` platform module over one :class:`ComputeStore`."""

    def __init__(self, store: ComputeStore) -> None:
        self.store = store
        self.timeout_s = store.limits.timeout_s
        self._open: dict[str, _Open] = {}

    async def start(self) -> None:
        """Apply the store's migrations (the host awaits this before serving)."""
        await self.store.migrate()

    async def aclose(self) -> None:
        for tx_id in list(self._open):
            await self._abort(tx_id)
        await self.store.aclose()

    async def call(self, context: CallContext, function: str, args: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._call(context, function, args)
        except ComputeError as exc:
            raise PlatformError(exc.status, str(exc)) from None
        except TimeoutError:
            raise PlatformError(
                504,
                f"the database call took longer than {self.timeout_s:g}s "
                "(STAGE_COMPUTE_TIMEOUT_S); the mutation is rolled back",
            ) from None
        except (SQLAlchemyError, OSError) as exc:
            log.warning("app %s: compute/%s failed: %s", context.app, function, exc)
            raise PlatformError(503, "the app data store is unavailable; try again") from None

    def process_ended(self, grant: Grant) -> None:
        """Roll back what a process that stopped left open."""
        for tx_id, held in list(self._open.items()):
            if held.process == grant.process:
                asyncio.get_running_loop().create_task(self._abort(tx_id))

    async def _call(self, context: CallContext, function: str, args: Any) -> Any:
        if not isinstance(args, dict):
            raise ComputeError(400, f"compute/{function} takes a JSON object")
        if function == "db":
            return await self._db(context, args)
        if function == "commit":
            held = self._take(context, args.get("tx"))
            async with held.tx.busy:
                await self.store.end(held.tx, commit=True)
            return {"committed": True, "writes": held.tx.writes}
        if function == "abort":
            held = self._take(context, args.get("tx"))
            async with held.tx.busy:
                await self.store.end(held.tx, commit=False)
            return {"aborted": True}
        if function == "schema":
            await self.store.declare(context.app, _indexes(args.get("tables")))
            return {"tables": sorted(args.get("tables") or {})}
        raise ComputeError(404, f"@stage/compute has no function {function!r}")

    async def _db(self, context: CallContext, args: dict[str, Any]) -> Any:
        ops = args.get("ops")
        if not isinstance(ops, list):
            raise ComputeError(400, "compute/db takes {ops: [...]}")
        if args.get("begin") == "mutation":
            tx = await self._begin(context)
            try:
                results = await self._run(context, ops, tx)
            except BaseException:
                # The caller never learns this transaction's id: nothing else can end it.
                await self._abort(tx)
                raise
            return _answer(tx, results)
        tx_id = args.get("tx")
        if tx_id is None:
            return _answer(None, await self.store.run_encoded(context.app, ops, None))
        return _answer(tx_id, await self._run(context, ops, tx_id))

    async def _begin(self, context: CallContext) -> str:
        tx = await self.store.begin(context.app)
        tx_id = secrets.token_urlsafe(16)
        loop = asyncio.get_running_loop()
        expiry = loop.call_later(
            self.timeout_s, lambda: loop.create_task(self._abort(tx_id, expired=True))
        )
        self._open[tx_id] = _Open(tx, context.process, expiry)
        return tx_id

    async def _run(self, context: CallContext, ops: list[Any], tx_id: str) -> list[str]:
        held = self._held(context, tx_id)
        try:
            async with held.tx.busy:
                return await self.store.run_encoded(context.app, ops, held.tx)
        except ComputeError:
            raise  # the author's mistake: the mutation may catch it and go on
        except BaseException:
            await self._abort(tx_id)
            raise

    def _held(self, context: CallContext, tx_id: Any) -> _Open:
        held = self._open.get(tx_id) if isinstance(tx_id, str) else None
        if held is None or held.tx.app != context.app or held.process != context.process:
            raise ComputeError(
                409,
                "this mutation's transaction is no longer open: it was rolled back after "
                f"{self.timeout_s:g}s (STAGE_COMPUTE_TIMEOUT_S) or an error",
            )
        return held

    def _take(self, context: CallContext, tx_id: Any) -> _Open:
        held = self._held(context, tx_id)
        del self._open[tx_id]
        held.expiry.cancel()
        return held

    async def _abort(self, tx_id: str, expired: bool = False) -> None:
        held = self._open.pop(tx_id, None)
        if held is None:
            return
        held.expiry.cancel()
        if expired:
            log.info("app %s: a mutation passed its deadline; rolled back", held.tx.app)
        async with held.tx.busy:
            await self.store.end(held.tx, commit=False)


def _answer(tx: str | None, results: list[str]) -> Encoded:
    """``{tx?, results}`` with each result's JSON as the store wrote it."""
    head = "{" if tx is None else '{"tx":' + json.dumps(tx) + ","
    return Encoded((head + '"results":[' + ",".join(results) + "]}").encode())


def _indexes(tables: Any) -> Indexes:
    if not isinstance(tables, dict):
        raise ComputeError(400, "compute/schema takes {tables: {name: {indexes: {…}}}}")
    wanted: Indexes = {}
    for table, spec in tables.items():
        indexes = (spec or {}).get("indexes") or {} if isinstance(spec, dict) else {}
        if not isinstance(indexes, dict):
            raise ComputeError(400, f"table {table}: indexes is an object name → [fields]")
        if indexes:
            wanted[str(table)] = {str(n): list(f) for n, f in indexes.items()}
    return wanted
