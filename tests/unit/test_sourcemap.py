"""Source map v3 decoding: VLQ digits, segment lookup, and a stack mapped to a session file."""

from __future__ import annotations

import json

import pytest

from worker.check.sourcemap import (
    Position,
    SourceMap,
    StackFrame,
    decode_vlq,
    map_stack,
    parse_stack,
)


@pytest.mark.parametrize(
    ("segment", "values"),
    [
        ("AAAA", [0, 0, 0, 0]),
        ("AACA", [0, 0, 1, 0]),
        ("D", [-1]),
        ("gB", [16]),
        ("hB", [-16]),
        ("2HwBA", [123, 24, 0]),
        ("+/////D", [2**31 - 1]),  # the largest value a 32-bit map holds
    ],
)
def test_vlq_segments_decode_to_signed_integers(segment, values):
    assert decode_vlq(segment) == values


def test_a_bad_vlq_digit_or_a_cut_number_is_an_error():
    with pytest.raises(ValueError, match="'!' is not a base64 VLQ digit"):
        decode_vlq("A!")
    with pytest.raises(ValueError, match="ends inside a number"):
        decode_vlq("g")


# Generated line 1: column 0 → a.tsx 1:1, column 10 → b.tsx 3:5, column 20 → b.tsx 4:1;
# generated line 2: column 4 → a.tsx 2:3. Deltas carry across segments and lines.
MAP = json.dumps(
    {
        "version": 3,
        "sources": ["/app/a.tsx", "/app/b.tsx"],
        "mappings": "AAAA,UCEI,UACJ;IDFE",
        "names": [],
    }
)


def test_lookup_finds_the_segment_at_or_before_a_column():
    source_map = SourceMap.parse(MAP)
    assert source_map.lookup(1, 1) == Position("/app/a.tsx", 1, 1)
    assert source_map.lookup(1, 11) == Position("/app/b.tsx", 3, 5)
    assert source_map.lookup(1, 15) == Position("/app/b.tsx", 3, 5)
    assert source_map.lookup(1, 21) == Position("/app/b.tsx", 4, 1)
    assert source_map.lookup(2, 5) == Position("/app/a.tsx", 2, 3)
    assert source_map.lookup(2, 1) is None  # before the line's first segment
    assert source_map.lookup(3, 1) is None  # past the last line


def test_a_document_that_is_not_a_map_is_an_error():
    with pytest.raises(ValueError, match="not a version 3 map"):
        SourceMap.parse('{"version": 3}')


STACK = """Error: no points
    at g (https://stage-check.invalid/vendor/x/react-dom.js:8:100)
    at https://stage-check.invalid/sessions/s/renders/1/app-X.js:1:11
    at Array.map (<anonymous>)"""


def test_stack_frames_are_read_with_and_without_function_names():
    assert parse_stack(STACK) == [
        StackFrame("https://stage-check.invalid/vendor/x/react-dom.js", 8, 100),
        StackFrame("https://stage-check.invalid/sessions/s/renders/1/app-X.js", 1, 11),
    ]


def test_vendor_frames_fall_through_to_the_first_session_file():
    maps = {"https://stage-check.invalid/sessions/s/renders/1/app-X.js": SourceMap.parse(MAP)}
    position = map_stack(STACK, maps.get, lambda source: source.startswith("/app/"))
    assert str(position) == "/app/b.tsx:3:5"
    assert map_stack(STACK, maps.get, lambda source: False) is None
