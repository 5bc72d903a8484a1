"""What each app used of the model provider, per UTC day and model, and its daily quotas.

One hash per app and day, ``P app:{<sid>}:inference:<YYYY-MM-DD>`` (the app's hash tag, so
it lives in the app's slot on a Redis Cluster), kept :data:`USAGE_KEEP_DAYS`. A call first
**reserves** the most it can use (``inference_reserve.lua``: refused when the day's use plus
the calls in flight plus this one would pass the quota), then **settles** with what the
provider reported (``inference_settle.lua``). Both are one script each, so calls made at
the same moment, on any number of hosts, never pass a quota together.

Redis is reached through the process's synchronous client on a thread (a few hundred
microseconds a call), as the route logs are: the same client works on a Redis Cluster.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from worker.state.connection import load_script, redis_errors
from worker.state.keys import Keys

__all__ = ["Meter", "Reservation", "QuotaExceeded", "USAGE_KEEP_DAYS", "today"]

USAGE_KEEP_DAYS = 92  # usage({since}) reaches a quarter back; older days expire by themselves
_TTL_S = USAGE_KEEP_DAYS * 86400
_COUNTS = ("calls", "prompt_tokens", "completion_tokens", "images")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Reservation:
    key: str  # the day hash it was made in (a call that passes midnight settles there)
    kind: str  # "tokens" or "images"
    amount: int


class QuotaExceeded(Exception):
    def __init__(self, kind: str, quota: int, used: int, reserved: int, amount: int) -> None:
        super().__init__(kind)
        self.kind, self.quota, self.used, self.reserved, self.amount = (
            kind,
            quota,
            used,
            reserved,
            amount,
        )


class Meter:
    """Reservations, settlements and usage reports of one Redis."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        quotas: Mapping[str, int],
        clock: Callable[[], dt.date] = today,
    ) -> None:
        self._client = client
        self._keys = keys
        self.quotas = dict(quotas)  # kind → per day, 0 for none
        self._clock = clock
        self._reserve = load_script(client, "inference_reserve")
        self._settle = load_script(client, "inference_settle")

    def close(self) -> None:
        self._client.close()

    def _day_key(self, app: str, day: dt.date) -> str:
        return self._keys.app(app).inference(day.isoformat())

    async def reserve(self, app: str, kind: str, amount: int) -> Reservation:
        """Reserve ``amount`` of ``kind`` today; QuotaExceeded when it does not fit."""
        key = self._day_key(app, self._clock())
        quota = self.quotas.get(kind, 0)

        def run() -> list[int]:
            with redis_errors():
                return [
                    int(x) for x in self._reserve(keys=[key], args=[kind, amount, quota, _TTL_S])
                ]

        granted, used, reserved = await asyncio.to_thread(run)
        if not granted:
            raise QuotaExceeded(kind, quota, used, reserved, amount)
        return Reservation(key, kind, amount)

    async def settle(
        self, reservation: Reservation, model: str, used: int, counts: Mapping[str, int]
    ) -> None:
        """Give back the reservation; count ``used`` of its kind, and ``counts`` (calls,
        prompt_tokens, completion_tokens, images) for ``model``."""
        args: list[Any] = [reservation.kind, reservation.amount, _TTL_S, reservation.kind, used]
        for name, value in counts.items():
            args += [f"model:{model}:{name}", value]

        def run() -> None:
            with redis_errors():
                self._settle(keys=[reservation.key], args=args)

        await asyncio.to_thread(run)

    async def report(self, app: str, since: dt.date) -> dict[str, Any]:
        """The app's use from ``since`` to today: totals and per model."""
        until = self._clock()
        since = max(since, until - dt.timedelta(days=USAGE_KEEP_DAYS - 1))
        days = [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]
        keys = [self._day_key(app, day) for day in days]

        def run() -> list[dict[bytes, bytes]]:
            with redis_errors():
                # One app's days share its hash tag: one slot, one round trip.
                pipe = self._client.pipeline(transaction=False)
                for key in keys:
                    pipe.hgetall(key)
                return pipe.execute()

        models: dict[str, dict[str, int]] = {}
        totals = {"calls": 0, "total_tokens": 0, "images": 0}
        today_used = {"tokens": 0, "images": 0}
        for day, row in zip(days, await asyncio.to_thread(run), strict=True):
            fields = {k.decode(): int(v) for k, v in row.items()}
            if day == until:
                today_used = {kind: fields.get(kind, 0) for kind in today_used}
            for name, value in fields.items():
                if not name.startswith("model:"):
                    continue
                model, _, count = name.removeprefix("model:").rpartition(":")
                if count not in _COUNTS:
                    continue
                entry = models.setdefault(model, dict.fromkeys((*_COUNTS, "total_tokens"), 0))
                entry[count] += value
        for entry in models.values():
            entry["total_tokens"] = entry["prompt_tokens"] + entry["completion_tokens"]
            for name in totals:
                totals[name] += entry[name]
        return {
            "since": since.isoformat(),
            "until": until.isoformat(),
            **totals,
            "models": dict(sorted(models.items())),
            "today": {
                "tokens": today_used["tokens"],
                "images": today_used["images"],
                "quota_tokens": self.quotas.get("tokens", 0),
                "quota_images": self.quotas.get("images", 0),
            },
        }
