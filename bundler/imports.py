"""What session code may import, enforced while esbuild resolves each import.

- relative imports and absolute session paths (``/app/lib/x``) resolve to session files,
  never outside the session, and browser code never reaches ``/api/``;
- ``@/components/ui/<name>`` and ``@/lib/utils`` with no session file for them resolve to
  the built-in shadcn/ui modules (see bundler.builtin_ui);
- bare imports resolve only to packages in ``bundler/runtime/package.json`` (or to
  session files through the session's tsconfig ``paths`` / ``baseUrl``, or its Vite
  config's ``resolve.alias``, see bundler.vite);
- in browser code, Node built-ins, URL imports and ``@stage/*`` platform modules fail with
  a message that says why and what is allowed; API backend code (``target="server"``)
  keeps ``@stage/*`` external and may use the Node built-ins that need no permission in the
  sandbox (``node:buffer``, ``node:crypto``, …), imported as ``node:<name>``; those that need
  the file system, processes, raw sockets or the host (:data:`SANDBOX_REFUSED_BUILTINS`) fail
  with a message saying what the route can use instead.

esbuild attaches each error to the import statement, so the diagnostic carries the
importing file, line and column. In ``analyze`` mode nothing fails: every rejected import
becomes external, so a second build can return the import graph for the chains.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

from bundler.barrels import BARREL_NAMESPACE, EVERY_EXPORT, BarrelModule
from bundler.builtin_ui import UI_NAMESPACE, UI_PREFIX, BuiltinUi, own_file_finder
from bundler.entry import GENERATED_ENTRY_NAME
from bundler.esbuild import message
from bundler.nextjs import NEXT_NAMESPACE, NextModules
from bundler.pins import package_name
from bundler.requests import RESOLVE_EXTENSIONS, Plugin
from bundler.suggestions import suggestion
from bundler.tsconfig import Aliases
from bundler.vendor import ALIASED_PACKAGES, VENDOR_NAMESPACE, VendorSet, shim_source
from bundler.vite import ViteAliases

#: ``@/x`` with no tsconfig path for it is looked up under these session folders, in order.
DEFAULT_ALIAS = "@/"
DEFAULT_ALIAS_ROOTS = ("", "/src", "/app")

__all__ = [
    "ImportRules",
    "NODE_BUILTINS",
    "SANDBOX_REFUSED_BUILTINS",
    "STAGE_MODULES",
    "Target",
    "skip_filter",
    "DEFAULT_ALIAS",
    "DEFAULT_ALIAS_ROOTS",
]

NODE_BUILTINS = frozenset(
    {
        "assert",
        "async_hooks",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "constants",
        "crypto",
        "dgram",
        "diagnostics_channel",
        "dns",
        "domain",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "inspector",
        "module",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "punycode",
        "querystring",
        "readline",
        "repl",
        "stream",
        "string_decoder",
        "sys",
        "timers",
        "tls",
        "trace_events",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "wasi",
        "worker_threads",
        "zlib",
    }
)
STAGE_MODULES = ("@stage/inference", "@stage/compute", "@stage/utils")

_FILES = "API routes cannot read or write files; keep data in @stage/compute"
_PROCESSES = "API routes cannot start processes, workers or threads"
_SOCKETS = (
    "API routes cannot open sockets or servers; call public https:// URLs with fetch "
    "(or fetchWithRetry from @stage/utils)"
)
_HOST = "API routes cannot inspect or change the machine they run on"
#: Node built-ins an API route may not import, and why: the sandbox has no permission for
#: what they are for, so they would only fail later, at run time.
SANDBOX_REFUSED_BUILTINS = {
    **dict.fromkeys(("fs", "fs/promises"), _FILES),
    **dict.fromkeys(("child_process", "cluster", "worker_threads"), _PROCESSES),
    **dict.fromkeys(
        ("net", "tls", "dgram", "http", "https", "http2", "dns", "dns/promises"), _SOCKETS
    ),
    **dict.fromkeys(
        (
            "os",
            "v8",
            "vm",
            "inspector",
            "repl",
            "tty",
            "module",
            "wasi",
            "trace_events",
            "process",
            "readline",
        ),
        _HOST,
    ),
}

_RESOLVE_SUFFIXES = ("", *RESOLVE_EXTENSIONS)
_SCRIPT_EXTENSIONS = (".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs")
#: An ``@/…`` specifier in an import, export or require, in characters esbuild's --alias
#: flag and the filter take as they are; "..", which could leave the session, never.
_ALIAS_IMPORT = re.compile(
    rb"""(?:\bfrom|\bimport|\brequire\()\s*\(?\s*["'](@/(?:[A-Za-z0-9_\-]+/)*[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9]+)?)["']"""
)

Target = Literal["browser", "server"]


#: Remote stylesheets a stylesheet @imports resolve here: an empty stylesheet, and a warning.
REMOTE_CSS_NAMESPACE = "stage-remote-css"
REMOTE_CSS_SKIPPED = (
    '@import "{url}" skipped: a page loads only its own stylesheets, so this remote one is '
    "left out (its fonts fall back to the next family of the font stack)"
)


def _remote(specifier: str) -> bool:
    return specifier.startswith(("http://", "https://", "//"))


class ImportRules:
    """Answers esbuild's ``on-resolve`` callbacks for one build."""

    #: The analysis build sees every import, so a missing relative file cannot stop it.
    ANALYSIS_FILTER = r".*"

    def __init__(
        self,
        root: Path,
        node_modules: Path,
        session_paths: Collection[str],
        allowed_packages: Collection[str],
        *,
        target: Target = "browser",
        aliases: Aliases | None = None,
        vite_aliases: ViteAliases | None = None,
        analyze: bool = False,
        vendor: VendorSet | None = None,
        barrels: Mapping[str, BarrelModule] | None = None,
        next_modules: NextModules | None = None,
        ui: BuiltinUi | None = None,
        native_relative: bool = False,
        session_code: Mapping[str, bytes] | None = None,
        ui_code: Mapping[str, str] | None = None,
    ) -> None:
        """``barrels``: package → the generated module session imports of it resolve to
        (see bundler.barrels); ``next_modules`` serves ``next/*`` to browser code; ``ui``:
        the built-in components, None for none. ``native_relative``: esbuild resolves
        ``../x`` imports itself, without asking (a callback each, ~0.4 ms of a build's
        time); the caller must then check where each led and build
        again without it when one went where the rules would have refused.
        ``session_code``: the session's script files (path → text); the ``@/…`` imports
        they hold are answered before the build when the answer is the same from every
        session file and from the built-in ui modules the build loads (``ui_code``, name
        → text) (:attr:`native_aliases`)."""
        self.root = root
        self.node_modules = node_modules
        self.session_paths = session_paths
        self.allowed = sorted(allowed_packages)
        self.target = target
        self.aliases = aliases or Aliases()
        self.vite_aliases = vite_aliases or ViteAliases()
        self.analyze = analyze
        self.native_relative = native_relative and not analyze
        self.vendor = vendor if target == "browser" else None
        self.barrels = barrels if target == "browser" and barrels else {}
        self.next_modules = next_modules if target == "browser" else None
        self.ui = ui if target == "browser" else None
        self.own_file = own_file_finder(session_paths, self.aliases)
        #: Vendor chunks this build's code uses (they go on the page).
        self.vendored: set[str] = set()
        #: In analyze mode: session file → the session file that first imported it. Kept
        #: even when the analysis build fails (a syntax error elsewhere), unlike a metafile.
        self.parents: dict[str, str] = {}
        #: ``@/…`` specifiers esbuild resolves itself, without asking: specifier → the
        #: session file (``--alias``), or None where the answer is esbuild's own (a tsconfig
        #: path). Empty in analyze mode and for server code.
        self.native_aliases: dict[str, str | None] = (
            self._answered_ahead(session_code or {}, ui_code or {})
            if self.native_relative and target == "browser"
            else {}
        )

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
        exact += sorted(self.native_aliases)
        return _skip_filter(tuple(exact), tuple(prefixes), self.native_relative)

    @property
    def alias_flags(self) -> list[str]:
        """esbuild's ``--alias`` flags for :attr:`native_aliases` that name a session file."""
        return [f"--alias:{spec}={path}" for spec, path in self.native_aliases.items() if path]

    def _answered_ahead(
        self, code: Mapping[str, bytes], ui_code: Mapping[str, str]
    ) -> dict[str, str | None]:
        """The ``@/…`` imports of ``code`` whose answer does not depend on the importing
        session file, answered now: in a Lovable-shaped app each section imports five
        ``@/components/ui/…`` modules, a callback each (~0.4 ms of a build's time) that
        always gave the same answer. A specifier a loaded built-in ui module imports too is
        kept only when that import gets the same answer (the session's own file); every
        answer that is not a plain session file or esbuild's own (an error, /api/ for the
        page, a built-in module) is left to the callback."""
        found: set[str] = set()
        for path, text in code.items():
            if path.endswith(_SCRIPT_EXTENSIONS) and b"@/" in text:
                found.update(m.decode() for m in _ALIAS_IMPORT.findall(text))
        if not found or not self.session_paths:
            return {}
        importer = str(self.root) + min(self.session_paths)
        from_ui = {
            m.decode() for text in ui_code.values() for m in _ALIAS_IMPORT.findall(text.encode())
        }
        answers: dict[str, str | None] = {}
        for specifier in sorted(found):
            builtin = self.ui.module_for(specifier) if self.ui is not None else None
            own = self.own_file(specifier) if builtin else None
            if builtin is not None and own is None:
                continue  # the built-in module itself, from its own namespace
            answer = self.on_resolve(
                {
                    "path": specifier,
                    "importer": importer,
                    "kind": "import-statement",
                    "namespace": "file",
                    "resolveDir": posixpath.dirname(importer),
                    "ids": [0],
                }
            )
            rest = {k: v for k, v in answer.items() if k != "id"}
            # A built-in module importing it is answered with the session's own file (or
            # left to esbuild when there is none): kept only when that is the same answer.
            if specifier in from_ui and (own is None or rest != {"path": str(self.root) + own}):
                continue
            if not rest:
                answers[specifier] = None  # esbuild's own answer (a tsconfig path)
            elif rest.keys() == {"path"} and rest["path"].startswith(str(self.root) + "/"):
                answers[specifier] = rest["path"]
        return answers

    @property
    def plugin(self) -> Plugin:
        return Plugin(
            "stage-imports",
            self.filter,
            (
                VENDOR_NAMESPACE,
                BARREL_NAMESPACE,
                NEXT_NAMESPACE,
                UI_NAMESPACE,
                REMOTE_CSS_NAMESPACE,
            ),
        )

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one plugin callback of esbuild's: ``on-resolve`` or ``on-load``."""
        if request["command"] != "on-load":
            return self.on_resolve(request)
        if request.get("namespace") == NEXT_NAMESPACE and self.next_modules is not None:
            return {"id": request["ids"][0], **self.next_modules.load(request["path"])}
        if request.get("namespace") == BARREL_NAMESPACE:
            return {
                "id": request["ids"][0],
                "loader": "js",
                "contents": self._barrel_source(request["path"]).encode(),
                "resolveDir": str(self.node_modules),
            }
        if request.get("namespace") == REMOTE_CSS_NAMESPACE:
            return {"id": request["ids"][0], "loader": "css", "contents": b""}
        if request.get("namespace") == UI_NAMESPACE and self.ui is not None:
            return {
                "id": request["ids"][0],
                "loader": "tsx",
                "contents": self.ui.source(request["path"]).encode(),
                "resolveDir": str(self.node_modules),
            }
        return {
            "id": request["ids"][0],
            "contents": shim_source(request["path"]).encode(),
            "loader": "js",
        }

    def on_resolve(self, request: dict[str, Any]) -> dict[str, Any]:
        """esbuild's ``on-resolve`` request in, the plugin response out."""
        specifier: str = request["path"]
        importer: str = request.get("importer", "")
        callback_id = request["ids"][0]
        if self.next_modules is not None and self.next_modules.provides(specifier):
            answer = self.next_modules.resolve(specifier, self._session_path(importer))
            if "error" not in answer:
                return {"id": callback_id, **answer}
            if self.analyze:
                return {"id": callback_id, "path": specifier, "external": True}
            return {"id": callback_id, "errors": [message(answer["error"])]}
        if request.get("kind") == "import-rule" and _remote(specifier):
            # A web font's stylesheet, as builders write them (@import url(https://fonts…)):
            # the page's CSP loads only its own stylesheets, so the import is left out and the
            # text falls back to the next family of its font stack. Named, never a failure.
            if self.analyze:
                return {"id": callback_id, "path": specifier, "external": True}
            return {
                "id": callback_id,
                "path": specifier,
                "namespace": REMOTE_CSS_NAMESPACE,
                "warnings": [message(REMOTE_CSS_SKIPPED.format(url=specifier))],
            }
        # A built-in ui module's imports are keyed as the barrels saw its text.
        from_ui = request.get("namespace") == UI_NAMESPACE
        barrel = self.barrels.get(specifier)
        importer_key = UI_PREFIX + importer if from_ui else self._session_path(importer)
        path = barrel.path_for(specifier, importer_key) if barrel else None
        if path is not None:
            return {"id": callback_id, "path": path, "namespace": BARREL_NAMESPACE}
        if self.vendor is not None and request.get("kind") != "entry-point":
            chunk = self.vendor.chunk_of(specifier)
            if chunk is not None:  # from session code and from bundled package code alike
                self.vendored.add(chunk)
                return {"id": callback_id, "path": specifier, "namespace": VENDOR_NAMESPACE}
            if package_name(specifier) in ALIASED_PACKAGES and not specifier.startswith((".", "/")):
                # Built in, it would be a second copy of React beside the shared one.
                offered = ", ".join(
                    s
                    for s in self.vendor.aliased_specifiers
                    if package_name(s) == package_name(specifier)
                )
                return {
                    "id": callback_id,
                    "errors": [
                        message(
                            f'cannot import "{specifier}": pages share one {package_name(specifier)} '
                            f"from the vendor chunks, which provide {offered}"
                        )
                    ],
                }
        if request.get("namespace") == BARREL_NAMESPACE:
            return {}  # a module a barrel export names: esbuild finds it
        if request.get("kind") == "entry-point" or self._in_node_modules(importer):
            return {}
        resolved: str | None = None
        error: str | None = None
        builtin = self.ui.module_for(specifier) if self.ui is not None else None
        own = self.own_file(specifier) if builtin else None
        if builtin is not None and own is None:
            return {"id": callback_id, "path": builtin, "namespace": UI_NAMESPACE}
        if from_ui:
            if own is None:
                return {}  # a package: esbuild finds it from the built-in's node_modules
            resolved = own
        elif specifier.startswith("/") and not specifier.startswith("//"):
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
                error = (
                    f'cannot import "{specifier}": it points outside the session; imports '
                    "may only reach session files and allowed packages"
                )
            else:
                resolved = self.find(inside)
                if resolved is None and self.analyze:
                    error = f'cannot import "{specifier}": no session file has that path'
        elif (aliased := self.vite_aliases.target(specifier)) is not None:
            resolved = self.find(aliased[1])
            if resolved is None:
                error = (
                    f'cannot import "{specifier}": no session file at {aliased[1]} '
                    f'({self.vite_aliases.config} aliases "{aliased[0]}" to '
                    f"{self.vite_aliases.targets[aliased[0]]})"
                )
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
                if error is None and self.target == "server" and self._builtin(specifier):
                    # Deno resolves Node built-ins by their node: name only.
                    return {
                        "id": callback_id,
                        "external": True,
                        "path": "node:" + specifier.removeprefix("node:"),
                    }
        if error is None and resolved and self.target == "browser" and resolved.startswith("/api/"):
            error = (
                f'cannot import "{specifier}": files under /api/ are published API backend '
                "routes and never enter the browser bundle"
            )
        if self.analyze and resolved is not None:
            parent = self._session_path(importer)
            if (
                parent is not None
                and parent != resolved
                and posixpath.basename(parent) != GENERATED_ENTRY_NAME
            ):
                self.parents.setdefault(resolved, parent)
        if error is not None:
            if self.analyze:
                return {"id": callback_id, "path": specifier, "external": True}
            return {"id": callback_id, "errors": [message(error)]}
        if resolved is not None and not specifier.startswith("."):
            return {"id": callback_id, "path": str(self.root) + resolved}
        return {}

    def _barrel_source(self, path: str) -> str:
        if path.endswith(EVERY_EXPORT):
            return self.barrels[path.removesuffix(EVERY_EXPORT)].every_export
        return self.barrels[path].source

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
        builtins = ""
        if self.ui is not None and rest.startswith("components/ui/"):
            builtins = f"; the built-in components are {', '.join(self.ui.components)}"
        return None, (
            f'cannot import "{specifier}": no session file at {", ".join(tried)} '
            '(without a "paths" entry for "@/*" in /tsconfig.json, "@/" means the '
            f"session root, then /src/, then /app/){builtins}"
        )

    def rejection(self, specifier: str) -> str | None:
        """Why this build's code may not import bare ``specifier``, or None when it may."""
        allowed = ", ".join(self.allowed)
        if "://" in specifier or specifier.startswith("//"):
            return (
                f'cannot import "{specifier}": URL imports are not supported; '
                f"import session files or one of the allowed packages: {allowed}"
            )
        name = specifier.removeprefix("node:")
        builtin = specifier.startswith("node:") or package_name(name) in NODE_BUILTINS
        if builtin and self.target == "server":
            why = SANDBOX_REFUSED_BUILTINS.get(name) or SANDBOX_REFUSED_BUILTINS.get(
                package_name(name)
            )
            return f'cannot import "{specifier}": {why}' if why else None
        if builtin:
            return (
                f'cannot import "{specifier}": it is a Node.js built-in module and the page '
                "runs in a browser"
            )
        if specifier.startswith("@stage/"):
            return (
                f'cannot import "{specifier}": @stage/* modules exist only inside published '
                "API backends (files under /api/ and /compute/), not in browser code"
            )
        if package_name(specifier) not in self.allowed:
            hint = suggestion(package_name(specifier), self.allowed)
            return (
                f'cannot import "{specifier}": "{package_name(specifier)}" is not an allowed '
                f"package{f' ({hint})' if hint else ''}; allowed packages: {allowed}"
            )
        return None

    @staticmethod
    def _builtin(specifier: str) -> bool:
        return specifier.startswith("node:") or package_name(specifier) in NODE_BUILTINS

    def find(self, path: str) -> str | None:
        """The session file an extensionless or folder import of ``path`` means, if any."""
        path = posixpath.normpath(path)
        for candidate in [path + s for s in _RESOLVE_SUFFIXES] + [
            f"{path}/index{s}" for s in RESOLVE_EXTENSIONS
        ]:
            if candidate in self.session_paths:
                return candidate
        return None

    def _platform_module(self, callback_id: int, specifier: str) -> dict[str, Any]:
        if specifier in STAGE_MODULES:
            return {"id": callback_id, "path": specifier, "external": True}
        return {
            "id": callback_id,
            "errors": [
                message(
                    f'cannot import "{specifier}": no such platform module; published API backends '
                    f"can import {', '.join(STAGE_MODULES)}"
                )
            ],
        }

    def _base_url_file(self, specifier: str) -> str | None:
        if self.aliases.base_url is None:
            return None
        return self.find(posixpath.join(self.aliases.base_url, specifier))

    def _session_path(self, absolute: str) -> str | None:
        root = str(self.root)
        if absolute == root:
            return "/"
        return absolute[len(root) :] if absolute.startswith(root + "/") else None

    def _in_node_modules(self, importer: str) -> bool:
        return importer.startswith(str(self.node_modules) + "/")


def skip_filter(
    exact: Collection[str] = (), prefixes: Collection[str] = (), *, relative: bool = False
) -> str:
    """A Go regexp (RE2) for every import specifier esbuild should ask about: all but
    those in ``exact``, those starting with one of ``prefixes``, and plain relative ones
    (``./x`` stays inside its folder; a callback costs ~0.3 ms); anything with "..",
    which must not leave the session, is always asked about, unless ``relative`` says
    relative specifiers with ".." (``../x``) are left to esbuild too: then the caller
    checks where each of them led (``bundler.build``). A bare specifier
    with ".." (``date-fns/../../x``) is asked about either way.

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

    dotted = r"^[^.].*\.\." if relative else r"\.\."
    return r"(?s)" + dotted + "|^" + (other_than(trie, True) or "") + "$"


@functools.lru_cache(maxsize=16)
def _skip_filter(exact: tuple[str, ...], prefixes: tuple[str, ...], relative: bool) -> str:
    """:func:`skip_filter`, kept: every build of a process asks for the same one."""
    return skip_filter(exact, prefixes, relative=relative)


def _escape(chars: str) -> str:
    """Literal characters for RE2, in or out of a class: punctuation backslashed."""
    return "".join(c if c.isalnum() else "\\" + c for c in chars)
