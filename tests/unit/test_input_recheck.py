"""The worker's re-check of what a session holds (worker/state/recheck.py), on the raw
hashes as Redis returns them: the rules and limits a push would have enforced."""

from __future__ import annotations

import pytest

from worker.errors import StoredInputError
from worker.settings import Settings
from worker.state.recheck import broken_paths, check_stored

META = {b"name": b"demo", b"createdAt": b"2026-11-28T14:00:00.120Z", b"googleScopes": b"[]"}
APP = {b"/app/App.tsx": b"export default () => null;\n"}


def test_a_session_within_the_rules_comes_back_sorted_with_its_scopes():
    meta = {**META, b"googleScopes": b'["https://www.googleapis.com/auth/drive.readonly"]'}
    stored = check_stored(meta, {b"/src/x.ts": b"1", **APP}, Settings())
    assert stored.name == "demo"
    assert stored.google_scopes == ["https://www.googleapis.com/auth/drive.readonly"]
    assert [f.path for f in stored.files] == ["/app/App.tsx", "/src/x.ts"]


def test_a_session_without_the_scopes_field_has_none():
    meta = {b"name": b"demo", b"createdAt": b"2026-11-28T14:00:00.120Z"}
    assert check_stored(meta, APP, Settings()).google_scopes == []


@pytest.mark.parametrize(
    "settings, files, message",
    [
        (
            Settings(max_files=1),
            {**APP, b"/app/b.ts": b""},
            "the session holds 2 files, more than the limit STAGE_MAX_FILES=1",
        ),
        (
            Settings(max_file_bytes=3),
            {b"/app/a.ts": b"1234"},
            '"/app/a.ts": 4 bytes, more than the limit STAGE_MAX_FILE_BYTES=3',
        ),
        (
            Settings(max_session_bytes=5),
            {b"/app/a.ts": b"123", b"/app/b.ts": b"123"},
            "the session holds 6 bytes, more than the limit STAGE_MAX_SESSION_BYTES=5",
        ),
    ],
)
def test_the_limits_are_checked_again(settings, files, message):
    with pytest.raises(StoredInputError) as caught:
        check_stored(META, files, settings)
    assert str(caught.value).endswith(message)
    assert str(caught.value).startswith(
        "the session's stored data breaks the contract's "
        "input rules (a gateway stored it without checking it)"
    )


def test_a_session_hash_without_a_name_is_refused():
    with pytest.raises(StoredInputError, match="the session hash has no name field"):
        check_stored({b"createdAt": b"x"}, APP, Settings())


def test_broken_paths_are_the_stored_ones_a_push_removes():
    stored = [b"/app/App.tsx", b"/app/../x.ts", b"/node_modules/react/index.js", b"/a/\xff"]
    assert broken_paths(stored, Settings()) == stored[1:]
