"""The HTML page around a bundle, rendered from ``templates/`` with jinja2 autoescape.

Everything that comes from a session (its name, scopes, ids) is escaped: text through
autoescape, the runtime config through jinja2's HTML-safe JSON, which writes ``<``,
``>``, ``&`` and ``'`` as ``\\u`` escapes so no value can close the ``<script>`` it sits in.

Both pages carry a Content-Security-Policy: scripts only from the version's own origin
plus the one inline block (the config script) allowed by its sha256 hash. An app's page
allows inline styles as well as its own stylesheets: React apps render ``<style>``
elements and libraries (toasts, animation) inject them at run time, and a style cannot
run code. The error page allows exactly its own style block, by hash.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from bundler.artifacts import Diagnostic, Page

__all__ = [
    "index_html",
    "error_html",
    "csp_hash",
    "content_security_policy",
    "SHELL_VERSION",
    "TEMPLATES_DIR",
    "DEFAULT_TITLE",
]

#: templates/ at the top of the source tree; a built package carries it as bundler.templates.
_PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATES_DIR = (
    _PACKAGED_TEMPLATES
    if _PACKAGED_TEMPLATES.is_dir()
    else Path(__file__).resolve().parent.parent / "templates"
)
#: Part of every render's input hash: bump it when the shell's output changes.
SHELL_VERSION = "8"  # 8: the config script before the stylesheets (it waited for them)
#: Shown when a session has no name; a page without a title reads as broken in a tab.
DEFAULT_TITLE = "Stage preview"


#: An app's page: its stylesheets, <style> elements and style attributes.
_APP_STYLE_SRC = "'self' 'unsafe-inline'"
# img/connect/media allow https: because previews call Google's APIs (their scopes are in
# the config) and show remote images; nothing may load script or style from elsewhere.
_CSP_REST = (
    "img-src 'self' data: blob: https:; font-src 'self' data:; "
    "connect-src 'self' https:; media-src 'self' data: blob: https:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


# Allowed packages inject <style> elements at runtime (sonner's toasts, vaul's drawer, the
# scroll lock of every radix dialog); scripts stay strict, and no style comes from elsewhere.
_PAGE_STYLE_SRC = "'self' 'unsafe-inline'"


def content_security_policy(script_src: str, style_src: str) -> str:
    return f"default-src 'self'; script-src {script_src}; style-src {style_src}; {_CSP_REST}"


def csp_hash(inline: str) -> str:
    """The CSP source that allows exactly this inline script or style text."""
    digest = hashlib.sha256(inline.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def _environment(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def index_html(
    page: Page,
    *,
    session_id: str,
    version: int,
    name: str,
    google_scopes: Sequence[str],
    root_url: str = "",
    templates_dir: Path = TEMPLATES_DIR,
) -> bytes:
    """The version's ``index.html``: title, styles, runtime config and scripts.

    The title is the session's ``/index.html`` ``<title>`` if it has one, else ``name``.

    ``root_url`` leads from the version folder to the store root, where the vendor
    chunks and the overlay are (``../../../../`` for ``sessions/<id>/renders/<v>/``).
    """
    config: dict[str, Any] = {
        "sessionId": session_id,
        "version": version,
        "googleScopes": list(google_scopes),
    }
    if page.blocked_scripts:  # read by the boot check, which lists them as blocked
        config["blockedScripts"] = list(page.blocked_scripts)
    config_script = f"window.__STAGE__ = {htmlsafe_json_dumps(config, sort_keys=True)};"
    html = (
        _environment(templates_dir)
        .get_template("index.html.j2")
        .render(
            title=page.title or name.strip() or DEFAULT_TITLE,
            meta=page.meta,
            mount_ids=page.mount_ids,
            styles=page.styles,
            scripts=[
                *([root_url + page.overlay] if page.overlay else []),
                *(root_url + path for path in page.vendor_scripts),
                *page.scripts,
            ],
            config_script=Markup(config_script),
            csp=content_security_policy(f"'self' {csp_hash(config_script)}", _APP_STYLE_SRC),
            favicon=page.favicon,
            shell_version=SHELL_VERSION,
        )
    )
    return html.encode("utf-8")


def error_html(
    diagnostics: Sequence[Diagnostic],
    *,
    message: str,
    version: int,
    name: str,
    templates_dir: Path = TEMPLATES_DIR,
) -> bytes:
    """A failed version's ``index.html``: every diagnostic with its code frame, escaped."""
    style = _read(templates_dir / "error.css")
    html = (
        _environment(templates_dir)
        .get_template("error.html.j2")
        .render(
            style=Markup(style),
            csp=content_security_policy("'none'", csp_hash(style)),
            title=name.strip() or DEFAULT_TITLE,
            version=version,
            message=message,
            diagnostics=diagnostics,
            shell_version=SHELL_VERSION,
        )
    )
    return html.encode("utf-8")


@cache
def _read(path: Path) -> str:
    return path.read_text("utf-8")
