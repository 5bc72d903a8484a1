"""The model provider behind ``@stage/inference``: one interface, one HTTP implementation.

:class:`OpenAICompatible` speaks the OpenAI HTTP API (``/chat/completions`` with and without
``stream``, ``/embeddings``, ``/images/generations``) that OpenAI, vLLM, llama.cpp's server
and Ollama all serve under ``…/v1``. It retries 429, 5xx and connection failures with
backoff (or the provider's ``Retry-After``), all inside one deadline per call.

The key is a header of the HTTP client and nothing else: no message this module makes
carries it, and a provider's own error text is scrubbed of it (some echo what they were
sent) before it goes anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import json
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from worker.retry import RetryPolicy

__all__ = [
    "Usage",
    "Answer",
    "Embeddings",
    "Image",
    "Provider",
    "ProviderError",
    "OpenAICompatible",
    "scrub",
]

BACKOFF_S = 0.5  # first wait after a 429 or 5xx; doubles, as providers' docs ask
BACKOFF_MAX_S = 8.0  # one wait; the deadline bounds the sum
ERROR_TEXT_CHARS = 300  # of a provider's error body in a message: enough to say why
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Answer:
    content: str
    usage: Usage | None  # None: the provider did not say


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]
    usage: Usage | None


@dataclass(frozen=True)
class Image:
    data: bytes | None  # the image, when the provider sent it (b64_json)
    url: str | None  # else where the provider keeps it


class ProviderError(Exception):
    """A call the provider did not answer: ``status`` for the route and a message that
    names what happened (never the key)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Provider(Protocol):
    """What ``@stage/inference`` needs of a model provider; ``deadline`` is on the
    running loop's clock (``loop.time()``)."""

    async def chat(self, body: dict[str, Any], deadline: float) -> Answer: ...

    def chat_stream(
        self, body: dict[str, Any], deadline: float
    ) -> AsyncGenerator[str | Usage, None]:
        """Text deltas as they come, then the usage when the provider reports one."""
        ...

    async def embed(self, body: dict[str, Any], deadline: float) -> Embeddings: ...

    async def image(self, body: dict[str, Any], deadline: float) -> Image: ...

    async def aclose(self) -> None: ...


def scrub(text: str, secret: str) -> str:
    """``text`` without ``secret``, cut to a length fit for a message."""
    if secret:
        text = text.replace(secret, REDACTED)
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT_CHARS else text[:ERROR_TEXT_CHARS] + "…"


def retry_after_s(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    prompt, completion = data.get("prompt_tokens"), data.get("completion_tokens", 0)
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt, completion)


class OpenAICompatible:
    """An OpenAI-compatible HTTP API at ``base_url`` (``https://api.openai.com/v1``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        retries: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._key = api_key
        self._policy = RetryPolicy(retries, BACKOFF_S, BACKOFF_MAX_S)
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        # No timeout of its own: every call runs under its deadline.
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=None,
            transport=transport,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=32),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def chat(self, body: dict[str, Any], deadline: float) -> Answer:
        data = await self._json("chat/completions", body, deadline)
        try:
            message = data["choices"][0]["message"]
            content = message.get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(
                502, "the model provider's answer has no choices[0].message"
            ) from None
        return Answer(str(content), _usage(data.get("usage")))

    async def chat_stream(
        self, body: dict[str, Any], deadline: float
    ) -> AsyncGenerator[str | Usage, None]:
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        response = await self._send("chat/completions", body, deadline, stream=True)
        lines = response.aiter_lines()
        try:
            while True:
                # The deadline bounds each read, never the caller's work between them.
                try:
                    async with asyncio.timeout_at(deadline):
                        line = await anext(lines)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise self._late() from None
                except httpx.HTTPError as exc:
                    raise ProviderError(
                        502, f"the model provider's stream broke off: {self._why(exc)}"
                    ) from None
                if not line.startswith("data:"):
                    continue  # SSE comments, event names, blank separators
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    chunk = json.loads(payload)
                except ValueError:
                    raise ProviderError(
                        502, "the model provider's stream sent a line that is not JSON"
                    ) from None
                if not isinstance(chunk, dict):
                    continue
                if chunk.get("error"):
                    raise ProviderError(
                        502, f"the model provider failed mid-stream: {self._text(chunk)}"
                    )
                usage = _usage(chunk.get("usage"))
                if usage is not None:
                    yield usage
                for choice in chunk.get("choices") or []:
                    delta = (choice.get("delta") or {}) if isinstance(choice, dict) else {}
                    if isinstance(delta, dict) and delta.get("content"):
                        yield str(delta["content"])
        finally:
            await response.aclose()

    async def embed(self, body: dict[str, Any], deadline: float) -> Embeddings:
        data = await self._json("embeddings", body, deadline)
        try:
            rows = sorted(data["data"], key=lambda row: row.get("index", 0))
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ProviderError(
                502, "the model provider's answer has no data[].embedding"
            ) from None
        return Embeddings(vectors, _usage(data.get("usage")))

    async def image(self, body: dict[str, Any], deadline: float) -> Image:
        data = await self._json("images/generations", body, deadline)
        try:
            first = data["data"][0]
        except (KeyError, IndexError, TypeError):
            raise ProviderError(502, "the model provider's answer has no data[0]") from None
        if isinstance(first, dict) and first.get("b64_json"):
            try:
                return Image(base64.b64decode(first["b64_json"], validate=True), None)
            except (binascii.Error, ValueError):
                raise ProviderError(502, "the model provider's b64_json is not base64") from None
        if isinstance(first, dict) and isinstance(first.get("url"), str):
            return Image(None, first["url"])
        raise ProviderError(502, "the model provider's answer has neither b64_json nor url")

    async def _json(self, path: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
        response = await self._send(path, body, deadline, stream=False)
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(502, f"the model provider's answer to {path} is not JSON") from None
        if not isinstance(data, dict):
            raise ProviderError(502, f"the model provider's answer to {path} is not an object")
        return data

    async def _send(
        self, path: str, body: dict[str, Any], deadline: float, *, stream: bool
    ) -> httpx.Response:
        """The provider's 2xx answer (read whole unless ``stream``), retried within the
        deadline; ProviderError otherwise."""
        loop = asyncio.get_running_loop()
        attempts = 0
        while True:
            attempts += 1
            wait: float | None = None
            response: httpx.Response | None = None
            try:
                async with asyncio.timeout_at(deadline):
                    request = self._client.build_request("POST", path, json=body)
                    response = await self._client.send(request, stream=True)
                    if response.is_success:
                        if not stream:
                            await response.aread()
                        return response
                    await response.aread()
            except TimeoutError:
                if response is not None:  # headers came, the body did not
                    await response.aclose()
                raise self._late() from None
            except httpx.HTTPError as exc:
                problem = f"could not reach the model provider: {self._why(exc)}"
                status = 502
            else:
                await response.aclose()
                status, problem = self._refusal(response)
                if response.status_code not in RETRY_STATUSES:
                    raise ProviderError(status, problem)
                wait = retry_after_s(response.headers.get("retry-after"))
            if self._policy.exhausted(attempts):
                raise ProviderError(status, f"{problem} (after {attempts} attempts)")
            wait = self._policy.delay_s(attempts) if wait is None else wait
            if loop.time() + wait >= deadline:
                raise ProviderError(
                    status,
                    f"{problem}; the next attempt ({wait:.1f} s away) would pass the "
                    "deadline (STAGE_INFERENCE_TIMEOUT_S)",
                )
            await asyncio.sleep(wait)

    def _refusal(self, response: httpx.Response) -> tuple[int, str]:
        code = response.status_code
        said = self._text(response.text)
        if code in (401, 403):
            return 502, (
                f"the model provider refused the host's credentials ({code}; check "
                f"STAGE_INFERENCE_API_KEY): {said}"
            )
        if code == 429:
            return 503, f"the model provider is rate limiting this host (429): {said}"
        if code >= 500 or code in RETRY_STATUSES:
            return 502, f"the model provider failed ({code}): {said}"
        return 400, f"the model provider refused the request ({code}): {said}"

    def _text(self, value: Any) -> str:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return scrub(value, self._key)
        if isinstance(value, dict) and isinstance(value.get("error"), dict):
            value = value["error"].get("message", value["error"])
        elif isinstance(value, dict) and "error" in value:
            value = value["error"]
        text = value if isinstance(value, str) else json.dumps(value)
        return scrub(text, self._key)

    def _why(self, exc: httpx.HTTPError) -> str:
        return scrub(f"{type(exc).__name__}: {exc}", self._key)

    @staticmethod
    def _late() -> ProviderError:
        return ProviderError(
            504, "the model provider did not answer within the deadline (STAGE_INFERENCE_TIMEOUT_S)"
        )
