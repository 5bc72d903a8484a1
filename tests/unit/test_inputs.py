"""Input rules for paths and pushes (docs/contract.md, Redis keys), and the messages for
what breaks them."""

from __future__ import annotations

import base64
import posixpath
import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.errors import InvalidInputError, StageError
from worker.inputs import (
    PushedFile,
    check_tree,
    validate_files,
    validate_path,
)
from worker.settings import Settings

SETTINGS = Settings()


def rejected(call, *args) -> str:
    """The message of the InvalidInputError that ``call(*args)`` must raise."""
    with pytest.raises(InvalidInputError) as info:
        call(*args)
    return str(info.value)


def test_invalid_input_error_is_a_value_error_under_the_package_root():
    error = InvalidInputError("x")
    assert isinstance(error, ValueError)
    assert isinstance(error, StageError)


@pytest.mark.parametrize(
    "path",
    [
        "/app/App.tsx",
        "/a",
        "/public/logo.svg",
        "/app/.env",
        "/app/a b/c.ts",
        "/app/é.ts",
        "/app/.../x.ts",
        "/日本/語.ts",
    ],
)
def test_clean_absolute_paths_are_returned_unchanged(path):
    assert validate_path(path, SETTINGS) == path


def test_path_with_dotdot_is_rejected_naming_the_rule():
    assert rejected(validate_path, "/app/../x.tsx", SETTINGS) == (
        '"/app/../x.tsx": paths may not contain ".."'
    )


def test_path_with_dot_segment_is_rejected_naming_the_rule():
    assert rejected(validate_path, "/app/./x.tsx", SETTINGS) == (
        '"/app/./x.tsx": paths may not contain "."'
    )


def test_relative_path_is_rejected_showing_the_allowed_form():
    assert rejected(validate_path, "app/App.tsx", SETTINGS) == (
        '"app/App.tsx": paths must be absolute, like "/app/App.tsx"'
    )


@pytest.mark.parametrize("path", ["/app//x.ts", "/app/", "/", "//app/x.ts"])
def test_path_with_empty_segment_is_rejected(path):
    assert "empty segments" in rejected(validate_path, path, SETTINGS)


@pytest.mark.parametrize(
    "char", ["\u202e", "\u200b", "\x00", "\x1b", "\n", "\x7f", "\u2028", "\ufeff", "\ue000"]
)
def test_path_with_control_or_invisible_character_is_rejected_naming_the_code_point(char):
    message = rejected(validate_path, f"/app/a{char}b.ts", SETTINGS)
    assert message.endswith(
        f"paths may not contain control or invisible characters (found U+{ord(char):04X})"
    )
    assert char not in message  # the message itself is safe to print and log


@pytest.mark.parametrize("char", list('\\:*?"<>|#%'))
def test_path_with_forbidden_character_is_rejected_naming_it(char):
    assert rejected(validate_path, f"/app/a{char}b.ts", SETTINGS).endswith(
        f"paths may not contain {char!r}"
    )


def test_path_not_in_nfc_form_is_rejected_but_its_nfc_form_is_accepted():
    decomposed = "/app/cafe\u0301.ts"
    assert rejected(validate_path, decomposed, SETTINGS).endswith(
        "paths must be in Unicode NFC form"
    )
    composed = unicodedata.normalize("NFC", decomposed)
    assert validate_path(composed, SETTINGS) == "/app/caf\u00e9.ts"


@pytest.mark.parametrize("path", ["/node_modules/react/index.js", "/app/node_modules/x.js"])
def test_node_modules_segment_is_rejected_pointing_at_the_allowlist(path):
    assert rejected(validate_path, path, SETTINGS) == (
        f'"{path}": paths may not contain node_modules; npm packages come from the allowlist'
    )


@pytest.mark.parametrize("path", ["/app/ x.ts", "/app/x.ts ", "/app\u3000/x.ts"])
def test_segment_starting_or_ending_with_space_is_rejected(path):
    assert rejected(validate_path, path, SETTINGS).endswith(
        "path segments may not start or end with spaces"
    )


def test_segment_longer_than_255_bytes_is_rejected_though_the_path_is_short_enough():
    segment = "é" * 128  # 128 characters, 256 UTF-8 bytes
    assert validate_path("/" + "é" * 127, SETTINGS) == "/" + "é" * 127  # 254 bytes
    assert "a path segment is longer than 255 bytes" in rejected(
        validate_path, "/" + segment, SETTINGS
    )


def test_path_length_limit_comes_from_settings_and_names_the_variable():
    settings = Settings(max_path_length=10)
    assert validate_path("/abcdefghi", settings) == "/abcdefghi"
    assert rejected(validate_path, "/abcdefghij", settings) == (
        '"/abcdefghij…": path is 11 characters, longer than the limit STAGE_MAX_PATH_LENGTH=10'
    )


@pytest.mark.parametrize("path", [None, 3, b"/app/x.ts", ["/app/x.ts"]])
def test_path_that_is_not_a_string_is_rejected(path):
    assert rejected(validate_path, path, SETTINGS).endswith(": must be a string")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session-root").resolve()


# Any text, and path-shaped text: "/" between segments that are tricky ("", ".", ".."),
# visible (so that many examples reach the later rules) or anything at all.
VISIBLE = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
SEGMENT = st.one_of(
    st.sampled_from(["", ".", "..", "...", " ", "node_modules", "app"]),
    st.text(st.one_of(st.sampled_from("./ "), VISIBLE), min_size=1, max_size=12),
    st.text(max_size=12),
)
PATHISH = st.one_of(
    st.text(max_size=300),
    st.lists(SEGMENT, min_size=1, max_size=10).map(lambda segments: "/" + "/".join(segments)),
)


@given(path=PATHISH)
def test_any_accepted_path_is_absolute_normalised_and_stays_under_its_root(root, path):
    try:
        accepted = validate_path(path, SETTINGS)
    except InvalidInputError:
        return
    assert accepted.startswith("/")
    assert posixpath.normpath(accepted) == accepted
    assert ".." not in accepted.split("/")
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in accepted)
    joined = (root / accepted.lstrip("/")).resolve()
    assert joined != root and joined.is_relative_to(root)


SAFE_SEGMENT = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=20)


@given(
    st.lists(
        SAFE_SEGMENT.filter(lambda s: not s.startswith(".") and s != "node_modules"),
        min_size=1,
        max_size=10,
    )
)
def test_any_path_of_safe_segments_is_accepted(segments):
    path = "/" + "/".join(segments)
    assert validate_path(path, SETTINGS) == path


def test_valid_push_returns_decoded_files_in_order():
    files = validate_files(
        [
            {"path": "/app/App.tsx", "content": "export default () => 'é'"},
            {"path": "/public/a.bin", "content": "/wA=", "encoding": "base64"},
            {"path": "/app/b.ts", "content": "", "encoding": "utf-8"},
        ],
        SETTINGS,
    )
    assert files == [
        PushedFile("/app/App.tsx", "export default () => 'é'".encode(), "utf-8"),
        PushedFile("/public/a.bin", b"\xff\x00", "base64"),
        PushedFile("/app/b.ts", b"", "utf-8"),
    ]


def test_one_bad_file_rejects_the_whole_push():
    good = {"path": "/app/App.tsx", "content": "ok"}
    bad = {"path": "/app/../etc/passwd", "content": "x"}
    assert rejected(validate_files, [good, bad], SETTINGS) == (
        '"/app/../etc/passwd": paths may not contain ".."'
    )


@pytest.mark.parametrize("files", [{"path": "/a", "content": ""}, "/a", b"", None])
def test_push_that_is_not_a_list_is_rejected(files):
    assert rejected(validate_files, files, SETTINGS) == (
        "files: must be a list of {path, content} objects"
    )


def test_empty_push_is_rejected():
    assert rejected(validate_files, [], SETTINGS) == "files: a push needs at least one file"


def test_push_over_the_file_count_limit_names_the_variable():
    files = [{"path": f"/f{i}.ts", "content": ""} for i in range(3)]
    assert validate_files(files[:2], Settings(max_files=2))
    assert rejected(validate_files, files, Settings(max_files=2)) == (
        "files: 3 files in one push, more than the limit STAGE_MAX_FILES=2"
    )


def test_same_path_twice_in_one_push_is_rejected():
    files = [{"path": "/app/a.ts", "content": "1"}, {"path": "/app/a.ts", "content": "2"}]
    assert rejected(validate_files, files, SETTINGS) == '"/app/a.ts": pushed twice in one request'


def test_unknown_field_is_rejected_listing_the_allowed_ones():
    files = [{"path": "/a.ts", "content": ""}, {"path": "/b.ts", "content": "", "mode": 0o644}]
    assert rejected(validate_files, files, SETTINGS) == (
        "files[1]: unknown field 'mode'; allowed: path, content, encoding"
    )


def test_file_that_is_not_an_object_is_rejected_by_index():
    assert rejected(validate_files, [["/a.ts", ""]], SETTINGS) == (
        "files[0]: must be an object with path and content"
    )


def test_unknown_encoding_is_rejected_listing_the_allowed_ones():
    files = [{"path": "/a.ts", "content": "00", "encoding": "hex"}]
    assert rejected(validate_files, files, SETTINGS) == (
        "\"/a.ts\": encoding 'hex' is not one of: utf-8, base64"
    )


@pytest.mark.parametrize("content", [None, b"bytes", 12, ["x"]])
def test_content_that_is_not_a_string_is_rejected(content):
    files = [{"path": "/a.ts", "content": content}]
    assert rejected(validate_files, files, SETTINGS) == '"/a.ts": content must be a string'


def test_missing_content_is_rejected():
    assert rejected(validate_files, [{"path": "/a.ts"}], SETTINGS) == (
        '"/a.ts": content must be a string'
    )


@pytest.mark.parametrize("content", ["not base64!", "YQ", "YQ==\n", "é==="])
def test_bad_base64_is_rejected(content):
    files = [{"path": "/a.bin", "content": content, "encoding": "base64"}]
    assert rejected(validate_files, files, SETTINGS) == '"/a.bin": content is not valid base64'


def test_lone_surrogate_in_text_content_is_rejected_suggesting_base64():
    message = rejected(validate_files, [{"path": "/a.ts", "content": "a\ud800"}], SETTINGS)
    assert "not valid UTF-8" in message and "base64" in message


def test_text_file_limit_counts_utf8_bytes_not_characters():
    settings = Settings(max_file_bytes=10)
    assert validate_files([{"path": "/a.ts", "content": "é" * 5}], settings)
    assert rejected(validate_files, [{"path": "/a.ts", "content": "é" * 6}], settings) == (
        '"/a.ts": 12 bytes, more than the limit STAGE_MAX_FILE_BYTES=10'
    )


def test_base64_file_limit_counts_decoded_bytes_not_encoded_characters():
    settings = Settings(max_file_bytes=12)
    at_limit = base64.b64encode(bytes(12)).decode()  # 16 characters of base64
    over = base64.b64encode(bytes(13)).decode()
    pushed = validate_files(
        [{"path": "/a.bin", "content": at_limit, "encoding": "base64"}], settings
    )
    assert pushed[0].content == bytes(12)
    assert "13 bytes, more than the limit" in rejected(
        validate_files, [{"path": "/a.bin", "content": over, "encoding": "base64"}], settings
    )


@pytest.mark.parametrize("paths", [["/app/x", "/app/x/y.ts"], ["/app/x/y.ts", "/app/x"]])
def test_a_path_cannot_be_both_a_file_and_a_folder_in_one_push(paths):
    files = [{"path": p, "content": ""} for p in paths]
    assert rejected(validate_files, files, SETTINGS) == (
        '"/app/x/y.ts": "/app/x" is a file, so it cannot also be a folder'
    )


def test_a_new_file_cannot_sit_inside_an_existing_file():
    assert rejected(check_tree, ["/app/x/deep/y.ts"], ["/app/x"]) == (
        '"/app/x/deep/y.ts": "/app/x" is a file, so it cannot also be a folder'
    )


def test_a_new_file_cannot_replace_an_existing_folder():
    assert rejected(check_tree, ["/app/x"], ["/app/x/y.ts"]) == (
        '"/app/x": is a folder of "/app/x/y.ts", so it cannot be a file'
    )


def test_overwriting_a_file_and_sharing_a_name_prefix_are_not_clashes():
    check_tree(["/app/x", "/app/xy/z.ts"], ["/app/x", "/app/x.ts", "/app/xy/w.ts"])
