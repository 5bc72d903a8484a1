"""The pinned npm runtime in ``bundler/runtime/``: the esbuild binary, the Tailwind toolchain
and the package allowlist."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

__all__ = ["Runtime", "BUILD_TOOLS", "DEFAULT_RUNTIME_DIR", "package_name"]

#: package.json + lock live beside this module so the pin travels with the code.
DEFAULT_RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"

#: Packages in package.json that sandbox code may not import: build tools, not browser code.
#: The Tailwind toolchain runs in the Tailwind services; stylesheets reach it by @import,
#: v3 configs by name (Tailwind 3.4 is pinned as ``tailwindcss3``, beside v4).
BUILD_TOOLS = frozenset(
    {
        "esbuild",
        "tailwindcss",
        "@tailwindcss/oxide",
        "@tailwindcss/typography",
        "tw-animate-css",
        "tailwindcss3",
        "tailwindcss-animate",
        "@tailwindcss/forms",
        "@tailwindcss/aspect-ratio",
        "@tailwindcss/container-queries",
    }
)

_OS = {"linux": "linux", "darwin": "darwin", "win32": "win32", "freebsd": "freebsd"}
_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


def package_name(specifier: str) -> str:
    """``react-dom/client`` → ``react-dom``; ``@scope/pkg/x`` → ``@scope/pkg``."""
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


@dataclass(frozen=True)
class Runtime:
    """Where the pinned packages are, and what they allow."""

    root: Path = DEFAULT_RUNTIME_DIR
    binary_override: Path | None = None

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @cached_property
    def _manifest(self) -> dict[str, object]:
        return dict(json.loads((self.root / "package.json").read_text("utf-8")))

    @cached_property
    def allowed_packages(self) -> tuple[str, ...]:
        """Package names sandbox code may import: package.json's dependencies, sorted."""
        deps = self._manifest.get("dependencies", {})
        assert isinstance(deps, dict)
        return tuple(sorted(name for name in deps if name not in BUILD_TOOLS))

    @cached_property
    def esbuild_version(self) -> str:
        """The esbuild version the lock pins (what the binary must report)."""
        installed = self.node_modules / "esbuild" / "package.json"
        return str(json.loads(installed.read_text("utf-8"))["version"])

    @cached_property
    def tailwind_version(self) -> str:
        """The Tailwind version the lock pins (the compiler the Tailwind service runs)."""
        installed = self.node_modules / "tailwindcss" / "package.json"
        return str(json.loads(installed.read_text("utf-8"))["version"])

    @cached_property
    def lock_hash(self) -> str:
        """sha256 of package-lock.json: changes whenever any pinned package does."""
        return hashlib.sha256((self.root / "package-lock.json").read_bytes()).hexdigest()

    @property
    def binary(self) -> Path:
        """The native esbuild executable (not the Node wrapper in ``.bin``)."""
        if self.binary_override is not None:
            return self.binary_override
        os_name = _OS.get(sys.platform, sys.platform)
        arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
        return self.node_modules / "@esbuild" / f"{os_name}-{arch}" / "bin" / "esbuild"

    @property
    def tailwind_service(self) -> Path:
        """The Tailwind service script: it imports the pinned packages beside it."""
        return self.root / "tailwind-service.mjs"

    def check(self) -> None:
        """Raise FileNotFoundError with the fix when ``npm ci`` has not been run."""
        if not self.binary.is_file():
            raise FileNotFoundError(
                f"esbuild binary not found at {self.binary}: run `npm ci` in {self.root} "
                "(or `make setup`)"
            )
        for needed in (self.node_modules / "tailwindcss" / "package.json", self.tailwind_service):
            if not needed.is_file():
                raise FileNotFoundError(
                    f"{needed} is missing: {self.root} is not an installed "
                    "npm runtime (run `npm ci` there, or `make setup`)"
                )
