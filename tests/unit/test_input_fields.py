"""Input rules for the fields around files: scopes, names, session ids, and the push form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.errors import InvalidInputError
from worker.inputs import (
    file_payload,
    validate_files,
    validate_name,
    validate_scopes,
    validate_session_id,
)
from worker.settings import Settings

SETTINGS = Settings()
DRIVE = "https://www.googleapis.com/auth/drive.readonly"
SHEETS = "https://www.googleapis.com/auth/spreadsheets"


def rejected(call, *args, **kwargs) -> str:
    """The message of the InvalidInputError that ``call(*args)`` must raise."""
    with pytest.raises(InvalidInputError) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_scopes_are_deduplicated_keeping_first_order():
    assert validate_scopes([SHEETS, DRIVE, SHEETS], SETTINGS) == [SHEETS, DRIVE]


def test_no_scopes_is_allowed():
    assert validate_scopes([], SETTINGS) == []


def test_scope_over_plain_http_is_rejected():
    assert rejected(validate_scopes, ["http://www.googleapis.com/auth/drive"], SETTINGS) == (
        'googleScopes: "http://www.googleapis.com/auth/drive" is not an https:// URL'
    )


@pytest.mark.parametrize(
    "scope",
    [
        "drive.readonly",
        "https:///auth/drive",
        "javascript:x",
        "//www.googleapis.com/auth/drive",
        "",
    ],
)
def test_scope_that_is_not_an_https_url_with_a_host_is_rejected(scope):
    assert rejected(validate_scopes, [scope], SETTINGS).endswith("is not an https:// URL")


@pytest.mark.parametrize(
    "scope", [f" {DRIVE}", f"{DRIVE} ", f"{DRIVE} {SHEETS}", f"{DRIVE}\n", f"{DRIVE}\u202e"]
)
def test_scope_with_whitespace_or_control_characters_is_rejected_not_trimmed(scope):
    assert rejected(validate_scopes, [scope], SETTINGS).endswith(
        "contains whitespace or control characters"
    )


def test_scope_that_could_close_a_script_tag_is_rejected_naming_the_character():
    scope = 'https://x/"</script><script>1</script>'
    assert rejected(validate_scopes, [scope], SETTINGS) == (
        'googleScopes: "https://x/"</script><script>1</script>" is not an https:// URL: '
        "'\"' may not appear in it (RFC 3986 allows letters, digits, -._~:/?#[]@!$&()*+,;= "
        "and %XX escapes)"
    )


@pytest.mark.parametrize(
    ("scope", "character"),
    [
        ("https://x/<b>", "'<'"),
        ("https://x/a>b", "'>'"),
        ("https://x/it's", '"\'"'),
        ("https://x/a\\b", "'\\\\'"),
        ("https://x/a`b", "'`'"),
        ("https://x/a{b}", "'{'"),
        ("https://x/a|b", "'|'"),
        ("https://x/a^b", "'^'"),
        ("https://x/grüße", "'\\xfc'"),
        ("https://x/100%", "'%'"),
        ("https://x/%zz", "'%zz'"),
    ],
)
def test_scope_with_a_character_uris_do_not_allow_is_rejected(scope, character):
    assert rejected(validate_scopes, [scope], SETTINGS).endswith(
        f"is not an https:// URL: {character} may not appear in it (RFC 3986 allows letters, "
        "digits, -._~:/?#[]@!$&()*+,;= and %XX escapes)"
    )


def test_scope_with_escapes_query_and_port_is_accepted():
    scope = "https://www.googleapis.com:443/auth/drive.readonly?x=a%20b&y=(1)#frag"
    assert validate_scopes([scope], SETTINGS) == [scope]


def test_scope_limit_counts_distinct_scopes_and_names_the_variable():
    settings = Settings(max_scopes=2)
    assert validate_scopes([DRIVE, SHEETS, DRIVE], settings) == [DRIVE, SHEETS]
    third = "https://www.googleapis.com/auth/calendar"
    assert rejected(validate_scopes, [DRIVE, SHEETS, third], settings) == (
        "googleScopes: 3 scopes, more than the limit STAGE_MAX_SCOPES=2"
    )


def test_overlong_scope_is_rejected():
    scope = "https://example.com/" + "a" * 2100
    assert "is longer than 2048 characters" in rejected(validate_scopes, [scope], SETTINGS)


@pytest.mark.parametrize("scopes", [DRIVE, None, {"scope": DRIVE}, b"https://x"])
def test_scopes_that_are_not_a_list_are_rejected(scopes):
    assert rejected(validate_scopes, scopes, SETTINGS) == (
        "googleScopes: must be a list of https:// URLs"
    )


@pytest.mark.parametrize("item", [None, 7, [DRIVE]])
def test_scope_that_is_not_a_string_is_rejected(item):
    assert rejected(validate_scopes, [DRIVE, item], SETTINGS) == (
        f"googleScopes: {item!r} is not a string"
    )


def test_name_is_returned_without_surrounding_whitespace():
    assert validate_name("  Shift calendar\u3000 ", SETTINGS) == "Shift calendar"


@pytest.mark.parametrize("name", ["", "   ", None, 3, ["x"]])
def test_blank_or_non_string_name_is_rejected_naming_the_field(name):
    assert rejected(validate_name, name, SETTINGS, "title") == "title: must be a non-empty string"


def test_name_over_the_length_limit_names_the_variable():
    settings = Settings(max_name_length=5)
    assert validate_name("abcde", settings) == "abcde"
    assert rejected(validate_name, "abcdef", settings) == (
        "name: 6 characters, more than the limit STAGE_MAX_NAME_LENGTH=5"
    )


@pytest.mark.parametrize("char", ["\x00", "\n", "\x1b", "\u2028", "\u2029", "\ud800"])
def test_name_with_control_characters_is_rejected(char):
    assert rejected(validate_name, f"a{char}b", SETTINGS) == (
        "name: may not contain control characters"
    )


@pytest.mark.parametrize("session_id", ["a", "abc-123_X", "0" * 64])
def test_boring_session_ids_are_accepted(session_id):
    assert validate_session_id(session_id) == session_id


@pytest.mark.parametrize(
    "session_id", ["", "-abc", "_abc", "a" * 65, "a/b", "a:b", "abc\n", "a b", "é", None, 5]
)
def test_session_id_outside_the_pattern_is_rejected(session_id):
    assert rejected(validate_session_id, session_id) == (
        f"session id {session_id!r}: must be 1-64 letters, digits, '-' or '_'"
    )


def test_text_file_payload_is_sent_as_is_without_an_encoding_field():
    assert file_payload("/app/a.ts", "é".encode()) == {"path": "/app/a.ts", "content": "é"}


def test_binary_file_payload_is_sent_as_base64():
    # 0xFF 0x00 → 111111 110000 0000(00) → "/", "w", "A", then one "=" of padding
    assert file_payload("/a.bin", b"\xff\x00") == {
        "path": "/a.bin",
        "content": "/wA=",
        "encoding": "base64",
    }


@given(st.binary(max_size=200))
def test_any_bytes_survive_file_payload_and_validate_files(data):
    (pushed,) = validate_files([file_payload("/data.bin", data)], SETTINGS)
    assert pushed.content == data
