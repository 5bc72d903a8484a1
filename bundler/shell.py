"""The HTML page around a bundle, rendered from ``templates/`` with jinja2 autoescape.

Everything that comes from a session (its name, scopes, ids) is escaped: text through
autoescape, the runtime config through ``tojson``, which writes ``<``, ``>``, ``&`` and
``'`` as ``\\u`` escapes so no value can close the ``<script>`` element it sits in.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from bundler.artifacts import Bundle, Diagnostic

__all__ = ["render_index", "render_error", "SHELL_VERSION", "TEMPLATES_DIR", "DEFAULT_TITLE"]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
#: Part of every render's input hash: bump it when the shell's output changes.
SHELL_VERSION = "2"
#: Shown when a session has no name; a page without a title reads as broken in a tab.
DEFAULT_TITLE = "Stage preview"


@cache
def _environment(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_index(bundle: Bundle, *, session_id: str, version: int, name: str,
                 google_scopes: Sequence[str], templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """The version's ``index.html``: title, styles, runtime config and scripts."""
    config: dict[str, Any] = {
        "sessionId": session_id,
        "version": version,
        "googleScopes": list(google_scopes),
    }
    html = _environment(templates_dir).get_template("index.html.j2").render(
        title=name.strip() or DEFAULT_TITLE,
        styles=bundle.styles,
        scripts=[*([bundle.overlay] if bundle.overlay else []), *bundle.scripts],
        config=config,
        favicon=bundle.favicon,
        shell_version=SHELL_VERSION,
    )
    return html.encode("utf-8")


def render_error(diagnostics: Sequence[Diagnostic], *, message: str, version: int, name: str,
                 templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """A failed version's ``index.html``: every diagnostic with its code frame, escaped."""
    html = _environment(templates_dir).get_template("error.html.j2").render(
        title=name.strip() or DEFAULT_TITLE,
        version=version,
        message=message,
        diagnostics=diagnostics,
        shell_version=SHELL_VERSION,
    )
    return html.encode("utf-8")
