"""Vendor chunks: the allowlist built once, one React, renders that bundle only session code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import session
from test_builtin_ui import every_export_page

from bundler import BuildFailed, Bundler, Runtime
from bundler.vendor import REGISTRY, VendorChunk, VendorSet, vendor_key

APP = {
    "/app/App.tsx": (
        'import { useState } from "react";\n'
        'import { Activity } from "lucide-react";\n'
        'import { format } from "date-fns";\n'
        "export default function App() {\n"
        "  const [n] = useState(0);\n"
        "  return <p><Activity />{n}{format(new Date(0), 'yyyy')}</p>;\n"
        "}\n"
    ),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vendor-cache")


@pytest.fixture(scope="module")
def vendored(cache: Path) -> Iterator[Bundler]:
    built = Bundler(vendor_cache=cache)
    yield built
    built.close()


def test_every_allowed_package_is_in_exactly_one_chunk_and_only_react_holds_react(vendored):
    vendor = vendored.load_vendor()
    assert isinstance(vendor, VendorSet)
    holders = [p for c in vendor.chunks.values() for p in c.packages]
    assert len(holders) == len(set(holders))  # no package built twice
    assert set(Runtime().allowed_packages) <= set(holders)
    react = vendor.chunks["react"]
    assert react.specifiers == (
        "react",
        "react/compiler-runtime",
        "react/jsx-dev-runtime",
        "react/jsx-runtime",
    )
    assert react.deps == ()
    # React's Component class is defined in exactly one chunk: the one React.
    holders = [p for p, c in vendor.chunks.items() if b"prototype.setState=function" in c.content]
    assert holders == ["react"]
    assert set(vendor.chunks["recharts"].deps) >= {"react", "react-dom"}


def test_radix_internals_shared_by_primitives_are_one_chunk_they_all_load(vendored):
    vendor = vendored.load_vendor()
    layer = vendor.chunk_of("@radix-ui/react-dismissable-layer")
    assert layer is not None
    for primitive in (
        "@radix-ui/react-dialog",
        "@radix-ui/react-popover",
        "@radix-ui/react-dropdown-menu",
    ):
        chunk = vendor.chunk_of(primitive)
        assert chunk is not None and layer in vendor.load_order([chunk])
    # Its module text (the stack of open layers) is in that chunk and no other.
    marker = b"dismissableLayer.pointerDownOutside"
    assert [c.name for c in vendor.chunks.values() if marker in c.content] == [layer]


def test_render_bundles_only_session_code_and_lists_chunks_dependencies_first(vendored):
    bundle = vendored.build(session(APP))
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    # One icon and date-fns's format (with its English locale), not the packages (881 kB
    # and 78 kB as chunks), nor React (~200 kB).
    assert len(script.content) < 40_000
    assert REGISTRY.encode() in script.content
    assert b"prototype.setState=function" not in script.content
    names = [Path(p).name.rsplit("-", 1)[0] for p in bundle.page.vendor_scripts]
    assert names == ["react", "react-dom"]
    for package in names:  # every chunk after the chunks it needs
        for dep in vendored.load_vendor().chunks[package].deps:
            assert names.index(dep) < names.index(package)
    key = vendored.load_vendor().key
    assert all(p.startswith(f"vendor/{key}/") for p in bundle.page.vendor_scripts)
    # What the store needs at its root: the overlay (shared by every page) and the chunks.
    assert [a.path for a in bundle.vendor] == [bundle.page.overlay, *bundle.page.vendor_scripts]
    assert bundle.page.overlay is not None
    assert bundle.page.overlay.startswith("vendor/stage/overlay-")
    assert not any("overlay" in a.path for a in bundle.artifacts)


def test_built_in_ui_components_use_the_shared_chunks(vendored):
    bundle = vendored.build(session(every_export_page()))
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert b"prototype.setState=function" not in script.content  # one React, from its chunk
    names = {Path(p).name.rsplit("-", 1)[0] for p in bundle.page.vendor_scripts}
    assert {"react", "react-dom", "@radix-ui__react-dialog", "vaul", "cmdk"} <= names, names


def test_subpaths_that_are_not_vendored_are_bundled_and_still_share_react(vendored):
    bundle = vendored.build(
        session(
            {
                "/app/App.tsx": (
                    'import { addDays } from "date-fns/addDays";\n'
                    "export default () => <p>{String(addDays(new Date(0), 1))}</p>;\n"
                )
            }
        )
    )
    [script] = [a for a in bundle.artifacts if a.path in bundle.page.scripts]
    assert b"addDays" in script.content or len(script.content) > 500
    assert not any("date-fns" in p for p in bundle.page.vendor_scripts)


def test_chunks_come_from_the_cache_and_a_damaged_cache_is_rebuilt(vendored, cache):
    key = vendored.load_vendor().key
    assert key == vendor_key(Runtime())
    index = json.loads((cache / key / "chunks.json").read_text())
    assert set(index) == set(vendored.load_vendor().chunks)
    again = Bundler(vendor_cache=cache)
    try:
        assert again.load_vendor() == vendored.load_vendor()
        chunk = cache / key / index["react"]["file"]
        chunk.write_bytes(b"tampered")
        fresh = Bundler(vendor_cache=cache)
        try:
            rebuilt = fresh.load_vendor().chunks["react"].content
            assert rebuilt == vendored.load_vendor().chunks["react"].content
        finally:
            fresh.close()
    finally:
        again.close()


def test_vendor_mode_is_part_of_the_config_key(vendored, bundler):
    assert vendored.config_key != bundler.config_key
    assert ":vendor=off:" in bundler.config_key


def test_react_is_resolved_by_esbuild_alias_without_a_callback_per_import(vendored, monkeypatch):
    # 40 modules, each importing react and (through JSX) react/jsx-runtime.
    files = {
        "/app/App.tsx": "".join(f'import {{ C{i} }} from "./C{i}";\n' for i in range(40))
        + "export default () => <div>"
        + "".join(f"<C{i} />" for i in range(40))
        + "</div>;\n"
    }
    for i in range(40):
        files[f"/app/C{i}.tsx"] = (
            f'import {{ useState }} from "react";\n'
            f"export function C{i}() {{ const [n] = useState({i}); "
            "return <b>{n}</b>; }\n"
        )
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
    assert [Path(p).name.rsplit("-", 1)[0] for p in bundle.page.vendor_scripts] == [
        "react",
        "react-dom",
    ]
    source_map = json.loads(next(a for a in bundle.artifacts if a.path.endswith(".js.map")).content)
    assert "stage-vendor:react" in source_map["sources"]  # named, not the worker's temp path
    assert not any("stage-build-" in s or "vendor-shims" in s for s in source_map["sources"])


@pytest.mark.parametrize("specifier", ["react-dom/server", "react/cjs/react.production.js"])
def test_react_subpaths_outside_the_chunks_are_refused_with_the_ones_there_are(vendored, specifier):
    with pytest.raises(BuildFailed) as failed:
        vendored.build(
            session(
                {
                    "/app/App.tsx": (
                        f'import * as other from "{specifier}";\n'
                        "export default () => <p>{String(Object.keys(other).length)}</p>;\n"
                    )
                }
            )
        )
    [error] = [d for d in failed.value.diagnostics if d.severity == "error"]
    assert (error.file, error.line) == ("/app/App.tsx", 1)
    package = specifier.split("/")[0]
    assert f'cannot import "{specifier}"' in error.message
    assert f"one {package} from the vendor chunks" in error.message
    assert ("react-dom/client" if package == "react-dom" else "react/jsx-runtime") in error.message


def test_chunks_that_need_each_other_have_no_load_order():
    def chunk(name: str, deps: tuple[str, ...]) -> VendorChunk:
        return VendorChunk(name, f"{name}-0.js", (name,), (name,), deps, b"")

    vendor = VendorSet(
        "k",
        {
            "a": chunk("a", ("b",)),
            "b": chunk("b", ("c",)),
            "c": chunk("c", ("a",)),
            "d": chunk("d", ()),
        },
    )
    assert vendor.load_order(["d"]) == ["d"]
    with pytest.raises(ValueError) as cycle:
        vendor.load_order(["a"])
    assert str(cycle.value) == "vendor chunks need each other: a → b → c → a"


def test_small_radix_internals_travel_in_one_chunk_loaded_after_what_it_needs(vendored):
    vendor = vendored.load_vendor()
    shared = vendor.chunks["@radix-ui/shared"]
    assert {
        "@radix-ui/react-primitive",
        "@radix-ui/react-context",
        "@radix-ui/react-use-layout-effect",
    } <= set(shared.packages)
    assert all(p.startswith("@radix-ui/") for p in shared.packages)
    assert vendor.chunk_of("@radix-ui/react-context") == "@radix-ui/shared"
    order = vendor.load_order([vendor.chunk_of("@radix-ui/react-dialog")])
    assert (
        order.index("react")
        < order.index("@radix-ui/shared")
        < order.index("@radix-ui/react-dialog")
    )
