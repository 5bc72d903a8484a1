"""esbuild's stdio service protocol: the packet encoding its JavaScript API speaks.

The binary started with ``--service=<version>`` reads and writes length-prefixed
packets on stdin/stdout. A packet is ``uint32 length, uint32 id<<1|is_response``
and one value. Values are tagged: null, bool, int32, string, bytes, list, map.
It is JSON with a byte-string type, which lets a build return its output files
without a detour through the file system.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = [
    "Packet",
    "encode_packet",
    "decode_packet",
    "take_body",
    "BuildRequest",
    "BuildResponse",
    "Location",
    "Message",
    "OutputFile",
    "PluginSpec",
    "TransformRequest",
    "TransformResponse",
]

_NULL, _BOOL, _INT, _STR, _BYTES, _LIST, _MAP = range(7)
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")


class PluginSpec(TypedDict):
    """A plugin as a build request declares it: the callbacks esbuild will ask about."""

    name: str
    onStart: bool
    onEnd: bool
    onResolve: list[dict[str, Any]]  # {"id", "filter", "namespace"}
    onLoad: list[dict[str, Any]]


class BuildRequest(TypedDict):
    """The ``build`` command (what esbuild's JavaScript API sends for ``build()``)."""

    command: str  # "build"
    key: int
    entries: list[list[str]]  # [output name or "", path]
    flags: list[str]  # CLI flags: --bundle, --format=iife, …
    write: bool
    stdinContents: bytes | None
    stdinResolveDir: str | None
    absWorkingDir: str
    nodePaths: list[str]
    context: bool
    plugins: list[PluginSpec]


class TransformRequest(TypedDict):
    """The ``transform`` command: one source, no file system."""

    command: str  # "transform"
    flags: list[str]
    inputFS: bool
    input: bytes


class Location(TypedDict, total=False):
    file: str
    line: int
    column: int
    length: int
    lineText: str


class Message(TypedDict, total=False):
    """An error or warning, in a response or returned by a plugin callback."""

    id: str
    pluginName: str
    text: str
    location: Location | None
    notes: list[Any]
    detail: int


class OutputFile(TypedDict):
    path: str
    contents: bytes
    hash: str


class BuildResponse(TypedDict, total=False):
    errors: list[Message]
    warnings: list[Message]
    outputFiles: list[OutputFile]
    metafile: str  # JSON: inputs and outputs


class TransformResponse(TypedDict, total=False):
    errors: list[Message]
    warnings: list[Message]
    code: str
    map: str


@dataclass(frozen=True)
class Packet:
    id: int
    is_request: bool
    value: Any


def encode_packet(packet: Packet) -> bytes:
    """The packet with its length prefix, ready to write to the service's stdin."""
    out = bytearray(8)
    _U32.pack_into(out, 4, (packet.id << 1) | (0 if packet.is_request else 1))
    _encode(packet.value, out)
    _U32.pack_into(out, 0, len(out) - 4)
    return bytes(out)


def take_body(buffer: bytearray) -> bytes | None:
    """Remove the first whole packet's body from ``buffer`` and return it; None until it
    has all come. The body is what follows the length prefix (for :func:`decode_packet`)."""
    if len(buffer) < 4:
        return None
    (length,) = _U32.unpack_from(buffer, 0)
    if len(buffer) < 4 + length:
        return None
    body = bytes(buffer[4 : 4 + length])
    del buffer[: 4 + length]
    return body


def decode_packet(body: bytes) -> Packet:
    """A packet from its body (the bytes after the length prefix)."""
    (tagged_id,) = _U32.unpack_from(body, 0)
    value, end = _decode(memoryview(body), 4)
    if end != len(body):
        raise ValueError(f"esbuild packet has {len(body) - end} trailing bytes")
    return Packet(id=tagged_id >> 1, is_request=not (tagged_id & 1), value=value)


def _encode(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(_NULL)
    elif isinstance(value, bool):
        out += bytes((_BOOL, int(value)))
    elif isinstance(value, int):
        out.append(_INT)
        out += _I32.pack(value)
    elif isinstance(value, str):
        out.append(_STR)
        _put_bytes(value.encode("utf-8"), out)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append(_BYTES)
        _put_bytes(bytes(value), out)
    elif isinstance(value, (list, tuple)):
        out.append(_LIST)
        out += _U32.pack(len(value))
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        out.append(_MAP)
        out += _U32.pack(len(value))
        for key, item in value.items():
            _put_bytes(key.encode("utf-8"), out)
            _encode(item, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} for esbuild")


def _put_bytes(data: bytes, out: bytearray) -> None:
    out += _U32.pack(len(data))
    out += data


def _decode(view: memoryview, at: int) -> tuple[Any, int]:
    tag = view[at]
    at += 1
    if tag == _NULL:
        return None, at
    if tag == _BOOL:
        return bool(view[at]), at + 1
    if tag == _INT:
        return _I32.unpack_from(view, at)[0], at + 4
    if tag in (_STR, _BYTES):
        data, at = _take_bytes(view, at)
        return (data.decode("utf-8") if tag == _STR else data), at
    if tag == _LIST:
        (count,) = _U32.unpack_from(view, at)
        at += 4
        items = []
        for _ in range(count):
            item, at = _decode(view, at)
            items.append(item)
        return items, at
    if tag == _MAP:
        (count,) = _U32.unpack_from(view, at)
        at += 4
        mapping = {}
        for _ in range(count):
            key, at = _take_bytes(view, at)
            mapping[key.decode("utf-8")], at = _decode(view, at)
        return mapping, at
    raise ValueError(f"unknown esbuild value tag {tag}")


def _take_bytes(view: memoryview, at: int) -> tuple[bytes, int]:
    (length,) = _U32.unpack_from(view, at)
    at += 4
    return bytes(view[at : at + length]), at + length
