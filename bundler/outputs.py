"""esbuild's output files, /public/ files and the overlay script as version-folder artifacts."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from bundler.artifacts import Artifact, ArtifactKind, Diagnostic, SourceFile, content_type_for
from bundler.builtin_ui import UI_PREFIX
from bundler.diagnostics import PathMap
from bundler.entry import GENERATED_ENTRY_NAME

__all__ = [
    "PUBLIC_DIR",
    "public_artifacts",
    "browser_artifacts",
    "server_artifacts",
    "overlay_artifact",
    "FAVICONS",
]

PUBLIC_DIR = "/public/"
#: Names the version folder needs for itself; a /public/ file may not take them.
_RESERVED = ("index.html", "manifest.json")
_RESERVED_FOLDERS = ("assets/", "server/")
FAVICONS = ("favicon.ico", "favicon.svg", "favicon.png")


def public_artifacts(files: Iterable[SourceFile]) -> tuple[list[Artifact], list[Diagnostic]]:
    """/public/ files copied as is, and an error for each one that takes a reserved name."""
    artifacts, errors = [], []
    for f in files:
        if not f.path.startswith(PUBLIC_DIR):
            continue
        name = f.path[len(PUBLIC_DIR) :]
        if name in _RESERVED or name.startswith(_RESERVED_FOLDERS):
            reserved = ", ".join([*_RESERVED, *(d + "…" for d in _RESERVED_FOLDERS)])
            errors.append(
                Diagnostic(
                    f.path,
                    0,
                    0,
                    f"{f.path} would replace the version's own "
                    f"{name}; /public/ files may not be named {reserved}",
                    "",
                )
            )
            continue
        artifacts.append(Artifact(name, f.content, content_type_for(name), "public"))
    return artifacts, errors


def browser_artifacts(
    outputs: Sequence[Mapping[str, Any]],
    metafile: Mapping[str, Any],
    paths: PathMap,
    out_root: Path,
    public: Iterable[str],
) -> tuple[list[str], list[str], list[Artifact]]:
    """Scripts and styles index.html loads, and every output file as an artifact."""
    scripts: list[str] = []
    styles: list[str] = []
    for name, info in metafile.get("outputs", {}).items():
        if info.get("entryPoint") is not None:
            scripts.append(_relative(paths.root / name, out_root))
            if info.get("cssBundle"):
                styles.append(_relative(paths.root / info["cssBundle"], out_root))
    public_names = sorted(public)
    artifacts = []
    for output in outputs:
        relative = _relative(Path(output["path"]), out_root)
        content = bytes(output["contents"])
        kind: ArtifactKind = "asset"
        if relative.endswith(".map"):
            content = _rewrite_sources(content, out_root / posixpath.dirname(relative), paths)
            kind = "sourcemap"
        elif relative in scripts or relative.endswith(".js"):
            content = _public_urls_in_js(content, public_names)
            kind = "script"
        elif relative in styles or relative.endswith(".css"):
            content = _public_urls_in_css(content, public_names)
            kind = "style"
        artifacts.append(Artifact(relative, content, content_type_for(relative), kind))
    return scripts, styles, artifacts


def server_artifacts(outputs: Sequence[Mapping[str, Any]], out_root: Path) -> list[Artifact]:
    return [
        Artifact(
            _relative(Path(o["path"]), out_root),
            bytes(o["contents"]),
            content_type_for(o["path"]),
            "server",
        )
        for o in outputs
    ]


@cache
def overlay_artifact(*sources: Path) -> Artifact:
    """The page runtime, ``sources`` joined: the error overlay and what the page may expect
    its host to provide (``window.storage``). The same for every page, so it lives beside the
    vendor chunks (its path is relative to the store root) and is uploaded once, not per
    version."""
    content = b"\n".join(source.read_bytes() for source in sources)
    digest = hashlib.sha256(content).hexdigest()[:10]
    return Artifact(
        f"vendor/stage/overlay-{digest}.js", content, content_type_for(".js"), "overlay"
    )


def _relative(path: Path, out_root: Path) -> str:
    return Path(os.path.relpath(path, out_root)).as_posix()


def _public_urls_in_js(content: bytes, public: list[str]) -> bytes:
    # "/logo.png" means the host root; the version folder is where /public/ files are.
    # The JS runs in index.html, so "./logo.png" resolves next to it on any host.
    for name in public:
        for quote in (b'"', b"'", b"`"):
            content = content.replace(
                quote + b"/" + name.encode() + quote, quote + b"./" + name.encode() + quote
            )
    return content


def _public_urls_in_css(content: bytes, public: list[str]) -> bytes:
    # The stylesheet sits next to index.html, like the /public/ files.
    for name in public:
        pattern = re.compile(rb'url\((["\']?)/(' + re.escape(name.encode()) + rb")\1\)")
        content = pattern.sub(rb"url(\1./\2\1)", content)
    return content


#: How esbuild starts every source map (``{\n  "version": 3,\n  "sources": [``, spaced or
#: not); ``sources`` is then rewritten without a full parse.
_MAP_HEAD = re.compile(rb'\{\s*"version":\s*3,\s*"sources":\s*')
#: The keys esbuild writes after ``sources``. Unescaped, they cannot occur inside a JSON
#: string (every quote in one is escaped), so the first one found ends the array.
_AFTER_SOURCES = (b'"sourcesContent":', b'"mappings":')


def _rewrite_sources(content: bytes, map_dir: Path, paths: PathMap) -> bytes:
    """Name source-map sources as pushed (``/app/App.tsx``), not by the build's temp dir.

    Only the ``sources`` array changes: it is decoded and replaced in place, so the
    megabytes of ``sourcesContent`` and ``mappings`` of a large app are copied as bytes,
    never decoded, parsed or written again (esbuild writes ``sources`` first, then
    ``sourcesContent`` or ``mappings``; any other layout takes the whole-document path).
    """
    head = _MAP_HEAD.match(content)
    ends = [i for i in (content.find(key) for key in _AFTER_SOURCES) if i >= 0]
    if head and ends:
        text = content[: min(ends)].decode("utf-8")
        try:
            sources, end = json.JSONDecoder().raw_decode(text, head.end())
        except ValueError:
            sources = None
        if isinstance(sources, list) and all(isinstance(x, str) for x in sources):
            renamed = json.dumps(_renamed(sources, map_dir, paths), separators=(",", ":"))
            return (text[: head.end()] + renamed + text[end:]).encode("utf-8") + content[
                min(ends) :
            ]
    source_map = json.loads(content)
    source_map["sources"] = _renamed(source_map.get("sources", []), map_dir, paths)
    return json.dumps(source_map, separators=(",", ":")).encode("utf-8")


#: Sources that are not files: a plugin namespace's module (``stage-next:next/link``) or
#: what esbuild writes for an object ``--define`` (``<define:process.env>``).
_VIRTUAL = re.compile(r"^(?:<[^>]*>|[a-z][a-z-]*:)")


def _renamed(sources: list[str], map_dir: Path, paths: PathMap) -> list[str]:
    renamed = []
    for source in sources:
        source = urllib.parse.unquote(source)  # esbuild writes "<" and "ü" as %3C and %C3%BC
        name = posixpath.basename(source)
        if name == GENERATED_ENTRY_NAME or name.startswith("<define:"):
            renamed.append(name)  # not files: the mount code, a --define value as a module
            continue
        if _VIRTUAL.match(source):  # a plugin's module or a define: no file to name
            renamed.append(source)
            continue
        if source.startswith(UI_PREFIX):
            renamed.append(source)  # a built-in ui module, named as such (not a session file)
            continue
        absolute = os.path.join(map_dir, source)
        renamed.append(paths.named(absolute) or source)
    return renamed
