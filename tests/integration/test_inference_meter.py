"""``@stage/inference``'s module and meter in this process, against real Redis and the
tests' OpenAI-compatible server: what needs no Deno process to prove (many hosts'
reservations racing on one quota, the image kept in a local store, the usage window)."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from model_provider import ModelProvider

from worker.host.inference import Inference, Meter, OpenAICompatible
from worker.host.inference.meter import QuotaExceeded
from worker.host.platform import CallContext, PlatformError
from worker.settings import Settings
from worker.state.connection import connect_redis
from worker.state.keys import Keys
from worker.storage import LocalStore

pytestmark = [pytest.mark.integration]

T = TypeVar("T")
SID = "app_" + "c" * 20
KEY = "sk-meter-0123456789"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture(params=["single-redis", "redis-cluster"])
def store_url(request: pytest.FixtureRequest, redis_url: str) -> str:
    """One Redis, and a Redis Cluster (the app's hash tag keeps its day in one slot)."""
    if request.param == "single-redis":
        return redis_url
    return str(request.getfixturevalue("redis_cluster_url"))


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    prefix = f"stage-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    names = list(client.scan_iter(match=prefix + "*"))
    if names:
        client.delete(*names)
    client.close()


def meter(url: str, prefix: str, quota: int) -> Meter:
    return Meter(connect_redis(url), Keys(prefix), {"tokens": quota})


def test_reservations_from_many_hosts_at_once_never_pass_the_quota(store_url, prefix):
    hosts = [meter(store_url, prefix, quota=1000) for _ in range(4)]  # a client each

    async def race() -> list[bool]:
        async def one(i: int) -> bool:
            try:
                await hosts[i % 4].reserve(SID, "tokens", 70)
            except QuotaExceeded:
                return False
            return True

        return await asyncio.gather(*(one(i) for i in range(60)))

    granted = run(race())
    assert sum(granted) == 14  # 14 * 70 = 980; a 15th would make 1,050
    day = hosts[0]._day_key(SID, dt.datetime.now(dt.UTC).date())
    client = connect_redis(store_url)
    try:
        assert client.hget(day, "reserved:tokens") == b"980"
        assert 0 < client.ttl(day) <= 92 * 86400
        report = run(hosts[1].report(SID, dt.date(2020, 1, 1)))  # a pipeline of 92 days
        assert report["today"]["tokens"] == 0 and report["models"] == {}
    finally:
        client.delete(day)  # the cluster is not swept by the prefix fixture
        client.close()
        for host in hosts:
            host.close()


def module(
    redis_url: str, prefix: str, store: LocalStore, provider: ModelProvider | None
) -> Inference:
    settings = Settings.from_env(
        {"STAGE_KEY_PREFIX": prefix, "STAGE_INFERENCE_MODELS": "image-1,gpt-4o-mini"}
    )
    http = OpenAICompatible(provider.url, KEY, retries=0) if provider else None
    return Inference(settings, http, meter(redis_url, prefix, 0), store)


def test_an_image_in_a_store_without_a_public_url_comes_back_as_base64(
    redis_url, prefix, tmp_path: Path
):
    store = LocalStore(tmp_path)
    with ModelProvider(KEY) as provider:

        async def image() -> Any:  # one loop: the provider's HTTP client lives on it
            inference = module(redis_url, prefix, store, provider)
            try:
                args = {"model": "image-1", "prompt": "a fox"}
                return await inference.call(CallContext(SID, "ver_1", None), "image", args)
            finally:
                await inference.aclose()

        answer = run(image())
    data = base64.b64decode(answer["b64"])
    assert data.startswith(b"\x89PNG")
    kept = list((tmp_path / "apps" / SID / "inference").rglob("*.png"))
    assert [p.read_bytes() for p in kept] == [data]


def test_unknown_functions_and_usage_windows_are_refused_clearly(redis_url, prefix, tmp_path: Path):
    inference = module(redis_url, prefix, LocalStore(tmp_path), None)
    context = CallContext(SID, "ver_1", None)

    def refusal(function: str, args: Any) -> tuple[int, str]:
        with pytest.raises(PlatformError) as refused:
            run(inference.call(context, function, args))
        return refused.value.status, str(refused.value)

    try:
        assert refusal("complete", {}) == (
            404,
            "@stage/inference has no function 'complete'; it has chat, embed, image, usage",
        )
        tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
        status, message = refusal("usage", {"since": tomorrow})
        assert status == 400 and message.startswith(f"since {tomorrow} is after today")
        assert refusal("chat", {"model": "x" * 201, "messages": []})[0] == 503  # no provider
        report = run(inference.call(context, "usage", {"since": "2020-01-01"}))
        today = dt.datetime.now(dt.UTC).date()
        assert report["since"] == (today - dt.timedelta(days=91)).isoformat()
        assert (report["calls"], report["models"]) == (0, {})
    finally:
        run(inference.aclose())
