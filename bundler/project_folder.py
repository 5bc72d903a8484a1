"""A session pushed as an unzipped download: the whole project inside one top folder.

bolt and other builders hand out a zip whose files sit in one folder (``/project/index.html``,
``/project/src/main.tsx``); pushed as they unzip, no entry is where the entry rules look.
When every file is inside one top folder, the session has no entry at its root, and the
folder holds a project (an ``index.html`` or ``package.json`` at its top, as every download
does) with an entry, the build runs on the folder's files as if they were the session's root, and
says so in a warning. Paths in diagnostics and source maps are given back as pushed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Sequence

from bundler.artifacts import Artifact, Diagnostic, SourceFile
from bundler.entry import CANDIDATES
from bundler.index_html import INDEX_HTML

__all__ = ["ProjectFolder", "find_project_folder"]

#: Files at the top of every unzipped project; a folder without one is the session's own.
_PROJECT_MARKERS = frozenset({INDEX_HTML, "/package.json"})


@dataclasses.dataclass(frozen=True)
class ProjectFolder:
    """The top folder (``/project``) the session's files are built from."""

    path: str

    def inside(self, files: Sequence[SourceFile]) -> list[SourceFile]:
        """``files`` as the build sees them: ``/project/src/x.ts`` → ``/src/x.ts``."""
        return [SourceFile(f.path[len(self.path) :], f.content) for f in files]

    def as_pushed(self, diagnostic: Diagnostic) -> Diagnostic:
        """A diagnostic about the folder's files, naming them as they were pushed."""
        return dataclasses.replace(
            diagnostic,
            file=self._pushed(diagnostic.file),
            import_chain=tuple(self._pushed(p) for p in diagnostic.import_chain),
        )

    def artifact_as_pushed(self, artifact: Artifact) -> Artifact:
        """A source map's session sources named as pushed (the checker maps runtime errors
        through them); any other artifact as it is."""
        if artifact.kind != "sourcemap":
            return artifact
        source_map = json.loads(artifact.content)
        source_map["sources"] = [
            self._pushed(name)
            if isinstance(name, str) and not name.startswith("/node_modules/")
            else name
            for name in source_map.get("sources", [])
        ]
        content = json.dumps(source_map, separators=(",", ":")).encode("utf-8")
        return dataclasses.replace(artifact, content=content)

    @property
    def warning(self) -> Diagnostic:
        return Diagnostic(
            self.path,
            0,
            0,
            (
                f"every file is inside {self.path}/ and none is an entry at the session's root: "
                f"the page is built from {self.path}/ as the project's root (as if "
                f"{self.path}/index.html were /index.html); push the files without the folder to "
                "silence this"
            ),
            "",
            "warning",
        )

    def _pushed(self, path: str) -> str:
        return self.path + path if path.startswith("/") else path


def find_project_folder(paths: Collection[str]) -> ProjectFolder | None:
    """The one top folder holding the whole project, when the session's root holds none."""
    if not paths or _has_entry(paths):
        return None
    tops = {path.split("/", 2)[1] for path in paths}
    if len(tops) != 1 or any(path.count("/") < 2 for path in paths):
        return None
    folder = "/" + tops.pop()
    inside = {path[len(folder) :] for path in paths}
    if not _PROJECT_MARKERS & inside or not _has_entry(inside):
        return None
    return ProjectFolder(folder)


def _has_entry(paths: Collection[str]) -> bool:
    return INDEX_HTML in paths or any(candidate in paths for candidate, _ in CANDIDATES)
