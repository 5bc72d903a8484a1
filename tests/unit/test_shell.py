"""The HTML page around a bundle: its structure, and that session values cannot change it."""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

import bundler
from bundler.artifacts import SourceFile
from bundler.index_html import read_index_html
from bundler.shell import DEFAULT_TITLE, index_html

CONFIG_PREFIX = "window.__STAGE__ = "
HOSTILE = [
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "</SCRIPT >",
    "\"'&amp;&lt;",
    "line\u2028separator\u2029",
    "<title></title>",
]


class Page(HTMLParser):
    """Every start tag in order, plus the title, inline scripts, scripts and stylesheets."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.doctype = ""
        self.tags: list[str] = []
        self.attrs: list[dict[str, str | None]] = []
        self.title = ""
        self.inline_scripts: list[str] = []
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append(dict(attrs))
        if tag == "script" and "src" not in dict(attrs):
            self.inline_scripts.append("")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        where = self._open[-1] if self._open else ""
        if where == "title":
            self.title += data
        elif where == "script" and self.inline_scripts:
            self.inline_scripts[-1] += data

    def with_tag(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in zip(self.tags, self.attrs, strict=True) if t == tag]

    @property
    def script_srcs(self) -> list[str | None]:
        return [a["src"] for a in self.with_tag("script") if "src" in a]

    @property
    def stylesheets(self) -> list[str | None]:
        return [a["href"] for a in self.with_tag("link") if a.get("rel") == "stylesheet"]


def render(
    name: str = "Shifts",
    scopes: list[str] | None = None,
    *,
    session_id: str = "s1",
    version: int = 3,
    scripts: list[str] | None = None,
    styles: list[str] | None = None,
) -> str:
    page = bundler.Page(
        entry="/app/App.tsx",
        scripts=["assets/app-3F2A.js"] if scripts is None else scripts,
        styles=["assets/app-3F2A.css"] if styles is None else styles,
    )
    return index_html(
        page, session_id=session_id, version=version, name=name, google_scopes=scopes or []
    ).decode("utf-8")


def config_of(page: Page) -> object:
    (text,) = page.inline_scripts
    assert text.startswith(CONFIG_PREFIX) and text.endswith(";")
    return json.loads(text[len(CONFIG_PREFIX) : -1])


def assert_structure(html: str, *, scripts: int, styles: int) -> Page:
    """Exactly the shell's elements: nothing a session value added or closed early."""
    page = Page(html)
    assert page.tags == (
        ["html", "head", "meta", "meta", "meta", "meta", "link", "title"]
        # The inline config script before the stylesheets: after them, the parser would
        # wait for every stylesheet to arrive before running it.
        + ["script"]
        + ["link"] * styles
        + ["script"] * scripts
        + ["body", "div"]
    )
    assert len(page.inline_scripts) == 1
    inline = page.inline_scripts[0]
    assert "</script" not in inline.lower()
    assert "<!--" not in inline and "<script" not in inline.lower()
    return page


def test_page_is_html5_with_charset_and_viewport():
    html = render()
    assert html.startswith("<!doctype html>\n")
    page = Page(html)
    assert page.doctype.lower() == "doctype html"
    assert page.with_tag("html") == [{"lang": "en"}]
    metas = page.with_tag("meta")
    assert {"charset": "utf-8"} in metas
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas


def test_scripts_and_styles_are_linked_by_relative_url_in_order():
    html = render(
        scripts=["assets/app-3F2A.js", "assets/chunk-9B.js"],
        styles=["assets/app-3F2A.css", "assets/b.css"],
    )
    page = assert_structure(html, scripts=2, styles=2)
    assert page.script_srcs == ["assets/app-3F2A.js", "assets/chunk-9B.js"]
    assert page.stylesheets == ["assets/app-3F2A.css", "assets/b.css"]
    assert all("defer" in a for a in page.with_tag("script") if "src" in a)
    for url in page.script_srcs + page.stylesheets:
        assert url and not url.startswith("/") and "://" not in url


def test_config_block_comes_before_the_bundle_scripts_and_holds_the_session():
    html = render(scopes=["https://www.googleapis.com/auth/drive"], version=7)
    assert html.index(CONFIG_PREFIX) < html.index('src="assets/app-3F2A.js"')
    assert config_of(Page(html)) == {
        "sessionId": "s1",
        "version": 7,
        "googleScopes": ["https://www.googleapis.com/auth/drive"],
    }


def test_title_is_the_trimmed_name_and_markup_in_it_is_escaped():
    html = render(name="  Tom & Jerry's <b>shifts</b>  ")
    assert "<title>Tom &amp; Jerry&#39;s &lt;b&gt;shifts&lt;/b&gt;</title>" in html
    assert Page(html).title == "Tom & Jerry's <b>shifts</b>"


def test_blank_name_gets_the_default_title():
    assert Page(render(name="   ")).title == DEFAULT_TITLE == "Stage preview"


def test_hostile_names_and_scopes_come_back_exactly_and_add_no_elements():
    for value in HOSTILE:
        html = render(
            name=value, scopes=HOSTILE, session_id=value, scripts=["a.js", "b.js"], styles=[]
        )
        page = assert_structure(html, scripts=2, styles=0)
        assert page.title == value.strip()
        assert page.script_srcs == ["a.js", "b.js"]
        assert config_of(page) == {"sessionId": value, "version": 3, "googleScopes": HOSTILE}


def test_line_separators_are_escaped_in_the_config_for_older_javascript_engines():
    (inline,) = Page(render(scopes=["a\u2028b\u2029c"])).inline_scripts
    assert "\u2028" not in inline and "\u2029" not in inline


# Text heavy in markup, so that unescaped output breaks the structure. Validated names never
# hold surrogates (validate_name rejects them); scopes may hold anything.
MARKUP = st.sampled_from(["<", ">", "&", '"', "'", "/", "!--", "script", "title", "\u2028"])


def markup_text(chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(MARKUP, chars), max_size=20).map("".join)


NAMES = markup_text(st.characters(exclude_categories=("Cs",)))
SCOPES = st.lists(markup_text(st.characters()), max_size=4)


@given(name=NAMES, scopes=SCOPES, scripts=st.integers(0, 3))
def test_any_name_and_scopes_keep_the_page_structure_and_the_exact_values(name, scopes, scripts):
    srcs = [f"assets/chunk-{i}.js" for i in range(scripts)]
    page = assert_structure(
        render(name=name, scopes=scopes, scripts=srcs, styles=[]), scripts=scripts, styles=0
    )
    assert page.title == (name.strip() or DEFAULT_TITLE)
    assert page.script_srcs == srcs
    assert config_of(page) == {"sessionId": "s1", "version": 3, "googleScopes": scopes}


def csp_of(page: Page) -> dict[str, list[str]]:
    (policy,) = [
        m["content"]
        for m in page.with_tag("meta")
        if m.get("http-equiv") == "Content-Security-Policy"
    ]
    directives = (part.split() for part in policy.split(";") if part.strip())
    return {d[0]: d[1:] for d in directives}


def test_csp_allows_own_scripts_exactly_the_config_block_and_inline_styles():
    html = render(name="</title><script>alert(1)</script>", scopes=["https://x.example/'\""])
    page = Page(html)
    csp = csp_of(page)
    (inline,) = page.inline_scripts
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert csp["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in html
    assert html.index("Content-Security-Policy") < html.index("<script")


HOSTILE_INDEX_HTML = """<!doctype html>
<html><head>
<title>Board </title><script>window.__pwned = 'title'</script><!-- </title></title>
<meta name="description" content="&quot;><script>window.__pwned='meta'</script>">
<meta property="og:title" content="</head><body onload=alert(1)>">
<meta http-equiv="refresh" content="0; url=https://evil.example/">
<meta name="viewport" content="width=10">
<base href="https://evil.example/">
<script src="https://evil.example/x.js"></script>
</head><body>
<div id='"><script>window.__pwned="id"</script>'></div>
<div id="app"></div><div id="root"></div>
<script type="module" src="/src/main.tsx"></script>
</body></html>
"""


def test_index_html_head_and_ids_are_kept_as_escaped_values_never_as_markup():
    sources = {"/index.html": SourceFile("/index.html", HOSTILE_INDEX_HTML.encode())}
    read = read_index_html(sources)
    assert read is not None
    page_in = bundler.Page(
        entry="/src/main.tsx",
        scripts=["app-1.js"],
        styles=[],
        title=read.title,
        meta=read.meta,
        mount_ids=read.mount_ids,
    )
    html = index_html(
        page_in, session_id="s1", version=1, name="session name", google_scopes=[]
    ).decode("utf-8")
    page = Page(html)
    assert page.tags == (
        [
            "html",
            "head",
            "meta",
            "meta",
            "meta",
            "meta",
            "link",
            "title",
            "meta",
            "meta",
            "script",
            "script",
            "body",
            "div",
            "div",
            "div",
        ]
    )
    assert page.title == "Board"
    kept = page.with_tag("meta")[4:]  # after the shell's own four
    assert [(a.get("name"), a.get("property"), a["content"]) for a in kept] == [
        ("description", None, "\"><script>window.__pwned='meta'</script>"),
        (None, "og:title", "</head><body onload=alert(1)>"),
    ]
    assert [a["id"] for a in page.with_tag("div")] == [
        "root",
        '"><script>window.__pwned="id"</script>',
        "app",
    ]
    assert "evil.example" not in html
    assert page.script_srcs == ["app-1.js"]


def test_without_an_index_html_title_the_session_name_is_the_title():
    page_in = bundler.Page(entry="/app/App.tsx", scripts=[], styles=[], title=None)
    html = index_html(page_in, session_id="s1", version=1, name="Shifts", google_scopes=[])
    assert Page(html.decode()).title == "Shifts"
