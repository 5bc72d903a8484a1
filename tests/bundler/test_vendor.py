"""Vendor chunks: the allowlist built once, one React, renders that bundle only session code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import session

from bundler import Bundler, Runtime
from bundler.vendor import REGISTRY, VendorSet, vendor_key

APP = {
    "/app/App.tsx": (
        'import { useState } from "react";\n'
        'import { Activity } from "lucide-react";\n'
        'import { format } from "date-fns";\n'
        "export default function App() {\n"
        "  const [n] = useState(0);\n"
        "  return <p><Activity />{n}{format(new Date(0), 'yyyy')}</p>;\n"
        "}\n"),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vendor-cache")


@pytest.fixture(scope="module")
def vendored(cache: Path) -> Iterator[Bundler]:
    built = Bundler(vendor_cache=cache)
    yield built
    built.close()


def test_every_allowed_package_has_a_chunk_and_only_react_holds_react(vendored):
    vendor = vendored.vendor
    assert isinstance(vendor, VendorSet)
    assert sorted(vendor.chunks) == sorted(Runtime().allowed_packages)
    react = vendor.chunks["react"]
    assert react.specifiers[:2] == ("react", "react/jsx-runtime")
    assert react.deps == ()
    # React's Component class is defined in exactly one chunk: the one React.
    holders = [p for p, c in vendor.chunks.items()
               if b"prototype.setState=function" in c.content]
    assert holders == ["react"]
    assert set(vendor.chunks["recharts"].deps) >= {"react", "react-dom"}


def test_render_bundles_only_session_code_and_lists_chunks_dependencies_first(vendored):
    bundle = vendored.build(session(APP))
    [script] = [a for a in bundle.artifacts if a.path in bundle.scripts]
    assert len(script.content) < 20_000  # React alone is ~200 kB
    assert REGISTRY.encode() in script.content
    assert b"prototype.setState=function" not in script.content
    names = [Path(p).name.rsplit("-", 1)[0] for p in bundle.vendor_scripts]
    assert set(names) == {"react", "react-dom", "lucide-react", "date-fns"}
    for package in names:  # every chunk after the chunks it needs
        for dep in vendored.vendor.chunks[package].deps:
            assert names.index(dep) < names.index(package)
    assert all(p.startswith(f"vendor/{vendored.vendor.key}/") for p in bundle.vendor_scripts)
    assert [a.path for a in bundle.vendor] == bundle.vendor_scripts


def test_subpaths_that_are_not_vendored_are_bundled_and_still_share_react(vendored):
    bundle = vendored.build(session({"/app/App.tsx": (
        'import { addDays } from "date-fns/addDays";\n'
        "export default () => <p>{String(addDays(new Date(0), 1))}</p>;\n")}))
    [script] = [a for a in bundle.artifacts if a.path in bundle.scripts]
    assert b"addDays" in script.content or len(script.content) > 500
    assert not any("date-fns" in p for p in bundle.vendor_scripts)


def test_chunks_come_from_the_cache_and_a_damaged_cache_is_rebuilt(vendored, cache):
    key = vendored.vendor.key
    assert key == vendor_key(Runtime())
    index = json.loads((cache / key / "chunks.json").read_text())
    assert set(index) == set(vendored.vendor.chunks)
    again = Bundler(vendor_cache=cache)
    try:
        assert again.vendor == vendored.vendor
        chunk = cache / key / index["react"]["file"]
        chunk.write_bytes(b"tampered")
        fresh = Bundler(vendor_cache=cache)
        try:
            assert fresh.vendor.chunks["react"].content == vendored.vendor.chunks["react"].content
        finally:
            fresh.close()
    finally:
        again.close()


def test_vendor_mode_is_part_of_the_config_key(vendored, bundler):
    assert vendored.config_key != bundler.config_key
    assert bundler.config_key.endswith("vendor=off")
