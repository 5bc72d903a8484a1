"""Which sessions are Tailwind apps, and their Tailwind stylesheets.

- **Own entry**: a session stylesheet holding ``@import "tailwindcss"`` is compiled by
  Tailwind, and the compiled text is what esbuild bundles in its place; one written for v3
  (``@tailwind base;`` …) is compiled the same way by Tailwind 3.4 with the session's
  ``tailwind.config.*`` (:mod:`bundler.tailwind3`). When the code imports it, the
  app styles itself and nothing else is added.
- **Zero-config**: no imported own entry, and either the session imports no stylesheet of
  its own and a ``className``/``class`` (or ``cn()``/``clsx()``/``cva()``) names a Tailwind
  utility, or the session shows Tailwind signals (imports ``tailwind-merge`` or
  ``class-variance-authority``, has ``/components.json``, a ``tailwind.config.*`` or a
  ``/package.json`` naming tailwindcss) → one more stylesheet, before the app's own: Tailwind
  (preflight, theme, the utilities the files use), tw-animate-css and shadcn/ui-compatible
  design tokens (``tailwind-defaults.css``). A session that uses built-in ui components
  (bundler.builtin_ui) is a Tailwind app too: they are styled with Tailwind classes.
- The built-in ui modules a session uses are scanned for classes beside its own files, and
  an own entry that defines no design tokens gets the default ones (and tw-animate-css),
  as Claude's artifact runtime gives its components.
- Otherwise nothing changes: no preflight, no extra stylesheet.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bundler.artifacts import Artifact, Diagnostic, SourceFile, content_type_for
from bundler.errors import BuildFailed
from bundler.tailwind import SERVICE_SCRIPT, TailwindService
from bundler.tailwind3 import V3_SERVICE_SCRIPT, TailwindV3, is_v3
from bundler.tailwind_config import SANDBOX_SCRIPT

__all__ = [
    "TailwindCss",
    "CssResult",
    "DEFAULTS_PATH",
    "own_entries",
    "tailwind_signal",
    "v3_entries",
]

#: The zero-config entry: Tailwind, tw-animate-css and the default design tokens.
DEFAULTS_PATH = Path(__file__).resolve().parent / "tailwind-defaults.css"
#: How the zero-config entry is named in a diagnostic (it is not a session file).
_DEFAULTS_NAME = "stage:tailwind-defaults.css"

_TAILWIND_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']tailwindcss["']""")
# An own entry that sets the tokens shadcn/ui classes name (v4 @theme or v3 HSL channels).
_DEFINES_TOKENS = re.compile(r"--(?:color-)?primary\s*:")
#: Files whose text is scanned for class candidates, and stylesheets (sent for @import).
_TEXT_EXTENSIONS = (
    ".tsx",
    ".ts",
    ".jsx",
    ".js",
    ".mjs",
    ".cjs",
    ".html",
    ".htm",
    ".md",
    ".mdx",
    ".json",
    ".vue",
    ".svelte",
    ".astro",
    ".css",
)
_CODE_EXTENSIONS = (".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs")
_SIGNAL_IMPORT = re.compile(
    r"""(?:from|import|require\()\s*["'](tailwind-merge|class-variance-authority)["']"""
)
_CONFIG_FILE = re.compile(r"^tailwind\.config\.(?:js|cjs|mjs|ts|cts|mts)$")
_CLASS_ATTRIBUTE = re.compile(
    r"""\bclass(?:Name)?\s*=\s*(?:"([^"]*)"|'([^']*)'|\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\})"""
)
_CLASS_CALL = re.compile(
    r"""\b(?:cn|clsx|cva|twMerge|classNames|classnames)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)"""
)


@dataclass
class CssResult:
    """What Tailwind changed in a build: stylesheets compiled in place, time spent."""

    compiled: dict[str, bytes] = field(default_factory=dict)
    ms: float = 0.0
    #: Own entries Tailwind refused, with why: they fail the build only if the page loads
    #: them (until then their compiled text is empty).
    failures: dict[str, list[Diagnostic]] = field(default_factory=dict)


def own_entries(sources: Mapping[str, SourceFile]) -> dict[str, str]:
    """Session stylesheets that ask for Tailwind v4."""
    return {
        path: text for path, text in _stylesheets(sources).items() if _TAILWIND_IMPORT.search(text)
    }


def v3_entries(sources: Mapping[str, SourceFile]) -> dict[str, str]:
    """Session stylesheets written for Tailwind v3 (and not importing v4), and in a v3
    project every other stylesheet using ``@apply`` (Vite runs Tailwind on each one)."""
    sheets = {
        path: text
        for path, text in _stylesheets(sources).items()
        if not _TAILWIND_IMPORT.search(text)
    }
    if not any(is_v3(text) for text in sheets.values()):
        return {}
    return {path: text for path, text in sheets.items() if is_v3(text) or "@apply" in text}


def _stylesheets(sources: Mapping[str, SourceFile]) -> dict[str, str]:
    return {
        path: source.content.decode("utf-8", "replace")
        for path, source in sources.items()
        if path.endswith(".css")
    }


def tailwind_signal(sources: Mapping[str, SourceFile]) -> str | None:
    """Why the session looks like a Tailwind app whatever it imports, or None."""
    if "/components.json" in sources:
        return "/components.json"
    for path, source in sources.items():
        if _CONFIG_FILE.match(posixpath.basename(path)):
            return path
        if path.endswith(_CODE_EXTENSIONS) and (
            b"tailwind-merge" in source.content or b"class-variance-authority" in source.content
        ):  # the names the import needs, looked for without decoding every file
            found = _SIGNAL_IMPORT.search(source.content.decode("utf-8", "replace"))
            if found:
                return f"{path} imports {found[1]}"
    package = sources.get("/package.json")
    if package is not None:
        try:
            manifest = json.loads(package.content)
        except ValueError:
            return None
        if isinstance(manifest, dict) and any(
            isinstance(manifest.get(key), dict) and "tailwindcss" in manifest[key]
            for key in ("dependencies", "devDependencies")
        ):
            return "/package.json"
    return None


def _class_text(sources: Mapping[str, SourceFile]) -> str:
    """The text of every class attribute and class-joining call in the session's code."""
    pieces = []
    for path, source in sources.items():
        if path.endswith((*_CODE_EXTENSIONS, ".html", ".htm", ".mdx")):
            text = source.content.decode("utf-8", "replace")
            pieces += ["".join(m.groups(default="")) for m in _CLASS_ATTRIBUTE.finditer(text)]
            pieces += [m[1] for m in _CLASS_CALL.finditer(text)]
    return "\n".join(pieces)


def _text_files(sources: Mapping[str, SourceFile]) -> dict[str, str]:
    files = {}
    for path, source in sources.items():
        if path.endswith(_TEXT_EXTENSIONS):
            try:
                files[path] = source.content.decode("utf-8")
            except UnicodeDecodeError:
                continue  # not text: nothing to scan
    return files


class TailwindCss:
    """The Tailwind stage of a build, on one :class:`TailwindService`."""

    def __init__(
        self, service: TailwindService, timeout_s: float, v3: TailwindV3 | None = None
    ) -> None:
        self.service = service
        self.timeout_s = timeout_s
        self.v3 = v3 or TailwindV3(service.node)
        self._defaults = DEFAULTS_PATH.read_text("utf-8")
        #: The defaults without Tailwind's import, for an own entry that already has it.
        self._tokens = re.sub(_TAILWIND_IMPORT.pattern + r"[^;]*;", "", self._defaults, count=1)

    @cached_property
    def digest(self) -> str:
        """Changes when the default tokens or the service's scanning and loading rules do."""
        content = (
            self._defaults.encode("utf-8")
            + SERVICE_SCRIPT.read_bytes()
            + V3_SERVICE_SCRIPT.read_bytes()
            + SANDBOX_SCRIPT.read_bytes()
        )
        return hashlib.sha256(content).hexdigest()[:12]

    def compile_entries(
        self, sources: Mapping[str, SourceFile], builtins: Mapping[str, str] | None = None
    ) -> CssResult:
        """Every own entry compiled (path → compiled bytes), or its failure kept.

        ``builtins``: the built-in ui modules the session uses (name → text), scanned too.
        """
        entries = own_entries(sources)
        v3 = v3_entries(sources)
        result = CssResult()
        if not entries and not v3:
            return result
        started = time.perf_counter()
        files = {**_text_files(sources), **(builtins or {})}
        for path, css in sorted(entries.items()):
            if builtins and not _DEFINES_TOKENS.search(css):
                css += "\n" + self._tokens  # after the last line: diagnostics keep their lines
            try:
                compiled = self.service.compile(path, css, files, self.timeout_s)
            except BuildFailed as exc:
                result.failures[path] = exc.diagnostics
                result.compiled[path] = b""
                continue
            result.compiled[path] = (compiled.css or "").encode("utf-8")
        for path, css in sorted(v3.items()):
            try:
                text = self.v3.compile(path, css, sources, files, self.timeout_s)
            except BuildFailed as exc:
                result.failures[path] = exc.diagnostics
                result.compiled[path] = b""
                continue
            result.compiled[path] = text.encode("utf-8")
        result.ms = _ms_since(started)
        return result

    def close(self) -> None:
        """Stop the v3 service (the v4 service belongs to the caller)."""
        self.v3.close()

    def zero_config(
        self,
        sources: Mapping[str, SourceFile],
        result: CssResult,
        imported_styles: Iterable[str],
        builtins: Mapping[str, str] | None = None,
    ) -> Artifact | None:
        """The zero-config stylesheet, when the rule gives the session one.

        ``imported_styles`` are the session stylesheets the build bundled; ``builtins`` the
        built-in ui modules the session uses (name → text).
        """
        imported = set(imported_styles)
        if imported & result.compiled.keys():
            return None  # the app brings its own Tailwind entry
        signal = tailwind_signal(sources) or ("built-in ui components" if builtins else None)
        if signal is None and imported:
            return None  # a plain-CSS app
        probe = None if signal is not None else _class_text(sources)
        if probe == "":
            return None
        started = time.perf_counter()
        compiled = self.service.compile(
            _DEFAULTS_NAME,
            self._defaults,
            {**_text_files(sources), **(builtins or {})},
            self.timeout_s,
            probe=probe,
        )
        result.ms += _ms_since(started)
        if compiled.css is None:
            return None
        content = compiled.css.encode("utf-8")
        name = f"tailwind-{hashlib.sha256(content).hexdigest()[:10]}.css"
        return Artifact(name, content, content_type_for(name), "style")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
