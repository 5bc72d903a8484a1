"""The shape every helper process shares, seen through a small Python child of its own.

The esbuild and Tailwind service tests prove each driver's errors end to end; these prove
what the drivers leave to the shared process: messages read whole under one deadline, and a
crash that reports only the last of a long stderr.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from bundler import BundlerCrashed
from bundler.process import HelperProcess

TIMEOUT_S = 10.0
KEEP = 16_384  # the stderr tail a crash reports


def child(tmp_path, script: str) -> HelperProcess:
    return HelperProcess(
        [sys.executable, "-c", script], cwd=tmp_path, name="the helper", during="a request"
    )


def three_bytes(buffer: bytearray) -> bytes | None:
    """A framing of the test's own: every message is three bytes long."""
    if len(buffer) < 3:
        return None
    message = bytes(buffer[:3])
    del buffer[:3]
    return message


def test_a_message_split_across_writes_is_read_whole_and_the_next_waits_its_turn(tmp_path):
    helper = child(
        tmp_path,
        "import sys, time\nout = sys.stdout\n"
        "out.write('onetw'); out.flush(); time.sleep(0.3)\n"
        "out.write('o'); out.flush(); time.sleep(600)\n",
    )
    try:
        assert helper.ensure_started() is True
        pid = helper.pid
        deadline = time.monotonic() + TIMEOUT_S
        assert helper.read(three_bytes, deadline, TIMEOUT_S) == b"one"
        assert helper.read(three_bytes, deadline, TIMEOUT_S) == b"two"
        assert helper.ensure_started() is False  # still running: the same process
        assert helper.pid == pid
    finally:
        helper.close()
    assert helper.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_crash_reports_its_exit_code_and_only_the_last_of_a_long_stderr(tmp_path):
    last = "\nthe last words\n"
    helper = child(
        tmp_path, f"import sys\nsys.stderr.write('x' * 40_000 + {last!r})\nsys.exit(4)\n"
    )
    helper.ensure_started()
    with pytest.raises(BundlerCrashed) as info:
        helper.read(three_bytes, time.monotonic() + TIMEOUT_S, TIMEOUT_S)
    kept = ("x" * 40_000 + last)[-KEEP:].strip()
    assert (info.value.exit_code, info.value.output) == (
        4,
        f"the helper exited during a request\n{kept}",
    )
    assert helper.pid is None
