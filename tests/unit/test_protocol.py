"""esbuild's service packets: the byte layout from the module docstring, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundler.protocol import Packet, decode_packet, encode_packet


def round_trip(packet: Packet) -> Packet:
    encoded = encode_packet(packet)
    return decode_packet(encoded[4:])


def test_null_request_matches_the_documented_layout():
    # uint32 length 5 | uint32 id 3 << 1 | 0 (a request) | tag 0 (null)
    expected = bytes.fromhex("050000000600000000")
    assert encode_packet(Packet(id=3, is_request=True, value=None)) == expected


# A response (id 1) carrying {"a": [True, -2, "é", b"\x00"]}, laid out by hand:
NESTED = bytes.fromhex(
    "27000000"  # length of everything after this word: 39 bytes
    "03000000"  # id 1 << 1 | 1 (a response)
    "06"
    "01000000"  # map, 1 entry
    "01000000"
    "61"  # key: 1 byte, "a"
    "05"
    "04000000"  # list, 4 items
    "01"
    "01"  # bool true
    "02"
    "feffffff"  # int32 -2, little-endian two's complement
    "03"
    "02000000"
    "c3a9"  # string: 2 UTF-8 bytes of "é"
    "04"
    "01000000"
    "00"  # bytes: 1 byte, 0x00
)


def test_nested_response_matches_the_documented_layout():
    packet = Packet(id=1, is_request=False, value={"a": [True, -2, "é", b"\x00"]})
    assert encode_packet(packet) == NESTED


def test_nested_response_decodes_from_its_documented_layout():
    assert decode_packet(NESTED[4:]) == Packet(
        id=1, is_request=False, value={"a": [True, -2, "é", b"\x00"]}
    )


@pytest.mark.parametrize(
    ("packet_id", "is_request", "word"),
    [
        (0, True, 0),
        (0, False, 1),
        (5, True, 10),
        (5, False, 11),
        (2**31 - 1, False, 2**32 - 1),
    ],
)
def test_packet_id_is_shifted_left_with_the_response_bit_below_it(packet_id, is_request, word):
    encoded = encode_packet(Packet(id=packet_id, is_request=is_request, value=None))
    assert encoded[4:8] == word.to_bytes(4, "little")
    assert round_trip(Packet(packet_id, is_request, None)) == Packet(packet_id, is_request, None)


def test_length_prefix_counts_every_byte_after_it():
    encoded = encode_packet(Packet(7, True, {"command": "build", "key": 0, "flags": ["--x"]}))
    assert int.from_bytes(encoded[:4], "little") == len(encoded) - 4


def test_false_and_zero_and_empty_values_survive_a_round_trip():
    value = {"f": False, "z": 0, "s": "", "b": b"", "l": [], "m": {}, "n": None}
    assert round_trip(Packet(2, True, value)).value == value


def test_int32_extremes_survive_a_round_trip():
    value = [-(2**31), -1, 2**31 - 1]
    assert round_trip(Packet(2, True, value)).value == value


def test_tuples_and_bytearrays_are_sent_as_lists_and_bytes():
    value = (1, bytearray(b"ab"), memoryview(b"c"))
    assert round_trip(Packet(2, True, value)).value == [1, b"ab", b"c"]


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**31), 2**31 - 1)
    | st.text(st.characters(codec="utf-8"))
    | st.binary(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(st.characters(codec="utf-8")), children, max_size=5)
    ),
    max_leaves=30,
)


@given(packet_id=st.integers(0, 2**31 - 1), is_request=st.booleans(), value=JSONISH)
def test_any_value_survives_a_round_trip(packet_id, is_request, value):
    packet = Packet(packet_id, is_request, value)
    assert round_trip(packet) == packet


def test_trailing_bytes_after_the_value_are_rejected():
    body = NESTED[4:] + b"\x00"
    with pytest.raises(ValueError, match=r"^esbuild packet has 1 trailing bytes$"):
        decode_packet(body)


def test_unknown_value_tag_is_rejected():
    with pytest.raises(ValueError, match=r"^unknown esbuild value tag 7$"):
        decode_packet(bytes.fromhex("0200000007"))


@pytest.mark.parametrize(
    ("value", "kind"),
    [(1.5, "float"), ({1, 2}, "set"), ([object()], "object"), ({"k": 1j}, "complex")],
)
def test_value_of_a_type_the_protocol_lacks_is_a_type_error(value, kind):
    with pytest.raises(TypeError, match=f"^cannot encode {kind} for esbuild$"):
        encode_packet(Packet(1, True, value))
