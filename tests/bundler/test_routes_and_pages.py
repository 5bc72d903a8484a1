"""Which /api/ files are routes, what a session tsconfig aliases, and the failed build's page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bundler import Diagnostic
from bundler.artifacts import Route
from bundler.build import api_routes
from bundler.shell import error_html
from bundler.tsconfig import Aliases, read_aliases


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/tasks.ts", Route("/api/tasks", "/api/tasks.ts", "server/api/tasks.js")),
        (
            "/api/users/index.ts",
            Route("/api/users", "/api/users/index.ts", "server/api/users/index.js"),
        ),
        ("/api/index.tsx", Route("/api", "/api/index.tsx", "server/api/index.js")),
        (
            "/api/reports/weekly.mjs",
            Route("/api/reports/weekly", "/api/reports/weekly.mjs", "server/api/reports/weekly.js"),
        ),
        ("/api/chat.jsx", Route("/api/chat", "/api/chat.jsx", "server/api/chat.js")),
        ("/api/_helpers.ts", None),
        ("/api/_lib/db.ts", None),
        ("/api/users/_schema.ts", None),
        ("/api/types.d.ts", None),
        ("/api/data.json", None),
        ("/api/styles.css", None),
        ("/api/README.md", None),
        ("/app/api/tasks.ts", None),
        ("/apis/tasks.ts", None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_api_file_is_a_route_unless_helper_types_or_not_code(path, route):
    assert api_routes([path]) == ([route] if route else [])


def test_api_routes_are_listed_in_path_order_among_other_files():
    paths = ["/app/App.tsx", "/api/users/index.ts", "/api/_db.ts", "/api/tasks.ts"]
    assert [r.route for r in api_routes(paths)] == ["/api/tasks", "/api/users"]


@pytest.mark.parametrize(
    ("content", "aliases"),
    [
        (None, Aliases()),
        (
            b'{\n  // tsc allows comments\n  "compilerOptions": {\n    "paths": {"@/*": ["./app/*"],},\n'
            b"  },\n}\n",
            Aliases(("@/*",)),
        ),
        # "/*" inside a string is not a comment opening; "*/" closes the real one.
        (
            b'{"compilerOptions": {"paths": {"@/*": ["./app/*"], "~/*": ["./lib/*"]},\n'
            b'  /* "baseUrl": "nope" */ "baseUrl": "."}}',
            Aliases(("@/*", "~/*"), "/"),
        ),
        (b'\xef\xbb\xbf{"compilerOptions": {"baseUrl": "./src"}}', Aliases((), "/src")),
        (b'{"compilerOptions": {"baseUrl": "src/"}}', Aliases((), "/src")),
        (
            b'{"compilerOptions": {"baseUrl": "../../.."}}',
            Aliases((), "/"),
        ),  # not above the session
        (b'{"compilerOptions": {"paths": {"@ui": ["./app/ui/index.ts"]}}}', Aliases(("@ui",))),
        (b'{"compilerOptions": {"paths": {"@/*": ["./app/*"]}', Aliases()),  # cut short
        (b"[1, 2]", Aliases()),
        (b'{"compilerOptions": "strict"}', Aliases()),
        (b'{"compilerOptions": {"baseUrl": 3}}', Aliases()),
        (b'\xff\xfe{"compilerOptions": {}}', Aliases()),
        (b"", Aliases()),
    ],
    ids=[
        "no-file",
        "comments-and-trailing-commas",
        "comment-markers-in-strings",
        "bom",
        "baseUrl-folder",
        "baseUrl-climbing-out",
        "exact-alias",
        "truncated",
        "not-an-object",
        "options-not-an-object",
        "baseUrl-not-a-string",
        "not-utf8",
        "empty",
    ],
)
def test_read_aliases(content, aliases):
    assert read_aliases(content) == aliases


@pytest.mark.parametrize(
    ("specifier", "matches"),
    [
        ("@/components/Button", True),
        ("@/", True),
        ("@ui", True),
        ("@ui/button", False),
        ("@stage/inference", False),  # a scoped package is not "@/*"
        ("react", False),
    ],
)
def test_alias_patterns_match_only_their_specifiers(specifier, matches):
    assert Aliases(("@/*", "@ui")).matches(specifier) is matches


HOSTILE = "</pre><script>alert(1)</script>"
_VOID = {"meta", "link", "br", "img", "input", "hr"}


class ErrorPage(HTMLParser):
    """Every start tag, and the text inside each element with a class (or a <pre>)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.sections: list[dict[str, str | None]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "section":
            self.sections.append(found)
        if tag in _VOID:
            return
        if tag in ("div", "pre", "p"):
            name = tag if tag == "pre" else str(found.get("class"))
            self.text.setdefault(name, []).append("")
            self._open.append(name)
        else:
            self._open.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        # Text inside a span counts for the element around it (the <pre>'s gutter and caret).
        named = [name for name in self._open if name]
        if named:
            self.text[named[-1]][-1] += data


def _render(
    *diagnostics: Diagnostic, message: str = "build failed with 1 error(s)", name: str = "Shifts"
) -> ErrorPage:
    html = error_html(list(diagnostics), message=message, version=7, name=name)
    return ErrorPage(html.decode("utf-8"))


def test_hostile_diagnostic_text_is_escaped_and_comes_back_exactly():
    line_text = f"  const x = {HOSTILE};"
    diagnostic = Diagnostic(
        f"/app/{HOSTILE}.tsx",
        12,
        13,
        f'Unexpected "{HOSTILE}"',
        line_text,
        import_chain=("/app/App.tsx", f"/app/{HOSTILE}.tsx", HOSTILE),
    )
    page = _render(diagnostic, message=HOSTILE, name=HOSTILE)
    assert "script" not in page.tags
    assert page.tags.count("pre") == 1  # the hostile "</pre>" closed nothing
    assert page.sections[0]["data-file"] == diagnostic.file
    assert page.text["message"] == [diagnostic.message]
    assert page.text["place"] == [f"error · /app/{HOSTILE}.tsx:12:13"]
    assert page.text["chain"] == [f"import chain: /app/App.tsx → /app/{HOSTILE}.tsx → {HOSTILE}"]
    code, caret = page.text["pre"][0].split("\n")
    assert code == f"  12 | {line_text}"
    assert caret.index("^") == code.index("</pre>")  # column 13: "  const x = " is 12 long
    assert HOSTILE in page.text["summary"][0]


@pytest.mark.parametrize(
    ("line_text", "column"),
    [
        ("const broken = ;", 16),
        ("import x from './x'", 1),
        ("  return <p>{label</p>;", 20),
        ('  const label = "✨ hi" + ;', 26),  # characters, not UTF-8 bytes
    ],
    ids=["end", "first", "middle", "non-ascii"],
)
def test_caret_sits_under_the_reported_column(line_text, column):
    page = _render(Diagnostic("/app/App.tsx", 3, column, "boom", line_text))
    code, caret = page.text["pre"][0].split("\n")
    gutter = len("   3 | ")
    assert code[:gutter] == "   3 | " and caret[:gutter] == "     | "
    assert code[gutter:] == line_text
    assert caret[gutter:] == " " * (column - 1) + "^"


def test_import_chain_is_shown_for_the_stage_guard():
    chain = ("/app/App.tsx", "/app/lib/api.ts", "@stage/inference")
    page = _render(
        Diagnostic(
            "/app/lib/api.ts",
            2,
            26,
            'cannot import "@stage/inference"',
            'import { generate } from "@stage/inference";',
            import_chain=chain,
        )
    )
    assert page.text["chain"] == ["import chain: /app/App.tsx → /app/lib/api.ts → @stage/inference"]


def test_diagnostic_without_a_place_has_no_code_frame_or_chain():
    page = _render(
        Diagnostic("", 0, 0, "no entry file: a session needs /app/App.tsx", ""),
        Diagnostic("/public/index.html", 0, 0, "reserved name", ""),
    )
    assert "pre" not in page.tags
    assert "chain" not in page.text
    assert page.text["place"] == ["error", "error · /public/index.html"]
    assert page.text["message"] == ["no entry file: a session needs /app/App.tsx", "reserved name"]
