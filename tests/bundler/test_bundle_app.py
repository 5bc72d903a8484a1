"""A realistic multi-file TSX app builds into hashed, minified assets with usable source maps."""

from __future__ import annotations

import json
import re

import pytest

from bundler import Artifact, Bundle

SHOP = {
    "/app/App.tsx": """\
import "./App.css";
import { useState } from "react";
import Button from "./components/Button";
import { Card } from "./components/Card";
import { useCounter } from "./hooks/useCounter.ts";
import { formatCount } from "/app/lib/format";
import { clamp } from "/app/lib";
import type { Product } from "./types";
import { Filter } from "./types";
import logo from "./logo.svg";

const PRODUCTS: Product[] = [{ id: 1, name: "Stage mug", price: 12 }];

export default function App() {
    const { count, increment } = useCounter(0);
    const [filter, setFilter] = useState<Filter>("all");
    return (
        <main className="shop-shell">
            <img src={logo} alt="logo" />
            {PRODUCTS.map((product) => (
                <Card key={product.id} title={product.name}>
                    <Button label={formatCount(clamp(count, 0, 99))} onPress={increment} />
                </Card>
            ))}
            <button onClick={() => setFilter(filter === "all" ? "cheap" : "all")}>{filter}</button>
        </main>
    );
}
""",
    "/app/App.css": ".shop-shell {\n  display: grid;\n  gap: 12px;\n}\n",
    "/app/types.ts": """\
export interface Product {
    id: number;
    name: string;
    price: number;
}
export type Filter = "all" | "cheap";
""",
    "/app/components/Button.tsx": """\
import "./Button.css";

interface ButtonProps {
    label: string;
    onPress: () => void;
}

export default function Button({ label, onPress }: ButtonProps) {
    return <button className="stage-button" onClick={onPress}>{label}</button>;
}
""",
    "/app/components/Button.css": ".stage-button {\n  border-radius: 8px;\n}\n",
    "/app/components/Card/index.tsx": """\
import type { ReactNode } from "react";

export function Card({ title, children }: { title: string; children: ReactNode }) {
    return <section aria-label="product card"><h2>{title}</h2>{children}</section>;
}
""",
    "/app/hooks/useCounter.ts": """\
import { useState } from "react";

export function useCounter(start: number) {
    const [count, setCount] = useState(start);
    return { count, increment: () => setCount((n) => n + 1) };
}
""",
    "/app/lib/format.ts": "export const formatCount = (n: number): string => `${n} in basket`;\n",
    "/app/lib/index.ts": "export const clamp = (n: number, lo: number, hi: number) =>"
    " Math.min(hi, Math.max(lo, n));\n",
    "/app/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>\n',
}
SCRIPTS = [
    "/app/App.tsx",
    "/app/components/Button.tsx",
    "/app/components/Card/index.tsx",
    "/app/hooks/useCounter.ts",
    "/app/lib/format.ts",
    "/app/lib/index.ts",
]
LICENSES = b"/*! Bundled license information:"


@pytest.fixture(scope="module")
def shop(build) -> Bundle:
    return build(SHOP)


def _artifact(bundle: Bundle, path: str) -> Artifact:
    found = {a.path: a for a in bundle.artifacts}
    assert path in found, f"{path} is not among the artifacts {sorted(found)}"
    return found[path]


def _source_map(bundle: Bundle, asset: str) -> dict:
    return json.loads(_artifact(bundle, asset + ".map").content)


def test_app_builds_one_script_and_one_stylesheet_from_app_entry(shop):
    assert shop.page.entry == "/app/App.tsx"
    assert len(shop.page.scripts) == 1
    assert len(shop.page.styles) == 1
    assert re.fullmatch(r"app-\w+\.js", shop.page.scripts[0])
    assert re.fullmatch(r"app-\w+\.css", shop.page.styles[0])
    assert shop.warnings == []


@pytest.mark.parametrize(
    ("pattern", "content_type"),
    [
        (r"app-\w+\.js", "text/javascript; charset=utf-8"),
        (r"app-\w+\.css", "text/css; charset=utf-8"),
        (r"app-\w+\.(js|css)\.map", "application/json; charset=utf-8"),
        (r"assets/logo-\w+\.svg", "image/svg+xml"),
    ],
)
def test_artifacts_are_relative_assets_with_their_content_type(shop, pattern, content_type):
    matching = [a for a in shop.artifacts if re.fullmatch(pattern, a.path)]
    assert matching, f"no artifact matches {pattern}: {[a.path for a in shop.artifacts]}"
    assert {a.content_type for a in matching} == {content_type}


def test_only_the_page_script_and_stylesheet_sit_next_to_index_html(shop):
    top_level = {a.path for a in shop.artifacts if not a.path.startswith("assets/")}
    page = set(shop.page.scripts) | set(shop.page.styles)
    assert top_level == page | {f"{p}.map" for p in page}


def test_script_is_minified(shop):
    js = _artifact(shop, shop.page.scripts[0]).content
    code, _, _ = js.partition(LICENSES)  # esbuild keeps React's license comments at the end
    assert code.count(b"\n") < 20
    assert not re.search(rb"\s{8,}", code), "indentation survived minification"
    assert b"Stage mug" in code
    assert b" in basket" in code


def test_script_links_its_source_map(shop):
    script = shop.page.scripts[0]
    js = _artifact(shop, script).content
    link = f"//# sourceMappingURL={script.removeprefix('assets/')}.map"
    assert js.rstrip().endswith(link.encode())


def test_script_source_map_names_sources_as_pushed(shop):
    sources = _source_map(shop, shop.page.scripts[0])["sources"]
    assert set(SCRIPTS) <= set(sources)
    # Nothing else: session files, the runtime's packages, the generated mount entry, or
    # the process.env every page gets (bundler.nextjs.env) or the import.meta.env object a
    # package reads.
    assert [
        s
        for s in sources
        if s not in SHOP
        and not s.startswith("/node_modules/")
        and s not in ("<stage:entry>", "<define:process.env>", "<define:import.meta.env>")
    ] == []
    assert "<stage:entry>" in sources


def test_stylesheet_holds_every_imported_css_rule(shop):
    css = _artifact(shop, shop.page.styles[0]).content.decode()
    assert ".shop-shell{display:grid;gap:12px}" in css
    assert ".stage-button{border-radius:8px}" in css
    assert set(_source_map(shop, shop.page.styles[0])["sources"]) == {
        "/app/App.css",
        "/app/components/Button.css",
    }


def test_no_artifact_mentions_the_build_temp_dir(shop):
    assert [a.path for a in shop.artifacts if b"stage-build-" in a.content] == []


def test_imported_svg_is_an_asset_the_script_points_to(shop):
    [svg] = [a for a in shop.artifacts if a.path.endswith(".svg")]
    assert svg.content == SHOP["/app/logo.svg"].encode()
    js = _artifact(shop, shop.page.scripts[0]).content
    # Resolved by the browser against index.html, where the script sits too.
    assert f'"./{svg.path}"'.encode() in js


def test_session_paths_with_spaces_and_non_ascii_appear_as_pushed_in_source_maps(build):
    bundle = build(
        {
            "/app/App.tsx": 'import Gruss from "./my widgets/Grüße";\n'
            'import "./styles/my theme.css";\n'
            "export default function App() { return <Gruss />; }\n",
            "/app/my widgets/Grüße.tsx": "export default function Gruss() { return <p>hallo</p>; }\n",
            "/app/styles/my theme.css": "p { color: blue }\n",
        }
    )
    assert "/app/my widgets/Grüße.tsx" in _source_map(bundle, bundle.page.scripts[0])["sources"]
    assert _source_map(bundle, bundle.page.styles[0])["sources"] == ["/app/styles/my theme.css"]


def test_same_files_build_to_the_same_artifacts(build):
    first, second = build(SHOP), build(SHOP)
    assert [(a.path, a.sha256) for a in first.artifacts] == [
        (a.path, a.sha256) for a in second.artifacts
    ]
