"""What a document is: checked on the way in, JSON text on the way out, and the
``.filter()`` expressions evaluated on it.

A document is a JSON object of at most :data:`MAX_DOCUMENT_BYTES`; fields starting with
``_`` are the system's (``_id``, ``_creationTime``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from worker.host.compute.keys import compare, encode_key, encode_value

__all__ = [
    "ComputeError",
    "Indexes",
    "MAX_DOCUMENT_BYTES",
    "check_table",
    "check_doc",
    "evaluate",
    "document",
    "document_text",
    "without_system",
    "index_entry",
    "kind_of",
]

MAX_DOCUMENT_BYTES = 1024 * 1024  # a document, as JSON; bigger data belongs in files
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
#: Indexes of an app: table → index name → its fields, in order.
Indexes = dict[str, dict[str, list[str]]]


class ComputeError(Exception):
    """A refusal of ``@stage/compute``, with the HTTP status the route sees."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def check_table(table: Any) -> str:
    if not isinstance(table, str) or not _TABLE_NAME.fullmatch(table):
        raise ComputeError(
            400, f"table {table!r}: a name is a letter, then letters, digits or _ (≤ 64)"
        )
    return table


def check_doc(doc: Any) -> str:
    if not isinstance(doc, dict):
        raise ComputeError(400, "a document is a JSON object")
    reserved = sorted(k for k in doc if k.startswith("_"))
    if reserved:
        raise ComputeError(400, f"field {reserved[0]!r}: names starting with _ are the system's")
    body = _dumps(doc)
    size = len(body.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        raise ComputeError(
            413, f"a document is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES} (1 MB)"
        )
    return body


def _field(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def evaluate(expr: Any, doc: Mapping[str, Any]) -> Any:
    """A ``.filter()`` expression (``{$op, args}``, ``{$field}``, ``{$literal}``) on a doc."""
    if not isinstance(expr, dict):
        raise ComputeError(400, "a filter is built with q.eq(q.field(…), value) and friends")
    if "$field" in expr:
        return _field(doc, str(expr["$field"]))
    if "$literal" in expr:
        return expr["$literal"]
    op, args = expr.get("$op"), expr.get("args") or []
    if op == "and":
        return all(evaluate(a, doc) for a in args)
    if op == "or":
        return any(evaluate(a, doc) for a in args)
    if op == "not" and len(args) == 1:
        return not evaluate(args[0], doc)
    if op in _COMPARE and len(args) == 2:
        return _COMPARE[op](compare(evaluate(args[0], doc), evaluate(args[1], doc)))
    raise ComputeError(400, f"filter: unknown operation {op!r}")


_COMPARE: dict[str, Callable[[int], bool]] = {
    "eq": lambda c: c == 0,
    "neq": lambda c: c != 0,
    "lt": lambda c: c < 0,
    "lte": lambda c: c <= 0,
    "gt": lambda c: c > 0,
    "gte": lambda c: c >= 0,
}


def without_system(doc: dict[str, Any]) -> dict[str, Any]:
    """A document read back and written again keeps its own ``_id``/``_creationTime``."""
    return {k: v for k, v in doc.items() if k not in ("_id", "_creationTime")}


def kind_of(op: Any) -> Any:
    return op.get("op") if isinstance(op, dict) else None


def document_text(row: Any) -> str:
    """A stored body with its ``_id`` and ``_creationTime``, as text (ids are hex)."""
    system = f'"_id":"{row.id}","_creationTime":{row.created / 1000!r}'
    body: str = row.body
    return "{" + system + "}" if body == "{}" else body[:-1] + "," + system + "}"


def document(row: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(row.body)
    doc["_id"] = row.id
    doc["_creationTime"] = row.created / 1000
    return doc


def index_entry(
    app: str, table: str, name: str, fields: list[str], doc_id: str, created: int, doc: Any
) -> dict[str, Any]:
    key = encode_key(_field(doc, f) for f in fields) + encode_value(created) + encode_value(doc_id)
    return {"app": app, "tbl": table, "idx": name, "key": key, "id": doc_id}
