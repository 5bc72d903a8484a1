"""A Vite project's conventions (bolt, Lovable): ``import.meta.env`` and ``resolve.alias``.

- ``import.meta.env`` is what ``vite build`` gives a page: ``MODE`` ("production"), ``DEV``
  (false), ``PROD`` (true), ``SSR`` (false), ``BASE_URL`` and every ``VITE_*`` variable of
  the session's ``/.env``, ``/.env.local``, ``/.env.production`` and
  ``/.env.production.local`` (later files win, as Vite loads them). Nothing else in those
  files reaches the page: they hold server secrets beside the public ``VITE_*`` values.
  ``BASE_URL`` is ``./``: a version is served under a folder of its own, where ``/public/``
  files sit beside ``index.html``.
- ``resolve.alias`` of ``/vite.config.{ts,js,mjs,mts,cjs}`` is read from the text, never
  run: the config is session code. An alias whose target is a folder written as a string,
  ``path.resolve(__dirname, "…")`` / ``path.join`` or ``fileURLToPath(new URL("…",
  import.meta.url))`` maps imports to that session folder; any other alias is a warning
  (its imports then fail like any unknown import).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bundler.artifacts import Diagnostic, SourceFile

__all__ = [
    "BUILT_IN_ENV",
    "BUILT_IN_ENV_DEFINE",
    "ENV_FILES",
    "VITE_CONFIGS",
    "ViteAliases",
    "env_defines",
    "import_meta_env",
    "read_vite_aliases",
]

#: Loaded in this order for ``vite build`` (mode "production"); a later file wins.
ENV_FILES = ("/.env", "/.env.local", "/.env.production", "/.env.production.local")
#: The variables a page may see, as Vite's default ``envPrefix``.
ENV_PREFIX = "VITE_"
VITE_CONFIGS = tuple(f"/vite.config.{ext}" for ext in ("ts", "js", "mjs", "mts", "cjs"))
#: Where ``/public/`` files are, relative to the page: the version's own folder.
BASE_URL = "./"

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")
_COMMENT = re.compile(
    r'("(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`[^`]*`)|//[^\n]*|/\*.*?\*/', re.S
)
_STRING = r"""(?:"([^"\\\n]*)"|'([^'\\\n]*)'|`([^`\\$]*)`)"""
_DIRNAME = r"(?:__dirname|process\.cwd\(\)|import\.meta\.dirname)"
_PATH_CALL = re.compile(r"^(?:path\s*\.\s*)?(?:resolve|join)\s*\((.*)\)$", re.S)
_URL_PATH = re.compile(
    r"^(?:(?:url\s*\.\s*)?fileURLToPath\s*\(\s*new\s+URL\s*\(\s*"
    + _STRING
    + r"\s*,\s*import\.meta\.url\s*\)\s*\)|new\s+URL\s*\(\s*"
    + _STRING
    + r"\s*,\s*import\.meta\.url\s*\)\s*\.\s*pathname)$",
    re.S,
)
_KEY = re.compile(r"^\s*(?:" + _STRING + r"|([A-Za-z_$][\w$]*))\s*:\s*(.*)$", re.S)


#: ``import.meta.env`` without the session's variables: what vendor chunks see too.
BUILT_IN_ENV: Mapping[str, str | bool] = {
    "BASE_URL": BASE_URL,
    "DEV": False,
    "MODE": "production",
    "PROD": True,
    "SSR": False,
}
#: The esbuild flag giving package code :data:`BUILT_IN_ENV` (a page's own flags, which
#: come later, add the session's ``VITE_*``).
BUILT_IN_ENV_DEFINE = f"--define:import.meta.env={json.dumps(BUILT_IN_ENV, sort_keys=True)}"


def import_meta_env(sources: Mapping[str, SourceFile]) -> dict[str, str | bool]:
    """``import.meta.env`` of a page built from ``sources``: the built-ins and ``VITE_*``."""
    env: dict[str, str | bool] = dict(BUILT_IN_ENV)
    for path in ENV_FILES:
        source = sources.get(path)
        if source is None:
            continue
        for name, value in _dotenv(source.content.decode("utf-8", "replace")).items():
            if name.startswith(ENV_PREFIX):
                env[name] = value
    return env


def env_defines(sources: Mapping[str, SourceFile]) -> list[str]:
    """esbuild ``--define`` flags giving the page its ``import.meta.env``: the object, for
    code that reads it whole, and each member, so ``import.meta.env.PROD`` is a constant."""
    env = import_meta_env(sources)
    flags = [f"--define:import.meta.env={json.dumps(env, sort_keys=True)}"]
    flags += [
        f"--define:import.meta.env.{name}={json.dumps(value)}"
        for name, value in sorted(env.items())
        if re.fullmatch(r"[A-Za-z_$][\w$]*", name)
    ]
    return flags


def _dotenv(text: str) -> dict[str, str]:
    """``KEY=value`` lines as dotenv reads them: ``export``, quotes and ``#`` comments."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _ENV_LINE.match(lines[index])
        index += 1
        if match is None:
            continue
        name, raw = match.groups()
        quote = raw[:1]
        if quote in ("'", '"', "`"):
            body = raw[1:]
            while quote not in body and index < len(lines):  # a quoted value may span lines
                body += "\n" + lines[index]
                index += 1
            value = body[: body.index(quote)] if quote in body else body
            if quote == '"':
                value = value.replace("\\n", "\n")
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        values[name] = value
    return values


@dataclass(frozen=True)
class ViteAliases:
    """``resolve.alias`` as read: alias → session folder (or file), and warnings."""

    config: str | None = None
    targets: dict[str, str] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)

    def target(self, specifier: str) -> tuple[str, str] | None:
        """(alias, the session path it makes of ``specifier``) for an aliased specifier."""
        for alias in sorted(self.targets, key=len, reverse=True):  # the longest match wins
            if specifier == alias:
                return alias, self.targets[alias]
            if specifier.startswith(alias.rstrip("/") + "/"):
                rest = specifier[len(alias.rstrip("/")) + 1 :]
                return alias, posixpath.normpath(posixpath.join(self.targets[alias], rest))
        return None


def read_vite_aliases(sources: Mapping[str, SourceFile]) -> ViteAliases:
    """The aliases of the session's Vite config (see the module docstring)."""
    config = next((path for path in VITE_CONFIGS if path in sources), None)
    if config is None:
        return ViteAliases()
    raw = sources[config].content.decode("utf-8", "replace")
    text = _COMMENT.sub(lambda m: m[1] or " " * len(m[0]), raw)  # keeps offsets
    found = re.search(r"\balias\s*:\s*([\[{])", text)
    if found is None:
        return ViteAliases(config)
    body, end = _balanced(text, found.start(1))
    targets: dict[str, str] = {}
    warnings: list[Diagnostic] = []

    def warn(offset: int, why: str) -> None:
        line = text.count("\n", 0, offset) + 1
        column = offset - text.rfind("\n", 0, offset)
        warnings.append(
            Diagnostic(
                config,
                line,
                column,
                f"resolve.alias {why}; imports through it fail",
                raw.splitlines()[line - 1],
                "warning",
            )
        )

    if end < 0:
        warn(found.start(), "is not read: its list does not end")
        return ViteAliases(config, targets, warnings)
    folder = posixpath.dirname(config)
    start = found.start(1) + 1
    for offset, item in _items(body, start):
        if found[1] == "{":
            key_match = _KEY.match(item)
            if key_match is None:
                warn(offset, f"entry {item.strip()[:40]!r} is not read")
                continue
            alias = next(g for g in key_match.groups()[:4] if g is not None)
            value = key_match.group(5)
        else:
            fields = _fields(item)
            find = re.fullmatch(_STRING, fields.get("find", ""))
            if find is None or "replacement" not in fields:
                warn(
                    offset,
                    f'entry {item.strip()[:40]!r} is not read (only {{ find: "…", '
                    "replacement: … } with a string find is understood)",
                )
                continue
            alias = next(g for g in find.groups() if g is not None)
            value = fields["replacement"]
        target = _folder_of(value.strip().rstrip(","), folder)
        if target is None:
            warn(
                offset,
                f'"{alias}" is not read: its target {value.strip()[:60]} is not a path '
                'written as a string, path.resolve(__dirname, "…") or fileURLToPath(new '
                'URL("…", import.meta.url))',
            )
            continue
        targets[alias] = target
    return ViteAliases(config, targets, warnings)


def _folder_of(value: str, config_folder: str) -> str | None:
    """The session path an alias target names, or None when it is not read."""
    literal = re.fullmatch(_STRING, value)
    if literal is not None:
        text = next(g for g in literal.groups() if g is not None)
        return posixpath.normpath(posixpath.join(config_folder, text))
    url = _URL_PATH.match(value)
    if url is not None:
        text = next(g for g in url.groups() if g is not None)
        return posixpath.normpath(posixpath.join(config_folder, text))
    call = _PATH_CALL.match(value)
    if call is None:
        return None
    args = [a.strip() for a in call.group(1).split(",") if a.strip()]
    if args and re.fullmatch(_DIRNAME, args[0]):
        args = args[1:]
    parts = []
    for arg in args:
        literal = re.fullmatch(_STRING, arg)
        if literal is None:
            return None
        parts.append(next(g for g in literal.groups() if g is not None))
    if not parts:
        return None
    return posixpath.normpath(posixpath.join(config_folder, *parts))


def _fields(item: str) -> dict[str, str]:
    """``{ find: "@", replacement: … }`` → {"find": '"@"', "replacement": "…"}."""
    item = item.strip()
    if not (item.startswith("{") and item.endswith("}")):
        return {}
    fields = {}
    for _, entry in _items(item[1:-1], 0):
        match = _KEY.match(entry)
        if match is not None:
            key = next(g for g in match.groups()[:4] if g is not None)
            fields[key] = match.group(5).strip()
    return fields


def _balanced(text: str, start: int) -> tuple[str, int]:
    """The text inside the bracket at ``start`` and the index of its closing one (-1)."""
    pairs = {"[": "]", "{": "}", "(": ")"}
    stack = [pairs[text[start]]]
    index = start + 1
    while index < len(text) and stack:
        char = text[index]
        if char in "\"'`":
            close = text.find(char, index + 1)
            index = close if close >= 0 else len(text)
        elif char in pairs:
            stack.append(pairs[char])
        elif char == stack[-1]:
            stack.pop()
        index += 1
    if stack:
        return text[start + 1 :], -1
    return text[start + 1 : index - 1], index - 1


def _items(body: str, offset: int) -> list[tuple[int, str]]:
    """The comma-separated entries of a list or object body, with their offsets."""
    items: list[tuple[int, str]] = []
    depth = 0
    begin = 0
    index = 0
    while index < len(body):
        char = body[index]
        if char in "\"'`":
            close = body.find(char, index + 1)
            index = close if close >= 0 else len(body)
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            items.append((offset + begin, body[begin:index]))
            begin = index + 1
        index += 1
    items.append((offset + begin, body[begin:]))
    return [(o + len(item) - len(item.lstrip()), item) for o, item in items if item.strip()]
