"""A pushed /package.json is read only to warn: nothing is installed, nothing fails for it."""

from __future__ import annotations

import json

import pytest

from bundler import Diagnostic, Runtime

APP = "export default function App() { return <h1>app</h1>; }\n"


def _package_json(dependencies: dict[str, str], **more: object) -> str:
    return json.dumps(
        {"name": "vite-app", "private": True, "dependencies": dependencies, **more}, indent=2
    )


def test_dependencies_outside_the_allowlist_are_a_warning_naming_them(build):
    allowed = Runtime().allowed_packages
    bundle = build(
        {
            "/app/App.tsx": APP,
            "/package.json": _package_json(
                {
                    "react": "^19.0.0",
                    "framer-motion": "^11.0.0",
                    "axios": "^1.7.0",
                    "swr": "^2.2.0",
                    "@types/react": "^19.0.0",
                    "tailwindcss": "^4.0.0",
                    "@tailwindcss/vite": "^4.0.0",
                },
                devDependencies={"vite": "^6.0.0"},
            ),
        }
    )
    assert bundle.warnings == [
        Diagnostic(
            "/package.json",
            0,
            0,
            "/package.json depends on axios, swr, which are not installed: previews never "
            f"install packages; code may import only {', '.join(allowed)}",
            "",
            "warning",
        )
    ]


def test_one_missing_dependency_reads_in_the_singular(build):
    bundle = build({"/app/App.tsx": APP, "/package.json": _package_json({"left-pad": "1.3.0"})})
    [warning] = bundle.warnings
    assert warning.message == (
        "/package.json depends on left-pad, which is not installed: previews never install "
        f"packages; code may import only {', '.join(Runtime().allowed_packages)}"
    )


@pytest.mark.parametrize(
    "dependencies", [{}, {"react": "^19", "react-dom": "^19"}], ids=["none", "only-allowed"]
)
def test_allowed_dependencies_give_no_warning(build, dependencies):
    bundle = build({"/app/App.tsx": APP, "/package.json": _package_json(dependencies)})
    assert bundle.warnings == []


def test_invalid_json_is_a_warning_with_its_place(build):
    bundle = build(
        {
            "/app/App.tsx": APP,
            "/package.json": '{\n  "name": "x"\n  "dependencies": { "react": "19" }\n}\n',
        }
    )
    assert bundle.warnings == [
        Diagnostic(
            "/package.json",
            3,
            3,
            "/package.json is not valid JSON (Expecting ',' delimiter); it is read only to check "
            "its dependencies, and previews never install packages",
            '  "dependencies": { "react": "19" }',
            "warning",
        )
    ]


def test_dependencies_that_are_not_an_object_are_a_warning(build):
    bundle = build({"/app/App.tsx": APP, "/package.json": '{"dependencies": ["react"]}'})
    assert [w.message for w in bundle.warnings] == [
        '"dependencies" in /package.json is not an object of package names; it is read only '
        "to check them, and previews never install packages"
    ]


def test_a_failed_build_still_carries_the_package_warning(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": "export default function App() { return ; }}\n",
            "/package.json": _package_json({"axios": "^1"}),
        }
    )
    assert [(d.file, d.severity) for d in error.diagnostics] == [
        ("/app/App.tsx", "error"),
        ("/package.json", "warning"),
    ]
    assert "axios" not in str(error)  # the summary lists errors; the warning rides along
