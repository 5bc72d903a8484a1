"""When a render that hit an infrastructure error is tried again, and when it gives up.

One decision, :meth:`RetryPolicy.decide`, for every place that meets a render which did not
end: the task after an infrastructure error (Celery's retry), the job that finds a
redelivered message whose earlier attempts all lost their worker, and the reaper that finds
a render stuck in ``building``. An attempt is one run of the job;
``STAGE_RENDER_MAX_RETRIES`` retries make ``max_retries + 1`` attempts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from worker.settings import Settings

__all__ = ["Decision", "RetryPolicy"]


@dataclass(frozen=True)
class Decision:
    """Try again after ``delay_s``, or give up (``retry`` False) and record ``reason``."""

    retry: bool
    delay_s: float
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, and a limit on attempts."""

    max_retries: int
    backoff_s: float
    backoff_max_s: float
    #: A number from 0.5 to 1 for each delay; tests pass a fixed one.
    jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.0)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.render_max_retries, settings.retry_backoff_s, settings.retry_backoff_max_s
        )

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def exhausted(self, attempts: int) -> bool:
        """True once ``attempts`` runs have been made and no further one may start."""
        return attempts >= self.max_attempts

    def decide(self, attempts: int, error: str) -> Decision:
        """After ``attempts`` runs, the last of which ended in ``error``: again, or give up.

        A retry waits :meth:`delay_s`; giving up records ``gave up after N attempts: error``.
        """
        if self.exhausted(attempts):
            return Decision(False, 0.0, f"gave up after {attempts} attempts: {error}")
        return Decision(True, self.delay_s(attempts), error)

    def delay_s(self, attempts: int) -> float:
        """How long to wait before the attempt after ``attempts`` runs (1 → first retry).

        ``backoff_s · 2^(attempts-1)``, capped at ``backoff_max_s``, times the jitter, so
        workers that failed together do not all come back at the same moment.
        """
        ceiling = min(self.backoff_max_s, self.backoff_s * 2 ** max(0, attempts - 1))
        return ceiling * self.jitter()
