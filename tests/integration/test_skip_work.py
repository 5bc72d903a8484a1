"""Work a worker does not redo: superseded renders, reused versions, stored vendor chunks."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from services import wait_for
from stage_samples import HELLO

from bundler import Runtime, SourceFile
from worker.render.pipeline import (
    BuiltVersion,
    RenderInput,
    build_version,
    bundler_from_settings,
    input_hash,
)
from worker.settings import Settings
from worker.storage import LocalStore

pytestmark = pytest.mark.integration


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_older_render_queued_behind_a_newer_one_is_superseded(
    each_namespace, start_worker, tmp_path
):
    namespace = each_namespace
    slow = tmp_path / "esbuild-slow"
    slow.write_text(f'#!/bin/sh\nsleep 2\nexec "{Runtime().binary}" "$@"\n')
    slow.chmod(0o755)
    start_worker(namespace, STAGE_ESBUILD_BINARY=str(slow), STAGE_VENDOR="0")
    with namespace.client() as client:
        session = client.sessions.create(name="coalesce")
        client.sessions.push_files(session.id, HELLO)
        first = client.sessions.render(session.id)  # occupies the worker (slow start)
        wait_for(
            lambda: client.sessions.get_render(session.id, 1).status == "building",
            20,
            "the first render to start",
        )
        queued = [client.sessions.render(session.id) for _ in range(3)]
        records = [
            client.sessions.wait_for_render(session.id, t.version, timeout=60)
            for t in [first, *queued]
        ]
        status = client.sessions.status(session.id)
    assert [r.status for r in records] == ["ready", "superseded", "superseded", "ready"]
    assert all(r.url is None and r.error is None for r in records[1:3])
    assert status.live.version == 4 and status.render.version == 4
    assert status.to_dict()["render"]["status"] == "ready"


def test_identical_inputs_reuse_a_stored_version_with_their_own_record(stack):
    client, _ = stack
    session = client.sessions.create(name="same inputs")
    client.sessions.push_files(session.id, HELLO)
    first = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    second = client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
    assert (first.status, second.status) == ("ready", "ready")
    assert first.input_hash == second.input_hash
    assert second.index_key.endswith("/renders/2/index.html")
    assert second.timings_ms["bundle"] == 0.0 < first.timings_ms["bundle"]

    base = second.url.rsplit("/", 1)[0]
    manifest = json.loads(fetch(base + "/manifest.json"))
    assert manifest["reusedFrom"] == f"sessions/{session.id}/renders/1/"
    assert manifest["version"] == 2
    for entry in manifest["files"]:
        assert len(fetch(f"{base}/{entry['path']}")) == entry["size"], entry["path"]
    assert b'"version": 2' in fetch(second.url)  # its own page, naming its own version


def test_a_different_name_is_a_different_input(stack):
    client, _ = stack
    one = client.sessions.create(name="one")
    two = client.sessions.create(name="two")
    records = []
    for session in (one, two):
        client.sessions.push_files(session.id, HELLO)
        records.append(
            client.sessions.wait_for_render(session.id, client.sessions.render(session.id).version)
        )
    assert records[0].input_hash != records[1].input_hash
    assert records[1].timings_ms["bundle"] > 0


PAGE_FIELDS = ("entry", "scripts", "styles", "overlay", "vendor", "favicon", "routes", "warnings")


def old_shaped(manifest: dict) -> dict:
    """A manifest as written before the page moved to the top level: under "page"."""
    page = {key: manifest[key] for key in PAGE_FIELDS}
    old = {key: value for key, value in manifest.items() if key not in ("favicon", "warnings")}
    return {**old, "page": page}


def reuse_after_rewriting_its_manifest(tmp_path, rewrite) -> tuple[BuiltVersion, BuiltVersion]:
    """Version 1 built in-process, its manifest rewritten, then version 2 of the same inputs."""
    store = LocalStore(tmp_path / "out")
    bundler = bundler_from_settings(Settings(vendor_cache_dir=tmp_path / "vendor-cache"))
    files = [SourceFile(f["path"], f["content"].encode()) for f in HELLO]
    try:
        first = RenderInput("s", 1, "rewritten manifest", [], files)
        digest = input_hash(first, bundler)
        built = build_version(first, digest=digest, bundler=bundler, store=store)
        manifest_path = tmp_path / "out" / built.folder / "manifest.json"
        manifest_path.write_text(json.dumps(rewrite(json.loads(manifest_path.read_text()))))
        second = build_version(
            RenderInput("s", 2, "rewritten manifest", [], files),
            digest=digest,
            bundler=bundler,
            store=store,
            reuse=built.folder,
        )
    finally:
        bundler.close()
    return built, second


def test_a_version_whose_manifest_keeps_the_page_under_page_is_still_reused(tmp_path):
    built, second = reuse_after_rewriting_its_manifest(tmp_path, old_shaped)

    assert second.cache_hits == {"dedupe": 1} and second.timings_ms["bundle"] == 0.0
    loads = {
        v.folder: re.findall(
            r'(?:src|href)="([^"]+)"', (tmp_path / "out" / v.folder / "index.html").read_text()
        )
        for v in (built, second)
    }
    assert loads[second.folder] == loads[built.folder]  # the same scripts, styles and icon
    assert any(src.endswith(".js") for src in loads[second.folder])


def test_a_version_whose_manifest_has_no_page_is_built_again(tmp_path):
    _, second = reuse_after_rewriting_its_manifest(
        tmp_path, lambda manifest: {k: v for k, v in manifest.items() if k not in PAGE_FIELDS}
    )

    assert second.cache_hits.get("dedupe") is None and second.timings_ms["bundle"] > 0
