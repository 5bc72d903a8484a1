"""manifest.json: written and read in one place, the same fields either way."""

from __future__ import annotations

import json

from bundler import Diagnostic, Page
from worker.manifest import Manifest, ManifestFile
from worker.models import RenderError

HEADER = dict(
    session_id="s1",
    version=3,
    input_hash="ab",
    esbuild_version="0.25.0",
    tailwind_version="4.1.0",
    lock_hash="cd",
    shell_version="7",
    created_at="2026-12-04T10:00:00.000Z",
)
INDEX = ManifestFile.of("index.html", "html", b"<html>", "text/html; charset=utf-8")
SCRIPT = ManifestFile.of("assets/app-1.js", "asset", b"x()", "text/javascript")


def test_a_ready_manifest_reads_back_as_written_with_the_page_at_the_top_level():
    page = Page(entry="/app/App.tsx", scripts=["assets/app-1.js"], styles=[], title="Shift")
    warning = Diagnostic("/app/a.ts", 1, 1, "unused", "let a", "warning")
    manifest = Manifest(
        status="ready", files=[SCRIPT, INDEX], page=page, warnings=[warning], **HEADER
    )

    data = json.loads(manifest.to_json())
    assert data["scripts"] == ["assets/app-1.js"] and data["entry"] == "/app/App.tsx"
    assert data["files"][0] == {
        "path": "assets/app-1.js",
        "kind": "asset",
        "size": 3,
        "sha256": SCRIPT.sha256,
        "contentType": "text/javascript",
    }
    assert "error" not in data
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.kind_of("assets/app-1.js") == "asset"
    assert manifest.kind_of("manifest.json") == manifest.kind_of("missing.js") == "html"


def test_a_failed_manifest_carries_the_build_error_and_no_page():
    error = RenderError("build", "1 error", [Diagnostic("/app/App.tsx", 2, 5, "x", "y")])
    manifest = Manifest(status="failed", files=[INDEX], error=error, **HEADER)

    data = json.loads(manifest.to_json())
    assert data["error"]["kind"] == "build" and "scripts" not in data
    assert Manifest.from_json(manifest.to_json()) == manifest


def test_a_manifest_from_before_pages_moved_to_the_top_level_still_reads():
    page = {"entry": "/app/App.tsx", "scripts": ["a.js"], "styles": [], "warnings": []}
    old = json.dumps(
        {
            "sessionId": "s1",
            "version": 1,
            "status": "ready",
            "page": page,
            "files": [{"path": "a.js", "kind": "asset"}],
        }
    )

    manifest = Manifest.from_json(old)
    assert manifest.page is not None and manifest.page.scripts == ["a.js"]
    assert manifest.kind_of("a.js") == "asset"
