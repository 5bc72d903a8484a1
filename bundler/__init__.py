"""Turns a set of session files into browser artifacts. Pure: files in, artifacts out."""

from bundler.artifacts import (
    Artifact,
    Bundle,
    Diagnostic,
    Page,
    Route,
    SourceFile,
    content_type_for,
)
from bundler.build import DEFAULT_BUILD_TIMEOUT_S, Bundler
from bundler.errors import (
    BuildFailed,
    BundlerCrashed,
    BundlerError,
    BundlerTimeout,
    BundlerUnavailable,
)
from bundler.pins import Runtime

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
    "Route",
    "Runtime",
    "SourceFile",
    "content_type_for",
]
