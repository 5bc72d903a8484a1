"""The apps' documents in one database: SQLite embedded, or PostgreSQL; one schema, one path.

Three tables, every row keyed by its app (the platform token's app, never a caller's say):

- ``compute_documents``: ``(app, id)`` → table, creation time (µs), the JSON body;
- ``compute_index_entries``: ``(app, table, index, key)`` → id, where ``key`` is the
  indexed fields' values, the creation time and the id encoded so that byte order is value
  order (:mod:`worker.host.compute.keys`): an equality on an index is one range scan;
- ``compute_indexes``: each app's declared indexes (from ``/compute/schema.ts``).

A mutation is one database transaction, one per app at a time: an in-process lock per app,
then ``BEGIN IMMEDIATE`` on SQLite (one writer on the file) or a transaction-scoped advisory
lock on PostgreSQL (every host sharing the database takes its turn), so mutations of an app
are serial and need no retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from worker.host.compute.documents import (
    ComputeError,
    Indexes,
    check_doc,
    check_table,
    document,
    document_text,
    evaluate,
    index_entry,
    kind_of,
    without_system,
)
from worker.host.compute.keys import encode_key, prefix_end
from worker.host.compute.tables import (
    MIGRATIONS,
    SCANS,
    declared,
    documents,
    entries,
    metadata,
    migrations,
)

__all__ = ["ComputeStore", "Limits", "Transaction", "open_store"]

_WRITES = ("insert", "patch", "replace", "delete")


@dataclass(frozen=True)
class Limits:
    max_query_docs: int
    max_writes: int
    timeout_s: float


@dataclass
class Transaction:
    """An open mutation: its connection, holding its app's write lock."""

    app: str
    conn: AsyncConnection
    lock: asyncio.Lock
    writes: int = 0
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)


def _lock_key(app: str) -> int:
    return int.from_bytes(hashlib.sha256(app.encode()).digest()[:8], "big", signed=True)


class ComputeStore:
    """The documents of every app; callers pass the app, as the platform token names it."""

    def __init__(self, engine: AsyncEngine, limits: Limits) -> None:
        self.engine = engine
        self.limits = limits
        self.postgres = engine.dialect.name == "postgresql"
        self._locks: dict[str, asyncio.Lock] = {}
        self._indexes: dict[str, Indexes] = {}
        self._last_created = 0

    async def migrate(self) -> None:
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(stage_begin="BEGIN IMMEDIATE")
            async with conn.begin():
                await self._migrate(conn)

    async def _migrate(self, conn: AsyncConnection) -> None:
        if self.postgres:  # hosts starting together migrate one at a time
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7061)"))
        await conn.run_sync(lambda c: metadata.create_all(c, tables=[migrations]))
        done = set((await conn.execute(sa.select(migrations.c.version))).scalars())
        for version, migration in enumerate(MIGRATIONS, start=1):
            if version not in done:
                await conn.run_sync(migration)
                await conn.execute(
                    migrations.insert().values(version=version, applied=int(time.time()))
                )

    async def aclose(self) -> None:
        await self.engine.dispose()

    # --- transactions ---------------------------------------------------------------------

    async def begin(self, app: str) -> Transaction:
        """A mutation's transaction, once the app's earlier ones ended."""
        lock = self._locks.setdefault(app, asyncio.Lock())
        await lock.acquire()
        conn: AsyncConnection | None = None
        try:
            conn = await self.engine.connect()
            if self.postgres:
                await conn.begin()
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(app)}
                )
            else:
                conn = await conn.execution_options(stage_begin="BEGIN IMMEDIATE")
                await conn.begin()
            # What the app's indexes are, read under its lock: another host (or process on
            # the file) may have declared one since, and every write must keep them all.
            self._indexes[app] = await _load_indexes(conn, app)
        except BaseException:
            if conn is not None:
                await conn.close()
            lock.release()
            raise
        return Transaction(app, conn, lock)

    async def end(self, tx: Transaction, commit: bool) -> None:
        try:
            if commit:
                await tx.conn.commit()
            else:
                await tx.conn.rollback()
        finally:
            try:
                await tx.conn.close()
            finally:
                tx.lock.release()

    # --- operations -----------------------------------------------------------------------

    async def run(self, app: str, ops: list[Any], tx: Transaction | None) -> list[Any]:
        """Each op's result, in order; writes only inside a mutation's transaction."""
        return [json.loads(text) for text in await self.run_encoded(app, ops, tx)]

    async def run_encoded(self, app: str, ops: list[Any], tx: Transaction | None) -> list[str]:
        """:meth:`run`'s results as JSON texts: documents go out as stored, never decoded
        and encoded again (most of a query's cost otherwise)."""
        if tx is None:
            async with self.engine.connect() as conn:
                return [await self._op(app, conn, op, None) for op in ops]
        if sum(kind_of(op) in _WRITES for op in ops) <= 1:
            return [await self._op(app, tx.conn, op, tx) for op in ops]
        # Several writes in one batch: all of them or none, so a mutation that catches the
        # refusal of one goes on without half of the batch.
        writes = tx.writes
        savepoint = await tx.conn.begin_nested()
        try:
            results = [await self._op(app, tx.conn, op, tx) for op in ops]
        except ComputeError:
            await savepoint.rollback()
            tx.writes = writes
            raise
        await savepoint.commit()
        return results

    async def _op(self, app: str, conn: AsyncConnection, op: Any, tx: Transaction | None) -> str:
        if kind_of(op) == "query":
            return "[" + ",".join(await self._query(app, conn, op)) + "]"
        return json.dumps(await self._change(app, conn, op, tx), ensure_ascii=False)

    async def _change(
        self, app: str, conn: AsyncConnection, op: Any, tx: Transaction | None
    ) -> Any:
        if not isinstance(op, dict):
            raise ComputeError(400, "a db operation is an object {op, …}")
        kind = op.get("op")
        if kind == "get":
            return await self._get(app, conn, op.get("id"))
        if kind not in _WRITES:
            raise ComputeError(400, f"unknown db operation {kind!r}")
        if tx is None:
            raise ComputeError(400, f"ctx.db.{kind} writes; only a mutation may write")
        tx.writes += 1
        if tx.writes > self.limits.max_writes:
            raise ComputeError(
                400,
                f"a mutation may write at most {self.limits.max_writes} times "
                "(STAGE_COMPUTE_MAX_WRITES); split the work into several mutations",
            )
        if kind == "insert":
            return await self._insert(app, conn, check_table(op.get("table")), op.get("doc"))
        row = await self._row(app, conn, op.get("id"))
        if row is None:
            raise ComputeError(404, f"ctx.db.{kind}: no document {op.get('id')!r}")
        old = json.loads(row.body)
        if kind == "delete":
            await self._unindex(app, conn, row.tbl, row.id, row.created, old)
            await conn.execute(documents.delete().where(_doc(app, row.id)))
            return None
        if kind == "patch":
            fields = op.get("fields")
            if not isinstance(fields, dict):
                raise ComputeError(400, "ctx.db.patch(id, fields): fields is an object")
            new: Any = {**old, **without_system(fields)}
        else:
            new = op.get("doc")
            if isinstance(new, dict):
                new = without_system(new)
        body = check_doc(new)
        await self._unindex(app, conn, row.tbl, row.id, row.created, old)
        await conn.execute(documents.update().where(_doc(app, row.id)).values(body=body))
        await self._index(app, conn, row.tbl, row.id, row.created, new)
        return None

    def _created(self) -> int:
        now = time.time_ns() // 1000
        self._last_created = max(now, self._last_created + 1)
        return self._last_created

    async def _insert(self, app: str, conn: AsyncConnection, table: str, doc: Any) -> str:
        body = check_doc(doc)
        doc_id, created = secrets.token_hex(12), self._created()
        await conn.execute(
            documents.insert().values(app=app, id=doc_id, tbl=table, created=created, body=body)
        )
        await self._index(app, conn, table, doc_id, created, doc)
        return doc_id

    async def _row(self, app: str, conn: AsyncConnection, doc_id: Any) -> Any:
        if not isinstance(doc_id, str):
            raise ComputeError(400, f"a document id is a string, not {doc_id!r}")
        result = await conn.execute(sa.select(documents).where(_doc(app, doc_id)))
        return result.first()

    async def _get(self, app: str, conn: AsyncConnection, doc_id: Any) -> Any:
        row = await self._row(app, conn, doc_id)
        return None if row is None else document(row)

    async def export(self, app: str) -> list[dict[str, Any]]:
        """Every document of the app, by table then creation, each with its ``_table``."""
        stmt = (
            sa.select(documents)
            .where(documents.c.app == app)
            .order_by(documents.c.tbl, documents.c.created, documents.c.id)
        )
        async with self.engine.connect() as conn:
            return [{"_table": row.tbl, **document(row)} for row in await conn.execute(stmt)]

    # --- indexes --------------------------------------------------------------------------

    async def indexes(self, app: str) -> Indexes:
        known = self._indexes.get(app)
        if known is None:
            async with self.engine.connect() as conn:
                known = self._indexes[app] = await _load_indexes(conn, app)
        return known

    async def declare(self, app: str, wanted: Indexes) -> None:
        """Add the indexes ``wanted`` declares to the app's, filled from its documents; one
        whose fields changed is rebuilt. An index no longer declared is kept: the app's
        other versions (production beside a new preview) may still read it. Runs as a
        mutation (no write of the app in between)."""
        for table, names in wanted.items():
            check_table(table)
            for name, fields in names.items():
                check_table(name)
                if not fields or not all(isinstance(f, str) and f for f in fields):
                    raise ComputeError(400, f"index {table}.{name}: fields are names of fields")
        want = {(t, n): f for t, names in wanted.items() for n, f in names.items()}

        def declared_already(indexes: Indexes) -> bool:
            return all(indexes.get(t, {}).get(n) == f for (t, n), f in want.items())

        if declared_already(await self.indexes(app)):
            return
        tx = await self.begin(app)
        try:
            have = {(t, n): f for t, names in self._indexes[app].items() for n, f in names.items()}
            for (table, name), fields in have.items():
                if (table, name) in want and want[(table, name)] != fields:
                    await tx.conn.execute(
                        entries.delete().where(
                            entries.c.app == app, entries.c.tbl == table, entries.c.idx == name
                        )
                    )
                    await tx.conn.execute(
                        declared.delete().where(
                            declared.c.app == app, declared.c.tbl == table, declared.c.idx == name
                        )
                    )
            for (table, name), fields in want.items():
                if have.get((table, name)) == fields:
                    continue
                await tx.conn.execute(
                    declared.insert().values(
                        app=app, tbl=table, idx=name, fields=json.dumps(fields)
                    )
                )
                docs = await tx.conn.execute(
                    sa.select(documents).where(documents.c.app == app, documents.c.tbl == table)
                )
                rows_in = [
                    index_entry(app, table, name, fields, r.id, r.created, json.loads(r.body))
                    for r in docs
                ]
                if rows_in:
                    await tx.conn.execute(entries.insert(), rows_in)
        except BaseException:
            await self.end(tx, commit=False)
            self._indexes.pop(app, None)
            raise
        await self.end(tx, commit=True)
        merged: Indexes = {}
        for (table, name), fields in {**have, **want}.items():
            merged.setdefault(table, {})[name] = fields
        self._indexes[app] = merged

    async def _index(
        self, app: str, conn: AsyncConnection, table: str, doc_id: str, created: int, doc: Any
    ) -> None:
        names = (await self.indexes(app)).get(table) or {}
        if names:
            await conn.execute(
                entries.insert(),
                [index_entry(app, table, n, f, doc_id, created, doc) for n, f in names.items()],
            )

    async def _unindex(
        self, app: str, conn: AsyncConnection, table: str, doc_id: str, created: int, doc: Any
    ) -> None:
        for name, fields in ((await self.indexes(app)).get(table) or {}).items():
            key = index_entry(app, table, name, fields, doc_id, created, doc)["key"]
            await conn.execute(
                entries.delete().where(
                    entries.c.app == app,
                    entries.c.tbl == table,
                    entries.c.idx == name,
                    entries.c.key == key,
                )
            )

    # --- queries --------------------------------------------------------------------------

    async def _query(self, app: str, conn: AsyncConnection, spec: Mapping[str, Any]) -> list[str]:
        """The matching documents as JSON texts."""
        table = check_table(spec.get("table"))
        order = spec.get("order", "asc")
        if order not in ("asc", "desc"):
            raise ComputeError(400, f'order is "asc" or "desc", not {order!r}')
        limit = spec.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ComputeError(400, "take(n): n is a whole number ≥ 0")
        most = self.limits.max_query_docs
        wanted = most + 1 if limit is None else min(limit, most + 1)
        expr = spec.get("filter")
        index = spec.get("index")
        if index is not None:
            params = await self._index_range(app, table, index)
        else:
            params = {"app": app, "tbl": table}
        stmt = SCANS[(index is not None, order, expr is None)]
        if expr is None:
            params["limit"] = wanted
            found = [document_text(r) for r in await conn.execute(stmt, params)]
        else:
            found = []
            for row in await conn.execute(stmt, params):
                doc = document(row)
                if evaluate(expr, doc):
                    found.append(json.dumps(doc, ensure_ascii=False))
                    if len(found) >= wanted:
                        break
        if len(found) > most:
            raise ComputeError(
                400,
                f"the query matches more than {most} documents (STAGE_COMPUTE_MAX_QUERY_DOCS); "
                "read it in pages with .take(n) and an index range, or filter on an index",
            )
        return found

    async def _index_range(self, app: str, table: str, index: Any) -> dict[str, Any]:
        """The parameters of an index scan: its name and the key range of the equalities."""
        name = index.get("name") if isinstance(index, dict) else None
        fields = ((await self.indexes(app)).get(table) or {}).get(str(name))
        if fields is None:
            raise ComputeError(
                400,
                f"table {table} has no index {name!r}; declare it in /compute/schema.ts "
                f'(defineTable({{…}}).index("{name}", ["field"]))',
            )
        eqs = index.get("eq") or []
        named = [pair[0] for pair in eqs if isinstance(pair, list) and len(pair) == 2]
        if len(named) != len(eqs) or named != fields[: len(named)]:
            raise ComputeError(
                400,
                f"index {name} of {table} is on {fields}: withIndex compares its fields in "
                f"that order, from the first (got {named})",
            )
        prefix = encode_key(pair[1] for pair in eqs)
        return {"app": app, "tbl": table, "idx": name, "low": prefix, "high": prefix_end(prefix)}


_INDEXES_OF = sa.select(declared.c.tbl, declared.c.idx, declared.c.fields).where(
    declared.c.app == sa.bindparam("app")
)


async def _load_indexes(conn: AsyncConnection, app: str) -> Indexes:
    known: Indexes = {}
    for row in await conn.execute(_INDEXES_OF, {"app": app}):
        known.setdefault(row.tbl, {})[row.idx] = json.loads(row.fields)
    return known


def _doc(app: str, doc_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(documents.c.app == app, documents.c.id == doc_id)


def _engine_url(database_url: str, data_dir: Path) -> str:
    if not database_url:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "compute.sqlite3"
        # The apps' data: readable by the host's user only (SQLite's journal files follow).
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        return f"sqlite+aiosqlite:///{path}"
    rest = database_url.partition("://")[2]
    return f"postgresql+asyncpg://{rest}"


def open_store(database_url: str, data_dir: Path, limits: Limits) -> ComputeStore:
    """The store (not yet migrated: ``await store.migrate()``)."""
    url = _engine_url(database_url, data_dir)
    if url.startswith("sqlite"):
        # No rollback when a connection goes back to the pool: a mutation ends its own
        # transaction, and a query's connection never opened one (below).
        engine = create_async_engine(
            url, connect_args={"timeout": limits.timeout_s}, pool_reset_on_return=None
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            # The driver's own transaction handling off: this module says BEGIN itself.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(limits.timeout_s * 1000)}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            # A mutation says BEGIN IMMEDIATE: the file's write lock at once. Reads open no
            # transaction: each statement sees one committed state (WAL), which is all a
            # query's one-statement reads need, without two more trips to the driver.
            begin = conn.get_execution_options().get("stage_begin")
            if begin:
                conn.exec_driver_sql(begin)

    else:
        engine = create_async_engine(url, pool_size=10, max_overflow=20)
    return ComputeStore(engine, limits)
