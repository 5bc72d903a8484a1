"""The retention rule, the local store's listing and batch delete, shared units."""

from __future__ import annotations

from worker.lifecycle.retention import versions_to_expire
from worker.lifecycle.shared import unit_of
from worker.models import RenderRecord
from worker.storage import LocalStore, StoredObject, delete_folder


def records(statuses: str) -> dict[int, RenderRecord]:
    """One record per letter: r ready, f failed, s superseded, b building, q queued,
    x expired; version 1 first."""
    names = {
        "r": "ready",
        "f": "failed",
        "s": "superseded",
        "b": "building",
        "q": "queued",
        "x": "expired",
    }
    return {
        v: RenderRecord(v, names[c], "2026-12-01T00:00:00.000Z")  # type: ignore[arg-type]
        for v, c in enumerate(statuses, start=1)
    }


def test_the_live_the_newest_n_and_what_has_not_ended_are_kept():
    found = versions_to_expire(records("rfsbrxrrqr"), live=7, newest=10, keep=3, pinned={}, now=0.0)
    # 8-10 are the newest three, 7 is live, 4 is still building, 6 expired already.
    assert found == [1, 2, 3, 5]


def test_a_pinned_version_is_kept_until_its_pin_runs_out():
    chosen = records("rrrr")
    assert versions_to_expire(chosen, live=4, newest=4, keep=1, pinned={2: 100.0}, now=50.0) == [
        1,
        3,
    ]
    assert versions_to_expire(chosen, live=4, newest=4, keep=1, pinned={2: 100.0}, now=150.0) == [
        1,
        2,
        3,
    ]


def test_versions_requested_since_the_records_were_read_count_as_newest():
    # Versions 4 and 5 were requested after the read: the newest three are 3, 4 and 5.
    assert versions_to_expire(records("rrr"), live=3, newest=5, keep=3, pinned={}, now=0.0) == [
        1,
        2,
    ]


def test_local_store_lists_a_folder_and_deletes_it_with_its_empty_folders(tmp_path):
    store = LocalStore(tmp_path)
    store.put_many(
        [
            StoredObject("sessions/a/renders/1/index.html", b"12345", "text/html"),
            StoredObject("sessions/a/renders/1/check/shot.png", b"12", "image/png"),
            StoredObject("sessions/a/renders/2/index.html", b"1", "text/html"),
            StoredObject("sessions/ab/renders/1/index.html", b"1", "text/html"),
        ]
    )

    listed = store.list_objects("sessions/a/renders/1/")
    assert [(o.key, o.size) for o in listed] == [
        ("sessions/a/renders/1/check/shot.png", 2),
        ("sessions/a/renders/1/index.html", 5),
    ]
    assert [o.key for o in store.list_objects("sessions/a")] == [
        "sessions/a/renders/1/check/shot.png",
        "sessions/a/renders/1/index.html",
        "sessions/a/renders/2/index.html",
        "sessions/ab/renders/1/index.html",
    ]

    assert len(delete_folder(store, "sessions/a/renders/1/")) == 2
    assert not (tmp_path / "sessions/a/renders/1").exists()
    assert (tmp_path / "sessions/a/renders/2/index.html").exists()
    store.delete_many(["sessions/a/renders/2/index.html", "sessions/a/renders/2/gone.js"])
    assert not (tmp_path / "sessions/a").exists()
    assert (tmp_path / "sessions/ab/renders/1/index.html").exists()


def test_a_vendor_set_is_one_unit_and_each_overlay_file_its_own():
    assert unit_of("vendor/3cc20e324cf1b1e1/react-4619a56826.js") == "vendor/3cc20e324cf1b1e1/"
    assert unit_of("vendor/stage/overlay-f4b1a3910f.js") == "vendor/stage/overlay-f4b1a3910f.js"
