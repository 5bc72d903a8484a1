"""A small OpenAI-compatible model provider for the tests: the one stand-in for an outside
service the host talks to. It records every request it was sent and answers as the test
tells it: normally, with an error status, slowly, or held until the test lets it go.

Answers are made from the request, so a test can check them: a chat answers
``echo: <the last user message>`` cut to ``max_tokens`` words, one word per stream chunk;
tokens are counted as words; an embedding of a text is ``[characters, words, 1.0]``; an
image is a small PNG whose colour comes from the prompt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ModelProvider", "Step", "Received", "png"]


@dataclass(frozen=True)
class Step:
    """How to answer one coming request instead of normally."""

    status: int = 200
    body: str | None = None  # the error body; "{key}" is replaced by the provider's key
    retry_after: str | None = None
    delay_s: float = 0.0  # wait this long first (then answer normally if status is 200)
    break_after: int | None = None  # a stream: close the connection after this many words


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def png(width: int, height: int, rgb: bytes) -> bytes:
    """A one-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + rgb * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def words(text: str) -> int:
    return len(text.split())


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a caller that gave up (a deadline test) closed the connection: expected


@dataclass
class ModelProvider:
    """``with ModelProvider(key) as provider:``; ``provider.url`` is its ``…/v1``."""

    key: str
    received: list[Received] = field(default_factory=list)
    _steps: deque[Step] = field(default_factory=deque)
    _gate: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._gate.set()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ModelProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def plan(self, *steps: Step) -> None:
        """Answer the next requests by these steps, in order, then normally again."""
        with self._lock:
            self._steps.extend(steps)

    def hold(self) -> None:
        """Requests wait (recorded) until :meth:`release`."""
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def sent(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits on a delayed ACK (~40 ms)
            wbufsize = -1  # headers and body in one write; streams flush each chunk

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with provider._lock:
                    provider.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    step = provider._steps.popleft() if provider._steps else Step()
                provider._gate.wait(30)
                if step.delay_s:
                    time.sleep(step.delay_s)
                if self.headers.get("authorization") != f"Bearer {provider.key}":
                    said = self.headers.get("authorization", "")
                    return self.reply(401, {"error": {"message": f"bad key: {said}"}})
                if step.status != 200:
                    headers = {"retry-after": step.retry_after} if step.retry_after else {}
                    text = (step.body or '{"error": {"message": "told to fail"}}').replace(
                        "{key}", provider.key
                    )
                    return self.reply(step.status, text, headers)
                if self.path == "/v1/chat/completions":
                    return self.chat(body, step)
                if self.path == "/v1/embeddings":
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    return self.reply(
                        200,
                        {
                            "object": "list",
                            "data": [
                                {"index": i, "embedding": [float(len(t)), float(words(t)), 1.0]}
                                for i, t in enumerate(inputs)
                            ],
                            "usage": {
                                "prompt_tokens": sum(map(words, inputs)),
                                "total_tokens": sum(map(words, inputs)),
                            },
                        },
                    )
                if self.path == "/v1/images/generations":
                    rgb = hashlib.sha256(body["prompt"].encode()).digest()[:3]
                    width, height = (int(n) // 256 for n in body["size"].split("x"))
                    image = base64.b64encode(png(width, height, rgb)).decode()
                    return self.reply(200, {"created": 0, "data": [{"b64_json": image}]})
                return self.reply(404, {"error": {"message": f"no {self.path}"}})

            def chat(self, body: dict[str, Any], step: Step) -> None:
                prompt = " ".join(m["content"] for m in body["messages"])
                last = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
                answer = ("echo: " + last).split()[: body["max_tokens"]]
                usage = {
                    "prompt_tokens": words(prompt),
                    "completion_tokens": len(answer),
                    "total_tokens": words(prompt) + len(answer),
                }
                if not body.get("stream"):
                    return self.reply(
                        200,
                        {
                            "id": "chat-1",
                            "object": "chat.completion",
                            "model": body["model"],
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": " ".join(answer)},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": usage,
                        },
                    )
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for i, word in enumerate(answer):
                    if i == step.break_after:
                        self.close_connection = True  # mid-stream, no last chunk
                        return
                    delta = {"content": word if i == 0 else " " + word}
                    self.event({"choices": [{"index": 0, "delta": delta}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    self.event({"choices": [], "usage": usage})
                self.write_chunk(b"data: [DONE]\n\n")
                self.write_chunk(b"")

            def event(self, data: dict[str, Any]) -> None:
                self.write_chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

            def write_chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def reply(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
                raw = data.encode() if isinstance(data, str) else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

        return Handler
