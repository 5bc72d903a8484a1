"""Which sessions are Tailwind apps, and their Tailwind stylesheets.

- **Own entry**: a session stylesheet holding ``@import "tailwindcss"`` (or v3's
  ``@tailwind base/components/utilities``, read as that import) is compiled by Tailwind,
  and the compiled text is what esbuild bundles in its place. When the code imports it, the
  app styles itself and nothing else is added.
- **Zero-config**: no imported own entry, and either the session imports no stylesheet of
  its own and a ``className``/``class`` (or ``cn()``/``clsx()``/``cva()``) names a Tailwind
  utility, or the session shows Tailwind signals (imports ``tailwind-merge`` or
  ``class-variance-authority``, has ``/components.json``, a ``tailwind.config.*`` or a
  ``/package.json`` naming tailwindcss) → one more stylesheet, before the app's own: Tailwind
  (preflight, theme, the utilities the files use), tw-animate-css and shadcn/ui-compatible
  design tokens (``tailwind-defaults.css``).
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

from bundler.artifacts import Artifact, SourceFile, content_type_for
from bundler.tailwind import SERVICE_SCRIPT, TailwindService

__all__ = ["TailwindCss", "CssResult", "DEFAULTS_PATH", "own_entries", "tailwind_signal"]

#: The zero-config entry: Tailwind, tw-animate-css and the default design tokens.
DEFAULTS_PATH = Path(__file__).resolve().parent / "tailwind-defaults.css"
#: How the zero-config entry is named in a diagnostic (it is not a session file).
_DEFAULTS_NAME = "stage:tailwind-defaults.css"

_TAILWIND_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']tailwindcss["']""")
_V3_DIRECTIVE = re.compile(r"@tailwind\s+(base|components|utilities|variants|screens)\s*;?")
#: Files whose text is scanned for class candidates, and stylesheets (sent for @import).
_TEXT_EXTENSIONS = (".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs", ".html", ".htm", ".md",
                    ".mdx", ".json", ".vue", ".svelte", ".astro", ".css")
_CODE_EXTENSIONS = (".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs")
_SIGNAL_IMPORT = re.compile(
    r"""(?:from|import|require\()\s*["'](tailwind-merge|class-variance-authority)["']""")
_CONFIG_FILE = re.compile(r"^tailwind\.config\.(?:js|cjs|mjs|ts|cts|mts)$")
_CLASS_ATTRIBUTE = re.compile(
    r"""\bclass(?:Name)?\s*=\s*(?:"([^"]*)"|'([^']*)'|\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\})""")
_CLASS_CALL = re.compile(
    r"""\b(?:cn|clsx|cva|twMerge|classNames|classnames)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)""")


@dataclass
class CssResult:
    """What Tailwind changed in a build: stylesheets compiled in place, time spent."""

    compiled: dict[str, bytes] = field(default_factory=dict)
    ms: float = 0.0


def own_entries(sources: Mapping[str, SourceFile]) -> dict[str, str]:
    """Session stylesheets that ask for Tailwind, v3 directives read as the v4 import."""
    entries = {}
    for path, source in sources.items():
        if not path.endswith(".css"):
            continue
        text = source.content.decode("utf-8", "replace")
        if _TAILWIND_IMPORT.search(text):
            entries[path] = text
        elif _V3_DIRECTIVE.search(text):
            entries[path] = _from_v3(text)
    return entries


def _from_v3(text: str) -> str:
    # The first directive becomes the whole import; the others go. Lines keep their
    # numbers, so a diagnostic still points at the line as pushed.
    first = True

    def replace(match: re.Match[str]) -> str:
        nonlocal first
        was_first, first = first, False
        return '@import "tailwindcss";' if was_first else ""

    return _V3_DIRECTIVE.sub(replace, text)


def tailwind_signal(sources: Mapping[str, SourceFile]) -> str | None:
    """Why the session looks like a Tailwind app whatever it imports, or None."""
    if "/components.json" in sources:
        return "/components.json"
    for path, source in sources.items():
        if _CONFIG_FILE.match(posixpath.basename(path)):
            return path
        if path.endswith(_CODE_EXTENSIONS):
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
                for key in ("dependencies", "devDependencies")):
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

    def __init__(self, service: TailwindService, timeout_s: float) -> None:
        self.service = service
        self.timeout_s = timeout_s
        self._defaults = DEFAULTS_PATH.read_text("utf-8")

    @cached_property
    def digest(self) -> str:
        """Changes when the default tokens or the service's scanning and loading rules do."""
        content = self._defaults.encode("utf-8") + SERVICE_SCRIPT.read_bytes()
        return hashlib.sha256(content).hexdigest()[:12]

    def compile_entries(self, sources: Mapping[str, SourceFile]) -> CssResult:
        """Every own entry compiled (path → compiled bytes). Raises BuildFailed."""
        entries = own_entries(sources)
        result = CssResult()
        if not entries:
            return result
        started = time.perf_counter()
        files = _text_files(sources)
        for path, css in sorted(entries.items()):
            compiled = self.service.compile(path, css, files, self.timeout_s)
            result.compiled[path] = (compiled.css or "").encode("utf-8")
        result.ms = _ms_since(started)
        return result

    def zero_config(self, sources: Mapping[str, SourceFile], result: CssResult,
                    imported_styles: Iterable[str]) -> Artifact | None:
        """The zero-config stylesheet, when the rule gives the session one.

        ``imported_styles`` are the session stylesheets the build bundled.
        """
        imported = set(imported_styles)
        if imported & result.compiled.keys():
            return None  # the app brings its own Tailwind entry
        signal = tailwind_signal(sources)
        if signal is None and imported:
            return None  # a plain-CSS app
        probe = None if signal is not None else _class_text(sources)
        if probe == "":
            return None
        started = time.perf_counter()
        compiled = self.service.compile(_DEFAULTS_NAME, self._defaults, _text_files(sources),
                                        self.timeout_s, probe=probe)
        result.ms += _ms_since(started)
        if compiled.css is None:
            return None
        content = compiled.css.encode("utf-8")
        name = f"tailwind-{hashlib.sha256(content).hexdigest()[:10]}.css"
        return Artifact(name, content, content_type_for(name), "style")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
