"""``process.env`` in a page: ``NODE_ENV``, the session's ``NEXT_PUBLIC_*`` values, nothing else.

Next.js inlines ``process.env.NEXT_PUBLIC_*`` from the project's ``.env*`` files at build time
and leaves every other variable on the server. A render does the same with esbuild's
``define``: each public name is replaced by its value, and ``process.env`` itself by an object
holding only ``NODE_ENV`` and those values, so ``process.env.ANYTHING`` reads ``undefined``
instead of throwing ``process is not defined``. Other variables of a ``.env`` file (API keys,
database URLs) never reach the page, its source map or any artifact.

Files are read as a production build reads them, the first naming a variable winning:
``/.env.production.local``, ``/.env.local``, ``/.env.production``, ``/.env``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from bundler.artifacts import SourceFile

__all__ = ["ENV_FILES", "PUBLIC_PREFIX", "public_env", "env_defines", "parse_dotenv"]

ENV_FILES = ("/.env.production.local", "/.env.local", "/.env.production", "/.env")
PUBLIC_PREFIX = "NEXT_PUBLIC_"

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=value`` lines: quotes (double quotes with ``\\n`` escapes and several lines),
    ``export``, ``#`` comments; a line that is none of these is skipped."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        found = _LINE.match(lines[index])
        index += 1
        if found is None:
            continue
        key, raw = found.groups()
        quote = raw[:1]
        if quote in ('"', "'", "`"):
            body = raw[1:]
            while quote not in body and index < len(lines):  # a value over several lines
                body += "\n" + lines[index]
                index += 1
            value = body.split(quote, 1)[0]
            if quote == '"':
                value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), value)
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        values[key] = value
    return values


def public_env(sources: Mapping[str, SourceFile]) -> dict[str, str]:
    """The ``NEXT_PUBLIC_*`` variables of the session's ``.env*`` files."""
    values: dict[str, str] = {}
    for path in ENV_FILES:
        source = sources.get(path)
        if source is None:
            continue
        for key, value in parse_dotenv(source.content.decode("utf-8", "replace")).items():
            if key.startswith(PUBLIC_PREFIX):
                values.setdefault(key, value)
    return values


def env_defines(sources: Mapping[str, SourceFile]) -> list[str]:
    """esbuild ``--define`` flags for a page: each public variable, then ``process.env``."""
    public = public_env(sources)
    flags = [
        f"--define:process.env.{key}={json.dumps(value)}" for key, value in sorted(public.items())
    ]
    env = {"NODE_ENV": "production", **public}
    flags.append(f"--define:process.env={json.dumps(env, sort_keys=True)}")
    return flags
