"""Input rules for what a gateway sends: paths, files, scopes, names, ids.

Every check raises :class:`InvalidInputError` naming the file or field and the rule;
callers validate a whole request before storing any of it.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bundler import SourceFile
from worker.errors import InvalidInputError
from worker.settings import Settings

__all__ = [
    "PushedFile",
    "file_payload",
    "validate_path",
    "validate_files",
    "validate_scopes",
    "validate_name",
    "validate_session_id",
    "SESSION_ID_PATTERN",
    "check_tree",
]

#: Session ids are used in Redis keys and storage paths: keep them boring.
SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ENCODINGS = ("utf-8", "base64")
_MAX_SEGMENT_BYTES = 255  # what a file system takes; a build writes the tree to disk
_MAX_SCOPE_LENGTH = 2048
# Characters that break URLs (/public files are served by path), shells or Windows hosts.
_FORBIDDEN_CHARS = set('\\:*?"<>|#%')
# Unicode categories that are invisible or not characters: controls, format (bidi
# overrides, zero-width), surrogates, private use, unassigned, line/paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@dataclass(frozen=True)
class PushedFile:
    """A validated file: its normalised path, decoded bytes and how it was sent."""

    path: str
    content: bytes
    encoding: str = "utf-8"

    def as_source(self) -> SourceFile:
        return SourceFile(self.path, self.content)


def file_payload(path: str, data: bytes) -> dict[str, str]:
    """The push form of a file: text as is, anything that is not UTF-8 as base64."""
    try:
        return {"path": path, "content": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {
            "path": path,
            "content": base64.b64encode(data).decode("ascii"),
            "encoding": "base64",
        }


def validate_path(path: Any, settings: Settings) -> str:
    """Return ``path`` if it is a clean absolute POSIX path, else raise naming the rule."""
    if not isinstance(path, str):
        raise InvalidInputError(f"file path {path!r}: must be a string")
    shown = ascii(path)[1:-1]
    if len(path) > settings.max_path_length:
        raise InvalidInputError(
            f'"{shown[:80]}…": path is {len(path)} characters, longer than the limit '
            f"{Settings.variable('max_path_length')}={settings.max_path_length}"
        )
    if not path.startswith("/"):
        raise InvalidInputError(f'"{shown}": paths must be absolute, like "/app/App.tsx"')
    for char in path:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidInputError(
                f'"{shown}": paths may not contain control or invisible characters '
                f"(found U+{ord(char):04X})"
            )
        if char in _FORBIDDEN_CHARS:
            raise InvalidInputError(f'"{shown}": paths may not contain {char!r}')
    if unicodedata.normalize("NFC", path) != path:
        raise InvalidInputError(f'"{shown}": paths must be in Unicode NFC form')
    segments = path[1:].split("/")
    for segment in segments:
        if segment == "":
            raise InvalidInputError(
                f'"{shown}": paths may not contain empty segments ("//" or a trailing "/")'
            )
        if segment in (".", ".."):
            raise InvalidInputError(f'"{shown}": paths may not contain "{segment}"')
        if segment != segment.strip():
            raise InvalidInputError(f'"{shown}": path segments may not start or end with spaces')
        if len(segment.encode("utf-8")) > _MAX_SEGMENT_BYTES:
            raise InvalidInputError(
                f'"{shown[:80]}…": a path segment is longer than {_MAX_SEGMENT_BYTES} bytes'
            )
        if segment == "node_modules":
            raise InvalidInputError(
                f'"{shown}": paths may not contain node_modules; npm '
                "packages come from the allowlist"
            )
    return path


def validate_files(files: Any, settings: Settings) -> list[PushedFile]:
    """Validate a push: every file, no duplicates, each within the per-file byte limit."""
    if not isinstance(files, Sequence) or isinstance(files, (str, bytes)):
        raise InvalidInputError("files: must be a list of {path, content} objects")
    if not files:
        raise InvalidInputError("files: a push needs at least one file")
    if len(files) > settings.max_files:
        raise InvalidInputError(
            f"files: {len(files)} files in one push, more than the limit "
            f"{Settings.variable('max_files')}={settings.max_files}"
        )
    validated: list[PushedFile] = []
    seen: set[str] = set()
    for index, item in enumerate(files):
        pushed = _validate_file(index, item, settings)
        if pushed.path in seen:
            raise InvalidInputError(f'"{pushed.path}": pushed twice in one request')
        seen.add(pushed.path)
        validated.append(pushed)
    check_tree(seen, [])
    return validated


def check_tree(new_paths: Iterable[str], existing_paths: Iterable[str]) -> None:
    """A path may not be both a file and a folder (``/app/x`` and ``/app/x/y.ts``)."""
    paths = set(new_paths) | set(existing_paths)
    for path in new_paths:
        parent = path.rsplit("/", 1)[0]
        while parent:
            if parent in paths:
                raise InvalidInputError(
                    f'"{path}": "{parent}" is a file, so it cannot also be a folder'
                )
            parent = parent.rsplit("/", 1)[0]
    prefixes = {p + "/" for p in new_paths}
    for path in paths:
        if any(path.startswith(prefix) for prefix in prefixes):
            clash = next(p for p in prefixes if path.startswith(p))[:-1]
            raise InvalidInputError(f'"{clash}": is a folder of "{path}", so it cannot be a file')


def _validate_file(index: int, item: Any, settings: Settings) -> PushedFile:
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"files[{index}]: must be an object with path and content")
    unknown = sorted(set(item) - {"path", "content", "encoding"})
    if unknown:
        raise InvalidInputError(
            f"files[{index}]: unknown field {unknown[0]!r}; allowed: path, content, encoding"
        )
    path = validate_path(item.get("path"), settings)
    content = item.get("content")
    encoding = item.get("encoding", "utf-8")
    if encoding not in ENCODINGS:
        raise InvalidInputError(
            f'"{path}": encoding {encoding!r} is not one of: {", ".join(ENCODINGS)}'
        )
    if not isinstance(content, str):
        raise InvalidInputError(f'"{path}": content must be a string')
    if encoding == "base64":
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError(f'"{path}": content is not valid base64') from None
    else:
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(
                f'"{path}": content is not valid UTF-8 text '
                "(lone surrogates); send binary files as base64"
            ) from None
    if len(data) > settings.max_file_bytes:
        raise InvalidInputError(
            f'"{path}": {len(data)} bytes, more than the limit '
            f"{Settings.variable('max_file_bytes')}={settings.max_file_bytes}"
        )
    return PushedFile(path, data, encoding)


def validate_scopes(scopes: Any, settings: Settings) -> list[str]:
    """Google OAuth scopes: a list of https:// URLs, within the limit, duplicates dropped."""
    if not isinstance(scopes, Sequence) or isinstance(scopes, (str, bytes)):
        raise InvalidInputError("googleScopes: must be a list of https:// URLs")
    unique = list(dict.fromkeys(scopes)) if all(isinstance(s, str) for s in scopes) else scopes
    if len(unique) > settings.max_scopes:
        raise InvalidInputError(
            f"googleScopes: {len(unique)} scopes, more than the limit "
            f"{Settings.variable('max_scopes')}={settings.max_scopes}"
        )
    for scope in unique:
        if not isinstance(scope, str):
            raise InvalidInputError(f"googleScopes: {scope!r} is not a string")
        shown = ascii(scope)[1:-1][:120]
        if len(scope) > _MAX_SCOPE_LENGTH:
            raise InvalidInputError(
                f'googleScopes: "{shown}…" is longer than {_MAX_SCOPE_LENGTH} characters'
            )
        if any(c.isspace() or unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in scope):
            raise InvalidInputError(
                f'googleScopes: "{shown}" contains whitespace or control characters'
            )
        bad = _first_outside_uri_syntax(scope)
        if bad is not None:
            raise InvalidInputError(
                f'googleScopes: "{shown}" is not an https:// URL: '
                f"{bad!a} may not appear in it (RFC 3986 allows "
                f"letters, digits, {_URI_PUNCTUATION} and %XX escapes)"
            )
        try:
            parts = urlsplit(scope)
        except ValueError:  # "https://[" and friends: not a URL at all
            parts = None
        if parts is None or parts.scheme != "https" or not parts.hostname:
            raise InvalidInputError(f'googleScopes: "{shown}" is not an https:// URL')
    return list(unique)


# RFC 3986's unreserved, gen-delims and sub-delims characters, but for the single quote:
# no scope uses it, and it ends an HTML attribute. Everything else (quotes, angle brackets,
# backslash, spaces, non-ASCII) must be %-escaped in a URI.
_URI_PUNCTUATION = "-._~:/?#[]@!$&()*+,;="
_URI_CHARACTERS = frozenset(string.ascii_letters + string.digits + _URI_PUNCTUATION)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _first_outside_uri_syntax(url: str) -> str | None:
    """The first character (or a ``%`` without two hex digits) a URI may not contain."""
    for index, char in enumerate(url):
        if char == "%":
            if not _PERCENT_ESCAPE.match(url, index):
                return url[index : index + 3]
        elif char not in _URI_CHARACTERS:
            return char
    return None


def validate_name(name: Any, settings: Settings, field: str = "name") -> str:
    """A display name: non-empty text within the length limit, no control characters."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{field}: must be a non-empty string")
    if len(name) > settings.max_name_length:
        raise InvalidInputError(
            f"{field}: {len(name)} characters, more than the limit "
            f"{Settings.variable('max_name_length')}={settings.max_name_length}"
        )
    if any(unicodedata.category(c) in {"Cc", "Cs", "Zl", "Zp"} for c in name):
        raise InvalidInputError(f"{field}: may not contain control characters")
    return name.strip()


def validate_session_id(session_id: Any) -> str:
    """Session ids appear in keys and storage paths; anything else is rejected."""
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
        raise InvalidInputError(
            f"session id {session_id!r}: must be 1-64 letters, digits, '-' or '_'"
        )
    return session_id
