"""Tailwind v3 stylesheets, compiled as their builder compiled them: with Tailwind 3.4.

A session stylesheet written for v3 (``@tailwind base;`` …, or ``@import
'tailwindcss/base'`` and ``/components``) is compiled by the pinned Tailwind 3.4 in its own
long-lived service (``runtime/tailwind3-service.mjs``, started on the first such session),
with the session's ``tailwind.config.*`` evaluated in a sandbox (:mod:`bundler.tailwind_config`).

Why v3 itself and not v4's compatibility layer: the measure is the page as its user saw it
in the builder, which ran v3. v4 reading a v3 project differs where everyone looks —
preflight's border colour (v3: the theme's gray-200 ``#e5e7eb``; v4: ``currentColor``, so
every ``border`` turns dark), ``ring`` (v3: 3px ``#3b82f6`` at 50%; v4: 1px
``currentColor``), the shadow/rounded/blur scales shifted by one step (v3 ``shadow-sm`` is
v4 ``shadow-xs``), placeholders (v3 gray-400; v4 the text colour at 50%), buttons' cursor,
the palette (v3 hex, v4 oklch, visibly different), ``dark:`` selectors, ``space-x-*`` and
``divide-*`` selectors, and ``container``'s ``center``/``padding`` options. docs/contract.md
lists them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from bundler.artifacts import SourceFile
from bundler.tailwind import TailwindService
from bundler.tailwind_config import ConfigSandbox, find_config

__all__ = ["TailwindV3", "V3_SERVICE_SCRIPT", "is_v3"]

#: The v3 compiler service, beside the packages it loads.
V3_SERVICE_SCRIPT = Path(__file__).resolve().parent / "runtime" / "tailwind3-service.mjs"

_DIRECTIVE = re.compile(r"@tailwind\s+(?:base|components|utilities|variants|screens)\b")
#: v4 has no base or components entry point, so these can only mean v3.
_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*)?["']tailwindcss/(?:base|components)(?:\.css)?["']"""
)


def is_v3(css: str) -> bool:
    """Whether a stylesheet is written for Tailwind v3."""
    return bool(_DIRECTIVE.search(css) or _IMPORT.search(css))


class TailwindV3:
    """The v3 stage of a build: the config sandbox and the v3 service."""

    def __init__(self, node: str = "node", sandbox: ConfigSandbox | None = None) -> None:
        self.service = TailwindService(
            node, script=V3_SERVICE_SCRIPT, name="the Tailwind v3 service"
        )
        self.sandbox = sandbox or ConfigSandbox(node=node)

    def compile(
        self,
        path: str,
        css: str,
        sources: Mapping[str, SourceFile],
        files: Mapping[str, str],
        timeout_s: float,
    ) -> str:
        """The stylesheet at ``path`` compiled with the session's config. Raises BuildFailed."""
        config_path = find_config(sources, path)
        config: dict[str, object] = {}
        if config_path is not None:
            text = sources[config_path].content.decode("utf-8", "replace")
            config = self.sandbox.evaluate(config_path, text)
        compiled = self.service.compile(
            path, css, files, timeout_s, config=config, config_path=config_path
        )
        return compiled.css or ""

    def close(self) -> None:
        self.service.close()
