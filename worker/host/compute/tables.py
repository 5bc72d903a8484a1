"""The database schema of ``@stage/compute`` and the statements queries run, built once.

Every row is keyed by its app. Migrations are applied in order at start and recorded in
``compute_migrations``; a new schema version appends one, never edits one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

__all__ = ["metadata", "documents", "entries", "declared", "migrations", "MIGRATIONS", "SCANS"]

metadata = sa.MetaData()
documents = sa.Table(
    "compute_documents",
    metadata,
    sa.Column("app", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tbl", sa.String(64), nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("compute_documents_by_table", "app", "tbl", "created", "id"),
)
entries = sa.Table(
    "compute_index_entries",
    metadata,
    sa.Column("app", sa.String(64), primary_key=True),
    sa.Column("tbl", sa.String(64), primary_key=True),
    sa.Column("idx", sa.String(64), primary_key=True),
    sa.Column("key", sa.LargeBinary, primary_key=True),
    sa.Column("id", sa.String(32), nullable=False),
)
declared = sa.Table(
    "compute_indexes",
    metadata,
    sa.Column("app", sa.String(64), primary_key=True),
    sa.Column("tbl", sa.String(64), primary_key=True),
    sa.Column("idx", sa.String(64), primary_key=True),
    sa.Column("fields", sa.Text, nullable=False),
)
migrations = sa.Table(
    "compute_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied", sa.BigInteger, nullable=False),
)
#: Schema versions, applied in order at start; a new one appends, never edits.
MIGRATIONS: list[Callable[[sa.Connection], None]] = [
    lambda conn: metadata.create_all(conn, tables=[documents, entries, declared]),
]


def _scan(by_index: bool, order: str, limited: bool) -> sa.Select[Any]:
    """A query's statement, built once: parameters ``app``, ``tbl`` (and ``idx``, ``low``,
    ``high`` of an index range; ``limit``)."""
    param = sa.bindparam
    if by_index:
        on = (documents.c.app == entries.c.app) & (documents.c.id == entries.c.id)
        stmt = (
            sa.select(documents)
            .select_from(entries.join(documents, on))
            .where(
                entries.c.app == param("app"),
                entries.c.tbl == param("tbl"),
                entries.c.idx == param("idx"),
                entries.c.key >= param("low", type_=sa.LargeBinary),
                entries.c.key < param("high", type_=sa.LargeBinary),
            )
        )
        by: tuple[Any, ...] = (entries.c.key,)
    else:
        stmt = sa.select(documents).where(
            documents.c.app == param("app"), documents.c.tbl == param("tbl")
        )
        by = (documents.c.created, documents.c.id)
    stmt = stmt.order_by(*(c.desc() if order == "desc" else c for c in by))
    return stmt.limit(param("limit", type_=sa.Integer)) if limited else stmt


#: (by index?, order, limited?) → statement: a query builds none per call.
SCANS = {
    (by_index, order, limited): _scan(by_index, order, limited)
    for by_index in (True, False)
    for order in ("asc", "desc")
    for limited in (True, False)
}
