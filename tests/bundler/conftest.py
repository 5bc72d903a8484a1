"""The real pinned esbuild, and helpers to build a session from ``{path: source}``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from bundler import BuildFailed, Bundle, Bundler, Runtime, SourceFile

Files = dict[str, str]


def session(files: Files) -> list[SourceFile]:
    """Files as a gateway pushes them: absolute paths, UTF-8 content."""
    return [SourceFile(path, text.encode("utf-8")) for path, text in files.items()]


@pytest.fixture(scope="module")
def bundler() -> Iterator[Bundler]:
    """One long-lived esbuild service for a module's tests, as a worker process keeps one."""
    try:
        Runtime().check()
    except FileNotFoundError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    built = Bundler()
    yield built
    built.close()


@pytest.fixture(scope="module")
def build(bundler: Bundler) -> Callable[[Files], Bundle]:
    return lambda files: bundler.build(session(files))


@pytest.fixture(scope="module")
def build_failure(bundler: Bundler) -> Callable[[Files], BuildFailed]:
    """Build ``files`` and return the BuildFailed it must raise."""

    def run(files: Files) -> BuildFailed:
        with pytest.raises(BuildFailed) as info:
            bundler.build(session(files))
        return info.value

    return run
