"""The local artifact store: a folder on disk, written atomically, with file:// or public URLs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from worker.errors import InfrastructureError, StorageError, UploadError
from worker.storage import CACHE_REVALIDATE, LocalStore, StoredObject

INDEX = "sessions/s1/renders/1/index.html"
SCRIPT = "sessions/s1/renders/1/assets/app-3F2A.js"


def obj(key: str, body: bytes) -> StoredObject:
    return StoredObject(key=key, body=body, content_type="text/html; charset=utf-8")


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".upload-")]


def test_put_many_writes_every_object_under_the_root(tmp_path):
    store = LocalStore(tmp_path)
    store.put_many([obj(INDEX, b"<!doctype html>"), obj(SCRIPT, b"console.log(1)")])
    assert (tmp_path / INDEX).read_bytes() == b"<!doctype html>"
    assert (tmp_path / SCRIPT).read_bytes() == b"console.log(1)"
    assert store.get(SCRIPT) == b"console.log(1)"
    assert leftovers(tmp_path) == []


def test_put_many_of_nothing_writes_nothing(tmp_path):
    LocalStore(tmp_path).put_many([])
    assert list(tmp_path.iterdir()) == []


def test_put_replaces_a_file_by_rename_so_readers_never_see_a_partial_one(tmp_path):
    store = LocalStore(tmp_path)
    store.put_many([obj(INDEX, b"old version")])
    with (tmp_path / INDEX).open("rb") as reader:  # opened before the new version lands
        store.put_many([StoredObject(INDEX, b"new", "text/html", CACHE_REVALIDATE)])
        assert reader.read() == b"old version"  # an in-place write would truncate this
    assert store.get(INDEX) == b"new"
    assert leftovers(tmp_path) == []


def test_url_without_a_public_base_is_a_file_uri_of_the_object(tmp_path):
    store = LocalStore(tmp_path)
    url = store.url_for("sessions/a b/index.html")
    parts = urlsplit(url)
    assert parts.scheme == "file"
    assert Path(url2pathname(parts.path)) == tmp_path.resolve() / "sessions/a b/index.html"


def test_url_with_a_public_base_is_the_base_slash_key(tmp_path):
    store = LocalStore(tmp_path, public_base_url="https://cdn.example/stage/")
    assert store.url_for(INDEX) == "https://cdn.example/stage/" + INDEX


def test_local_path_is_the_file_under_the_resolved_root(tmp_path):
    store = LocalStore(tmp_path / "a" / ".." / "b")
    assert store.local_path(INDEX) == tmp_path.resolve() / "b" / INDEX
    assert store.prefix == ""


def test_root_that_is_a_file_fails_with_an_upload_error_naming_the_target(tmp_path):
    root = tmp_path / "artifacts"
    root.write_text("not a folder")
    with pytest.raises(UploadError) as info:
        LocalStore(root).put_many([obj(INDEX, b"x")])
    assert str(info.value).startswith(f"could not write {root / INDEX}: ")
    assert isinstance(info.value, InfrastructureError)  # so the render retries it
    assert isinstance(info.value.__cause__, OSError)


def test_failed_write_leaves_no_temporary_file_behind(tmp_path):
    (tmp_path / INDEX).mkdir(parents=True)  # a folder where the file should go
    with pytest.raises(UploadError):
        LocalStore(tmp_path).put_many([obj(INDEX, b"x")])
    assert leftovers(tmp_path) == []


def test_reading_a_missing_object_is_a_storage_error_not_an_upload_error(tmp_path):
    with pytest.raises(StorageError) as info:
        LocalStore(tmp_path).get(INDEX)
    assert not isinstance(info.value, UploadError)
    assert str(info.value).startswith(f"could not read {tmp_path.resolve() / INDEX}: ")


def test_stored_files_are_readable_by_other_users(tmp_path):
    store = LocalStore(tmp_path / "root")
    store.put_many([StoredObject("v/index.html", b"<!doctype html>", "text/html")])
    assert (tmp_path / "root" / "v" / "index.html").stat().st_mode & 0o777 == 0o644
