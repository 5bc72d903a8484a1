"""What an app may ask of ``@stage/inference``: each function's arguments checked, and
turned into the provider's request and the most the call may use, before anything is spent.

The most a chat can use is known before it is sent: ``max_tokens`` for the answer, and for
the prompt its UTF-8 bytes (a byte-level BPE tokenizer, as OpenAI's, Llama's and Qwen's
are, never makes more tokens than bytes) plus :data:`MESSAGE_OVERHEAD_TOKENS` per message
and :data:`CALL_OVERHEAD_TOKENS` per call for the chat template.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from worker.host.platform import PlatformError

__all__ = [
    "Models",
    "ChatCall",
    "EmbedCall",
    "ImageCall",
    "chat_call",
    "embed_call",
    "image_call",
    "usage_since",
    "utf8_bytes",
]

MESSAGE_OVERHEAD_TOKENS = 8  # the role markers a chat template wraps around each message
CALL_OVERHEAD_TOKENS = 16  # the template's opening of the answer, with room to spare
EMBED_OVERHEAD_TOKENS = 8  # the begin/end tokens an embedding model adds to each input
MAX_MODEL_NAME = 200  # the longest names (Hugging Face repo ids with a file) are ~100
MAX_MESSAGES = 1000  # a long conversation; the body limit bounds the bytes
MAX_EMBED_INPUTS = 2048  # OpenAI's own limit for one request
MAX_IMAGE_PROMPT_CHARS = 32000  # the longest prompt image models take
DEFAULT_IMAGE_SIZE = "1024x1024"  # what every image model offers
ROLES = ("system", "developer", "user", "assistant")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
_SIZE = re.compile(r"([1-9][0-9]{1,3})x([1-9][0-9]{1,3})")


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


class Models:
    """The deployment's allowlist: ``name[=provider model],…``; empty allows any name."""

    def __init__(self, setting: str) -> None:
        self.names: dict[str, str] = {}
        for entry in filter(None, (e.strip() for e in setting.split(","))):
            name, _, target = entry.partition("=")
            self.names[name.strip()] = target.strip() or name.strip()

    @property
    def open(self) -> bool:
        return not self.names

    def resolve(self, value: Any) -> tuple[str, str]:
        """The app's name for the model and the provider's; 400 for another."""
        if (
            not isinstance(value, str)
            or not 0 < len(value) <= MAX_MODEL_NAME
            or not value.isprintable()
        ):
            raise PlatformError(
                400, f"model must be a model's name (1 to {MAX_MODEL_NAME} printable characters)"
            )
        if self.open:
            return value, value
        target = self.names.get(value)
        if target is None:
            raise PlatformError(
                400,
                f"model {value!r} is not available on this host; it offers "
                f"{', '.join(self.names)} (STAGE_INFERENCE_MODELS)",
            )
        return value, target


def _fields(
    args: Any, function: str, allowed: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise PlatformError(400, f"{function} takes one object ({{{', '.join(allowed)}}})")
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise PlatformError(
            400, f"{function} has no option {unknown[0]!r}; its options are {', '.join(allowed)}"
        )
    for name in required:
        if args.get(name) is None:
            raise PlatformError(400, f"{function} needs {name!r}")
    return args


def _text_of(content: Any, where: str) -> str:
    """A message's content: a string, or text parts ``[{type: "text", text}]``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in content
    ):
        return "".join(p["text"] for p in content)
    raise PlatformError(
        400, f'{where}.content must be a string or a list of {{type: "text", text}} parts'
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ChatCall:
    model: str  # the app's name for it
    body: dict[str, Any]  # the provider's request
    prompt_bound: int  # the most tokens the prompt can be
    stream: bool

    @property
    def bound(self) -> int:
        """The most tokens the call can use: what it reserves."""
        return self.prompt_bound + int(self.body["max_tokens"])


def chat_call(args: Any, models: Models, max_tokens_cap: int) -> ChatCall:
    args = _fields(
        args,
        "chat",
        ("model", "messages", "temperature", "max_tokens", "response_format", "stream"),
        ("model", "messages"),
    )
    name, target = models.resolve(args["model"])
    messages = args["messages"]
    if not isinstance(messages, list) or not messages:
        raise PlatformError(400, "messages must be a non-empty list of {role, content}")
    if len(messages) > MAX_MESSAGES:
        raise PlatformError(400, f"more than {MAX_MESSAGES} messages in one chat")
    prompt_bound = CALL_OVERHEAD_TOKENS
    sent = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise PlatformError(400, f"{where}.role must be one of {', '.join(ROLES)}")
        text = _text_of(message.get("content"), where)
        sent.append({"role": message["role"], "content": text})
        prompt_bound += MESSAGE_OVERHEAD_TOKENS + utf8_bytes(message["role"]) + utf8_bytes(text)
    max_tokens = args.get("max_tokens", max_tokens_cap)
    if not _number(max_tokens) or max_tokens != int(max_tokens):
        max_tokens = 0  # refused below
    if not 1 <= max_tokens <= max_tokens_cap:
        raise PlatformError(
            400,
            f"max_tokens must be a whole number from 1 to {max_tokens_cap} "
            "(STAGE_INFERENCE_MAX_TOKENS)",
        )
    body: dict[str, Any] = {"model": target, "messages": sent, "max_tokens": int(max_tokens)}
    temperature = args.get("temperature")
    if temperature is not None:
        if not _number(temperature) or not 0 <= temperature <= 2:
            raise PlatformError(400, "temperature must be a number from 0 to 2")
        body["temperature"] = temperature
    response_format = args.get("response_format")
    if response_format is not None:
        if (
            not isinstance(response_format, dict)
            or response_format.get("type") not in RESPONSE_FORMATS
        ):
            raise PlatformError(
                400, f"response_format.type must be one of {', '.join(RESPONSE_FORMATS)}"
            )
        body["response_format"] = response_format
        prompt_bound += utf8_bytes(json.dumps(response_format))  # a schema joins the prompt
    stream = args.get("stream", False)
    if not isinstance(stream, bool):
        raise PlatformError(400, "stream must be true or false")
    return ChatCall(name, body, prompt_bound, stream)


@dataclass(frozen=True)
class EmbedCall:
    model: str
    body: dict[str, Any]
    inputs: int
    bound: int


def embed_call(args: Any, models: Models) -> EmbedCall:
    args = _fields(args, "embed", ("model", "input"), ("model", "input"))
    name, target = models.resolve(args["model"])
    given = args["input"]
    inputs = [given] if isinstance(given, str) else given
    if (
        not isinstance(inputs, list)
        or not inputs
        or not all(isinstance(i, str) and i for i in inputs)
    ):
        raise PlatformError(400, "input must be a non-empty string or a list of them")
    if len(inputs) > MAX_EMBED_INPUTS:
        raise PlatformError(400, f"more than {MAX_EMBED_INPUTS} inputs in one embed")
    bound = sum(EMBED_OVERHEAD_TOKENS + utf8_bytes(i) for i in inputs)
    return EmbedCall(name, {"model": target, "input": given}, len(inputs), bound)


@dataclass(frozen=True)
class ImageCall:
    model: str
    body: dict[str, Any]


def image_call(args: Any, models: Models) -> ImageCall:
    args = _fields(args, "image", ("model", "prompt", "size"), ("model", "prompt"))
    name, target = models.resolve(args["model"])
    prompt, size = args["prompt"], args.get("size", DEFAULT_IMAGE_SIZE)
    if not isinstance(prompt, str) or not prompt.strip():
        raise PlatformError(400, "prompt must be a non-empty string")
    if len(prompt) > MAX_IMAGE_PROMPT_CHARS:
        raise PlatformError(400, f"prompt is longer than {MAX_IMAGE_PROMPT_CHARS} characters")
    if not isinstance(size, str) or not _SIZE.fullmatch(size):
        raise PlatformError(400, 'size must be "<width>x<height>", such as "1024x1024"')
    # b64_json: the host keeps the image itself rather than a link that expires.
    body = {"model": target, "prompt": prompt, "size": size, "n": 1, "response_format": "b64_json"}
    return ImageCall(name, body)


def usage_since(args: Any, today: dt.date) -> dt.date:
    args = _fields(args or {}, "usage", ("since",), ())
    since_text = args.get("since")
    if since_text is None:
        return today
    try:
        since = dt.date.fromisoformat(str(since_text)[:10])
    except ValueError:
        raise PlatformError(400, 'since must be a date, "YYYY-MM-DD"') from None
    if since > today:
        raise PlatformError(400, f"since {since} is after today ({today}, UTC)")
    return since
