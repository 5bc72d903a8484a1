"""Index keys: JSON values as bytes whose byte order is the values' order.

An index entry's key is its fields' values, then the document's creation time and id, each
encoded so that comparing the bytes (SQLite's BLOB and PostgreSQL's bytea both compare
with memcmp) compares the values: null < false < true < numbers < strings < anything else.
Every encoded value ends by itself, so the key of the first fields is a prefix of the whole
key and an equality on them is one range scan.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

__all__ = ["encode_value", "encode_key", "prefix_end", "compare"]

_NULL, _FALSE, _TRUE, _NUMBER, _STRING, _OTHER = (
    b"\x01",
    b"\x02",
    b"\x03",
    b"\x04",
    b"\x05",
    b"\x06",
)


def _number(value: float) -> bytes:
    (bits,) = struct.unpack(">Q", struct.pack(">d", float(value) + 0.0))  # -0.0 is 0.0
    # Positive floats sort as their bits with the sign set; negative ones inverted.
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 1 << 63
    return struct.pack(">Q", bits)


def _text(value: str) -> bytes:
    # 0x00 inside becomes 0x00 0xFF and the end is 0x00 0x00: shorter strings sort first.
    return value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def encode_value(value: Any) -> bytes:
    """One JSON value, self-delimiting and order-preserving."""
    if value is None:
        return _NULL
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if isinstance(value, int | float):
        return _NUMBER + _number(value)
    if isinstance(value, str):
        return _STRING + _text(value)
    # Arrays and objects: equal when their canonical JSON is; ordered by that text.
    return _OTHER + _text(json.dumps(value, sort_keys=True, separators=(",", ":")))


def encode_key(values: Iterable[Any]) -> bytes:
    return b"".join(encode_value(v) for v in values)


def prefix_end(prefix: bytes) -> bytes:
    """The least key above every key starting with ``prefix`` (an encoded value never
    starts with 0xFF, so appending it bounds the range)."""
    return prefix + b"\xff"


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1: the order of two JSON values, as indexes order them."""
    ka, kb = encode_value(a), encode_value(b)
    return (ka > kb) - (ka < kb)
