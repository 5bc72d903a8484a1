"""The OpenAI-compatible provider's retries, deadline and scrubbing, over httpx's
MockTransport (the provider's own constructor argument), and the settings that hold its
key."""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx
import pytest

from worker.errors import ConfigError
from worker.host.inference.calls import Models
from worker.host.inference.provider import OpenAICompatible, ProviderError, retry_after_s
from worker.settings import Settings

T = TypeVar("T")
KEY = "sk-unit-0123456789abcdef"
ANSWER = {
    "choices": [{"message": {"content": "hi"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1},
}


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def chat(
    answers: list[Callable[[httpx.Request], httpx.Response]], timeout_s: float = 5
) -> tuple[Any, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1](request)

    async def go() -> Any:
        provider = OpenAICompatible(
            "http://provider.test/v1", KEY, retries=2, transport=httpx.MockTransport(handle)
        )
        try:
            deadline = asyncio.get_running_loop().time() + timeout_s
            return await provider.chat({"model": "m", "messages": []}, deadline)
        except ProviderError as exc:
            return exc
        finally:
            await provider.aclose()

    return run(go()), seen


def test_a_chat_goes_to_the_base_url_with_the_key_as_a_bearer_header():
    answer, seen = chat([lambda r: httpx.Response(200, json=ANSWER)])
    assert answer.content == "hi" and answer.usage.total_tokens == 2
    assert str(seen[0].url) == "http://provider.test/v1/chat/completions"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_429_and_5xx_are_retried_with_retry_after_then_given_up():
    busy = lambda r: httpx.Response(429, headers={"retry-after": "0"}, json={"error": "busy"})  # noqa: E731
    answer, seen = chat([busy, busy, lambda r: httpx.Response(200, json=ANSWER)])
    assert (answer.content, len(seen)) == ("hi", 3)
    failed, seen = chat([lambda r: httpx.Response(500, text="down")])
    assert len(seen) == 3  # retries=2
    assert (failed.status, str(failed)) == (
        502,
        "the model provider failed (500): down (after 3 attempts)",
    )


def test_a_refusal_that_retrying_cannot_mend_is_not_retried():
    refused, seen = chat([lambda r: httpx.Response(400, json={"error": {"message": "bad"}})])
    assert (len(seen), refused.status, str(refused)) == (
        1,
        400,
        "the model provider refused the request (400): bad",
    )


def test_the_key_is_scrubbed_from_what_the_provider_or_the_network_says():
    echoed, _ = chat([lambda r: httpx.Response(401, text=f"no such key {KEY}")])
    assert KEY not in str(echoed) and "no such key [redacted]" in str(echoed)

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"could not connect with {request.headers['authorization']}")

    failed, _ = chat([broken])
    assert KEY not in str(failed) and "Bearer [redacted]" in str(failed)


def test_a_retry_after_past_the_deadline_fails_at_once():
    started = time.monotonic()
    late, seen = chat([lambda r: httpx.Response(503, headers={"retry-after": "60"})], timeout_s=2)
    assert len(seen) == 1 and time.monotonic() - started < 1
    assert str(late).endswith("would pass the deadline (STAGE_INFERENCE_TIMEOUT_S)")


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after_s("2.5") == 2.5
    assert retry_after_s(None) is None and retry_after_s("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (retry_after_s(later) or 0) <= 30


def test_models_map_names_to_the_providers_and_empty_allows_any():
    models = Models("gpt-4o-mini, fast=llama3.1:8b")
    assert models.resolve("fast") == ("fast", "llama3.1:8b")
    assert models.resolve("gpt-4o-mini") == ("gpt-4o-mini", "gpt-4o-mini")
    assert Models("").resolve("anything:7b") == ("anything:7b", "anything:7b")
    with pytest.raises(ConfigError, match="'fast=' is not name or name=provider model"):
        Settings.from_env({"STAGE_INFERENCE_MODELS": "a,fast="})


def test_the_key_is_never_printed_by_settings():
    settings = Settings.from_env({"STAGE_INFERENCE_API_KEY": KEY})
    assert settings.inference_api_key == KEY and KEY not in repr(settings)
    with pytest.raises(ConfigError) as misspelled:
        Settings.from_env({"STAGE_INFERENCE_APIKEY": KEY})
    assert str(misspelled.value).startswith(
        "unknown setting STAGE_INFERENCE_APIKEY=(value hidden);"
    )


def test_a_stream_yields_its_deltas_and_the_usage_sent_last():
    events = [
        ": keep-alive",
        'data: {"choices": [{"delta": {"role": "assistant"}}]}',
        'data: {"choices": [{"delta": {"content": "Hel"}}]}',
        'data: {"choices": [{"delta": {"content": "lo"}}]}',
        'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}',
        "data: [DONE]",
    ]
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, text="\n\n".join(events) + "\n\n")

    async def go() -> list[Any]:
        provider = OpenAICompatible(
            "http://provider.test/v1", KEY, retries=0, transport=httpx.MockTransport(handle)
        )
        deadline = asyncio.get_running_loop().time() + 5
        try:
            return [item async for item in provider.chat_stream({"model": "m"}, deadline)]
        finally:
            await provider.aclose()

    items = run(go())
    assert items[0] == "Hel" and items[1] == "lo"
    assert (items[2].prompt_tokens, items[2].completion_tokens) == (3, 2)
    assert b'"stream_options":{"include_usage":true}' in sent[0].content.replace(b" ", b"")
