"""Writes ``docs/configuration.md`` from :class:`worker.settings.Settings`.

Each setting's variable, default and meaning live beside its field (``Settings`` field
metadata), so the table cannot drift from the code: ``make docs`` regenerates it, and a
test fails when the committed file and ``Settings`` disagree.

    python -m worker.cli.config_doc docs/configuration.md
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import MISSING, Field, fields
from pathlib import Path

from worker.settings import Settings

__all__ = ["configuration_markdown", "main"]

_HEADER = """\
# Configuration

<!-- Generated from worker/settings.py by `make docs`; edit the fields there, not this file. -->

Every setting is an environment variable; an unknown `STAGE_*` variable is an error, so a
misspelling does not go unnoticed. AWS credentials and region come from boto3's usual
variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, …).

| variable | default | meaning |
|---|---|---|
"""

_FOOTER = """
The time settings must keep `BUILD_TIMEOUT < SOFT_TIME_LIMIT < HARD_TIME_LIMIT <
VISIBILITY_TIMEOUT`; settings that break the order are refused at start.
"""


def configuration_markdown() -> str:
    """The whole of ``docs/configuration.md``."""
    rows = [
        f"| `{f.metadata['env']}` | {_default(f)} | {f.metadata['meaning']} |"
        for f in fields(Settings)
    ]
    return _HEADER + "\n".join(rows) + "\n" + _FOOTER


def _default(f: Field[object]) -> str:
    if f.metadata.get("default_text"):
        return str(f.metadata["default_text"])
    value = f.default
    assert value is not MISSING, f"{f.name} has no default"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the document to the path given (or print it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = configuration_markdown()
    if args:
        Path(args[0]).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
