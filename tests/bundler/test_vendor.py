"""Vendor chunks: the allowlist built once, one React, renders that bundle only session code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import session

from bundler import BuildFailed, Bundler, Runtime
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
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert len(script.content) < 20_000  # React alone is ~200 kB
    assert REGISTRY.encode() in script.content
    assert b"prototype.setState=function" not in script.content
    names = [Path(p).name.rsplit("-", 1)[0] for p in bundle.page.vendor_scripts]
    assert set(names) == {"react", "react-dom", "lucide-react", "date-fns"}
    for package in names:  # every chunk after the chunks it needs
        for dep in vendored.vendor.chunks[package].deps:
            assert names.index(dep) < names.index(package)
    assert all(p.startswith(f"vendor/{vendored.vendor.key}/") for p in bundle.page.vendor_scripts)
    # What the store needs at its root: the overlay (shared by every page) and the chunks.
    assert [a.path for a in bundle.vendor] == [bundle.page.overlay, *bundle.page.vendor_scripts]
    assert bundle.page.overlay is not None
    assert bundle.page.overlay.startswith("vendor/stage/overlay-")
    assert not any("overlay" in a.path for a in bundle.artifacts)


def test_subpaths_that_are_not_vendored_are_bundled_and_still_share_react(vendored):
    bundle = vendored.build(session({"/app/App.tsx": (
        'import { addDays } from "date-fns/addDays";\n'
        "export default () => <p>{String(addDays(new Date(0), 1))}</p>;\n")}))
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert b"addDays" in script.content or len(script.content) > 500
    assert not any("date-fns" in p for p in bundle.page.vendor_scripts)


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


def test_react_is_resolved_by_esbuild_alias_without_a_callback_per_import(vendored, monkeypatch):
    # 40 modules, each importing react and (through JSX) react/jsx-runtime.
    files = {"/app/App.tsx": "".join(f'import {{ C{i} }} from "./C{i}";\n' for i in range(40))
             + "export default () => <div>" + "".join(f"<C{i} />" for i in range(40))
             + "</div>;\n"}
    for i in range(40):
        files[f"/app/C{i}.tsx"] = (f'import {{ useState }} from "react";\n'
                                   f"export function C{i}() {{ const [n] = useState({i}); "
                                   "return <b>{n}</b>; }\n")
    asked: list[str] = []
    from bundler.imports import ImportRules
    original = ImportRules.handle

    def counting(self: ImportRules, request: dict[str, object]) -> dict[str, object]:
        asked.append(str(request.get("path")))
        return original(self, request)

    monkeypatch.setattr(ImportRules, "handle", counting)
    bundle = vendored.build(session(files))
    assert asked == []
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert b"prototype.setState=function" not in script.content
    # react-dom/client: the generated entry mounts App with it.
    assert [Path(p).name.rsplit("-", 1)[0] for p in bundle.page.vendor_scripts] == ["react",
                                                                              "react-dom"]
    source_map = json.loads(next(a for a in bundle.artifacts if a.path.endswith(".js.map"))
                            .content)
    assert "stage-vendor:react" in source_map["sources"]  # named, not the worker's temp path
    assert not any("stage-build-" in s or "vendor-shims" in s for s in source_map["sources"])


@pytest.mark.parametrize("specifier", ["react-dom/server", "react/cjs/react.production.js"])
def test_react_subpaths_outside_the_chunks_are_refused_with_the_ones_there_are(vendored,
                                                                             specifier):
    with pytest.raises(BuildFailed) as failed:
        vendored.build(session({"/app/App.tsx": (
            f'import * as other from "{specifier}";\n'
            "export default () => <p>{String(Object.keys(other).length)}</p>;\n")}))
    [error] = [d for d in failed.value.diagnostics if d.severity == "error"]
    assert (error.file, error.line) == ("/app/App.tsx", 1)
    package = specifier.split("/")[0]
    assert f'cannot import "{specifier}"' in error.message
    assert f"one {package} from the vendor chunks" in error.message
    assert ("react-dom/client" if package == "react-dom" else "react/jsx-runtime") \
        in error.message
