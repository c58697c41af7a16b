"""When a lead is called again: no answer, busy or a voicemail retries after a delay, up to a
number of attempts, inside the hours of the lead's own day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from .rules_link import local_times, to_utc


@dataclass(frozen=True)
class RetryRule:
    """``delay`` after an attempt that did not reach the lead, at most ``max_attempts`` calls in all,
    and only between ``hours`` (start, end) of the lead's local day: a retry that would fall outside
    them waits for the next start."""

    delay: timedelta = timedelta(hours=2)
    max_attempts: int = 3
    hours: tuple[int, int] = (9, 20)

    def __post_init__(self) -> None:
        if not isinstance(self.delay, timedelta) or self.delay < timedelta(0):
            raise ValueError(f"retry.delay: must be a non-negative timedelta, not {self.delay!r}")
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(f"retry.max_attempts: must be a whole number of at least 1, not {self.max_attempts!r}")
        start, end = self.hours
        if not (0 <= start < end <= 24):
            raise ValueError(f"retry.hours: must be (start, end) with 0 <= start < end <= 24, not {self.hours!r}")

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def next_attempt(self, now: pd.Timestamp, number: str) -> pd.Timestamp:
        """The UTC moment the lead may be called again after an attempt at ``now``."""
        earliest = pd.Timestamp(now).tz_convert("UTC") + self.delay
        local = local_times(pd.Series([number]), earliest).iat[0]
        start, end = self.hours
        day = local.normalize()
        if local.hour < start:
            local = day + pd.Timedelta(hours=start)
        elif local.hour >= end:
            local = day + pd.Timedelta(days=1, hours=start)
        else:
            return earliest
        return to_utc(local, number)
