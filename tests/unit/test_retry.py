"""The one retry policy: how long a render waits before its next attempt, and when it stops."""

from __future__ import annotations

import pytest

from worker.retry import RetryPolicy
from worker.settings import Settings


def test_delays_double_from_the_first_retry_up_to_the_cap():
    policy = RetryPolicy(max_retries=8, backoff_s=0.5, backoff_max_s=3.0, jitter=lambda: 1.0)

    assert [policy.delay_s(attempts) for attempts in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 5])
def test_jitter_spreads_each_delay_over_its_upper_half(attempts):
    policy = RetryPolicy.from_settings(Settings(retry_backoff_s=0.4, retry_backoff_max_s=3.0))
    ceiling = min(3.0, 0.4 * 2 ** (attempts - 1))

    delays = [policy.delay_s(attempts) for _ in range(200)]

    assert all(0.5 * ceiling <= d <= ceiling for d in delays)
    assert max(delays) - min(delays) > 0.25 * ceiling, "no jitter: workers return at once"


def test_retries_are_exhausted_after_max_retries_plus_the_first_attempt():
    policy = RetryPolicy.from_settings(Settings(render_max_retries=2))

    assert policy.max_attempts == 3
    assert [policy.exhausted(attempts) for attempts in range(5)] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_no_retries_means_the_first_attempt_is_the_last():
    assert RetryPolicy.from_settings(Settings(render_max_retries=0)).exhausted(1)
