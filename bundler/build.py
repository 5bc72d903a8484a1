"""Session files in, browser artifacts (or every diagnostic) out."""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
import tempfile
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bundler.artifacts import Artifact, Bundle, Diagnostic, SourceFile, content_type_for
from bundler.entry import GENERATED_ENTRY_NAME, Entry, find_entry
from bundler.errors import BuildFailed
from bundler.esbuild import EsbuildService
from bundler.imports import ImportRules
from bundler.runtime import Runtime

__all__ = ["Bundler", "DEFAULT_BUILD_TIMEOUT_S"]

log = logging.getLogger(__name__)

#: Generous for a sandbox app (the reference app builds in well under a second) yet short
#: enough that a hung esbuild is killed long before the task's soft time limit.
DEFAULT_BUILD_TIMEOUT_S = 20.0

_OUT_DIR = "out"
# esbuild names session files relative to the build root ("app/App.tsx") inside messages.
_QUOTED = re.compile(r'"([^"/][^"]*)"')
# The line breaks esbuild counts; str.splitlines() also breaks at \f, \v, \x1c-\x1e and \x85.
_LINE_BREAK = re.compile("\r\n|[\n\r\u2028\u2029]")
_ASSET_LOADERS = {
    **{ext: "file" for ext in (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif",
                               ".ico", ".woff", ".woff2", ".ttf", ".otf")},
    ".txt": "text",
    ".md": "text",
}
_FLAGS = [
    "--bundle",
    "--minify",
    "--sourcemap=linked",
    "--format=iife",  # a classic script also runs from file:// (the local store's URL)
    "--platform=browser",
    "--target=es2020",
    "--jsx=automatic",
    "--charset=utf8",
    "--metafile",
    "--log-level=silent",  # messages come back in the response, nothing goes to stderr
    "--log-limit=0",  # every error, not the first ten
    "--define:process.env.NODE_ENV=\"production\"",
    "--entry-names=assets/app-[hash]",
    "--chunk-names=assets/chunk-[hash]",
    "--asset-names=assets/[name]-[hash]",
    *[f"--loader:{ext}={loader}" for ext, loader in _ASSET_LOADERS.items()],
]


class Bundler:
    """Builds session files with one long-lived esbuild service (per process)."""

    def __init__(self, runtime: Runtime | None = None,
                 timeout_s: float = DEFAULT_BUILD_TIMEOUT_S) -> None:
        self.runtime = runtime or Runtime()
        self.timeout_s = timeout_s
        self.service = EsbuildService(self.runtime.binary, self.runtime.esbuild_version)

    def close(self) -> None:
        self.service.close()

    def build(self, files: Sequence[SourceFile]) -> Bundle:
        """Bundle ``files`` for the browser, or raise :class:`BuildFailed` with diagnostics."""
        sources = {f.path: f for f in files}
        entry = find_entry(sources)
        with tempfile.TemporaryDirectory(prefix="stage-build-") as tmp:
            root = Path(tmp).resolve()
            _write_tree(root, files)
            rules = ImportRules(root, self.runtime.node_modules, sources,
                                self.runtime.allowed_packages)
            response = self.service.build(
                self._request(root, entry), rules.on_resolve, self.timeout_s
            )
            paths = _PathMap(root, self.runtime.node_modules, entry)
            errors = [paths.diagnostic(m, "error", sources) for m in response.get("errors", [])]
            warnings = [paths.diagnostic(m, "warning", sources)
                        for m in response.get("warnings", [])]
            if errors:
                raise BuildFailed(f"build failed with {len(errors)} error(s)", errors + warnings)
            metafile = json.loads(response["metafile"])
            _check_inputs(metafile, paths)
            return _bundle(response["outputFiles"], metafile, paths, warnings, entry)

    def _request(self, root: Path, entry: Entry) -> dict[str, Any]:
        request: dict[str, Any] = {
            "command": "build",
            "key": 0,
            "entries": [],
            "flags": [*_FLAGS, f"--outdir={root / _OUT_DIR}"],
            "write": False,
            "stdinContents": None,
            "stdinResolveDir": None,
            "absWorkingDir": str(root),
            "nodePaths": [str(self.runtime.node_modules)],
            "context": False,
            "plugins": [{
                "name": "stage-imports",
                "onStart": False,
                "onEnd": False,
                "onResolve": [{"id": 0, "filter": ImportRules.FILTER, "namespace": ""}],
                "onLoad": [],
            }],
        }
        if entry.mount_source is None:
            request["entries"] = [["", str(root) + entry.path]]
        else:
            request["flags"] += [f"--sourcefile={GENERATED_ENTRY_NAME}", "--loader=jsx"]
            request["stdinContents"] = entry.mount_source.encode("utf-8")
            request["stdinResolveDir"] = str(root) + posixpath.dirname(entry.path)
        return request


class _PathMap:
    """Translates esbuild's file names (relative to the build root) to paths as pushed."""

    def __init__(self, root: Path, node_modules: Path, entry: Entry) -> None:
        self.root = root
        self.node_modules = node_modules
        self.entry = entry

    def session_path(self, absolute: str) -> str | None:
        """``<root>/app/App.tsx`` → ``/app/App.tsx``; None outside the session tree."""
        absolute = os.path.normpath(absolute)
        prefix = str(self.root) + os.sep
        return "/" + absolute[len(prefix):] if absolute.startswith(prefix) else None

    def package_path(self, absolute: str) -> str | None:
        """``.../node_modules/react/index.js`` → ``/node_modules/react/index.js``."""
        absolute = os.path.normpath(absolute)
        prefix = str(self.node_modules) + os.sep
        return "/node_modules/" + absolute[len(prefix):] if absolute.startswith(prefix) else None

    def display(self, esbuild_file: str) -> str:
        if not esbuild_file or posixpath.basename(esbuild_file) == GENERATED_ENTRY_NAME:
            return posixpath.basename(esbuild_file)
        absolute = os.path.join(self.root, esbuild_file)
        return self.session_path(absolute) or self.package_path(absolute) or esbuild_file

    def outside(self, esbuild_file: str) -> bool:
        """True for a file esbuild read from neither the session nor the runtime."""
        if not esbuild_file or posixpath.basename(esbuild_file) == GENERATED_ENTRY_NAME:
            return False
        absolute = os.path.join(self.root, esbuild_file)
        return self.session_path(absolute) is None and self.package_path(absolute) is None

    def diagnostic(self, message: dict[str, Any], severity: str,
                   sources: dict[str, SourceFile]) -> Diagnostic:
        location = message.get("location") or {}
        text = str(message.get("text", ""))
        notes = [n.get("text", "") for n in message.get("notes") or [] if n.get("text")]
        if notes:
            text += " (" + "; ".join(notes) + ")"
        text = _QUOTED.sub(lambda m: f'"/{m[1]}"' if "/" + m[1] in sources else m[0], text)
        if not location:
            return Diagnostic("", 0, 0, text, "", severity)  # type: ignore[arg-type]
        if self.outside(location.get("file", "")):
            # A session tsconfig "extends" or package.json "browser" entry can make esbuild
            # read any file: name it, never quote it (its text may be /etc/passwd).
            return _outside(location["file"], severity)
        file = self.display(location.get("file", ""))
        if file == GENERATED_ENTRY_NAME and 'import "default"' in text:
            text = (f"{self.entry.path} has no default export: the page mounts the default "
                    "export of /app/App.*, e.g. `export default function App() { ... }`")
            return Diagnostic(self.entry.path, 0, 0, text, "", severity)  # type: ignore[arg-type]
        line = int(location.get("line", 0))
        line_text = str(location.get("lineText", ""))
        source = sources.get(file)
        if source is not None and line > 0:
            # esbuild shortens long lines; the pushed file has the whole one.
            lines = _LINE_BREAK.split(source.content.decode("utf-8", "replace"))
            line_text = lines[line - 1] if line <= len(lines) else line_text
        column = _column(line_text, int(location.get("column", 0)))
        return Diagnostic(file, line, column, text, line_text, severity)  # type: ignore[arg-type]


def _column(line_text: str, byte_column: int) -> int:
    """esbuild counts UTF-8 bytes from 0; editors count characters from 1."""
    prefix = line_text.encode("utf-8")[:byte_column]
    return len(prefix.decode("utf-8", "ignore")) + 1


def _write_tree(root: Path, files: Sequence[SourceFile]) -> None:
    for file in files:
        if not file.path.startswith("/") or posixpath.normpath(file.path) != file.path:
            raise ValueError(f"{file.path!r}: the bundler takes normalised absolute paths")
        target = root / file.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.content)


def _check_inputs(metafile: dict[str, Any], paths: _PathMap) -> None:
    """Fail the build if anything outside the session and the runtime was read.

    Import rules stop bare and absolute imports; this catches the rest (a relative
    import climbing out of the session, a tsconfig ``paths`` entry pointing elsewhere).
    """
    outside = []
    for name in metafile.get("inputs", {}):
        if name == GENERATED_ENTRY_NAME or name.startswith(("data:", "<")):
            continue
        absolute = os.path.join(paths.root, name)
        if paths.session_path(absolute) is None and paths.package_path(absolute) is None:
            outside.append(name)
    if outside:
        raise BuildFailed("build read files outside the session",
                          [_outside(name, "error") for name in outside])


def _outside(name: str, severity: str) -> Diagnostic:
    return Diagnostic("", 0, 0, f'"{name}" is outside the session: imports may only reach '
                      "session files and allowed packages", "", severity)  # type: ignore[arg-type]


def _bundle(outputs: list[dict[str, Any]], metafile: dict[str, Any], paths: _PathMap,
            warnings: list[Diagnostic], entry: Entry) -> Bundle:
    out_root = paths.root / _OUT_DIR
    scripts: list[str] = []
    styles: list[str] = []
    for name, info in metafile.get("outputs", {}).items():
        relative = os.path.relpath(os.path.join(paths.root, name), out_root)
        if info.get("entryPoint") is not None:
            scripts.append(relative)
            if info.get("cssBundle"):
                styles.append(os.path.relpath(os.path.join(paths.root, info["cssBundle"]),
                                              out_root))
    artifacts = []
    for output in outputs:
        relative = os.path.relpath(output["path"], out_root)
        content = bytes(output["contents"])
        if relative.endswith(".map"):
            content = _rewrite_sources(content, out_root / posixpath.dirname(relative), paths)
        artifacts.append(Artifact(relative, content, content_type_for(relative)))
    artifacts.sort(key=lambda a: a.path)
    return Bundle(scripts=scripts, styles=styles, artifacts=artifacts, warnings=warnings,
                  entry=entry.path)


def _rewrite_sources(content: bytes, map_dir: Path, paths: _PathMap) -> bytes:
    """Name source-map sources as pushed (``/app/App.tsx``), not by the build's temp dir."""
    source_map = json.loads(content)
    renamed = []
    for source in source_map.get("sources", []):
        source = urllib.parse.unquote(source)  # esbuild writes "<" and "ü" as %3C and %C3%BC
        if posixpath.basename(source) == GENERATED_ENTRY_NAME:
            renamed.append(GENERATED_ENTRY_NAME)
            continue
        absolute = os.path.join(map_dir, source)
        renamed.append(paths.session_path(absolute) or paths.package_path(absolute) or source)
    source_map["sources"] = renamed
    return json.dumps(source_map, separators=(",", ":")).encode("utf-8")
