"""``@stage/inference`` with real processes: a worker renders and publishes an app whose
routes call models, ``stage-render host`` serves them from Deno processes, and the host
talks to a small OpenAI-compatible server of the tests (``model_provider``), the one
stand-in here: it records what it was sent and answers as each test tells it.

One worker, two hosts (one with a provider, one without) and the apps are shared by the
module's tests; apps that count usage or quota have an app of their own.
"""

from __future__ import annotations

import concurrent.futures
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from model_provider import ModelProvider, Step
from png import decode_png
from services import HostProcess, WorkerProcess, remove_tree, wait_for

pytestmark = [pytest.mark.integration]

APP = Path(__file__).parent / "host_apps" / "inference"
QUOTA_TOKENS = 1000
MAX_TOKENS = 512  # STAGE_INFERENCE_MAX_TOKENS of the host
TIMEOUT_S = 3  # STAGE_INFERENCE_TIMEOUT_S of the host
MODELS = "gpt-4o-mini,text-embedding-3-small,image-1,fast=provider-fast"
#: What a chat of one user message reserves besides its content and max_tokens (the
#: documented bound: 16 per call, 8 per message, and the role's bytes).
ONE_MESSAGE_OVERHEAD = 16 + 8 + len("user")


@dataclass
class Stack:
    provider: ModelProvider
    host: HostProcess
    bare: HostProcess  # no provider configured
    apps: dict[str, str]  # role → app sid
    prefix: str  # the namespace's key prefix
    redis: redis.Redis
    http: httpx.Client
    data_dir: Path  # the hosts' route code folders
    answers: list[str] = field(default_factory=list)  # every route response's text

    def call(
        self, app: str, fn: str, body: dict[str, Any], host: HostProcess | None = None
    ) -> httpx.Response:
        answer = self.http.post(
            f"{(host or self.host).url}/{self.apps[app]}/@preview/api/call/{fn}", json=body
        )
        self.answers.append(answer.text)
        return answer

    def day(self, app: str) -> dict[str, int]:
        today = time.strftime("%Y-%m-%d", time.gmtime())
        raw = self.redis.hgetall(f"{self.prefix}app:{{{self.apps[app]}}}:inference:{today}")
        return {k.decode(): int(v) for k, v in raw.items()}


def files() -> list[dict[str, str]]:
    return [
        {"path": "/" + p.relative_to(APP).as_posix(), "content": p.read_text("utf-8")}
        for p in sorted(APP.rglob("*"))
        if p.is_file()
    ]


@pytest.fixture(scope="module")
def stack(module_namespace: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ns = module_namespace
    logs = tmp_path_factory.mktemp("inference")
    data_dir = Path(tempfile.mkdtemp(prefix="stage-host-"))
    data_dir.chmod(0o755)  # Deno runs as nobody under root: it must reach its code
    key = "sk-test-" + secrets.token_hex(16)
    worker = WorkerProcess({**ns.env, "STAGE_CHECK": "false"}, logs / "worker.log")
    with ModelProvider(key) as provider:
        common = {**ns.env, "STAGE_HOST_DATA_DIR": str(data_dir), "STAGE_API_TIMEOUT_S": "10"}
        host = HostProcess(
            {
                **common,
                "STAGE_INFERENCE_BASE_URL": provider.url,
                "STAGE_INFERENCE_API_KEY": key,
                "STAGE_INFERENCE_MODELS": MODELS,
                "STAGE_INFERENCE_TIMEOUT_S": str(TIMEOUT_S),
                "STAGE_INFERENCE_RETRIES": "2",
                "STAGE_INFERENCE_MAX_TOKENS": str(MAX_TOKENS),
                "STAGE_INFERENCE_APP_QUOTA_TOKENS": str(QUOTA_TOKENS),
                "STAGE_INFERENCE_APP_QUOTA_IMAGES": "5",
            },
            logs / "host.log",
        )
        bare = HostProcess(common, logs / "bare-host.log")
        client = redis.Redis.from_url(ns.redis_url)
        try:
            worker.wait_ready()
            host.wait_ready()
            bare.wait_ready()
            with ns.client() as stage:
                session = stage.sessions.create(name="inference")
                stage.sessions.push_files(session.id, files())
                ticket = stage.sessions.render(session.id)
                record = stage.sessions.wait_for_render(session.id, ticket.version, timeout=120)
                assert record.status == "ready", record.error
                apps = {
                    role: stage.apps.publish(session.id, name=role, author="dev@example.com").sid
                    for role in ("main", "usage", "quota")
                }
            with httpx.Client(timeout=30, trust_env=False) as http:
                prefix = ns.env["STAGE_KEY_PREFIX"]
                yield Stack(provider, host, bare, apps, prefix, client, http, data_dir)
        finally:
            client.close()
            bare.stop()
            host.stop()
            worker.stop()
            remove_tree(data_dir)


def hello(**extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hello world"}],
        **extra,
    }


def test_the_sdk_example_route_answers_through_the_host_and_its_usage_is_counted(stack):
    tasks = f"{stack.host.url}/{stack.apps['usage']}/@preview/api/tasks"
    for title, status in [("write the route", "active"), ("read the docs", "done")]:
        added = stack.http.post(tasks, json={"title": title, "status": status})
        assert added.status_code == 200, added.text
    answer = stack.http.get(f"{stack.host.url}/{stack.apps['usage']}/@preview/api/summary")
    stack.answers.append(answer.text)
    assert answer.status_code == 200, answer.text
    sent = stack.provider.sent("/v1/chat/completions")[-1]
    prompt = 'Summarize: [{"title":"write the route","status":"active"}]'
    assert sent.body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": MAX_TOKENS,
    }
    assert sent.headers["authorization"] == f"Bearer {stack.provider.key}"
    assert answer.json() == {
        "content": "echo: " + prompt,
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9},
    }
    vectors = stack.call(
        "usage", "embed", {"model": "text-embedding-3-small", "input": ["a b", "c"]}
    )
    assert vectors.status_code == 200, vectors.text
    assert vectors.json() == {
        "embeddings": [[3.0, 2.0, 1.0], [1.0, 1.0, 1.0]],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3},
    }
    image = stack.call(
        "usage", "image", {"model": "image-1", "prompt": "a red fox", "size": "1024x512"}
    )
    assert image.status_code == 200, image.text
    assert stack.provider.sent("/v1/images/generations")[-1].body == {
        "model": "image-1",
        "prompt": "a red fox",
        "size": "1024x512",
        "n": 1,
        "response_format": "b64_json",
    }
    url = image.json()["url"]
    assert f"/apps/{stack.apps['usage']}/inference/" in url
    stored = stack.http.get(url)  # the store's public URL, as a page would load it
    assert stored.status_code == 200
    assert (decode_png(stored.content).width, decode_png(stored.content).height) == (4, 2)
    assert image.json()["usage"] == {"images": 1}

    usage = stack.call("usage", "usage", {})
    assert usage.status_code == 200, usage.text
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert usage.json() == {
        "since": today,
        "until": today,
        "calls": 3,
        "total_tokens": 12,
        "images": 1,
        "models": {
            "gpt-4o-mini": {
                "calls": 1,
                "prompt_tokens": 4,
                "completion_tokens": 5,
                "images": 0,
                "total_tokens": 9,
            },
            "image-1": {
                "calls": 1,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "images": 1,
                "total_tokens": 0,
            },
            "text-embedding-3-small": {
                "calls": 1,
                "prompt_tokens": 3,
                "completion_tokens": 0,
                "images": 0,
                "total_tokens": 3,
            },
        },
        "today": {"tokens": 12, "images": 1, "quota_tokens": QUOTA_TOKENS, "quota_images": 5},
    }
    assert stack.day("usage")["reserved:tokens"] == 0
    bad = stack.call("usage", "usage", {"since": "last week"})
    assert (bad.status_code, bad.json()["error"]) == (
        400,
        'inference.usage: since must be a date, "YYYY-MM-DD"',
    )


def test_a_streamed_chat_yields_deltas_then_the_usage(stack):
    answer = stack.call("main", "stream", hello(max_tokens=3))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "deltas": ["echo:", " hello", " world"],
        "content": "echo: hello world",
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
    }
    sent = stack.provider.sent("/v1/chat/completions")[-1].body
    assert (sent["stream"], sent["stream_options"]) == (True, {"include_usage": True})


def test_a_stream_read_only_in_part_still_settles_its_reservation(stack):
    before = stack.day("main").get("model:gpt-4o-mini:calls", 0)
    answer = stack.call("main", "stream-first", hello())
    assert answer.json() == {"first": "echo:"}

    def settled() -> bool:
        day = stack.day("main")
        return day["reserved:tokens"] == 0 and day["model:gpt-4o-mini:calls"] == before + 1

    wait_for(settled, 5, "the broken-off stream's reservation to be settled")


def test_a_stream_the_provider_breaks_off_fails_in_the_routes_loop(stack):
    before = stack.day("main")
    stack.provider.plan(Step(break_after=1))
    answer = stack.call("main", "stream", hello())
    assert answer.status_code == 502, answer.text
    assert answer.json()["error"].startswith(
        "inference.chat: the model provider's stream broke off: RemoteProtocolError"
    )

    def charged() -> bool:  # the streamed part may be billed: its bound is counted
        day = stack.day("main")
        return (
            day["reserved:tokens"] == 0
            and day["model:gpt-4o-mini:calls"] == before["model:gpt-4o-mini:calls"] + 1
        )

    wait_for(charged, 5, "the broken stream's call to be counted")
    prompt_bound = ONE_MESSAGE_OVERHEAD + len("hello world")
    assert stack.day("main")["tokens"] - before["tokens"] == prompt_bound + len("echo:")


def test_429_and_5xx_are_retried_then_answered(stack):
    count = len(stack.provider.sent("/v1/chat/completions"))
    stack.provider.plan(Step(429, retry_after="0"), Step(503))
    answer = stack.call("main", "chat", hello())
    assert answer.status_code == 200, answer.text
    assert answer.json()["content"] == "echo: hello world"
    assert len(stack.provider.sent("/v1/chat/completions")) == count + 3


def test_retries_spent_or_past_the_deadline_fail_with_a_clear_status(stack):
    stack.provider.plan(*[Step(500, body="upstream broke")] * 3)
    spent = stack.call("main", "chat", hello())
    assert (spent.status_code, spent.json()["error"]) == (
        502,
        "inference.chat: the model provider failed (500): upstream broke (after 3 attempts)",
    )
    started = time.monotonic()
    stack.provider.plan(Step(429, retry_after="30"))
    later = stack.call("main", "chat", hello())
    assert later.status_code == 503
    assert later.json()["error"].endswith(
        "the next attempt (30.0 s away) would pass the deadline (STAGE_INFERENCE_TIMEOUT_S)"
    )
    assert time.monotonic() - started < TIMEOUT_S
    stack.provider.plan(Step(delay_s=TIMEOUT_S + 3))
    started = time.monotonic()
    slow = stack.call("main", "embed", {"model": "text-embedding-3-small", "input": "x"})
    assert (slow.status_code, slow.json()["error"]) == (
        504,
        f"inference.embed: the model provider did not answer within {TIMEOUT_S} s "
        "(STAGE_INFERENCE_TIMEOUT_S)",
    )
    assert TIMEOUT_S <= time.monotonic() - started < TIMEOUT_S + 2
    wait_for(lambda: stack.day("main")["reserved:tokens"] == 0, 5, "reservations settled")


def test_a_model_outside_the_allowlist_and_a_bad_call_are_refused_before_the_provider(stack):
    count = len(stack.provider.received)
    unknown = stack.call("main", "chat", hello(model="gpt-5-pro"))
    assert (unknown.status_code, unknown.json()["error"]) == (
        400,
        "inference.chat: model 'gpt-5-pro' is not available on this host; it offers "
        "gpt-4o-mini, text-embedding-3-small, image-1, fast (STAGE_INFERENCE_MODELS)",
    )
    for body, says in [
        (
            hello(max_tokens=MAX_TOKENS + 1),
            f"max_tokens must be a whole number from 1 to {MAX_TOKENS}",
        ),
        (hello(temperature=3), "temperature must be a number from 0 to 2"),
        (hello(tools=[]), "chat has no option 'tools'"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "root", "content": "x"}]}, "role must be"),
        ({"model": "gpt-4o-mini"}, "chat needs 'messages'"),
    ]:
        refused = stack.call("main", "chat", body)
        assert refused.status_code == 400, refused.text
        assert says in refused.json()["error"]
    assert len(stack.provider.received) == count


def test_the_daily_token_quota_is_enforced_exactly_under_concurrent_calls(stack):
    def chat(content: str, max_tokens: int) -> httpx.Response:
        body = {
            "model": "fast",
            "messages": [{"role": "user", "content": content}],
            "max_tokens": max_tokens,
        }
        return stack.call("quota", "chat", body)

    assert stack.call("quota", "usage", {}).status_code == 200  # the process is warm
    reserve = ONE_MESSAGE_OVERHEAD + len("hi") + 270  # 300: three fit in 1,000, not four
    stack.provider.hold()
    try:
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            futures = [pool.submit(chat, "hi", 270) for _ in range(5)]

            def held() -> list[Any]:
                sent = stack.provider.sent("/v1/chat/completions")
                return [r for r in sent if r.body["model"] == "provider-fast"]

            wait_for(
                lambda: len(held()) == 3 and sum(f.done() for f in futures) == 2,
                10,
                "two calls refused while three are held by the provider",
            )
            assert stack.day("quota")["reserved:tokens"] == 3 * reserve
            stack.provider.release()
            answers = [f.result() for f in futures]
    finally:
        stack.provider.release()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 200, 429, 429]
    refused = next(a for a in answers if a.status_code == 429).json()["error"]
    assert refused.startswith(
        f"inference.chat: this app's daily quota of {QUOTA_TOKENS} tokens "
        "(STAGE_INFERENCE_APP_QUOTA_TOKENS) does not allow this call: "
    )
    assert f"this call may use {reserve}" in refused
    used = stack.day("quota")["tokens"]
    assert used == 3 * 3  # what the provider reported: 1 prompt and 2 answer tokens each
    # The exact edge: a call that may use what is left runs, one more token does not.
    left = QUOTA_TOKENS - used
    padding = left - ONE_MESSAGE_OVERHEAD - MAX_TOKENS
    over = chat("x" * (padding + 1), MAX_TOKENS)
    assert over.status_code == 429, over.text
    assert chat("x" * padding, MAX_TOKENS).status_code == 200
    day = stack.day("quota")
    assert day["tokens"] == used + 3 <= QUOTA_TOKENS
    assert day["reserved:tokens"] == 0
    assert day["model:fast:calls"] == 4


def test_no_provider_configured_every_call_says_what_to_set(stack):
    for fn, body in [
        ("chat", hello()),
        ("stream", hello()),
        ("embed", {"model": "m", "input": "x"}),
        ("image", {"model": "m", "prompt": "x"}),
    ]:
        answer = stack.call("main", fn, body, host=stack.bare)
        assert answer.status_code == 503, answer.text
        called = "chat" if fn == "stream" else fn
        assert answer.json()["error"] == (
            f"inference.{called}: no model provider is configured on this host: its operator "
            "sets STAGE_INFERENCE_BASE_URL (an OpenAI-compatible API such as "
            "https://api.openai.com/v1, vLLM, llama.cpp's server or Ollama) and "
            "STAGE_INFERENCE_API_KEY when the provider needs one"
        )


def test_the_daily_image_quota_refuses_the_image_past_it(stack):
    body = {"model": "image-1", "prompt": "a fox", "size": "256x256"}
    made = [stack.call("quota", "image", body) for _ in range(5)]
    assert [a.status_code for a in made] == [200] * 5, made[-1].text
    count = len(stack.provider.sent("/v1/images/generations"))
    refused = stack.call("quota", "image", body)
    assert (refused.status_code, refused.json()["error"]) == (
        429,
        "inference.image: this app's daily quota of 5 images (STAGE_INFERENCE_APP_QUOTA_IMAGES) "
        "does not allow this call: 5 used today, 0 held by calls in progress, and this call "
        "may use 1; the quota starts again at 00:00 UTC",
    )
    assert len(stack.provider.sent("/v1/images/generations")) == count
    assert stack.day("quota")["model:image-1:images"] == 5


def test_the_key_never_leaves_the_host(stack):
    key = stack.provider.key
    # A provider whose error bodies echo the key it was sent.
    stack.provider.plan(Step(400, body=f'{{"error": {{"message": "key {key} may not use this"}}}}'))
    echoed = stack.call("main", "chat", hello())
    assert (echoed.status_code, echoed.json()["error"]) == (
        400,
        "inference.chat: the model provider refused the request (400): "
        "key [redacted] may not use this",
    )
    stack.provider.plan(Step(401, body="Incorrect API key provided: {key}"))
    refused = stack.call("main", "embed", {"model": "text-embedding-3-small", "input": "x"})
    assert refused.status_code == 502
    assert (
        "check STAGE_INFERENCE_API_KEY): Incorrect API key provided: [redacted]"
        in (refused.json()["error"])
    )
    assert stack.provider.received[-1].headers["authorization"] == f"Bearer {key}"

    assert stack.answers and not [a for a in stack.answers if key in a]
    assert key not in stack.host.log
    readers = {
        b"hash": stack.redis.hgetall,
        b"list": lambda name: stack.redis.lrange(name, 0, -1),
        b"string": stack.redis.get,
        b"set": stack.redis.smembers,
        b"zset": lambda name: stack.redis.zrange(name, 0, -1),
    }
    names = list(stack.redis.scan_iter(match=stack.prefix + "*", count=1000))
    assert any(b":inference:" in name for name in names)
    for name in names:
        assert key not in repr(readers[stack.redis.type(name)](name)), name
    code = [p for p in stack.data_dir.rglob("*") if p.is_file()]
    assert code and not [p for p in code if key.encode() in p.read_bytes()]
    for pid in stack.host.deno_pids():  # the sandbox: its environment and command line
        for part in ("environ", "cmdline"):
            assert key.encode() not in Path(f"/proc/{pid}/{part}").read_bytes()
