"""The build folder a bundler keeps: only changed files are written, nothing stale stays."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pytest

from bundler import BuildFailed, SourceFile
from bundler.workspace import Workspace, default_parent


def files(mapping: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(path, text.encode()) for path, text in mapping.items()]


def on_disk(workspace: Workspace) -> dict[str, str]:
    return {
        "/" + p.relative_to(workspace.tree).as_posix(): p.read_text()
        for p in workspace.tree.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def workspace(tmp_path: Path):
    made = Workspace(tmp_path)
    yield made
    made.close()


def test_sync_writes_only_what_changed_and_deletes_what_is_gone(workspace):
    first = {"/app/App.tsx": "a", "/app/lib/x.ts": "x", "/app/lib/y.ts": "y"}
    workspace.sync(files(first))
    assert on_disk(workspace) == first
    untouched = workspace.tree / "app/lib/x.ts"
    before = untouched.stat().st_mtime_ns
    os.utime(untouched, ns=(before - 10**9, before - 10**9))  # older than any new write
    marked = untouched.stat().st_mtime_ns

    workspace.sync(files({"/app/App.tsx": "b", "/app/lib/x.ts": "x", "/app/new.css": "c"}))
    assert on_disk(workspace) == {"/app/App.tsx": "b", "/app/lib/x.ts": "x", "/app/new.css": "c"}
    assert untouched.stat().st_mtime_ns == marked  # the same content was not written again


def test_a_file_where_a_folder_was_and_back(workspace):
    workspace.sync(files({"/app/x/y.ts": "1"}))
    workspace.sync(files({"/app/x": "2"}))
    assert on_disk(workspace) == {"/app/x": "2"}
    workspace.sync(files({"/app/x/z.ts": "3"}))
    assert on_disk(workspace) == {"/app/x/z.ts": "3"}


def test_a_path_that_is_a_file_and_a_folder_at_once_fails_the_build(workspace):
    workspace.sync(files({"/app/ok.ts": "1"}))
    with pytest.raises(BuildFailed) as failed:
        workspace.sync(files({"/app/x": "1", "/app/x/y.ts": "2"}))
    assert [d.file for d in failed.value.diagnostics] == ["/app/x"]
    assert "both a file and a folder" in failed.value.diagnostics[0].message
    assert on_disk(workspace) == {"/app/ok.ts": "1"}  # refused before anything was written


@pytest.mark.parametrize("path", ["app/x.ts", "/app/../x.ts", "/app//x.ts", "/"])
def test_paths_must_be_normalised_and_absolute(workspace, path):
    with pytest.raises(ValueError, match="normalised absolute"):
        workspace.sync(files({path: "1"}))


def test_a_failed_write_makes_the_next_sync_write_everything(workspace, monkeypatch):
    workspace.sync(files({"/app/a.ts": "1", "/app/b.ts": "2"}))

    def broken(self: Workspace, path: str, content: bytes) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(Workspace, "_write", broken)
        with pytest.raises(OSError):
            workspace.sync(files({"/app/a.ts": "changed", "/app/b.ts": "2"}))
    workspace.sync(files({"/app/a.ts": "1", "/app/b.ts": "2"}))
    assert on_disk(workspace) == {"/app/a.ts": "1", "/app/b.ts": "2"}


def test_close_removes_the_folder(tmp_path):
    workspace = Workspace(tmp_path)
    workspace.sync(files({"/app/a.ts": "1"}))
    workspace.close()
    assert not workspace.root.exists()


def test_folders_of_dead_processes_are_removed_once_old(tmp_path):
    dead = tmp_path / "stage-build-999999999-abc"  # no such pid
    fresh_dead = tmp_path / "stage-build-999999998-abc"
    alive = tmp_path / f"stage-build-{os.getpid()}-abc"
    other = tmp_path / "something-else"
    for folder in (dead, fresh_dead, alive, other):
        (folder / "tree").mkdir(parents=True)
    old = time.time() - 7200
    for folder in (dead, alive, other):
        os.utime(folder, (old, old))
    Workspace(tmp_path).close()
    assert not dead.exists()
    assert fresh_dead.exists() and alive.exists() and other.exists()


def test_default_parent_is_tmpfs_when_there_is_one():
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        assert default_parent() == shm
    else:
        assert default_parent().is_dir()


def test_a_workspace_nobody_closed_is_removed_when_collected(tmp_path):
    workspace = Workspace(tmp_path)
    workspace.sync(files({"/app/a.ts": "1"}))
    root = workspace.root
    del workspace
    gc.collect()
    assert not root.exists()
