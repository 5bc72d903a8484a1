"""docs/configuration.md is generated from Settings; the committed file must match it."""

from __future__ import annotations

from dataclasses import fields

from services import ROOT

from worker.cli.config_doc import configuration_markdown
from worker.settings import Settings


def test_committed_configuration_doc_matches_settings():
    committed = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    assert committed == configuration_markdown(), "run `make docs` and commit the result"


def test_every_setting_has_a_row_with_its_variable_and_meaning():
    rows = [line for line in configuration_markdown().splitlines() if line.startswith("| `STAGE_")]
    assert [row.split("`")[1] for row in rows] == [f.metadata["env"] for f in fields(Settings)]
    assert all(f.metadata["meaning"].strip() for f in fields(Settings))
    assert "| `STAGE_BUILD_TIMEOUT_S` | `20` | esbuild is killed after this long" in (
        configuration_markdown()
    )
