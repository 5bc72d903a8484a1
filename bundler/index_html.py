"""A session's own ``/index.html`` (a Vite project's): its entry script and what its head keeps.

The page is always the shell's (``templates/index.html.j2``); the pushed file is read with
the standard library's HTML parser, never spliced in, and gives the shell values that
jinja2 escapes like any other:

- ``<script type="module" src="/src/main.tsx">``: the page's entry (the first such script
  whose ``src`` names a session file). A script from another site (``https:``, ``http:``,
  ``//cdn…``, as Lovable's ``index.html`` loads one before its entry) is never loaded: it is
  named in a warning and listed in ``blocked_scripts``, which the boot check reports as
  blocked. Every other ``<script>``, inline or not, is dropped with a warning.
- ``<title>``: the page title (before the session name).
- ``<meta name=… content=…>`` and ``<meta property=… content=…>`` (description, theme-color,
  Open Graph): kept. ``charset``, ``viewport`` and ``http-equiv`` metas are the shell's own
  business (an ``http-equiv="refresh"`` would navigate away) and are dropped.
- ``<link rel="stylesheet">`` naming a ``/public/`` file: kept (the file sits beside the
  page). Any other stylesheet is dropped with a warning: a session CSS file is loaded by
  importing it from code, which bundles it; an external one the page's CSP would block.
  Other links (icons, preconnect) are dropped: the icon comes from ``/public/favicon.*``.
- the ids of the body's elements (``<div id="app">``): the shell's body has
  ``<div id="root">`` and an empty ``<div>`` for each other id, so code that mounts into
  ``#app`` finds it.
"""

from __future__ import annotations

import posixpath
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bundler.artifacts import Diagnostic, SourceFile

__all__ = ["INDEX_HTML", "IndexHtml", "read_index_html"]

INDEX_HTML = "/index.html"
_PUBLIC = "/public"
_SHELL_META = frozenset({"viewport", "generator"})
_MAX_MOUNT_IDS = 16  # a real page has one or two; bounds a hostile file's effect on the shell
# Elements whose ids are not mount points: the document's own structure and what is dropped.
_NOT_MOUNTS = frozenset(
    {
        "html",
        "head",
        "body",
        "script",
        "style",
        "title",
        "meta",
        "link",
        "template",
        "noscript",
        "base",
    }
)


@dataclass(frozen=True)
class IndexHtml:
    """What the shell takes from ``/index.html``; see the module docstring."""

    entry_src: str | None = None  # as written in the script tag
    entry: str | None = None  # the session path it names
    title: str | None = None
    #: ``{"attribute": "name" | "property", "value": …, "content": …}``, in document order.
    meta: list[dict[str, str]] = field(default_factory=list)
    #: Kept stylesheets, relative to the version folder (``fonts.css``).
    styles: list[str] = field(default_factory=list)
    mount_ids: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    #: Scripts from other sites the file asks for, never loaded (absolute URLs as written).
    blocked_scripts: list[str] = field(default_factory=list)


def read_index_html(sources: Mapping[str, SourceFile]) -> IndexHtml | None:
    """``/index.html`` of ``sources`` read for the shell, or None when there is none."""
    source = sources.get(INDEX_HTML)
    if source is None:
        return None
    reader = _Reader()
    reader.feed(source.content.decode("utf-8", "replace"))
    reader.close()
    entry = _session_path(reader.entry_src) if reader.entry_src is not None else None
    styles, warnings = [], []
    for href in reader.stylesheets:
        path = _session_path(href)
        public = (
            path if path and path.startswith(_PUBLIC + "/") else (_PUBLIC + path if path else None)
        )
        if public is not None and public in sources:
            styles.append(public[len(_PUBLIC) + 1 :])
        elif path is not None and path in sources:
            warnings.append(
                _warning(
                    f"{INDEX_HTML} links the stylesheet {path}, which is not loaded: import it "
                    f'from the code (import "{path}") so it is bundled'
                )
            )
        else:
            warnings.append(
                _warning(
                    f"{INDEX_HTML} links the stylesheet {href}, which is not loaded: the page "
                    "loads styles only from session files"
                )
            )
    if reader.external_scripts:
        named = ", ".join(reader.external_scripts)
        warnings.append(
            _warning(
                f"{INDEX_HTML} asks for script(s) from another site, which are not loaded: "
                f"{named} (a page runs only session code and allowed packages; the boot check "
                "lists them as blocked)"
            )
        )
    if reader.other_scripts:
        runs = f"only its entry {entry}" if entry else "no script from it"
        warnings.append(
            _warning(
                f"{INDEX_HTML} has {reader.other_scripts} <script> element(s) that are not "
                f"loaded: the page runs {runs}"
            )
        )
    title = " ".join("".join(reader.title).split()) if reader.title is not None else None
    mount_ids = [i for i in dict.fromkeys(reader.ids) if i != "root"][:_MAX_MOUNT_IDS]
    return IndexHtml(
        reader.entry_src,
        entry,
        title or None,
        reader.meta,
        styles,
        mount_ids,
        warnings,
        reader.external_scripts[:_MAX_MOUNT_IDS],
    )


def _session_path(url: str) -> str | None:
    """``/src/main.tsx``, ``./src/main.tsx`` or ``src/main.tsx?v=2`` → ``/src/main.tsx``;
    None for a URL that leaves the session (``https://…``, ``//cdn…``, ``data:``).
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return posixpath.normpath(posixpath.join("/", urllib.parse.unquote(parts.path)))


def _external(url: str) -> bool:
    """True for a script ``src`` on another site: ``https://…``, ``http://…``, ``//cdn…``."""
    url = url.strip().lower()
    return url.startswith(("http:", "https:", "//"))


def _warning(message: str) -> Diagnostic:
    return Diagnostic(INDEX_HTML, 0, 0, message, "", "warning")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entry_src: str | None = None
        self.other_scripts = 0
        self.external_scripts: list[str] = []
        self.title: list[str] | None = None
        self.meta: list[dict[str, str]] = []
        self.stylesheets: list[str] = []
        self.ids: list[str] = []
        self._in_head = False
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        elif tag == "title" and self.title is None:
            self.title = []
            self._in_title = True
        elif tag == "script":
            if _external(attributes.get("src", "")):
                self.external_scripts.append(attributes["src"].strip())
            elif (
                self.entry_src is None
                and attributes.get("type") == "module"
                and attributes.get("src")
            ):
                self.entry_src = attributes["src"]
            else:
                self.other_scripts += 1
        elif tag == "meta":
            self._meta(attributes)
        elif (
            tag == "link"
            and attributes.get("href")
            and "stylesheet" in attributes.get("rel", "").lower().split()
        ):
            self.stylesheets.append(attributes["href"])
        if not self._in_head and tag not in _NOT_MOUNTS and attributes.get("id"):
            self.ids.append(attributes["id"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and self.title is not None:
            self.title.append(data)

    def _meta(self, attributes: dict[str, str]) -> None:
        if "http-equiv" in attributes or "charset" in attributes or "content" not in attributes:
            return
        for attribute in ("name", "property"):
            value = attributes.get(attribute, "")
            if value and value.lower() not in _SHELL_META:
                self.meta.append(
                    {"attribute": attribute, "value": value, "content": attributes["content"]}
                )
                return
