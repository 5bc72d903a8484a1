"""Barrel imports resolved to the modules they name, so a page ships what it uses.

``import { Camera } from "lucide-react"`` names one of its 5,844 exports (icons and their
aliases); the package's entry (a "barrel") re-exports every one. Vendored whole, the page
loads all of them (some 600 kB minified);
bundled, esbuild parses all of them on every render (~0.5 s). Instead, as Next.js's
``optimizePackageImports`` does, each barrel's entry is read once per process to learn
which module every export comes from, and a build whose session imports only named
exports of a barrel gets a generated module re-exporting just those, from their own
modules: ``export { default as Camera } from ".../icons/camera.mjs"``. For ``radix-ui``
an export is a whole primitive package (``Dialog`` is ``@radix-ui/react-dialog``), which
then comes from its own vendor chunk.

A session file that imports a barrel any other way (``import * as Icons``, a default
import, ``import()``) gets the whole package as before (its vendor chunk); the other files
still get the generated module. A file that does both (``import * as Icons`` beside
``import { Github }``) gets a generated module naming every export, bundled: slower to
build, but its named imports are checked. So a name imported by name that the package does
not export is always a build error (esbuild's, at the import, said in words by
:meth:`Barrels.explain`), never ``undefined`` at run time; a file the page never loads (a
``vite.config.ts`` naming ``lucide-react`` in ``optimizeDeps``) changes nothing.
"""

from __future__ import annotations

import difflib
import functools
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BARREL_NAMESPACE",
    "BARREL_PACKAGES",
    "EVERY_EXPORT",
    "Barrel",
    "BarrelModule",
    "Barrels",
    "Origin",
    "read_barrel",
    "used_names",
]

#: Packages whose entry re-exports many independent modules, resolved export by export.
BARREL_PACKAGES = ("date-fns", "lucide-react", "radix-ui", "recharts")
BARREL_NAMESPACE = "stage-barrel"

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_FROM = r"""\s*from\s*(["'])([^"'\n]+)\2"""  # groups 2 and 3: the quote, the module
_REEXPORT = re.compile(r"\bexport\s*\{([^}]*)\}" + _FROM)
_STAR = re.compile(r"\bexport\s*\*\s*(?:as\s+([\w$]+)\s*)?" + _FROM)
_NAMESPACE_IMPORT = re.compile(r"\bimport\s*\*\s*as\s+([\w$]+)" + _FROM)
_LOCAL_EXPORT_LIST = re.compile(r"\bexport\s*\{([^}]*)\}(?!\s*from)")
_NO_EXPORT = re.compile(
    r'No matching export in "' + BARREL_NAMESPACE + r':([^"]+)" for import "([^"]+)"'
)
_DECLARED = re.compile(r"\bexport\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([\w$]+)")


@dataclass(frozen=True)
class Origin:
    """Where one export of a barrel comes from: ``name`` of ``module`` ("*": the module's
    namespace). ``module`` is an absolute file or a bare package specifier."""

    module: str
    name: str


@dataclass(frozen=True)
class Barrel:
    package: str
    exports: Mapping[str, Origin]
    version: str = ""

    def module_source(self, names: Iterable[str]) -> str:
        """The generated module that re-exports ``names`` from where they are defined."""
        lines = ["export {};"]  # an ES module even when empty: a missing name is an error
        for name in sorted(names):
            origin = self.exports[name]
            module = json.dumps(origin.module)
            if origin.name == "*":
                lines.append(f"export * as {name} from {module};")
            else:
                lines.append(f"export {{ {origin.name} as {name} }} from {module};")
        return "\n".join(lines) + "\n"

    @property
    def namespace_packages(self) -> list[str]:
        """Packages the barrel re-exports whole (radix-ui's primitives)."""
        return sorted(
            {
                o.module
                for o in self.exports.values()
                if o.name == "*" and not o.module.startswith("/")
            }
        )


#: How the module naming every export is told apart (its path in the barrel namespace).
EVERY_EXPORT = "?every-export"


@dataclass(frozen=True)
class BarrelModule:
    """The generated modules of one barrel for one build: ``source`` for the session files
    that import the package only by name (``importers``), and one re-exporting every name
    for the files that mix named imports with other ones (``mixed``)."""

    source: str
    importers: frozenset[str]
    every_export: str = ""
    mixed: frozenset[str] = frozenset()

    def path_for(self, package: str, importer: str | None) -> str | None:
        """The barrel-namespace path of ``importer``'s imports of ``package``, if any."""
        if importer in self.importers:
            return package
        if importer in self.mixed:
            return package + EVERY_EXPORT
        return None


class Barrels:
    """The barrels of one runtime, each read on first use (lucide-react's takes ~0.1 s)."""

    _CODE = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")

    def __init__(self, node_modules: Path, allowed: Iterable[str]) -> None:
        self.node_modules = node_modules
        self.packages = [p for p in BARREL_PACKAGES if p in set(allowed)]
        self._read: dict[str, Barrel] = {}

    def modules_for(self, files: Mapping[str, bytes]) -> dict[str, BarrelModule]:
        """Barrel package → the module session imports of it resolve to, for each barrel
        some of those files import only by name."""
        code = {
            path: content.decode("utf-8", "replace")
            for path, content in files.items()
            # "namespace:module" keys are code the bundler provides (built-in ui modules)
            if path.endswith(self._CODE) or ":" in path
        }
        modules = {}
        for package in self.packages:
            named: dict[str, set[str]] = {}
            mixed: set[str] = set()
            for path, text in code.items():
                if package in text:
                    names = used_names([text], package)
                    if names:
                        named[path] = names
                    elif names is None and _names_something(text, package):
                        mixed.add(path)
            if not named and not mixed:
                continue
            barrel = self.barrel(package)
            # A name the barrel does not export is a type (erased when unused as a value)
            # or a mistake, which esbuild then reports at the import.
            known = set().union(*named.values()) & barrel.exports.keys()
            modules[package] = BarrelModule(
                barrel.module_source(known),
                frozenset(named),
                barrel.module_source(barrel.exports) if mixed else "",
                frozenset(mixed),
            )
        return modules

    def barrel(self, package: str) -> Barrel:
        if package not in self._read:
            self._read[package] = read_barrel(self.node_modules, package)
        return self._read[package]

    def explain(self, message: Mapping[str, Any]) -> Mapping[str, Any]:
        """esbuild's message (its JSON form) for a name a barrel lacks, said as what
        happened: ``"Youtube" is not exported by lucide-react 0.577.0 …``, with the nearest
        names in place of esbuild's note. Other messages as they are."""
        found = _NO_EXPORT.search(str(message.get("text", "")))
        package = found[1].removesuffix(EVERY_EXPORT) if found else ""
        if found is None or package not in self.packages:
            return message
        name = found[2]
        barrel = self.barrel(package)
        close = difflib.get_close_matches(name, list(barrel.exports), n=3, cutoff=0.75)
        hint = "; did you mean " + " or ".join(f'"{c}"' for c in close) + "?" if close else ""
        return {
            **message,
            "notes": [],
            "text": (
                f'"{name}" is not exported by {package} {barrel.version} (the version pages get, '
                f"see docs/packages.md){hint}"
            ),
        }


def read_barrel(node_modules: Path, package: str) -> Barrel:
    """The export map of ``package``'s ES module entry."""
    root = node_modules.resolve() / package
    version = str(json.loads((root / "package.json").read_text("utf-8")).get("version", ""))
    return Barrel(package, _exports_of(_esm_entry(root), set()), version)


def used_names(sources: Iterable[str], package: str) -> set[str] | None:
    """The names session code imports from ``package``, or None when some mention of it is
    not a plain named import or re-export (a default, namespace or side-effect import,
    ``import()``, ``require``) that a generated module can answer."""
    names: set[str] = set()
    quoted = r"(?P<q>[\"'])" + re.escape(package) + r"(?P=q)"
    statement = re.compile(r"\b(?:import|export)\s+(?P<clause>[^;\"'`]*?)\s*from\s*" + quoted)
    for source in sources:
        if package not in source:
            continue
        # Statements are read without comments, but every mention in the text as pushed
        # must be one of them: a string holding "//" must not hide an import from the scan
        # (a commented-out import only costs the page the whole package).
        clauses = [m.group("clause") for m in statement.finditer(_COMMENT.sub(" ", source))]
        if len(clauses) != len(re.findall(quoted, source)):
            return None
        for clause in clauses:
            clause = clause.strip()
            if re.match(r"type\s*\{", clause):
                continue  # erased by esbuild
            if not (clause.startswith("{") and clause.endswith("}")):
                return None
            for item in clause[1:-1].split(","):
                parts = item.split()
                if not parts or parts[0] == "type":
                    continue
                if len(parts) not in (1, 3) or (len(parts) == 3 and parts[1] != "as"):
                    return None
                names.add(parts[0])
    return names


def _names_something(source: str, package: str) -> bool:
    """True when ``source`` imports a value from ``package`` by name (``{ Github }``)."""
    quoted = r"[\"']" + re.escape(package) + r"[\"']"
    clause = re.compile(r"\bimport\s+(?!type\b)(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*" + quoted)
    return any(
        re.search(r"(?:^|,)\s*(?!type\b)[\w$]", m[1])
        for m in clause.finditer(_COMMENT.sub(" ", source))
    )


def _esm_entry(root: Path) -> Path:
    manifest = json.loads((root / "package.json").read_text("utf-8"))
    exports = manifest.get("exports")
    target = None
    if isinstance(exports, dict) and "." in exports:
        target = _import_condition(exports["."])
    target = target or manifest.get("module") or manifest.get("main") or "index.js"
    return _as_file(root / target)


def _import_condition(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for condition in ("import", "module", "default"):
            if condition in value:
                found = _import_condition(value[condition])
                if found:
                    return found
    return None


def _as_file(path: Path) -> Path:
    for candidate in (path, Path(f"{path}.js"), Path(f"{path}.mjs"), path / "index.js"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no module at {path}")


def _exports_of(module: Path, seen: set[Path]) -> dict[str, Origin]:
    """Every name ``module`` exports, mapped to the module that defines it."""
    if module in seen:
        return {}
    seen.add(module)
    code = _COMMENT.sub(" ", module.read_text("utf-8"))
    found: dict[str, Origin] = {}
    here = str(module)
    for match in _DECLARED.finditer(code):
        found[match.group(1)] = Origin(here, match.group(1))
    namespaces = {
        m.group(1): _specifier(module, m.group(3)) for m in _NAMESPACE_IMPORT.finditer(code)
    }
    for match in _LOCAL_EXPORT_LIST.finditer(code):
        for local, exported in _clause(match.group(1)):
            if local in namespaces:
                found[exported] = Origin(namespaces[local], "*")
            else:
                found[exported] = Origin(here, exported)
    for match in _REEXPORT.finditer(code):
        target = _specifier(module, match.group(3))
        for local, exported in _clause(match.group(1)):
            found[exported] = Origin(target, local)
    if re.search(r"\bexport\s+default\b", code):
        found["default"] = Origin(here, "default")
    for match in _STAR.finditer(code):
        alias, target = match.group(1), _specifier(module, match.group(3))
        if alias:
            found[alias] = Origin(target, "*")
        elif target.startswith("/"):
            for name, origin in _exports_of(Path(target), seen).items():
                if name != "default":
                    found.setdefault(name, origin)
    return found


def _clause(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.split(","):
        parts = item.split()
        if parts and parts[0] == "type":
            continue
        if len(parts) == 1:
            pairs.append((parts[0], parts[0]))
        elif len(parts) == 3 and parts[1] == "as":
            pairs.append((parts[0], parts[2]))
    return pairs


def _specifier(module: Path, specifier: str) -> str:
    """A relative specifier as an absolute file; a bare one as is."""
    if not specifier.startswith("."):
        return specifier
    return _file(posixpath.normpath(str(module.parent / specifier)))


@functools.cache
def _file(path: str) -> str:
    return str(_as_file(Path(path)))
