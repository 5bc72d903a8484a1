"""esbuild's messages as diagnostics: files as pushed, 1-based places, whole lines, chains."""

from __future__ import annotations

import os
import posixpath
import re
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bundler.artifacts import Diagnostic, Severity, SourceFile
from bundler.builtin_ui import UI_PREFIX
from bundler.entry import GENERATED_ENTRY_NAME, Entry
from bundler.vendor import VENDOR_NAMESPACE

__all__ = ["PathMap", "outside_diagnostic", "import_chain", "import_parents", "with_chain"]

# esbuild names session files relative to the build root ("app/App.tsx") inside messages.
_QUOTED = re.compile(r'"([^"/][^"]*)"')
# The line breaks esbuild counts; str.splitlines() also breaks at \f, \v, \x1c-\x1e and \x85.
_LINE_BREAK = re.compile("\r\n|[\n\r\u2028\u2029]")
# Messages of a failed import, ours and esbuild's: the specifier is the first quoted text.
_RESOLUTION = re.compile(r'^(?:cannot import|Could not resolve) "([^"]+)"')


class PathMap:
    """Translates esbuild's file names (relative to the build root) to paths as pushed."""

    def __init__(
        self, root: Path, node_modules: Path, entry: Entry, vendor_shims: Path | None = None
    ) -> None:
        self.root = root
        self.node_modules = node_modules
        self.entry = entry
        self.vendor_shims = vendor_shims
        self._named: dict[str, str | None] = {}  # a 1,000-module build asks ~3,000 times
        self._displayed: dict[str, str] = {}  # and this ~4,000 times (styles, checks, chunks)
        self._root = str(root) + os.sep
        self._packages = str(node_modules) + os.sep
        self._shims = str(vendor_shims) + os.sep if vendor_shims is not None else None

    def vendor_specifier(self, absolute: str) -> str | None:
        """``<shims>/react/jsx-runtime.js`` → ``react/jsx-runtime``; None for other files."""
        if self._shims is None:
            return None
        absolute = os.path.normpath(absolute)
        if not absolute.startswith(self._shims) or not absolute.endswith(".js"):
            return None
        return absolute[len(self._shims) : -len(".js")].replace(os.sep, "/")

    def named(self, absolute: str) -> str | None:
        """A build input as users see it: a session path, a package file or a vendor shim."""
        if absolute in self._named:
            return self._named[absolute]
        normal = os.path.normpath(absolute)
        shim = self.vendor_specifier(normal)
        name = (
            f"{VENDOR_NAMESPACE}:{shim}"
            if shim is not None
            else self.session_path(normal) or self.package_path(normal)
        )
        self._named[absolute] = name
        return name

    def session_path(self, absolute: str) -> str | None:
        """``<root>/app/App.tsx`` → ``/app/App.tsx``; None outside the session tree."""
        absolute = os.path.normpath(absolute)
        return "/" + absolute[len(self._root) :] if absolute.startswith(self._root) else None

    def package_path(self, absolute: str) -> str | None:
        """``.../node_modules/react/index.js`` → ``/node_modules/react/index.js``."""
        absolute = os.path.normpath(absolute)
        if not absolute.startswith(self._packages):
            return None
        return "/node_modules/" + absolute[len(self._packages) :]

    def display(self, esbuild_file: str) -> str:
        """An esbuild file name (relative to the root) as users see it."""
        shown = self._displayed.get(esbuild_file)
        if shown is None:
            shown = self._displayed[esbuild_file] = self._display(esbuild_file)
        return shown

    def _display(self, esbuild_file: str) -> str:
        if not esbuild_file or posixpath.basename(esbuild_file) == GENERATED_ENTRY_NAME:
            return posixpath.basename(esbuild_file)
        if esbuild_file.startswith(UI_PREFIX):
            return esbuild_file  # a built-in ui module: named as such, never a session path
        return self.named(os.path.join(self.root, esbuild_file)) or esbuild_file

    def outside(self, esbuild_file: str) -> bool:
        """True for a file esbuild read from neither the session nor the runtime."""
        if not esbuild_file or posixpath.basename(esbuild_file) == GENERATED_ENTRY_NAME:
            return False
        if esbuild_file.startswith(("data:", "<", UI_PREFIX)):
            return False
        return self.named(os.path.join(self.root, esbuild_file)) is None

    def diagnostic(
        self, message: Mapping[str, Any], severity: Severity, sources: Mapping[str, SourceFile]
    ) -> Diagnostic:
        location = message.get("location") or {}
        text = str(message.get("text", ""))
        notes = [n.get("text", "") for n in message.get("notes") or [] if n.get("text")]
        if notes:
            text += " (" + "; ".join(notes) + ")"
        text = _QUOTED.sub(lambda m: f'"/{m[1]}"' if "/" + m[1] in sources else m[0], text)
        if not location:
            return Diagnostic("", 0, 0, text, "", severity)
        if self.outside(location.get("file", "")):
            # A session tsconfig "extends" or package.json "browser" entry can make esbuild
            # read any file: name it, never quote it (its text may be /etc/passwd).
            return outside_diagnostic(location["file"], severity)
        file = self.display(location.get("file", ""))
        if file == GENERATED_ENTRY_NAME and 'import "default"' in text:
            text = (
                f"{self.entry.path} has no default export: the page mounts the default "
                f"export of {self.entry.path}, e.g. `export default function App() {{ ... }}`"
            )
            return Diagnostic(self.entry.path, 0, 0, text, "", severity)
        line = int(location.get("line", 0))
        line_text = str(location.get("lineText", ""))
        source = sources.get(file)
        if source is not None and line > 0:
            # esbuild may shorten long lines; the pushed file has the whole one.
            lines = _LINE_BREAK.split(source.content.decode("utf-8", "replace"))
            line_text = lines[line - 1] if line <= len(lines) else line_text
        column = _column(line_text, int(location.get("column", 0)))
        return Diagnostic(file, line, column, text, line_text, severity)


def outside_diagnostic(name: str, severity: Severity = "error") -> Diagnostic:
    return Diagnostic(
        "",
        0,
        0,
        f'"{name}" is outside the session: imports may only reach '
        "session files and allowed packages",
        "",
        severity,
    )


def import_parents(metafile: Mapping[str, Any], paths: PathMap) -> dict[str, str]:
    """Who first imports each session file, walking the metafile's graph from the entry."""
    inputs = metafile.get("inputs", {})
    starts = [
        name for name in inputs if paths.display(name) in (paths.entry.path, GENERATED_ENTRY_NAME)
    ]
    parents: dict[str, str] = {}
    seen = set(starts)
    queue = deque(starts)
    while queue:
        name = queue.popleft()
        for imported in inputs.get(name, {}).get("imports", []):
            child = imported.get("path", "")
            if imported.get("external") or child in seen or child not in inputs:
                continue
            seen.add(child)
            parents[paths.display(child)] = paths.display(name)
            queue.append(child)
    return parents


def import_chain(file: str, parents: Mapping[str, str]) -> list[str]:
    """The files from the entry down to ``file``, following each file's first importer.

    ``parents`` may hold a cycle (``A`` imports ``B`` imports ``A``, and neither was reached
    from the entry first): the walk stops at a file it has already seen.
    """
    chain = [file]
    seen = {file}
    while (parent := parents.get(chain[-1])) is not None and parent != GENERATED_ENTRY_NAME:
        if parent in seen:
            break
        seen.add(parent)
        chain.append(parent)
    chain.reverse()
    return chain


def with_chain(diagnostic: Diagnostic, parents: Mapping[str, str]) -> Diagnostic:
    """A resolution error with the chain of imports that reached it, in the message too."""
    match = _RESOLUTION.match(diagnostic.message)
    if match is None or not diagnostic.file:
        return diagnostic
    chain = [*import_chain(diagnostic.file, parents), match[1]]
    return Diagnostic(
        diagnostic.file,
        diagnostic.line,
        diagnostic.column,
        f"{diagnostic.message} (import chain: {' → '.join(chain)})",
        diagnostic.line_text,
        diagnostic.severity,
        tuple(chain),
    )


def _column(line_text: str, byte_column: int) -> int:
    """esbuild counts UTF-8 bytes from 0; editors count characters from 1."""
    prefix = line_text.encode("utf-8")[:byte_column]
    return len(prefix.decode("utf-8", "ignore")) + 1
