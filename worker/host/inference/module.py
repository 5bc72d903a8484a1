"""``@stage/inference`` on the platform endpoint: chat, embed, image and usage, for the
token's app only.

Every call is checked before anything is spent (its fields, its model against
``STAGE_INFERENCE_MODELS``), reserves the most it can use against the app's daily quota,
asks the provider under one deadline, and settles with what the provider reported. A chat
with ``stream`` answers as NDJSON lines (``{"delta"}`` …, then ``{"done", "content",
"model", "usage"}``); the route's shim turns them into an async iterator.

The arguments are checked in :mod:`worker.host.inference.calls`; a provider that reports no
usage is charged the prompt's bound there and the answer's UTF-8 bytes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from worker.errors import StorageError, StoreUnavailableError
from worker.host.inference.calls import (
    ChatCall,
    Models,
    chat_call,
    embed_call,
    image_call,
    usage_since,
    utf8_bytes,
)
from worker.host.inference.meter import Meter, QuotaExceeded, Reservation
from worker.host.inference.provider import Provider, ProviderError, Usage
from worker.host.metrics import INFERENCE_CALLS, INFERENCE_TOKENS
from worker.host.platform import CallContext, PlatformError, Streamed
from worker.settings import Settings
from worker.storage import CACHE_IMMUTABLE, ArtifactStore, StoredObject

__all__ = ["Inference", "NOT_CONFIGURED"]

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_CONFIGURED = (
    "no model provider is configured on this host: its operator sets "
    "STAGE_INFERENCE_BASE_URL (an OpenAI-compatible API such as https://api.openai.com/v1, "
    "vLLM, llama.cpp's server or Ollama) and STAGE_INFERENCE_API_KEY when the provider needs one"
)
_IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"RIFF", "image/webp", ".webp"),
)


def _usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


class Inference:
    """The ``inference`` platform module."""

    def __init__(
        self,
        settings: Settings,
        provider: Provider | None,
        meter: Meter,
        store: ArtifactStore,
    ) -> None:
        self._provider = provider
        self._meter = meter
        self._store = store
        self._models = Models(settings.inference_models)
        self._timeout_s = settings.inference_timeout_s
        self._max_tokens = settings.inference_max_tokens
        self._settling: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
        if self._provider is not None:
            await self._provider.aclose()
        self._meter.close()

    async def call(self, context: CallContext, function: str, args: Any) -> Any:
        handlers: dict[str, Callable[[CallContext, Any], Awaitable[Any]]] = {
            "chat": self._chat,
            "embed": self._embed,
            "image": self._image,
            "usage": self._usage,
        }
        handler = handlers.get(function)
        if handler is None:
            raise PlatformError(
                404, f"@stage/inference has no function {function!r}; it has {', '.join(handlers)}"
            )
        started = time.perf_counter()
        status = 200
        try:
            if function != "usage" and self._provider is None:
                raise PlatformError(503, NOT_CONFIGURED)
            return await handler(context, args)
        except PlatformError as exc:
            status = exc.status
            raise
        except StoreUnavailableError as exc:
            status = 503
            log.warning("app %s: inference.%s: %s", context.app, function, exc)
            raise PlatformError(
                503, "usage metering is unavailable (Redis did not answer); nothing was sent"
            ) from None
        finally:
            INFERENCE_CALLS.labels(function, str(status)).inc()
            log.info(
                "app %s: inference.%s %d in %.0f ms",
                context.app,
                function,
                status,
                (time.perf_counter() - started) * 1000,
            )

    # --- checks -------------------------------------------------------------------------

    async def _reserve(self, app: str, kind: str, amount: int) -> Reservation:
        try:
            return await self._meter.reserve(app, kind, amount)
        except QuotaExceeded as exc:
            setting = f"STAGE_INFERENCE_APP_QUOTA_{kind.upper()}"
            raise PlatformError(
                429,
                f"this app's daily quota of {exc.quota} {kind} ({setting}) does not allow this "
                f"call: {exc.used} used today, {exc.reserved} held by calls in progress, and "
                f"this call may use {exc.amount}; the quota starts again at 00:00 UTC",
            ) from None

    async def _settle(
        self, reservation: Reservation, model: str, used: int, counts: dict[str, int]
    ) -> None:
        try:
            await self._meter.settle(reservation, model, used, counts)
        except StoreUnavailableError as exc:  # the answer is already made: keep it
            log.error("inference: usage of %s not recorded: %s", reservation.key, exc)
        if reservation.kind == "tokens" and used:
            # Any name an app sends would be a label of its own: only allowlisted ones are.
            INFERENCE_TOKENS.labels("(any)" if self._models.open else model).inc(used)

    def _settle_later(
        self, reservation: Reservation, model: str, used: int, counts: dict[str, int]
    ) -> asyncio.Task[None]:
        """Settle on a task of its own: the caller may be being cancelled (a stream whose
        reader went away), and a reservation must be settled whatever happens."""
        task = asyncio.get_running_loop().create_task(
            self._settle(reservation, model, used, counts)
        )
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        return task

    async def _ask(self, reservation: Reservation, model: str, request: Awaitable[T]) -> T:
        """The provider's answer; if there is none, the reservation is given back."""
        try:
            return await request
        except ProviderError as exc:
            self._settle_later(reservation, model, 0, {})
            raise self._refusal(exc) from None
        except BaseException:
            self._settle_later(reservation, model, 0, {})
            raise

    def _refusal(self, exc: ProviderError) -> PlatformError:
        if exc.status == 504:
            return PlatformError(
                504,
                f"the model provider did not answer within {self._timeout_s:g} s "
                "(STAGE_INFERENCE_TIMEOUT_S)",
            )
        return PlatformError(exc.status, str(exc))

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self._timeout_s

    # --- chat ---------------------------------------------------------------------------

    async def _chat(self, context: CallContext, args: Any) -> Any:
        call = chat_call(args, self._models, self._max_tokens)
        reservation = await self._reserve(context.app, "tokens", call.bound)
        deadline = self._deadline()
        if call.stream:
            lines = self._stream(call, reservation, deadline)
            # The first line is awaited here, so a refusal (the provider's 4xx, retries
            # spent) is the call's error status rather than a line inside a 200.
            first = await anext(lines)
            return Streamed(_prepend(first, lines))
        assert self._provider is not None
        answer = await self._ask(reservation, call.model, self._provider.chat(call.body, deadline))
        usage = answer.usage or Usage(call.prompt_bound, utf8_bytes(answer.content))
        await self._settle(reservation, call.model, usage.total_tokens, _counts(usage))
        return {"content": answer.content, "model": call.model, "usage": _usage_json(usage)}

    async def _stream(
        self, call: ChatCall, reservation: Reservation, deadline: float
    ) -> AsyncGenerator[dict[str, Any], None]:
        assert self._provider is not None
        parts: list[str] = []
        usage: Usage | None = None
        settled = False
        try:
            async with contextlib.aclosing(
                self._provider.chat_stream(call.body, deadline)
            ) as chunks:
                async for item in chunks:
                    if isinstance(item, Usage):
                        usage = item
                    else:
                        parts.append(item)
                        yield {"delta": item}
            content = "".join(parts)
            usage = usage or Usage(call.prompt_bound, utf8_bytes(content))
            # The reader may go away while this settles (its request is then cancelled):
            # the settlement goes on on a task of its own, shielded from that.
            settled = True
            await asyncio.shield(
                self._settle_later(reservation, call.model, usage.total_tokens, _counts(usage))
            )
            yield {
                "done": True,
                "content": content,
                "model": call.model,
                "usage": _usage_json(usage),
            }
        except ProviderError as exc:
            raise self._refusal(exc) from None
        finally:
            if not settled:
                # Broken off: what was streamed may have been billed by the provider.
                if usage is None and parts:
                    usage = Usage(call.prompt_bound, utf8_bytes("".join(parts)))
                used = usage.total_tokens if usage else 0
                self._settle_later(reservation, call.model, used, _counts(usage) if usage else {})

    # --- embed --------------------------------------------------------------------------

    async def _embed(self, context: CallContext, args: Any) -> Any:
        call = embed_call(args, self._models)
        reservation = await self._reserve(context.app, "tokens", call.bound)
        assert self._provider is not None
        result = await self._ask(
            reservation, call.model, self._provider.embed(call.body, self._deadline())
        )
        usage = result.usage or Usage(call.bound, 0)
        await self._settle(reservation, call.model, usage.total_tokens, _counts(usage))
        if len(result.vectors) != call.inputs:
            raise PlatformError(
                502,
                f"the model provider answered {len(result.vectors)} embeddings "
                f"for {call.inputs} inputs",
            )
        return {"embeddings": result.vectors, "model": call.model, "usage": _usage_json(usage)}

    # --- image --------------------------------------------------------------------------

    async def _image(self, context: CallContext, args: Any) -> Any:
        call = image_call(args, self._models)
        name = call.model
        reservation = await self._reserve(context.app, "images", 1)
        assert self._provider is not None
        image = await self._ask(
            reservation, name, self._provider.image(call.body, self._deadline())
        )
        await self._settle(reservation, name, 1, {"calls": 1, "images": 1})
        usage = {"images": 1}
        if image.data is None:  # the provider keeps it and said where
            return {"url": image.url, "model": name, "usage": usage}
        content_type, suffix = next(
            ((kind, ext) for magic, kind, ext in _IMAGE_TYPES if image.data.startswith(magic)),
            ("application/octet-stream", ""),
        )
        folder = f"apps/{context.app}/" if context.app.startswith("app_") else f"{context.app}/"
        day = dt.datetime.now(dt.UTC).date().isoformat()
        key = f"{folder}inference/{day}/{secrets.token_hex(16)}{suffix}"
        try:
            await asyncio.to_thread(
                self._store.put_many,
                [StoredObject(key, image.data, content_type, CACHE_IMMUTABLE)],
            )
        except StorageError as exc:
            log.error("app %s: inference.image could not be stored: %s", context.app, exc)
            raise PlatformError(
                503, "the image was made but could not be stored; try again"
            ) from None
        url = self._store.url_for(key)
        if url.startswith(("http://", "https://")):
            return {"url": url, "model": name, "usage": usage}
        # A store with no public URL (a local folder): the image itself.
        return {"b64": base64.b64encode(image.data).decode(), "model": name, "usage": usage}

    # --- usage --------------------------------------------------------------------------

    async def _usage(self, context: CallContext, args: Any) -> Any:
        since = usage_since(args, dt.datetime.now(dt.UTC).date())
        return await self._meter.report(context.app, since)


def _counts(usage: Usage) -> dict[str, int]:
    return {
        "calls": 1,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
    }


async def _prepend(
    first: dict[str, Any], rest: AsyncGenerator[dict[str, Any], None]
) -> AsyncIterator[dict[str, Any]]:
    try:
        yield first
        async for item in rest:
            yield item
    finally:
        await rest.aclose()  # its own finally settles the call
