"""Turns a set of session files into browser artifacts. Pure: files in, artifacts out.

The build machinery (:class:`Bundler`, the esbuild driver, the jinja2 shell) and the
pinned runtime (:class:`Runtime`) load on first use: a process that only reads records
and diagnostics, such as a gateway importing ``worker.client``, never imports them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bundler.artifacts import (
    Artifact,
    Bundle,
    ComputeModule,
    Diagnostic,
    Page,
    Route,
    SourceFile,
    content_type_for,
)
from bundler.errors import (
    DEFAULT_BUILD_TIMEOUT_S,
    BuildFailed,
    BundlerCrashed,
    BundlerError,
    BundlerTimeout,
    BundlerUnavailable,
)

if TYPE_CHECKING:
    from bundler.build import Bundler
    from bundler.pins import Runtime
    from bundler.tailwind import TailwindService

__all__ = [
    "Artifact",
    "Bundle",
    "Bundler",
    "BuildFailed",
    "BundlerCrashed",
    "BundlerError",
    "BundlerTimeout",
    "BundlerUnavailable",
    "DEFAULT_BUILD_TIMEOUT_S",
    "Diagnostic",
    "Page",
    "ComputeModule",
    "Route",
    "Runtime",
    "SourceFile",
    "TailwindService",
    "content_type_for",
]

_ON_FIRST_USE = {
    "Bundler": "bundler.build",
    "Runtime": "bundler.pins",
    "TailwindService": "bundler.tailwind",
}


def __getattr__(name: str) -> Any:
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module 'bundler' has no attribute {name!r}")
    value = getattr(importlib.import_module(_ON_FIRST_USE[name]), name)
    globals()[name] = value
    return value
