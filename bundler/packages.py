"""The installed npm packages of ``bundler/runtime``: versions, dependencies, and how the
vendor chunks split them.

Vendor chunks must never hold two copies of one package: radix primitives share internal
packages (``@radix-ui/react-dismissable-layer`` keeps the stack of open layers in a module
variable, a second copy would not see the first one's dialogs). So every installed package
goes into exactly one chunk, and packages are grouped by *which allowed packages reach
them*: those reached by ``recharts`` alone travel in recharts' chunk, those reached by
every radix primitive form one shared chunk, ``scheduler`` (reached exactly where
``react-dom`` is) joins react-dom's. A page then loads no chunk that none of its packages
needs, and only as many scripts as there are distinct groups among them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bundler.barrels import BARREL_PACKAGES
from bundler.pins import Runtime, package_name

__all__ = [
    "Group",
    "allowlist",
    "allowlist_markdown",
    "dependency_graph",
    "group_packages",
    "locked_versions",
    "package_of_path",
]

# Dependency fields that can put code in the browser bundle.
_DEPENDENCY_FIELDS = ("dependencies", "peerDependencies", "optionalDependencies")


@dataclass(frozen=True)
class Group:
    """Packages that travel together in one vendor chunk."""

    name: str  # its first allowed package, else its first package
    packages: tuple[str, ...]
    roots: tuple[str, ...]  # allowed packages among them


def locked_versions(runtime_root: Path) -> dict[str, str]:
    """Every installed package's version as package-lock.json pins it (top level only)."""
    lock = json.loads((runtime_root / "package-lock.json").read_text("utf-8"))
    versions = {}
    for key, entry in lock.get("packages", {}).items():
        if key.startswith("node_modules/") and "/node_modules/" not in key[len("node_modules/") :]:
            versions[key[len("node_modules/") :]] = str(entry.get("version", ""))
    return versions


def dependency_graph(node_modules: Path, roots: Iterable[str]) -> dict[str, set[str]]:
    """Package → the installed packages its package.json says it may import, for every
    package reachable from ``roots``. Type-only packages (``@types/*``) are left out."""
    graph: dict[str, set[str]] = {}
    pending = list(roots)
    while pending:
        package = pending.pop()
        if package in graph:
            continue
        manifest = json.loads((node_modules / package / "package.json").read_text("utf-8"))
        deps = set()
        for field in _DEPENDENCY_FIELDS:
            for dep in manifest.get(field) or {}:
                installed = (node_modules / dep / "package.json").is_file()
                if installed and not dep.startswith("@types/"):
                    deps.add(dep)
        graph[package] = deps
        pending.extend(deps - graph.keys())
    return graph


def group_packages(graph: Mapping[str, Collection[str]], roots: Collection[str]) -> list[Group]:
    """Partition the packages of ``graph`` by the set of ``roots`` that reach each one."""
    reached_by: dict[str, set[str]] = {package: set() for package in graph}
    for root in roots:
        seen = {root}
        pending = [root]
        while pending:
            for dep in graph[pending.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    pending.append(dep)
        for package in seen:
            reached_by[package].add(root)
    members: dict[frozenset[str], list[str]] = {}
    for package, reachers in reached_by.items():
        members.setdefault(frozenset(reachers), []).append(package)
    groups = []
    for packages in members.values():
        packages.sort()
        group_roots = tuple(p for p in packages if p in roots)
        groups.append(Group((group_roots or packages)[0], tuple(packages), group_roots))
    return sorted(groups, key=lambda g: g.name)


def package_of_path(path: str, node_modules: Path) -> str | None:
    """``<node_modules>/@scope/pkg/dist/x.js`` → ``@scope/pkg``; None outside node_modules."""
    prefix = str(node_modules) + "/"
    if not path.startswith(prefix):
        return None
    return package_name(path[len(prefix) :])


def allowlist(runtime: Runtime) -> list[tuple[str, str]]:
    """The packages session code may import, with the version the lock pins."""
    versions = locked_versions(runtime.root)
    return [(name, versions[name]) for name in runtime.allowed_packages]


def allowlist_markdown(runtime: Runtime) -> str:
    """docs/packages.md: the allowlist as an agent writing session code should read it."""
    lines = [
        "# Packages a page may import",
        "",
        "Generated from `bundler/runtime/package-lock.json` by `stage-render packages --markdown`;",
        "a test checks that this file agrees with the lock. Browser code may import these",
        "packages (and their subpaths) and nothing else from npm; any other package, a Node",
        "built-in or a URL fails the build with a message naming the allowed packages, and a",
        "near miss (`moment`, `@radix-ui/react-icons`, `axios`, a typo) says what to use instead.",
        "",
        'Pages stay small when they import by name: `import { Camera } from "lucide-react"`,',
        '`import { format } from "date-fns"`, `import { LineChart } from "recharts"` and',
        '`import { Dialog } from "radix-ui"` bring only what they name. A namespace or',
        "default import of " + ", ".join(f"`{p}`" for p in BARREL_PACKAGES) + " loads the",
        "whole package. React is shared: every package uses the one `react`.",
        "",
        "| package | version |",
        "|---|---|",
        *(f"| `{name}` | {version} |" for name, version in allowlist(runtime)),
        "",
    ]
    return "\n".join(lines)
