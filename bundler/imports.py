"""What session code may import, enforced while esbuild resolves each import.

- relative imports and absolute session paths (``/app/lib/x``) resolve to session files,
  never outside the session, and browser code never reaches ``/api/``;
- bare imports resolve only to packages in ``bundler/runtime/package.json`` (or to
  session files through the session's tsconfig ``paths`` / ``baseUrl``);
- in browser code, Node built-ins, URL imports and ``@stage/*`` platform modules fail with
  a message that says why and what is allowed; API backend code (``target="server"``)
  may use Node built-ins and keeps ``@stage/*`` external.

esbuild attaches each error to the import statement, so the diagnostic carries the
importing file, line and column. In ``analyze`` mode nothing fails: every rejected import
becomes external, so a second build can return the import graph for the chains.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

from bundler.barrels import BARREL_NAMESPACE
from bundler.entry import GENERATED_ENTRY_NAME
from bundler.esbuild import message
from bundler.pins import package_name
from bundler.requests import RESOLVE_EXTENSIONS, Plugin
from bundler.suggestions import suggestion
from bundler.tsconfig import Aliases
from bundler.vendor import ALIASED_PACKAGES, VENDOR_NAMESPACE, VendorSet, shim_source

#: ``@/x`` with no tsconfig path for it is looked up under these session folders, in order.
DEFAULT_ALIAS = "@/"
DEFAULT_ALIAS_ROOTS = ("", "/src", "/app")

__all__ = ["ImportRules", "NODE_BUILTINS", "STAGE_MODULES", "Target", "skip_filter",
           "DEFAULT_ALIAS", "DEFAULT_ALIAS_ROOTS"]

NODE_BUILTINS = frozenset({
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
    "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2",
    "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode",
    "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls",
    "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib",
})
STAGE_MODULES = ("@stage/inference", "@stage/compute", "@stage/utils")

_RESOLVE_SUFFIXES = ("", *RESOLVE_EXTENSIONS)

Target = Literal["browser", "server"]


class ImportRules:
    """Answers esbuild's ``on-resolve`` callbacks for one build."""

    #: The analysis build sees every import, so a missing relative file cannot stop it.
    ANALYSIS_FILTER = r".*"

    def __init__(self, root: Path, node_modules: Path, session_paths: Collection[str],
                 allowed_packages: Collection[str], *, target: Target = "browser",
                 aliases: Aliases | None = None, analyze: bool = False,
                 vendor: VendorSet | None = None,
                 barrels: Mapping[str, str] | None = None) -> None:
        """``barrels``: package → the generated module session imports of it resolve to
        (see bundler.barrels)."""
        self.root = root
        self.node_modules = node_modules
        self.session_paths = session_paths
        self.allowed = sorted(allowed_packages)
        self.target = target
        self.aliases = aliases or Aliases()
        self.analyze = analyze
        self.vendor = vendor if target == "browser" else None
        self.barrels = barrels if target == "browser" and barrels else {}
        #: Vendor chunks this build's code uses (they go on the page).
        self.vendored: set[str] = set()
        #: In analyze mode: session file → the session file that first imported it. Kept
        #: even when the analysis build fails (a syntax error elsewhere), unlike a metafile.
        self.parents: dict[str, str] = {}

    @property
    def filter(self) -> str:
        """Which imports esbuild asks about. Allowed packages (``react``, ``date-fns/x``)
        are left to esbuild, which finds them through ``nodePaths`` or, for vendored
        specifiers, through ``--alias`` to the vendor shims: in a 1,000-module app every
        module imports ``react`` and ``react/jsx-runtime``, two callbacks each otherwise.
        """
        if self.analyze:
            return self.ANALYSIS_FILTER
        exact: list[str] = []
        prefixes: list[str] = []
        for package in self.allowed:
            if self.vendor is None:
                exact.append(package)
                prefixes.append(package + "/")
            elif package in ALIASED_PACKAGES:
                exact += [s for s in self.vendor.aliased_specifiers if package_name(s) == package]
            else:  # the root comes from its vendor chunk through a callback
                prefixes.append(package + "/")
        return skip_filter(exact, prefixes)

    @property
    def plugin(self) -> Plugin:
        return Plugin("stage-imports", self.filter, (VENDOR_NAMESPACE, BARREL_NAMESPACE))

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one plugin callback of esbuild's: ``on-resolve`` or ``on-load``."""
        if request["command"] != "on-load":
            return self.on_resolve(request)
        if request.get("namespace") == BARREL_NAMESPACE:
            return {"id": request["ids"][0], "loader": "js",
                    "contents": self.barrels[request["path"]].encode(),
                    "resolveDir": str(self.node_modules)}
        return {"id": request["ids"][0], "contents": shim_source(request["path"]).encode(),
                "loader": "js"}

    def on_resolve(self, request: dict[str, Any]) -> dict[str, Any]:
        """esbuild's ``on-resolve`` request in, the plugin response out."""
        specifier: str = request["path"]
        importer: str = request.get("importer", "")
        callback_id = request["ids"][0]
        if specifier in self.barrels and self._session_path(importer) is not None:
            return {"id": callback_id, "path": specifier, "namespace": BARREL_NAMESPACE}
        if self.vendor is not None and request.get("kind") != "entry-point":
            chunk = self.vendor.chunk_of(specifier)
            if chunk is not None:  # from session code and from bundled package code alike
                self.vendored.add(chunk)
                return {"id": callback_id, "path": specifier, "namespace": VENDOR_NAMESPACE}
            if package_name(specifier) in ALIASED_PACKAGES and not specifier.startswith((".", "/")):
                # Built in, it would be a second copy of React beside the shared one.
                offered = ", ".join(s for s in self.vendor.aliased_specifiers
                                    if package_name(s) == package_name(specifier))
                return {"id": callback_id, "errors": [message(
                    f'cannot import "{specifier}": pages share one {package_name(specifier)} '
                    f"from the vendor chunks, which provide {offered}")]}
        if request.get("namespace") == BARREL_NAMESPACE:
            return {}  # a module a barrel export names: esbuild finds it
        if request.get("kind") == "entry-point" or self._in_node_modules(importer):
            return {}
        resolved: str | None = None
        error: str | None = None
        if specifier.startswith("/") and not specifier.startswith("//"):
            resolved = self.find(specifier)
            public = None if resolved else self.find("/public" + specifier)
            if public and request.get("kind") in ("url-token", "import-rule"):
                # CSS url(/bg.png): a /public/ file, served next to index.html as is.
                return {"id": callback_id, "path": specifier, "external": True}
            resolved = resolved or public
            if resolved is None:
                error = f'cannot import "{specifier}": no session file has that path'
        elif specifier.startswith("."):
            target = posixpath.normpath(posixpath.join(request.get("resolveDir", ""), specifier))
            inside = self._session_path(target)
            if inside is None:
                error = (f'cannot import "{specifier}": it points outside the session; imports '
                         "may only reach session files and allowed packages")
            else:
                resolved = self.find(inside)
                if resolved is None and self.analyze:
                    error = f'cannot import "{specifier}": no session file has that path'
        elif self.aliases.matches(specifier):
            return {}
        elif specifier.startswith(DEFAULT_ALIAS):
            resolved, error = self._default_alias(specifier)
        else:
            resolved = self._base_url_file(specifier)
            if resolved is None:
                if self.target == "server" and specifier.startswith("@stage/"):
                    return self._platform_module(callback_id, specifier)
                error = self.rejection(specifier)
        if error is None and resolved and self.target == "browser" and resolved.startswith("/api/"):
            error = (f'cannot import "{specifier}": files under /api/ are published API backend '
                     "routes and never enter the browser bundle")
        if self.analyze and resolved is not None:
            parent = self._session_path(importer)
            if (parent is not None and parent != resolved
                    and posixpath.basename(parent) != GENERATED_ENTRY_NAME):
                self.parents.setdefault(resolved, parent)
        if error is not None:
            if self.analyze:
                return {"id": callback_id, "path": specifier, "external": True}
            return {"id": callback_id, "errors": [message(error)]}
        if resolved is not None and not specifier.startswith("."):
            return {"id": callback_id, "path": str(self.root) + resolved}
        return {}

    def _default_alias(self, specifier: str) -> tuple[str | None, str | None]:
        """``@/x`` without a tsconfig path for it: the first of ``/x``, ``/src/x``, ``/app/x``.

        shadcn/ui and the AI builders write ``@/components/ui/button`` and do not always push
        the tsconfig.json that maps it; ``@/`` can never name an npm package.
        """
        rest = specifier.removeprefix(DEFAULT_ALIAS)
        tried = [posixpath.normpath(f"{root}/{rest}") for root in DEFAULT_ALIAS_ROOTS]
        for candidate in tried:  # normalised absolute paths: "@/../x" stays in the session
            found = self.find(candidate)
            if found is not None:
                return found, None
        return None, (f'cannot import "{specifier}": no session file at {", ".join(tried)} '
                      '(without a "paths" entry for "@/*" in /tsconfig.json, "@/" means the '
                      "session root, then /src/, then /app/)")

    def rejection(self, specifier: str) -> str | None:
        """Why this build's code may not import bare ``specifier``, or None when it may."""
        allowed = ", ".join(self.allowed)
        if "://" in specifier or specifier.startswith("//"):
            return (f'cannot import "{specifier}": URL imports are not supported; '
                    f"import session files or one of the allowed packages: {allowed}")
        name = specifier.removeprefix("node:")
        builtin = specifier.startswith("node:") or package_name(name) in NODE_BUILTINS
        if builtin and self.target == "server":
            return None
        if builtin:
            return (f'cannot import "{specifier}": it is a Node.js built-in module and the page '
                    "runs in a browser")
        if specifier.startswith("@stage/"):
            return (f'cannot import "{specifier}": @stage/* modules exist only inside published '
                    "API backends (files under /api/), not in browser code")
        if package_name(specifier) not in self.allowed:
            hint = suggestion(package_name(specifier), self.allowed)
            return (f'cannot import "{specifier}": "{package_name(specifier)}" is not an allowed '
                    f"package{f' ({hint})' if hint else ''}; allowed packages: {allowed}")
        return None

    def find(self, path: str) -> str | None:
        """The session file an extensionless or folder import of ``path`` means, if any."""
        path = posixpath.normpath(path)
        for candidate in [path + s for s in _RESOLVE_SUFFIXES] + [
                f"{path}/index{s}" for s in RESOLVE_EXTENSIONS]:
            if candidate in self.session_paths:
                return candidate
        return None

    def _platform_module(self, callback_id: int, specifier: str) -> dict[str, Any]:
        if specifier in STAGE_MODULES:
            return {"id": callback_id, "path": specifier, "external": True}
        return {"id": callback_id, "errors": [message(
            f'cannot import "{specifier}": no such platform module; published API backends '
            f"can import {', '.join(STAGE_MODULES)}")]}

    def _base_url_file(self, specifier: str) -> str | None:
        if self.aliases.base_url is None:
            return None
        return self.find(posixpath.join(self.aliases.base_url, specifier))

    def _session_path(self, absolute: str) -> str | None:
        root = str(self.root)
        if absolute == root:
            return "/"
        return absolute[len(root):] if absolute.startswith(root + "/") else None

    def _in_node_modules(self, importer: str) -> bool:
        return importer.startswith(str(self.node_modules) + "/")


def skip_filter(exact: Collection[str] = (), prefixes: Collection[str] = ()) -> str:
    """A Go regexp (RE2) for every import specifier esbuild should ask about: all but
    those in ``exact``, those starting with one of ``prefixes``, and plain relative ones
    (``./x`` stays inside its folder; a callback costs ~0.3 ms); anything with "..",
    which must not leave the session, is always asked about.

    RE2 has no lookahead, so "none of these" is spelled out over the trie of the
    strings: at each node a specifier either ends early, takes a character no string
    takes there, or goes on down a branch.
    """
    trie: dict[str, Any] = {}
    for text, kind in [*((e, "end") for e in exact), *((p, "any") for p in prefixes)]:
        if not text or text.startswith("."):
            raise ValueError(f"{text!r} cannot be skipped: it is empty or relative")
        node = trie
        for char in text:
            node = node.setdefault(char, {})
        node[kind] = True

    def other_than(node: dict[str, Any], first: bool) -> str | None:
        if node.get("any"):
            return None  # everything from here on is skipped
        branches = sorted(c for c in node if len(c) == 1)
        taken = ("." if first else "") + "".join(branches)
        alternatives = [f"[^{_escape(taken)}].*" if taken else ".+"]
        if not first and not node.get("end"):
            alternatives.append("")  # stops short of every string
        for char in branches:
            rest = other_than(node[char], False)
            if rest is not None:
                alternatives.append(_escape(char) + rest)
        return "(?:" + "|".join(alternatives) + ")"

    return r"(?s)\.\.|^" + (other_than(trie, True) or "") + "$"


def _escape(chars: str) -> str:
    """Literal characters for RE2, in or out of a class: punctuation backslashed."""
    return "".join(c if c.isalnum() else "\\" + c for c in chars)
