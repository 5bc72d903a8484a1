"""esbuild build requests, assembled in one place for pages, API routes and vendor chunks.

A page and the vendor chunks it loads must agree on target, format and ``define``: a chunk
built for another target or with another ``NODE_ENV`` would run, differently, beside the
page. So every browser build starts from :data:`BROWSER_FLAGS`, and every request has the
shape :func:`build_request` gives it (esbuild's ``build`` command over the service protocol).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bundler.protocol import BuildRequest
from bundler.vite import BUILT_IN_ENV_DEFINE

__all__ = [
    "BROWSER_FLAGS",
    "PAGE_FLAGS",
    "SERVER_FLAGS",
    "Plugin",
    "build_request",
    "RESOLVE_EXTENSIONS",
    "SCRIPT_LOADERS",
]

#: Tried, in order, for an import without an extension (esbuild's own order).
RESOLVE_EXTENSIONS = (".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs", ".css", ".json")

#: What every build reports: messages come back in the response, nothing goes to stderr,
#: every error rather than the first ten, and the metafile (inputs and outputs).
_REPORTING = ["--charset=utf8", "--metafile", "--log-level=silent", "--log-limit=0"]

#: Shared by pages and vendor chunks: minified classic scripts (a classic script also runs
#: from file://, the local store's URL) for the same browsers, in production mode.
BROWSER_FLAGS = [
    "--bundle",
    *_REPORTING,
    "--minify",
    "--format=iife",
    "--platform=browser",
    "--target=es2020",
    '--define:process.env.NODE_ENV="production"',
    BUILT_IN_ENV_DEFINE,  # Vite's import.meta.env, for packages that read it (zustand)
]

#: The loader of each script extension, for the build and for parsing alone alike. ``.js``
#: files may hold JSX: Create React App and Sandpack projects write their components so.
SCRIPT_LOADERS = {
    ".ts": "ts",
    ".tsx": "tsx",
    ".jsx": "jsx",
    ".js": "jsx",
    ".mjs": "js",
    ".cjs": "js",
}
_LOADERS = {
    **SCRIPT_LOADERS,
    **{
        ext: "file"
        for ext in (
            ".svg",
            ".png",
            ".jpg",
            ".jpeg",
            ".gif",
            ".webp",
            ".avif",
            ".ico",
            ".woff",
            ".woff2",
            ".ttf",
            ".otf",
        )
    },
    ".txt": "text",
    ".md": "text",
}
_SESSION_CODE = [
    f"--resolve-extensions={','.join(RESOLVE_EXTENSIONS)}",
    *[f"--loader:{ext}={loader}" for ext, loader in _LOADERS.items()],
    "--jsx=automatic",
]

#: A page: session code for the browser, plus its source map and imported files.
PAGE_FLAGS = [
    *BROWSER_FLAGS,
    *_SESSION_CODE,
    "--sourcemap=linked",
    # The page's script and stylesheet sit next to index.html: URLs the script builds for
    # imported files ("./assets/logo-X.png") resolve against the document, so both agree.
    "--entry-names=app-[hash]",
    "--chunk-names=assets/chunk-[hash]",
    "--asset-names=assets/[name]-[hash]",
]

#: API backend routes: ES modules for the Deno sandbox (Node built-ins as ``node:`` imports).
#: The inline source map (mappings only) lets Deno name the session file and line of an
#: uncaught error.
SERVER_FLAGS = [
    "--bundle",
    *_REPORTING,
    *_SESSION_CODE,
    "--format=esm",
    "--platform=node",
    "--target=es2022",
    "--sourcemap=inline",
    "--sources-content=false",
    "--entry-names=[dir]/[name]",
    "--asset-names=assets/[name]-[hash]",
]


@dataclass(frozen=True)
class Plugin:
    """The one plugin a build has: which imports it is asked about (a Go regexp), and the
    namespaces whose modules it loads itself (vendor shims, generated modules)."""

    name: str
    resolve_filter: str
    load_namespaces: tuple[str, ...]


def build_request(
    flags: Sequence[str],
    *,
    working_dir: Path,
    node_modules: Path,
    plugin: Plugin,
    entries: Sequence[tuple[str, Path]] = (),
    stdin: bytes | None = None,
    stdin_resolve_dir: Path | None = None,
) -> BuildRequest:
    """esbuild's ``build`` request: ``entries`` as (output name or "", file), or ``stdin``.

    Packages resolve from ``node_modules`` only (``nodePaths``), never from a folder above
    the build's.
    """
    return {
        "command": "build",
        "key": 0,
        "entries": [[name, str(path)] for name, path in entries],
        "flags": list(flags),
        "write": False,
        "stdinContents": stdin,
        "stdinResolveDir": str(stdin_resolve_dir) if stdin_resolve_dir else None,
        "absWorkingDir": str(working_dir),
        "nodePaths": [str(node_modules)],
        "context": False,
        "plugins": [
            {
                "name": plugin.name,
                "onStart": False,
                "onEnd": False,
                "onResolve": [{"id": 0, "filter": plugin.resolve_filter, "namespace": ""}],
                "onLoad": [
                    {"id": n, "filter": ".*", "namespace": namespace}
                    for n, namespace in enumerate(plugin.load_namespaces, start=1)
                ],
            }
        ],
    }
