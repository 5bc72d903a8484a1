"""What browser code may import, enforced while esbuild resolves each import.

- relative imports and absolute session paths (``/app/lib/x``) resolve to session files;
- bare imports resolve only to packages in ``bundler/runtime/package.json``;
- Node built-ins, URL imports and ``@stage/*`` platform modules fail with a message
  that says why and what is allowed.

esbuild attaches each error to the import statement, so the diagnostic carries the
importing file, line and column.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from pathlib import Path
from typing import Any

from bundler.esbuild import message

__all__ = ["ImportRules", "NODE_BUILTINS", "STAGE_MODULES", "package_name"]

NODE_BUILTINS = frozenset({
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
    "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2",
    "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode",
    "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls",
    "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib",
})
STAGE_MODULES = ("@stage/inference", "@stage/compute", "@stage/utils")

# Tried, in order, for an absolute session import without an extension (esbuild's own order).
_RESOLVE_SUFFIXES = ("", ".tsx", ".ts", ".jsx", ".js", ".css", ".json")


def package_name(specifier: str) -> str:
    """``react-dom/client`` → ``react-dom``; ``@scope/pkg/x`` → ``@scope/pkg``."""
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


class ImportRules:
    """Answers esbuild's ``on-resolve`` callbacks for one build."""

    #: esbuild's filter (Go regexp): every import that is not plainly relative, and every
    #: import that climbs with "..", which must not leave the session.
    FILTER = r"^[^.]|\.\."

    def __init__(self, root: Path, node_modules: Path, session_paths: Collection[str],
                 allowed_packages: Collection[str]) -> None:
        self.root = root
        self.node_modules = node_modules
        self.session_paths = session_paths
        self.allowed = sorted(allowed_packages)

    def on_resolve(self, request: dict[str, Any]) -> dict[str, Any]:
        """esbuild's ``on-resolve`` request in, the plugin response out."""
        specifier: str = request["path"]
        importer: str = request.get("importer", "")
        if request.get("kind") == "entry-point" or self._in_node_modules(importer):
            return {}
        callback_id = request["ids"][0]
        if specifier.startswith("/") and not specifier.startswith("//"):
            return self._session_file(callback_id, specifier)
        if specifier.startswith("."):
            return self._relative(callback_id, specifier, request.get("resolveDir", ""))
        error = self.rejection(specifier)
        if error:
            return {"id": callback_id, "errors": [message(error)]}
        return {}

    def rejection(self, specifier: str) -> str | None:
        """Why browser code may not import ``specifier``, or None when it may."""
        allowed = ", ".join(self.allowed)
        if "://" in specifier or specifier.startswith("//"):
            return (f'cannot import "{specifier}": URL imports are not supported; '
                    f"import session files or one of the allowed packages: {allowed}")
        name = specifier.removeprefix("node:")
        if specifier.startswith("node:") or package_name(name) in NODE_BUILTINS:
            return (f'cannot import "{specifier}": it is a Node.js built-in module and the page '
                    "runs in a browser")
        if specifier.startswith("@stage/"):
            return (f'cannot import "{specifier}": @stage/* modules exist only inside published '
                    "API backends (files under /api/), not in browser code")
        if package_name(specifier) not in self.allowed:
            return (f'cannot import "{specifier}": "{package_name(specifier)}" is not an allowed '
                    f"package; allowed packages: {allowed}")
        return None

    def _session_file(self, callback_id: int, specifier: str) -> dict[str, Any]:
        path = posixpath.normpath(specifier)
        candidates = [path + s for s in _RESOLVE_SUFFIXES]
        candidates += [f"{path}/index{s}" for s in _RESOLVE_SUFFIXES[1:]]
        for candidate in candidates:
            if candidate in self.session_paths:
                return {"id": callback_id, "path": str(self.root) + candidate}
        return {"id": callback_id, "errors": [message(
            f'cannot import "{specifier}": no session file has that path')]}

    def _relative(self, callback_id: int, specifier: str, resolve_dir: str) -> dict[str, Any]:
        target = posixpath.normpath(posixpath.join(resolve_dir, specifier))
        if target == str(self.root) or target.startswith(str(self.root) + "/"):
            return {}
        return {"id": callback_id, "errors": [message(
            f'cannot import "{specifier}": it points outside the session; imports may only '
            "reach session files and allowed packages")]}

    def _in_node_modules(self, importer: str) -> bool:
        return importer.startswith(str(self.node_modules) + "/")
