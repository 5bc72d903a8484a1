"""The worker's own check of what a session holds, before anything of it is built.

A gateway is meant to validate every input before it stores it (docs/contract.md §1), but
the worker does not take that on trust: when a render gathers the session, every stored
path, the name and the scopes are checked again with the same rules the client applies
(:mod:`worker.inputs`), plus the per-session limits. Anything that breaks them raises
:class:`StoredInputError`, which the job records as a **build** error naming the path and
the rule: the user sees it, it is never retried, and the session is mended by storing it
correctly (the client's push removes stored paths that break the rules).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from bundler import SourceFile
from worker.errors import InvalidInputError, StoredInputError
from worker.inputs import validate_name, validate_path, validate_scopes
from worker.settings import Settings

__all__ = ["StoredSession", "broken_paths", "check_stored"]

#: What the message of every such error starts with, so a reader knows who broke the rule.


@dataclass(frozen=True)
class StoredSession:
    """A session's name, scopes and files as stored, every one of them checked."""

    name: str
    google_scopes: list[str]
    files: list[SourceFile]


def check_stored(
    meta: Mapping[bytes, bytes], files: Mapping[bytes, bytes], settings: Settings
) -> StoredSession:
    """The session hash (``meta``) and files hash, checked; raise :class:`StoredInputError`."""
    name = _check_name(meta.get(b"name"), settings)
    scopes = _check_scopes(meta.get(b"googleScopes"), settings)
    if len(files) > settings.max_files:
        raise StoredInputError(
            f"the session holds {len(files)} files, more than the limit "
            f"{Settings.variable('max_files')}={settings.max_files}"
        )
    sources: list[SourceFile] = []
    total = 0
    for raw_path, content in files.items():
        path = _decoded_path(raw_path)
        try:
            validate_path(path, settings)
        except InvalidInputError as exc:
            raise StoredInputError(str(exc), path) from None
        if len(content) > settings.max_file_bytes:
            raise StoredInputError(
                f'"{path}": {len(content)} bytes, more than the limit '
                f"{Settings.variable('max_file_bytes')}={settings.max_file_bytes}",
                path,
            )
        total += len(content)
        sources.append(SourceFile(path, content))
    if total > settings.max_session_bytes:
        raise StoredInputError(
            f"the session holds {total} bytes, more than the limit "
            f"{Settings.variable('max_session_bytes')}={settings.max_session_bytes}"
        )
    _check_tree({f.path for f in sources})
    return StoredSession(name, scopes, sorted(sources, key=lambda f: f.path))


def broken_paths(stored: list[bytes], settings: Settings) -> list[bytes]:
    """The stored paths (as bytes) that break the path rules: what a push removes."""
    broken = []
    for raw in stored:
        try:
            validate_path(raw.decode("utf-8"), settings)
        except (UnicodeDecodeError, InvalidInputError):
            broken.append(raw)
    return broken


def _decoded_path(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = ascii(raw)[2:-1]
        raise StoredInputError(f'"{shown}": paths must be UTF-8 text', shown) from None


def _check_name(raw: bytes | None, settings: Settings) -> str:
    if raw is None:
        raise StoredInputError("the session hash has no name field")
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StoredInputError("the session's name is not UTF-8 text") from None
    try:
        validate_name(name, settings)
    except InvalidInputError as exc:
        raise StoredInputError(f"the session's {exc}") from None
    return name


def _check_scopes(raw: bytes | None, settings: Settings) -> list[str]:
    if raw is None:  # sessions created before the field was written at creation
        return []
    try:
        scopes = json.loads(raw)
    except ValueError:
        raise StoredInputError("the session's googleScopes is not a JSON array") from None
    try:
        return validate_scopes(scopes, settings)
    except InvalidInputError as exc:
        raise StoredInputError(str(exc)) from None


def _check_tree(paths: set[str]) -> None:
    """No path is both a file and the folder of another (``/app/x`` and ``/app/x/y.ts``)."""
    for path in sorted(paths):
        parent = path.rsplit("/", 1)[0]
        while parent:
            if parent in paths:
                raise StoredInputError(
                    f'"{path}": "{parent}" is a file, so it cannot also be a folder', path
                )
            parent = parent.rsplit("/", 1)[0]
