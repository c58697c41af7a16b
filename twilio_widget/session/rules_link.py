"""The calling session's one link to the calling rules (``twilio_widget/rules/``, another part of
the package): whether a lead may be called now, and the lead's time zone and local time.

The queue asks the phone's rules (``phone.rules``, a :class:`~twilio_widget.rules.CallingRules`)
as a filter, never copies them. Time zones come from ``twilio_widget.rules.zones``; a number whose
zone is not known reads its wall clock in UTC.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..rules import zones


class AllowEverything:
    """The calling rules' contract (``can_call``, ``block``) with nothing forbidden: what the queue's
    own tests and benchmark pick leads with, to see its order alone. A phone always has real rules."""

    def can_call(self, numbers: pd.Series, at: pd.Timestamp | None = None) -> pd.DataFrame:
        at = pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)
        return pd.DataFrame({"allowed": True, "reason": "", "local_time": local_times(numbers, at),
                             "next_allowed": pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns, UTC]")},
                            index=numbers.index)

    def block(self, numbers: Any, *, source: str) -> None:
        """Nothing keeps a do-not-call list here: the session's journal still records the outcome."""


ALLOW_EVERYTHING = AllowEverything()

UNKNOWN_ZONE = "UTC"  # how a number with no known zone reads its wall clock


def rules_of(phone: Any) -> Any:
    """The calling rules a phone follows."""
    return phone.rules


def zone_names(numbers: pd.Series) -> pd.Series:
    """The IANA zone of each number ("UTC" where it is not known)."""
    return zones.zone_names(numbers).astype("string").fillna(UNKNOWN_ZONE)


def local_times(numbers: pd.Series, at: Any) -> pd.Series:
    """The lead's wall-clock time (naive) at ``at`` (one moment, or one a number); UTC's where the
    zone is not known."""
    # Always a column: for one instant, zones.local_times converts it into every zone it knows
    # (about 80 ms whatever the count); a column is converted only into the zones of its numbers.
    moments = pd.to_datetime(at if isinstance(at, pd.Series) else pd.Series(pd.Timestamp(at), index=numbers.index),
                             utc=True)
    local = zones.local_times(numbers, moments)
    return local.where(local.notna(), moments.dt.tz_localize(None))


def to_utc(local: Any, number: str) -> pd.Timestamp:
    """A wall-clock time in ``number``'s zone (naive, or ISO text) as a UTC moment."""
    moment = pd.Timestamp(local)
    if moment.tzinfo is not None:  # an aware time already names its moment
        return moment.tz_convert("UTC")
    zone = zone_names(pd.Series([number])).iat[0]
    return moment.tz_localize(zone, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
