"""Warm builds (an incremental esbuild context per session) give what a cold build gives.

Each step of a seeded sequence of random edits, deletes, renames and option changes is
built twice: by a bundler that keeps the session warm, and by one that builds every
time from nothing. The bundles (page, every artifact byte, Tailwind's CSS, warnings: what
the manifest is made of) or the failures must be equal.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator

import pytest

from bundler import BuildFailed, Bundle, Bundler, Runtime
from tests.bundler.conftest import Files, session

SEEDS = (1, 2)
STEPS = 24
COLORS = ("red", "blue", "green", "amber", "violet", "slate")


@pytest.fixture(scope="module")
def warm() -> Iterator[Bundler]:
    try:
        Runtime().check()
    except FileNotFoundError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    built = Bundler(warm_contexts=2)
    yield built
    built.close()


@pytest.fixture(scope="module")
def cold() -> Iterator[Bundler]:
    built = Bundler()
    yield built
    built.close()


def _component(name: str, children: list[str], color: str, text: str) -> str:
    imports = "".join(f'import {c} from "./{c}";\n' for c in children)
    nested = "".join(f"      <{c} />\n" for c in children)
    return (
        f'import {{ useState }} from "react";\n{imports}\n'
        f"class Counter{name} {{ step = 1; }}\n\n"
        f"export default function {name}() {{\n"
        f"  const [n, setN] = useState(new Counter{name}().step);\n"
        "  return (\n"
        f'    <div className="p-2 text-{color}-500" onClick={{() => setN(n + 1)}}>\n'
        f"      {text} {{n}} {{import.meta.env.VITE_TITLE}}\n{nested}"
        "    </div>\n"
        "  );\n"
        "}\n"
    )


class App:
    """A session's files, kept as a component tree so edits keep it consistent."""

    def __init__(self, rng: random.Random, count: int = 30) -> None:
        self.rng = rng
        self.children: dict[str, list[str]] = {"App": []}
        self.color: dict[str, str] = {}
        self.text: dict[str, str] = {}
        self.extra: Files = {
            "/app/index.css": '@import "tailwindcss";\n.app { margin: 1rem; }\n',
        }
        self.broken: str | None = None
        for k in range(1, count):
            parent = rng.choice(list(self.children))
            self._add(f"C{k}", parent)

    def _add(self, name: str, parent: str) -> None:
        self.children[name] = []
        self.children[parent].append(name)
        self.color[name] = self.rng.choice(COLORS)
        self.text[name] = f"{name} says hi"

    def files(self) -> Files:
        out = dict(self.extra)
        for name, kids in self.children.items():
            if name == "App":
                imports = "".join(f'import {c} from "./components/{c}";\n' for c in kids)
                body = "".join(f"      <{c} />\n" for c in kids)
                out["/app/App.tsx"] = (
                    f'import "./index.css";\n{imports}\nexport default function App() {{\n'
                    f'  return (\n    <main className="app grid gap-4">\n{body}    </main>\n  );\n}}\n'
                )
            else:
                source = _component(name, kids, self.color[name], self.text[name])
                if self.broken == name:
                    source += "export const = ;\n"
                out[f"/app/components/{name}.tsx"] = source
        return out

    def step(self, k: int) -> str:
        """One random change; returns what it did."""
        names = [n for n in self.children if n != "App"]
        kind = self.rng.choice(
            ["edit", "edit", "class", "add", "delete", "rename", "break", "tsconfig", "env"]
        )
        self.broken = None
        target = self.rng.choice(names)
        if kind == "edit":
            self.text[target] = f"{target} edit {k}"
        elif kind == "class":
            self.color[target] = self.rng.choice(COLORS)
        elif kind == "add":
            self._add(f"N{k}", target)
        elif kind == "delete" and len(names) > 3:
            leaves = [n for n in names if not self.children[n]]
            victim = self.rng.choice(leaves)
            del self.children[victim]
            for kids in self.children.values():
                if victim in kids:
                    kids.remove(victim)
        elif kind == "rename":
            new = f"R{k}"
            self.children[new] = self.children.pop(target)
            self.color[new], self.text[new] = self.color[target], self.text[target]
            for kids in self.children.values():
                kids[:] = [new if c == target else c for c in kids]
            target = new
        elif kind == "break":
            self.broken = target
        elif kind == "tsconfig":  # class fields are emitted differently
            if "/tsconfig.json" in self.extra:
                del self.extra["/tsconfig.json"]
            else:
                self.extra["/tsconfig.json"] = (
                    '{"compilerOptions": {"useDefineForClassFields": false}}'
                )
        elif kind == "env":
            self.extra["/.env"] = f"VITE_TITLE=title {k}\n"
        return f"{kind} {target}"


def _outcome(bundler: Bundler, files: Files, warm_key: str | None = None) -> object:
    try:
        bundle = bundler.build(session(files), warm_key=warm_key)
    except BuildFailed as exc:
        return ("failed", exc.message, [d.to_dict() for d in exc.diagnostics])
    return _shape(bundle)


def _shape(bundle: Bundle) -> object:
    return (
        bundle.page.to_dict(),
        [(a.path, a.kind, a.content_type, a.content) for a in bundle.artifacts],
        [(a.path, a.content) for a in bundle.vendor],
        [w.to_dict() for w in bundle.warnings],
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_a_sequence_of_random_changes_builds_warm_as_it_builds_cold(
    warm: Bundler, cold: Bundler, seed: int
) -> None:
    rng = random.Random(seed)
    app = App(rng)
    key = f"seed-{seed}"
    seen = {"failed": 0, "ready": 0}
    contexts = set()
    for k in range(STEPS):
        did = app.step(k) if k else "first build"
        files = app.files()
        got, want = _outcome(warm, files, key), _outcome(cold, files)
        assert got == want, f"step {k} ({did}): warm build differs from cold"
        failed = isinstance(got, tuple) and got[0] == "failed"
        seen["failed" if failed else "ready"] += 1
        warm_session = warm.warm._sessions[key]
        contexts.add(warm_session.context_key)
    assert seen["ready"] > STEPS // 2
    # The steps reused contexts (more builds than contexts opened) and options changes
    # opened new ones.
    assert 1 < len(contexts) < STEPS


def test_a_css_and_tailwind_class_change_reaches_the_warm_output(
    warm: Bundler, cold: Bundler
) -> None:
    app = App(random.Random(7), count=5)
    first = warm.build(session(app.files()), warm_key="css")
    app.color["C1"] = "fuchsia"
    app.extra["/app/index.css"] += ".app { padding: 3px; }\n"
    second = warm.build(session(app.files()), warm_key="css")
    css = b"".join(a.content for a in second.artifacts if a.path.endswith(".css"))
    assert b"fuchsia" in css and b"padding:3px" in css.replace(b" ", b"")
    assert _shape(second) != _shape(first)
    assert _shape(second) == _outcome(cold, app.files())


def test_sessions_built_in_turn_keep_their_own_files(warm: Bundler) -> None:
    """A warm session's folder is its own: another session's file is not importable."""
    a: Files = {
        "/App.tsx": 'import { secret } from "./Secret";\nexport default () => <p>{secret}</p>;\n',
        "/Secret.tsx": 'export const secret = "only-in-a";\n',
    }
    b: Files = {
        "/App.tsx": 'import { secret } from "./Secret";\nexport default () => <p>{secret}</p>;\n'
    }
    built = warm.build(session(a), warm_key="a")
    assert any(b"only-in-a" in x.content for x in built.artifacts)
    with pytest.raises(BuildFailed) as info:
        warm.build(session(b), warm_key="b")
    assert any("Secret" in d.message for d in info.value.diagnostics)
    again = warm.build(session(a), warm_key="a")  # and a's folder still holds its file
    assert _shape(again) == _shape(built)


def test_the_least_recently_built_session_leaves_first(warm: Bundler) -> None:
    files: Files = {"/App.tsx": "export default () => <p>x</p>;\n"}
    for name in ("lru-1", "lru-2", "lru-3"):
        warm.build(session(files), warm_key=name)
    assert len(warm.warm) == 2  # warm_contexts=2
    assert "lru-1" not in warm.warm and "lru-3" in warm.warm


def test_a_session_over_the_source_cap_builds_cold(cold: Bundler) -> None:
    small = Bundler(warm_contexts=2, warm_source_bytes=1000)
    try:
        files: Files = {"/App.tsx": "export default () => <p>" + "x" * 2000 + "</p>;\n"}
        bundle = small.build(session(files), warm_key="big")
        assert "big" not in small.warm
        assert _shape(bundle) == _outcome(cold, files)
    finally:
        small.close()


def test_a_killed_esbuild_service_loses_its_contexts_and_the_next_build_opens_one(
    warm: Bundler, cold: Bundler
) -> None:
    app = App(random.Random(3), count=6)
    warm.build(session(app.files()), warm_key="killed")
    before = warm.warm._sessions["killed"].context_key
    assert warm.service.pid is not None
    os.kill(warm.service.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while warm.service.pid is not None and time.monotonic() < deadline:
        time.sleep(0.01)  # until the process is reaped: gone, as after a crash
    app.text["C1"] = "after the kill"
    files = app.files()
    assert _outcome(warm, files, "killed") == _outcome(cold, files)
    after = warm.warm._sessions["killed"]
    assert after.context_key is not None and after.context_key != before
    assert after.builds == 1


def test_a_tsconfig_change_reaches_the_warm_output(warm: Bundler, cold: Bundler) -> None:
    app = App(random.Random(9), count=3)
    before = warm.build(session(app.files()), warm_key="tsconfig")
    app.extra["/tsconfig.json"] = '{"compilerOptions": {"useDefineForClassFields": false}}'
    after = warm.build(session(app.files()), warm_key="tsconfig")
    assert _shape(after) != _shape(before)  # class fields are emitted another way
    assert _shape(after) == _outcome(cold, app.files())


def test_sessions_leave_when_their_sources_together_pass_the_budget(cold: Bundler) -> None:
    small = Bundler(warm_contexts=8, warm_total_source_bytes=5000)
    try:
        for name in ("b-1", "b-2", "b-3"):
            files: Files = {"/App.tsx": f"export default () => <p>{name}{'x' * 2000}</p>;\n"}
            bundle = small.build(session(files), warm_key=name)
            assert _shape(bundle) == _outcome(cold, files)
        assert "b-1" not in small.warm and {"b-2", "b-3"} <= set(small.warm._sessions)
        assert small.warm.source_bytes <= 5000
    finally:
        small.close()
