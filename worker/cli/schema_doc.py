"""Writes ``docs/schema/*.json``: JSON Schemas of everything that crosses the gateway boundary.

Each schema is derived from the dataclass whose ``to_dict()`` produces that JSON (field
``google_scopes`` is property ``googleScopes``; ``X | None`` may be null; ``Literal``
is an enum; nested dataclasses are ``$defs``), so it cannot drift from the code: ``make
docs`` regenerates the files, and a test fails when the committed ones are stale or when a
record the worker or the client produced does not validate. The Celery task message is not
a dataclass; its schema is built here from the task names and the envelope the contract
fixes (docs/contract.md §2).

    python -m worker.cli.schema_doc docs/schema
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from worker.client.publishing import App, AppVersion, Channel, Channels
from worker.inputs import SESSION_ID_PATTERN
from worker.messages import CHECK_TASK_NAME, TASK_NAME
from worker.models import Check, FileContent, RenderRecord, Session, SessionStatus

__all__ = ["SCHEMAS", "schemas", "main"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_BASE_ID = "https://stage.invalid/schema/"

#: Properties a ``to_dict()`` leaves out (a value that is not part of the JSON).
_EXCLUDED: dict[type, set[str]] = {Channel: {"name"}}
#: Properties a ``to_dict()`` writes only sometimes (the tombstone's expiredAt, expiredReason).
_OPTIONAL: dict[type, set[str]] = {RenderRecord: {"indexPath", "expiredAt", "expiredReason"}}
#: Where the contract is narrower than the field's Python type.
_NARROWER: dict[type, dict[str, dict[str, Any]]] = {
    App: {"status": {"enum": ["active", "archived"]}},
    FileContent: {"encoding": {"enum": ["utf-8", "base64"]}},
    Session: {"id": {"type": "string", "pattern": f"^{SESSION_ID_PATTERN.pattern}$"}},
    SessionStatus: {"id": {"type": "string", "pattern": f"^{SESSION_ID_PATTERN.pattern}$"}},
    RenderRecord: {"version": {"type": "integer", "minimum": 1}},
}

#: file name → (title, the dataclass). The task message is added by :func:`schemas`.
SCHEMAS: dict[str, tuple[str, type]] = {
    "session.json": ("What sessions.create returns", Session),
    "session-status.json": ("What sessions.status returns", SessionStatus),
    "file-content.json": ("What sessions.readFile returns", FileContent),
    "render-record.json": (
        "A render record: the JSON stored in <P>session:{<id>}:renders "
        "and returned as status.render",
        RenderRecord,
    ),
    "check.json": ("The boot check of a ready version (a render record's check)", Check),
    "app.json": ("A published app (apps.get)", App),
    "app-version.json": ("An app version: the JSON stored in <P>app:{<sid>}:versions", AppVersion),
    "channels.json": ("Where an app's channels point (apps.channels)", Channels),
}


def schemas() -> dict[str, dict[str, Any]]:
    """Every schema, by file name."""
    out = {name: _document(name, title, cls) for name, (title, cls) in SCHEMAS.items()}
    out["channel-entry.json"] = {
        "$schema": _DIALECT,
        "$id": _BASE_ID + "channel-entry.json",
        "title": "One value of the <P>app:{<sid>}:channels hash (written by promote.lua)",
        "type": "object",
        "additionalProperties": False,
        "required": ["appVersionSid", "revision", "updatedAt"],
        "properties": {
            "appVersionSid": {"type": "string", "pattern": "^ver_[0-9a-f]{20}$"},
            "revision": {"type": "integer", "minimum": 1},
            "updatedAt": {"type": "string"},
        },
    }
    out["task-message.json"] = _task_message()
    return out


def _document(name: str, title: str, cls: type) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    root = _object(cls, defs)
    defs.pop(cls.__name__, None)
    document = {"$schema": _DIALECT, "$id": _BASE_ID + name, "title": title, **root}
    if defs:
        document["$defs"] = dict(sorted(defs.items()))
    return document


def _object(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = _camel(f.name)
        if key in _EXCLUDED.get(cls, set()):
            continue
        narrower = _NARROWER.get(cls, {}).get(key)
        properties[key] = narrower if narrower is not None else _type(hints[f.name], defs)
    required = [k for k in properties if k not in _OPTIONAL.get(cls, set())]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def _type(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        inner = (
            _type(options[0], defs)
            if len(options) == 1
            else {"anyOf": [_type(a, defs) for a in options]}
        )
        return {"anyOf": [inner, {"type": "null"}]} if type(None) in args else inner
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (list, tuple, Sequence):
        return {"type": "array", "items": _type(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(args[1], defs)}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        name = hint.__name__
        if name not in defs:
            defs[name] = {}  # a placeholder while its own fields are read
            defs[name] = _object(hint, defs)
        return {"$ref": f"#/$defs/{name}"}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _task_message() -> dict[str, Any]:
    """The Redis-broker envelope of ``stage.render`` / ``stage.check`` (Celery protocol 2)."""
    uuid = {"type": "string", "minLength": 1}
    nothing = {"type": "null"}
    return {
        "$schema": _DIALECT,
        "$id": _BASE_ID + "task-message.json",
        "title": "The task message: the JSON string LPUSHed onto the queue's list in the "
        "broker's Redis; body is base64 of the JSON of [args, kwargs, embed]",
        "type": "object",
        "additionalProperties": False,
        "required": ["body", "content-encoding", "content-type", "headers", "properties"],
        "properties": {
            "body": {
                "type": "string",
                "contentEncoding": "base64",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": "#/$defs/body"},
            },
            "content-encoding": {"const": "utf-8"},
            "content-type": {"const": "application/json"},
            "headers": {
                "type": "object",
                "required": [
                    "lang",
                    "task",
                    "id",
                    "root_id",
                    "parent_id",
                    "group",
                    "retries",
                    "eta",
                    "expires",
                    "timelimit",
                    "argsrepr",
                    "kwargsrepr",
                    "origin",
                ],
                "properties": {
                    "lang": {"const": "py"},
                    "task": {"enum": [TASK_NAME, CHECK_TASK_NAME]},
                    "id": uuid,
                    "root_id": uuid,
                    "parent_id": nothing,
                    "group": nothing,
                    "retries": {"const": 0},
                    "eta": nothing,
                    "expires": nothing,
                    "timelimit": {"const": [None, None]},
                    "argsrepr": {"type": "string"},
                    "kwargsrepr": {"type": "string"},
                    "origin": {"type": "string"},
                },
            },
            "properties": {
                "type": "object",
                "required": [
                    "correlation_id",
                    "reply_to",
                    "delivery_mode",
                    "delivery_info",
                    "priority",
                    "body_encoding",
                    "delivery_tag",
                ],
                "properties": {
                    "correlation_id": uuid,
                    "reply_to": {"type": "string"},
                    "delivery_mode": {"const": 2},
                    "delivery_info": {
                        "type": "object",
                        "required": ["exchange", "routing_key"],
                        "properties": {
                            "exchange": {"const": ""},
                            "routing_key": {"type": "string", "minLength": 1},
                        },
                    },
                    "priority": {"const": 0},
                    "body_encoding": {"const": "base64"},
                    "delivery_tag": uuid,
                },
            },
        },
        "$defs": {
            "body": {
                "type": "array",
                "prefixItems": [
                    {"const": []},
                    {"$ref": "#/$defs/kwargs"},
                    {
                        "type": "object",
                        "required": ["callbacks", "errbacks", "chain", "chord"],
                        "properties": {
                            k: nothing for k in ("callbacks", "errbacks", "chain", "chord")
                        },
                    },
                ],
                "minItems": 3,
                "maxItems": 3,
            },
            "kwargs": {
                "type": "object",
                "additionalProperties": False,
                "required": ["session_id", "version"],
                "properties": {
                    "session_id": {"type": "string", "pattern": f"^{SESSION_ID_PATTERN.pattern}$"},
                    "version": {"type": "integer", "minimum": 1},
                },
            },
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m worker.cli.schema_doc DIR", file=sys.stderr)
        return 2
    folder = Path(args[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in schemas().items():
        (folder / name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
