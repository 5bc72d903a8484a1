"""HTTP/1.1 from the host to one Deno process, over kept-alive loopback connections.

The peer is our own harness on loopback, so this speaks only what it needs: a request
with a known length, and a response delimited by ``Content-Length``, chunked encoding or
the connection's end. A general client (httpx) costs several times the whole route's
own time here; this is a read and a write per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

__all__ = ["Upstream", "UpstreamError", "TooLarge", "Answer"]


class UpstreamError(Exception):
    """The process closed the connection or answered something that is not HTTP."""


class TooLarge(Exception):
    """The response body is larger than the cap."""


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
_NO_BODY = {204, 304}
_MAX_IDLE = 64  # kept-alive connections per process; a burst past it opens (and closes) more


class Upstream:
    def __init__(self, port: int) -> None:
        self.port = port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()

    async def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        max_bytes: int,
    ) -> Answer:
        head = [f"{method} {target} HTTP/1.1", "host: 127.0.0.1", f"content-length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers]
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        while self._idle:  # a kept connection the process closed meanwhile: try the next
            reader, writer = self._idle.pop()
            try:
                return await self._exchange(reader, writer, data, method, max_bytes)
            except _Stale:
                continue
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            return await self._exchange(reader, writer, data, method, max_bytes)
        except _Stale as exc:
            raise UpstreamError("the process closed the connection") from exc

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        data: bytes,
        method: str,
        max_bytes: int,
    ) -> Answer:
        keep = False
        try:
            try:
                writer.write(data)
                await writer.drain()
                status_line = await reader.readline()
            except (ConnectionError, OSError) as exc:
                raise _Stale from exc
            if not status_line:
                raise _Stale
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise UpstreamError(f"not an HTTP answer: {status_line[:80]!r}")
            status = int(parts[1])
            headers: list[tuple[bytes, bytes]] = []
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.partition(b":")
                headers.append((name.strip().lower(), value.strip()))
            fields = dict(headers)
            if method == "HEAD" or status in _NO_BODY or status < 200:
                payload, delimited = b"", True
            elif fields.get(b"transfer-encoding", b"").lower() == b"chunked":
                payload, delimited = await _chunked(reader, max_bytes), True
            elif b"content-length" in fields:
                length = int(fields[b"content-length"])
                if length > max_bytes:
                    raise TooLarge
                payload, delimited = await reader.readexactly(length), True
            else:
                payload, delimited = await _until_closed(reader, max_bytes), False
            keep = delimited and fields.get(b"connection", b"").lower() != b"close"
            return status, headers, payload
        except asyncio.IncompleteReadError as exc:
            raise UpstreamError("the process closed the connection mid-answer") from exc
        except (ConnectionError, OSError) as exc:
            raise UpstreamError(f"the connection failed: {exc}") from exc
        finally:
            if keep and len(self._idle) < _MAX_IDLE:
                self._idle.append((reader, writer))
            else:
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()


class _Stale(Exception):
    """Nothing came back on a connection: the process had closed it (or died)."""


async def _chunked(reader: asyncio.StreamReader, max_bytes: int) -> bytes:
    data = bytearray()
    while True:
        size_line = await reader.readline()
        if not size_line:
            raise asyncio.IncompleteReadError(bytes(data), None)
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(data)
        if len(data) + size > max_bytes:
            raise TooLarge
        data += await reader.readexactly(size)
        await reader.readexactly(2)


async def _until_closed(reader: asyncio.StreamReader, max_bytes: int) -> bytes:
    data = bytearray()
    while chunk := await reader.read(65536):
        data += chunk
        if len(data) > max_bytes:
            raise TooLarge
    return bytes(data)
