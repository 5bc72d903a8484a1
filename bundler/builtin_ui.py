"""shadcn/ui components built in: what Claude's artifact runtime gives a page that imports them.

A Claude artifact is one ``App.tsx`` that imports ``@/components/ui/button`` (and card,
dialog, tabs…) and ``@/lib/utils``, files its runtime provides and its user never sees. A
session that imports such a module and has no file of its own for it gets the built-in one
from ``bundler/ui/`` (same exports, props, variants and ``data-slot`` attributes as
shadcn/ui's components), loaded by the import rules under the ``stage-ui`` namespace.

- A session's own file always wins: the one ``@/`` finds (the session root, ``/src/``,
  ``/app/``), or any session file ending in that path when a tsconfig alias maps ``@/``.
- Built-ins import each other (and ``@/lib/utils``) through ``@/`` by the same rule, so a
  session's own ``button.tsx`` is the one a built-in alert dialog uses, as it would be had
  the user added the dialog with shadcn's CLI.
- Their Tailwind classes reach the page's stylesheet: :meth:`BuiltinUi.used_by` lists the
  built-ins a session reaches (from its ``@/`` imports and the built-ins' own), and the
  Tailwind stage scans them beside the session's files.

Written here rather than installed: the npm packages that publish shadcn/ui's components
ship its 2023 generation (no ``data-slot``, Tailwind v3 HSL tokens) pinned to older majors of
packages the allowlist already has (cmdk, date-fns, react-day-picker) plus next-themes, so a
page would carry second copies and a different API from the one builders generate for.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable, Collection, Mapping
from functools import cached_property
from pathlib import Path

from bundler.requests import RESOLVE_EXTENSIONS
from bundler.tsconfig import Aliases

__all__ = [
    "BuiltinUi",
    "UI_DIR",
    "UI_NAMESPACE",
    "UI_PREFIX",
    "NOT_PROVIDED",
    "markdown",
    "own_file_finder",
]

#: The built-in modules, at their shadcn paths (``components/ui/button.tsx``, ``lib/utils.ts``).
UI_DIR = Path(__file__).resolve().parent / "ui"
UI_NAMESPACE = "stage-ui"
#: How a built-in module is named in diagnostics, source maps and the Tailwind scan.
UI_PREFIX = UI_NAMESPACE + ":"
_ALIAS = "@/"
_EXTENSIONS = (".tsx", ".ts")
# Any `@/…` string in code: an import, a re-export or a dynamic import of it.
_AT_IMPORT = re.compile(r"""["'](@/[\w./-]+)["']""")
_CODE = (".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs")
_EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\}", re.M)
_EXPORT_DECLARED = re.compile(r"^export\s+(type\s+|function\s+|const\s+)([A-Za-z_$][\w$]*)", re.M)

#: The session's own file for an ``@/`` specifier, or None.
OwnFile = Callable[[str], "str | None"]
#: Where ``@/x`` is looked up without a tsconfig path for it, in order (see bundler.imports).
ALIAS_ROOTS = ("", "/src", "/app")


def own_file_finder(session_paths: Collection[str], aliases: Aliases) -> OwnFile:
    """The session's own file for ``@/<rest>``: where ``@/`` finds it (the session root,
    ``/src/``, ``/app/``), or, when a tsconfig alias maps the specifier (to any folder), any
    session file ending in ``/<rest>``."""
    stems: dict[str, str] = {}
    for path in sorted(session_paths):
        stem, ext = posixpath.splitext(path)
        if ext in RESOLVE_EXTENSIONS:
            stems.setdefault(stem.removesuffix("/index") if stem.endswith("/index") else stem, path)

    def own_file(specifier: str) -> str | None:
        rest = posixpath.normpath(specifier.removeprefix(_ALIAS))
        for root in ALIAS_ROOTS:
            candidate = posixpath.normpath(f"{root}/{rest}")
            if candidate in session_paths:
                return candidate
            if candidate in stems:
                return stems[candidate]
        if not aliases.matches(specifier):
            return None
        return next((path for stem, path in stems.items() if stem.endswith("/" + rest)), None)

    return own_file


class BuiltinUi:
    """The built-in modules of one folder, read once."""

    def __init__(self, folder: Path = UI_DIR) -> None:
        self.folder = folder
        #: ``components/ui/button`` → ``components/ui/button.tsx``
        self.modules: dict[str, str] = {}
        for path in sorted(folder.rglob("*")):
            if path.suffix in _EXTENSIONS and path.is_file():
                relative = path.relative_to(folder).as_posix()
                self.modules[relative.removesuffix(path.suffix)] = relative
        self._texts: dict[str, str] = {}

    @property
    def components(self) -> list[str]:
        """The component names (``button``, ``alert-dialog``…), sorted."""
        return sorted(posixpath.basename(m) for m in self.modules if m.startswith("components/ui/"))

    @cached_property
    def digest(self) -> str:
        """Changes when any built-in module does: part of every render's input hash."""
        digest = hashlib.sha256()
        for module in self.modules.values():
            digest.update(module.encode() + b"\0" + self.source(module).encode() + b"\0")
        return digest.hexdigest()[:12]

    def module_for(self, specifier: str) -> str | None:
        """``@/components/ui/button`` → ``components/ui/button.tsx``; None if not built in."""
        if not specifier.startswith(_ALIAS):
            return None
        rest = posixpath.normpath(specifier.removeprefix(_ALIAS))
        for ext in _EXTENSIONS:
            rest = rest.removesuffix(ext)
        return self.modules.get(rest)

    def exports(self, module: str) -> list[str]:
        """The names a built-in module exports, in source order; types as ``type Name``."""
        text = self.source(module)
        names = [
            " ".join(n.split()) for group in _EXPORT_LIST.findall(text) for n in group.split(",")
        ]
        names += [
            ("type " if kind.startswith("type") else "") + name
            for kind, name in _EXPORT_DECLARED.findall(text)
        ]
        return [n for n in names if n]

    def source(self, module: str) -> str:
        if module not in self._texts:
            self._texts[module] = (self.folder / module).read_text("utf-8")
        return self._texts[module]

    def used_by(self, code: Mapping[str, str], own_file: OwnFile) -> dict[str, str]:
        """The built-in modules ``code`` (session path → text) reaches, with the built-ins
        they import in turn, named ``stage-ui:<module>`` → text; not those the session has
        its own file for."""
        found: dict[str, str] = {}
        pending = [text for path, text in code.items() if path.endswith(_CODE)]
        while pending:
            for specifier in _AT_IMPORT.findall(pending.pop()):
                module = self.module_for(specifier)
                name = UI_PREFIX + module if module else ""
                if module is None or name in found:
                    continue
                if own_file(specifier) is not None:
                    continue
                found[name] = self.source(module)
                pending.append(found[name])
        return found


#: shadcn/ui components with no built-in, and why. A session that needs one pushes its file.
NOT_PROVIDED = {
    "combobox, date-picker, data-table, typography": "recipes shadcn/ui documents, composed "
    "from other components (popover + command, popover + calendar, table), not files",
}


def markdown(ui: BuiltinUi | None = None) -> str:
    """``docs/components.md``: every built-in module, its exports, and what is not built in."""
    ui = ui or BuiltinUi()
    lines = [
        "# Built-in shadcn/ui components",
        "",
        "Generated from `bundler/ui/` by `python -m bundler.builtin_ui`; a test checks that this",
        "file agrees with the folder.",
        "",
        "A page that imports `@/components/ui/<name>`, `@/lib/utils` or `@/hooks/<name>` and has",
        "no session file for it gets the built-in module below, as Claude's artifact runtime",
        "provides them: shadcn/ui's exports, props, variants and `data-slot` attributes, built",
        "on the allowed radix primitives (the `radix-ui` package) and Tailwind classes. The",
        "session's own file always wins (where `@/` finds it: the session root, `/src/`, `/app/`,",
        "or any session file at that path when a tsconfig alias maps `@/`), and built-ins import",
        "each other through `@/` by the same rule. Their classes are compiled into the page's",
        "Tailwind stylesheet, with shadcn/ui's default design tokens when the session brings no",
        "Tailwind entry of its own. `sonner`'s `Toaster` takes its theme from the document",
        '(`<html class="dark">`) instead of `next-themes`.',
        "",
        "| module | exports |",
        "|---|---|",
    ]
    for module in ui.modules.values():
        specifier = "@/" + module.rsplit(".", 1)[0]
        lines.append(f"| `{specifier}` | {', '.join(f'`{n}`' for n in ui.exports(module))} |")
    lines += ["", "## Not built in", "", "| component | why |", "|---|---|"]
    lines += [f"| {names} | {why} |" for names, why in NOT_PROVIDED.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
