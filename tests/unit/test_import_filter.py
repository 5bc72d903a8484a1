"""The plugin filter: which imports esbuild asks the import rules about.

RE2 (esbuild's Go regexp) has no lookahead, so "every specifier but these" is a built
regular expression; Python's ``re`` reads the same syntax, so it is checked here against
the plain rule it spells, over hand-picked and generated specifiers.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundler.imports import skip_filter

EXACT = ["react", "react/jsx-runtime", "react-dom", "react-dom/client"]
PREFIXES = ["date-fns/", "zod/", "lucide-react/", "@scope/pkg/"]


def asked(specifier: str, exact: list[str], prefixes: list[str]) -> bool:
    """The rule: ".." always; plain relative never; else unless skipped."""
    if ".." in specifier:
        return True
    if specifier.startswith(".") or not specifier:
        return False
    return specifier not in exact and not specifier.startswith(tuple(prefixes))


@pytest.mark.parametrize(
    ("specifier", "expected"),
    [
        ("react", False),
        ("react/jsx-runtime", False),
        ("react-dom/client", False),
        ("react/other", True),
        ("reac", True),
        ("reactx", True),
        ("react-do", True),
        ("react-dom/server", True),
        ("date-fns", True),
        ("date-fns/addDays", False),
        ("zod/v4", False),
        ("zod", True),
        ("@scope/pkg/x", False),
        ("@scope/pkg", True),
        ("lodash", True),
        ("node:fs", True),
        ("https://esm.sh/x", True),
        ("/app/x", True),
        ("./x", False),
        ("./a/../../x", True),
        ("../x", True),
        ("date-fns/../../etc", True),
        ("react\n", True),
    ],
)
def test_known_specifiers(specifier, expected):
    assert bool(re.search(skip_filter(EXACT, PREFIXES), specifier)) is expected


SPECIFIER_CHARS = st.sampled_from(list("reactdomfnsjx-/@.zlu"))


@given(
    st.lists(SPECIFIER_CHARS, max_size=14).map("".join)
    | st.sampled_from(EXACT + PREFIXES).flatmap(
        lambda word: st.tuples(
            st.integers(0, len(word)), st.lists(SPECIFIER_CHARS, max_size=4).map("".join)
        ).map(lambda cut: word[: cut[0]] + cut[1])
    )
)
def test_filter_spells_the_rule(specifier):
    assert bool(re.search(skip_filter(EXACT, PREFIXES), specifier)) == asked(
        specifier, EXACT, PREFIXES
    )


@given(
    st.lists(st.text("abc/-", min_size=1, max_size=4).filter(lambda t: t[0] != "."), max_size=4),
    st.lists(st.text("abc/-", min_size=1, max_size=4), max_size=3),
    st.text("abc/-.", max_size=7),
)
def test_any_word_lists(exact, prefixes, specifier):
    assert bool(re.search(skip_filter(exact, prefixes), specifier)) == asked(
        specifier, exact, prefixes
    )


def test_nothing_skipped_is_every_non_relative_import():
    assert skip_filter() == r"(?s)\.\.|^(?:[^\.].*)$"


@pytest.mark.parametrize("word", ["", "./x", ".hidden"])
def test_relative_or_empty_words_are_refused(word):
    with pytest.raises(ValueError, match="cannot be skipped"):
        skip_filter([word])


def asked_leaving_relative(specifier: str, exact: list[str], prefixes: list[str]) -> bool:
    """The rule with ``relative=True``: relative specifiers never, ".." in others always."""
    if specifier.startswith("."):
        return False
    return asked(specifier, exact, prefixes)


@pytest.mark.parametrize(
    ("specifier", "expected"),
    [
        ("../x", False),
        ("../../styles/c10.css", False),
        ("./a/../../x", False),
        ("..", False),
        ("date-fns/../../etc", True),
        ("@/components/ui/../../../etc/passwd", True),
        ("react/../../x", True),
        ("react", False),
        ("lodash", True),
        ("/app/../x", True),
    ],
)
def test_relative_mode_leaves_every_relative_import_to_esbuild(specifier, expected):
    pattern = skip_filter(EXACT, PREFIXES, relative=True)
    assert bool(re.search(pattern, specifier)) is expected


@given(
    st.lists(st.text("abc/-", min_size=1, max_size=4).filter(lambda t: t[0] != "."), max_size=4),
    st.lists(st.text("abc/-", min_size=1, max_size=4), max_size=3),
    st.text("abc/-.\n", max_size=7),
)
def test_relative_mode_spells_its_rule(exact, prefixes, specifier):
    pattern = skip_filter(exact, prefixes, relative=True)
    assert bool(re.search(pattern, specifier)) == asked_leaving_relative(specifier, exact, prefixes)
