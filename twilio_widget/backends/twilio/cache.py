"""The history cache's pieces: what one query scope holds, whether it answers a query, and
how records merge.

History is cached per query scope; a repeated query asks Twilio only for records since the
newest one it holds (whole days, merged by sid) and re-fetches records whose status can still
change (in-progress calls, queued messages).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Entry", "covers", "merge"]


@dataclass
class Entry:
    frame: pd.DataFrame
    since: pd.Timestamp | None  # complete from here on (None: all time)
    checked: float  # clock() of the last question to Twilio
    until: pd.Timestamp | None = None  # complete only up to here, until brought up to date


def covers(entry: Entry, lo: pd.Timestamp | None) -> bool:
    """Whether ``entry`` holds every record from ``lo`` on."""
    return entry.since is None or (lo is not None and lo >= entry.since)


def merge(new: pd.DataFrame, old: pd.DataFrame, key: str = "sid") -> pd.DataFrame:
    """Union by ``key``; where both have a record, the new one wins."""
    if len(new) == 0:
        return old
    if len(old) == 0:
        return new
    return pd.concat([new, old], ignore_index=True).drop_duplicates(key, keep="first")
