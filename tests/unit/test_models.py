"""The records a gateway reads: camelCase JSON, and back again without loss."""

from __future__ import annotations

import json
import re

import pytest

from bundler import Diagnostic
from worker.models import (
    Check,
    CheckError,
    FileContent,
    FileInfo,
    RenderError,
    RenderRecord,
    SessionStatus,
    utc_now,
)

DIAGNOSTIC = Diagnostic(
    file="/app/App.tsx",
    line=3,
    column=14,
    message='Expected ";"',
    line_text="const x = <div>",
    severity="error",
)
WARNING = Diagnostic(
    file="/app/a.ts", line=1, column=1, message="unused", line_text="let a", severity="warning"
)

FAILED = RenderRecord(
    version=4,
    status="failed",
    requested_at="2026-11-28T14:00:00.000Z",
    started_at="2026-11-28T14:00:00.100Z",
    finished_at="2026-11-28T14:00:00.900Z",
    attempts=2,
    timings_ms={"build": 120.5, "upload": 30.0},
    input_hash="ab12",
    error=RenderError(kind="build", message="1 error", diagnostics=[DIAGNOSTIC]),
    warnings=[WARNING],
)
READY = RenderRecord(
    version=5,
    status="ready",
    requested_at="2026-11-28T14:01:00.000Z",
    attempts=1,
    index_key="sessions/s1/renders/5/index.html",
    url="file:///tmp/index.html",
    index_path="/tmp/index.html",
)
CHECKED = RenderRecord(
    version=6,
    status="ready",
    requested_at="2026-11-28T14:02:00.000Z",
    attempts=1,
    check=Check(
        "failed",
        [CheckError("pageerror", "boom", "Error: boom\n    at x", "/app/A.tsx", 3, 9)],
        blank=True,
        blocked_requests=["https://cdn.example.com/x.js"],
        timings_ms={"total": 420.0},
        screenshot_url="https://x/check/screenshot.png",
        thumbnail_url="https://x/check/thumbnail.png",
        checked_at="2026-11-28T14:02:01.000Z",
    ),
)


@pytest.mark.parametrize("record", [FAILED, READY, CHECKED, RenderRecord(1, "queued", "t")])
def test_render_record_survives_a_json_round_trip(record):
    assert RenderRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_render_record_keys_are_camel_case_as_in_the_contract():
    assert set(FAILED.to_dict()) == {
        "version",
        "status",
        "requestedAt",
        "startedAt",
        "finishedAt",
        "attempts",
        "timingsMs",
        "inputHash",
        "indexKey",
        "url",
        "error",
        "warnings",
        "check",
    }
    assert FAILED.to_dict()["check"] is None
    assert READY.to_dict()["indexKey"] == "sessions/s1/renders/5/index.html"
    assert FAILED.to_dict()["timingsMs"] == {"build": 120.5, "upload": 30.0}


def test_check_is_camel_case_with_the_session_place_of_each_error():
    check = CHECKED.to_dict()["check"]
    assert set(check) == {
        "status",
        "errors",
        "blank",
        "blockedRequests",
        "timingsMs",
        "screenshotUrl",
        "thumbnailUrl",
        "checkedAt",
        "message",
        "unstyledClasses",
    }
    assert check["errors"] == [
        {
            "kind": "pageerror",
            "message": "boom",
            "stack": "Error: boom\n    at x",
            "file": "/app/A.tsx",
            "line": 3,
            "column": 9,
        }
    ]
    assert CHECKED.check is not None
    assert CHECKED.check.errors[0].format() == "/app/A.tsx:3:9: boom"
    assert CheckError("console.error", "no place").format() == "no place"


def test_diagnostics_use_line_text_in_camel_case():
    (diagnostic,) = FAILED.to_dict()["error"]["diagnostics"]
    assert diagnostic == {
        "file": "/app/App.tsx",
        "line": 3,
        "column": 14,
        "message": 'Expected ";"',
        "lineText": "const x = <div>",
        "severity": "error",
        "importChain": [],
    }
    assert FAILED.to_dict()["warnings"][0]["severity"] == "warning"


def test_index_path_appears_only_when_the_local_store_set_it():
    assert "indexPath" not in FAILED.to_dict()
    assert READY.to_dict()["indexPath"] == "/tmp/index.html"


def test_a_record_without_an_error_says_null():
    assert READY.to_dict()["error"] is None
    assert RenderRecord.from_dict(READY.to_dict()).error is None


def test_record_written_by_another_gateway_fills_in_missing_fields():
    record = RenderRecord.from_dict({"version": "7", "status": "queued"})
    assert record == RenderRecord(version=7, status="queued", requested_at="")
    assert (record.attempts, record.timings_ms, record.warnings) == (0, {}, [])


def test_null_collections_from_json_read_as_empty():
    record = RenderRecord.from_dict(
        {"version": 1, "status": "building", "timingsMs": None, "warnings": None, "error": None}
    )
    assert (record.timings_ms, record.warnings, record.error) == ({}, [], None)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [("queued", False), ("building", False), ("ready", True), ("failed", True)],
)
def test_only_ready_and_failed_are_terminal(status, terminal):
    assert RenderRecord(1, status, "t").terminal is terminal


def test_session_status_uses_google_scopes_in_camel_case():
    status = SessionStatus(
        id="s1",
        name="Shifts",
        files=[FileInfo("/app/App.tsx", 12)],
        google_scopes=["https://www.googleapis.com/auth/drive"],
        render=READY,
        live=None,
    )
    assert status.to_dict() == {
        "id": "s1",
        "name": "Shifts",
        "files": [{"path": "/app/App.tsx", "size": 12}],
        "googleScopes": ["https://www.googleapis.com/auth/drive"],
        "render": READY.to_dict(),
        "live": None,
    }


def test_text_file_content_is_its_utf8_bytes():
    assert FileContent("/a.ts", "é!").data == b"\xc3\xa9!"


def test_base64_file_content_is_decoded():
    content = FileContent("/a.bin", "/wA=", encoding="base64")
    assert content.data == b"\xff\x00"
    assert content.to_dict() == {"path": "/a.bin", "content": "/wA=", "encoding": "base64"}


def test_utc_now_is_iso_8601_in_utc_with_milliseconds():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", utc_now())
