"""@stage/utils in the pinned Deno: retries, Retry-After, refusals not retried, batchedMap."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from worker.host.sandbox import deno_binary

CHECK = Path(__file__).with_name("stage_utils_check.js")


def test_fetch_with_retry_and_batched_map_behave_as_documented():
    result = subprocess.run(
        [
            deno_binary(),
            "run",
            "--quiet",
            "--no-prompt",
            "--no-config",
            "--no-remote",
            "--no-npm",
            "--no-lock",
            str(CHECK),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["retried"] == {"status": 200, "body": "done", "calls": 4}
    assert seen["spent"] == {"status": 500, "calls": 3}
    assert seen["notRetried"] == {"status": 404, "calls": 1}
    assert seen["refused"] == {
        "message": "fetch https://127.0.0.1/: refused: 127.0.0.1 is a loopback address",
        "calls": 1,
    }
    assert 150 <= seen["retryAfterWaitMs"] < 2000  # Retry-After: 0.2, not the 5 s backoff
    assert seen["retryAfterDate"] is True
    assert seen["concurrency"] == {"doubled": [2, 4, 6, 8, 10, 12, 14], "peak": 3}
    assert seen["batches"] == [1, 2, 3, 4, 5]
