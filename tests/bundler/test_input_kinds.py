"""Every input kind a sandbox app uses ends up in the bundle where the page can use it."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import urllib.parse
import zlib
from collections.abc import Callable

import pytest

from bundler import Artifact, Bundle, Bundler, Runtime, SourceFile

Files = dict[str, bytes]


def _png_1x1() -> bytes:
    """A valid 1x1 opaque PNG (signature, IHDR, IDAT, IEND) with real CRCs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x80\x00")  # filter byte, one orange pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png_1x1()
# Not UTF-8: a NUL, every byte value. Binary files must come out exactly as they went in.
BINARY = bytes(range(256))


def _app(imports: str, children: str) -> bytes:
    """/app/App.tsx with ``imports`` that renders JSX ``children``, so no import is dropped."""
    return (
        f"{imports}\nexport default function App() {{ return <div>{children}</div>; }}\n"
    ).encode()


def _artifacts(bundle: Bundle) -> dict[str, Artifact]:
    return {a.path: a for a in bundle.artifacts}


def _js(bundle: Bundle) -> str:
    [script] = bundle.page.scripts
    return _artifacts(bundle)[script].content.decode()


def _css(bundle: Bundle) -> str:
    [style] = bundle.page.styles
    return _artifacts(bundle)[style].content.decode()


def _sources(bundle: Bundle) -> list[str]:
    [script] = bundle.page.scripts
    return json.loads(_artifacts(bundle)[script + ".map"].content)["sources"]


def _imported_assets(bundle: Bundle) -> list[Artifact]:
    return [a for a in bundle.artifacts if a.kind == "asset"]


def _in_js(*markers: str) -> Callable[[Bundle], None]:
    def check(bundle: Bundle) -> None:
        js = _js(bundle)
        assert [m for m in markers if m not in js] == []

    return check


def _hashed_asset(
    stem: str, ext: str, content: bytes, content_type: str
) -> Callable[[Bundle], None]:
    def check(bundle: Bundle) -> None:
        [asset] = _imported_assets(bundle)
        assert re.fullmatch(rf"assets/{stem}-[A-Z0-9]{{8}}\.{ext}", asset.path), asset.path
        assert asset.content == content
        assert asset.content_type == content_type
        # The script runs in index.html, so the URL is relative to the version folder.
        assert f'"./{asset.path}"' in _js(bundle)

    return check


def _css_with_imported_rule_and_hashed_background(bundle: Bundle) -> None:
    css = _css(bundle)
    assert ".theme-rule{color:#123456}" in css  # @import is inlined, not left for the browser
    assert "@import" not in css
    [asset] = _imported_assets(bundle)
    assert (asset.content, asset.content_type) == (PNG, "image/png")
    [url] = re.findall(r"url\(\"?([^\")]+)\"?\)", css)
    # The stylesheet sits in the version folder: its url() must land on the asset.
    assert urllib.parse.urljoin("v/" + bundle.page.styles[0], url) == "v/" + asset.path


def _css_module_names_rewritten(bundle: Bundle) -> None:
    css = _css(bundle)
    [rewritten] = re.findall(r"\.([\w-]+)\{color:#abcdef\}", css)
    assert rewritten != "title"
    assert ".title" not in css
    assert f'title:"{rewritten}"' in _js(bundle)


def _public_copied_as_is(bundle: Bundle) -> None:
    public = {a.path: a for a in bundle.artifacts if a.kind == "public"}
    assert {p: a.content for p, a in public.items()} == {
        "robots.txt": b"User-agent: *\nDisallow:\n",
        "favicon.ico": BINARY,
    }
    assert public["robots.txt"].content_type == "text/plain; charset=utf-8"
    assert bundle.page.favicon == "favicon.ico"


def _public_img_in_jsx(bundle: Bundle) -> None:
    js = _js(bundle)
    assert '"./logo.png"' in js
    assert '"/logo.png"' not in js
    assert _artifacts(bundle)["logo.png"].content == PNG


def _public_url_in_css(bundle: Bundle) -> None:
    [url] = re.findall(r"url\(\"?([^\")]+)\"?\)", _css(bundle))
    # /public/bg.png is copied next to index.html; the URL must reach it from the stylesheet.
    assert urllib.parse.urljoin("v/" + bundle.page.styles[0], url) == "v/bg.png"
    assert _artifacts(bundle)["bg.png"].kind == "public"
    assert _imported_assets(bundle) == []


def _package_bundled(name: str) -> Callable[[Bundle], None]:
    def check(bundle: Bundle) -> None:
        assert any(s.startswith(f"/node_modules/{name}/") for s in _sources(bundle))

    return check


def _one_react(bundle: Bundle) -> None:
    node_modules = Runtime().node_modules
    assert (node_modules / "react" / "package.json").is_file()
    assert list(node_modules.glob("**/node_modules/react")) == []
    react = [s for s in _sources(bundle) if s.endswith("/react/cjs/react.production.js")]
    assert react == ["/node_modules/react/cjs/react.production.js"]
    # Both libraries really came along: a lone React would pass the check above trivially.
    assert any(s.startswith("/node_modules/recharts/") for s in _sources(bundle))
    assert any(s.startswith("/node_modules/lucide-react/") for s in _sources(bundle))


MEDIA = [  # extension, the Content-Type a static host must send
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/vnd.microsoft.icon"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
]
CHART = '<LineChart width={80} height={40} data={[{ v: 1 }]}><Line dataKey="v" /></LineChart>'

CASES = [
    pytest.param(
        {
            "/app/App.tsx": _app(
                'import Badge from "./Badge";\nimport { twice } from "./math";\n'
                'import { shout } from "./legacy";',
                "{twice(2)}{shout()}<Badge />",
            ),
            "/app/Badge.jsx": b"export default function Badge() { return <b>jsx-k1nd</b>; }\n",
            "/app/math.ts": b'export const twice = (n: number): string => "ts-k1nd" + n * 2;\n',
            "/app/legacy.js": b'export function shout() { return "js-k1nd"; }\n',
        },
        _in_js("jsx-k1nd", "ts-k1nd", "js-k1nd"),
        id="tsx-jsx-ts-js",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app('import { helper } from "./util";', "{helper()}"),
            "/app/util.mjs": b'export const helper = () => "mjs-k1nd";\n',
        },
        _in_js("mjs-k1nd"),
        id="mjs-extensionless",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app('const legacy = require("./legacy.cjs");', "{legacy.name}"),
            "/app/legacy.cjs": b'module.exports = { name: "cjs-k1nd" };\n',
        },
        _in_js("cjs-k1nd"),
        id="cjs-require",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app('import data from "./data.json";', "{data.items[0].label}"),
            "/app/data.json": b'{"items": [{"label": "json-k1nd"}]}\n',
        },
        _in_js("json-k1nd"),
        id="json",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app('import "./styles/App.css";', ""),
            "/app/styles/App.css": b'@import "./theme.css";\nbody { background: url(../img/bg.png) }\n',
            "/app/styles/theme.css": b".theme-rule { color: #123456 }\n",
            "/app/img/bg.png": PNG,
        },
        _css_with_imported_rule_and_hashed_background,
        id="css-import-and-url",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app(
                'import styles from "./Card.module.css";', "<p className={styles.title}>x</p>"
            ),
            "/app/Card.module.css": b".title { color: #abcdef }\n",
        },
        _css_module_names_rewritten,
        id="css-module",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app('import { logo } from "./brand";', "{logo}"),
            "/app/brand.ts": b'import logo from "./pixel.png";\nexport { logo };\n',
            "/app/pixel.png": PNG,
        },
        _hashed_asset("pixel", "png", PNG, "image/png"),
        id="real-png-bytes",
    ),
    *[
        pytest.param(
            {
                "/app/App.tsx": _app(f'import media from "./media/file.{ext}";', "{media}"),
                f"/app/media/file.{ext}": BINARY + ext.encode(),
            },
            _hashed_asset("file", ext, BINARY + ext.encode(), content_type),
            id=f"asset-{ext}",
        )
        for ext, content_type in MEDIA
    ],
    *[
        pytest.param(
            {
                "/app/App.tsx": _app(f'import text from "./notes.{ext}";', "{text}"),
                f"/app/notes.{ext}": f"# Notes\ntext-k1nd-{ext} ✓\n".encode(),
            },
            _in_js(f"text-k1nd-{ext} ✓"),
            id=f"text-{ext}",
        )
        for ext in ("txt", "md")
    ],
    pytest.param(
        {
            "/app/App.tsx": _app('import { label } from "@/lib/label";', "{label}"),
            "/app/lib/label.ts": b'export const label = "alias-k1nd";\n',
            "/tsconfig.json": b"{\n  // as tsc allows: comments and trailing commas\n"
            b'  "compilerOptions": {\n    "baseUrl": ".",\n'
            b'    "paths": { "@/*": ["./app/*"], },\n  },\n}\n',
        },
        _in_js("alias-k1nd"),
        id="tsconfig-paths",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app(
                'import { a } from "./lib/a.ts";\nimport { b } from "./lib/b";', "{a}{b}"
            ),
            "/app/lib/a.ts": b'export const a = "with-extension-k1nd";\n',
            "/app/lib/b.ts": b'export const b = "without-extension-k1nd";\n',
        },
        _in_js("with-extension-k1nd", "without-extension-k1nd"),
        id="relative-imports",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app('import Card from "./components/Card";', "<Card />"),
            "/app/components/Card/index.tsx": b"export default function Card() { return <i>index-k1nd</i>; }\n",
        },
        _in_js("index-k1nd"),
        id="folder-index",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app("", ""),
            "/public/robots.txt": b"User-agent: *\nDisallow:\n",
            "/public/favicon.ico": BINARY,
        },
        _public_copied_as_is,
        id="public-files",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app("", '<img src="/logo.png" alt="logo" />'),
            "/public/logo.png": PNG,
        },
        _public_img_in_jsx,
        id="public-url-in-jsx",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app('import "./App.css";', ""),
            "/app/App.css": b"body { background: url(/bg.png) }\n",
            "/public/bg.png": PNG,
        },
        _public_url_in_css,
        id="public-url-in-css",
    ),
    pytest.param(
        {"/app/App.tsx": _app('import { Heart } from "lucide-react";', "<Heart />")},
        _package_bundled("lucide-react"),
        id="lucide-react",
    ),
    pytest.param(
        {"/app/App.tsx": _app('import { LineChart, Line } from "recharts";', CHART)},
        _package_bundled("recharts"),
        id="recharts",
    ),
    pytest.param(
        {"/app/App.tsx": _app('import clsx from "clsx";', '{clsx("a", { b: true })}')},
        _package_bundled("clsx"),
        id="clsx",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app(
                'import { format } from "date-fns";', '{format(new Date(0), "yyyy")}'
            )
        },
        _package_bundled("date-fns"),
        id="date-fns",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app(
                'import { z } from "zod";', "{z.object({ n: z.number() }).parse({ n: 1 }).n}"
            )
        },
        _package_bundled("zod"),
        id="zod",
    ),
    pytest.param(
        {
            "/app/App.tsx": _app(
                'import { Heart } from "lucide-react";\n'
                'import { LineChart, Line } from "recharts";',
                "<Heart />" + CHART,
            )
        },
        _one_react,
        id="one-react-for-recharts-and-lucide",
    ),
]


@pytest.fixture(scope="module")
def build_files(bundler: Bundler) -> Callable[[Files], Bundle]:
    return lambda files: bundler.build([SourceFile(p, c) for p, c in files.items()])


@pytest.mark.parametrize(("files", "check"), CASES)
def test_input_kind_builds_into_the_bundle(build_files, files, check):
    bundle = build_files(files)
    assert bundle.warnings == []
    check(bundle)


def test_asset_content_types_do_not_depend_on_the_hosts_mime_types():
    # As on a host without /etc/mime.types (slim images): the manifest must not change.
    script = (
        "import json, mimetypes\nmimetypes.knownfiles[:] = []\n"
        "from bundler import content_type_for\n"
        f"print(json.dumps({{e: content_type_for('a.' + e) for e, _ in {MEDIA!r}}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert json.loads(out) == dict(MEDIA)
