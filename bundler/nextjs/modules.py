"""The ``next/*`` specifiers a page may import, served from this folder's own small modules.

A Next.js app imports ``next/link``, ``next/navigation``, ``next/image``, ``next/font/*``… The
``next`` package is a server framework and is not in the allowlist; these modules give a page
the same API in the browser (see ``next/*.tsx`` beside this file). Esbuild asks the import
rules about each specifier, and they answer with a path in :data:`NEXT_NAMESPACE`, whose
modules this class loads:

- ``next/link`` → ``link.tsx`` (and likewise for the other modules in :data:`MODULES`);
- ``stage:next/router`` and friends: what those modules share, never imported by a session;
- ``next/font/google`` → a module generated for the importing file, exporting each family it
  imports (``Geist_Mono`` → ``"Geist Mono"``); ``next/font/local`` → one that knows the URL of
  each font file the importing file names; ``next/script`` → one that knows the file each
  literal inline ``<Script>`` text of the importing file became (see bundler.nextjs.scripts).

Server-only modules (``next/headers``, ``next/server``, ``next/cache``, ``server-only``) are
refused with a message that says why.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bundler.artifacts import SourceFile
from bundler.esbuild import message
from bundler.nextjs.scripts import inline_scripts

__all__ = [
    "NextModules",
    "NEXT_NAMESPACE",
    "MODULES",
    "SERVER_ONLY",
    "MODULES_DIGEST",
    "PROVIDED_PACKAGES",
]

NEXT_NAMESPACE = "stage-next"
_FOLDER = Path(__file__).resolve().parent / "next"

#: Specifier → the file (in ``next/``) that provides it.
MODULES = {
    "next": "next.ts",
    "next/link": "link.tsx",
    "next/navigation": "navigation.ts",
    "next/image": "image.tsx",
    "next/legacy/image": "image.tsx",
    "next/router": "router-compat.ts",
    "next/dynamic": "dynamic.tsx",
    "next/head": "head.tsx",
    # What v0's root layout imports from Vercel's own packages: its fonts and its analytics.
    "@vercel/analytics": "vercel-analytics.ts",
    "@vercel/analytics/next": "vercel-analytics.ts",
    "@vercel/analytics/react": "vercel-analytics.ts",
    "@vercel/speed-insights/next": "vercel-analytics.ts",
    "@vercel/speed-insights/react": "vercel-analytics.ts",
    "geist/font/sans": "geist-sans.ts",
    "geist/font/mono": "geist-mono.ts",
    "stage:next/app": "app.tsx",
    "stage:next/router": "router.ts",
    "stage:next/font": "font.ts",
    "stage:next/script": "script.tsx",
}
#: npm packages whose modules these are: a /package.json naming them misses nothing.
PROVIDED_PACKAGES = ("next", "geist", "@vercel/analytics", "@vercel/speed-insights")
#: Changes with the modules' code, so a render's input hash does too (no stale dedupe).
MODULES_DIGEST = hashlib.sha256(
    b"".join((_FOLDER / name).read_bytes() for name in sorted(MODULES.values()))
).hexdigest()[:16]
_FONT_GOOGLE = "next/font/google"
_FONT_LOCAL = "next/font/local"
_SCRIPT = "next/script"
_PER_IMPORTER = (_FONT_GOOGLE, _FONT_LOCAL, _SCRIPT)
#: The file an inline <Script> text becomes: ``stage:next/inline/<importer>/script-<n>.js``.
_INLINE = "stage:next/inline"
_INLINE_FILE = re.compile(r"^stage:next/inline(?P<importer>/.*)/script-(?P<index>\d+)\.js$")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")

#: Modules that only work on a Next.js server, and what each one does there.
SERVER_ONLY = {
    "next/headers": "it reads the request's headers and cookies on a Next.js server",
    "next/server": "it holds Next.js middleware and route handler types (NextRequest, "
    "NextResponse) for a server",
    "next/cache": "it revalidates a Next.js server's cache",
    "next/og": "it renders images on a Next.js server",
    "server-only": "it marks a module that must never reach the browser",
}

_NAMED_IMPORT = re.compile(
    r"""import\s*(?:type\s*)?\{([^{}]{0,2000})\}\s*from\s*["']next/font/google["']"""
)
_FONT_FILE = re.compile(r"""["'`]([^"'`\n]+\.(?:woff2?|ttf|otf|eot))["'`]""", re.IGNORECASE)


class NextModules:
    """Resolves and loads the ``next/*`` modules of one build."""

    def __init__(self, root: Path, node_modules: Path, sources: Mapping[str, SourceFile]) -> None:
        self.root = root
        self.node_modules = node_modules
        self.sources = sources

    def provides(self, specifier: str) -> bool:
        return (
            specifier in MODULES
            or specifier in SERVER_ONLY
            or specifier == "next"
            or specifier.startswith(("next/", _INLINE + "/"))
        )

    def resolve(self, specifier: str, importer: str | None) -> dict[str, Any]:
        """The plugin answer for ``specifier`` (one :meth:`provides` accepts), imported by the
        session file ``importer`` (None when not a session file): a namespaced path or an
        ``error`` message."""
        if specifier.startswith("next/") and specifier.endswith(".js"):
            specifier = specifier[: -len(".js")]  # packages import "next/navigation.js"
        if specifier in SERVER_ONLY:
            return {
                "error": (
                    f'cannot import "{specifier}": {SERVER_ONLY[specifier]}, and a preview page runs '
                    "only in the browser; move this code into an API route (a file under /api/) "
                    "and fetch it from the page"
                )
            }
        if specifier in MODULES:
            return {"path": specifier, "namespace": NEXT_NAMESPACE}
        if specifier in _PER_IMPORTER:
            return {"path": f"{specifier}:{importer or ''}", "namespace": NEXT_NAMESPACE}
        if specifier.startswith(_INLINE + "/"):
            return {"path": specifier, "namespace": NEXT_NAMESPACE}
        offered = ", ".join(s for s in [*MODULES, *_PER_IMPORTER] if s.startswith("next"))
        return {
            "error": (
                f'cannot import "{specifier}": a preview page provides these modules '
                f"of Next.js: {offered}"
            )
        }

    def load(self, path: str) -> dict[str, Any]:
        """The contents of the namespaced module ``path`` (what :meth:`resolve` returned)."""
        if path in MODULES:
            text = (_FOLDER / MODULES[path]).read_text("utf-8")
            loader = "tsx" if MODULES[path].endswith(".tsx") else "ts"
            return {
                "contents": text.encode(),
                "loader": loader,
                "resolveDir": str(self.node_modules),
            }
        inline = _INLINE_FILE.match(path)
        if inline is not None:
            scripts = inline_scripts(self._text(inline["importer"]))
            index = int(inline["index"])
            if index >= len(scripts):  # only the generated next/script module names these
                return {"errors": [message(f"{path} is no inline script of the session")]}
            return {"contents": scripts[index].encode(), "loader": "file"}
        specifier, _, importer = path.partition(":")
        if specifier == _FONT_GOOGLE:
            source = self._google_fonts(importer)
        elif specifier == _FONT_LOCAL:
            source = self._local_fonts(importer)
        else:
            source = self._scripts(importer)
        return {"contents": source.encode(), "loader": "js", "resolveDir": str(self.root)}

    def _text(self, importer: str) -> str:
        source = self.sources.get(importer)
        return source.content.decode("utf-8", "replace") if source else ""

    def _google_fonts(self, importer: str) -> str:
        names: list[str] = []
        for clause in _NAMED_IMPORT.findall(self._text(importer)):
            for item in clause.split(","):
                name = item.strip().removeprefix("type ").split(" as ")[0].strip()
                if _IDENTIFIER.match(name) and name not in names:
                    names.append(name)
        lines = ['import { googleFont } from "stage:next/font";']
        for name in names:
            family = name.replace("_", " ")
            lines.append(
                f"export const {name} = (options) => googleFont({json.dumps(family)}, options);"
            )
        return "\n".join(lines) + "\n"

    def _scripts(self, importer: str) -> str:
        lines = ['import { makeScript } from "stage:next/script";']
        entries = []
        for index, code in enumerate(inline_scripts(self._text(importer))):
            lines.append(f'import s{index} from "{_INLINE}{importer}/script-{index}.js";')
            entries.append(f"[{json.dumps(code)}, s{index}]")
        lines.append(f"export default makeScript(new Map([{', '.join(entries)}]));")
        return "\n".join(lines) + "\n"

    def _local_fonts(self, importer: str) -> str:
        lines = ['import { localFont } from "stage:next/font";']
        urls: list[str] = []
        folder = posixpath.dirname(importer) or "/"
        for written in dict.fromkeys(_FONT_FILE.findall(self._text(importer))):
            if written.startswith(("http:", "https:", "//")):
                continue
            path = posixpath.normpath(posixpath.join(folder, written))
            for candidate in (path, "/public" + path if written.startswith("/") else None):
                if candidate and candidate in self.sources:
                    name = f"f{len(urls)}"
                    lines.append(f"import {name} from {json.dumps(candidate)};")
                    urls.append(f"{json.dumps(written)}: {name}")
                    break
        lines.append(f"const urls = {{{', '.join(urls)}}};")
        lines.append("export default (options) => localFont(options, urls);")
        return "\n".join(lines) + "\n"
