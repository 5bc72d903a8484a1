"""A session's ``/package.json``: read only to warn about what will not be there.

Agents push the package.json of the project they wrote (Vite's, CRA's). Previews never
install anything: code may import only the runtime's allowed packages. So the file's
``dependencies`` are compared with that list and the difference becomes a warning on the
render; a file that is not JSON is a warning too. Never an error: the imports themselves
fail the build, with their own message, if the code really uses such a package.
``devDependencies`` are build tools (vite, typescript, tailwindcss) and are not read, nor
are such tools when a project lists them as dependencies.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping

from bundler.artifacts import Diagnostic, SourceFile
from bundler.nextjs import PROVIDED_PACKAGES
from bundler.pins import BUILD_TOOLS, package_name

__all__ = ["PACKAGE_JSON", "package_json_warnings"]

PACKAGE_JSON = "/package.json"
_NEVER_INSTALLED = "previews never install packages"
#: Build tools generated projects often list under ``dependencies``: a render compiles
#: TypeScript and Tailwind itself, so nothing is missing for them.
_PROVIDED_TOOLS = ("postcss", "autoprefixer", "typescript", "vite")
_PROVIDED_SCOPES = ("@tailwindcss/", "@vitejs/", "@types/")


def _provided(name: str) -> bool:
    return (
        name in BUILD_TOOLS
        or name in _PROVIDED_TOOLS
        or name in PROVIDED_PACKAGES
        or name.startswith(_PROVIDED_SCOPES)
    )


def package_json_warnings(
    sources: Mapping[str, SourceFile], allowed: Collection[str]
) -> list[Diagnostic]:
    """Warnings for ``/package.json`` in ``sources``: dependencies outside ``allowed``."""
    source = sources.get(PACKAGE_JSON)
    if source is None:
        return []
    text = source.content.decode("utf-8", "replace")
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except ValueError as exc:
        line, column, reason = _where(exc, text)
        lines = text.split("\n")  # as json counts them
        return [
            _warning(
                f"{PACKAGE_JSON} is not valid JSON ({reason}); it is read only to "
                f"check its dependencies, and {_NEVER_INSTALLED}",
                line,
                column,
                lines[line - 1] if 0 < line <= len(lines) else "",
            )
        ]
    dependencies = data.get("dependencies") if isinstance(data, dict) else None
    if dependencies is None:
        return []
    if not isinstance(dependencies, dict):
        return [
            _warning(
                f'"dependencies" in {PACKAGE_JSON} is not an object of package '
                f"names; it is read only to check them, and {_NEVER_INSTALLED}"
            )
        ]
    missing = sorted(
        name for name in dependencies if package_name(name) not in allowed and not _provided(name)
    )
    if not missing:
        return []
    return [
        _warning(
            f"{PACKAGE_JSON} depends on {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {_NEVER_INSTALLED}; "
            f"code may import only {', '.join(sorted(allowed))}"
        )
    ]


def _where(exc: ValueError, text: str) -> tuple[int, int, str]:
    if isinstance(exc, json.JSONDecodeError):
        return exc.lineno, exc.colno, exc.msg
    return 0, 0, str(exc)


def _warning(message: str, line: int = 0, column: int = 0, line_text: str = "") -> Diagnostic:
    return Diagnostic(PACKAGE_JSON, line, column, message, line_text, "warning")
