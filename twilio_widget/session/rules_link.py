"""The calling session's one link to the calling rules (``twilio_widget/rules/``, another part of
the package): whether a lead may be called now, and the lead's time zone.

The queue asks the rules as a filter, never copies them. Until ``twilio_widget.rules`` is part of
the package, the stand-in below answers instead: every call allowed, every zone unknown (times
are read in UTC). It is the only stand-in, and the real rules replace it without a change
elsewhere: a phone with a ``rules`` attribute is asked, and ``twilio_widget.rules.zones`` is used
as soon as it can be imported.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# ---- STAND-IN until twilio_widget.rules exists: everything allowed, zone unknown. -----------------


class AllowEverything:
    """The calling rules' contract (``can_call``, ``block``) with nothing forbidden."""

    def can_call(self, numbers: pd.Series, at: pd.Timestamp | None = None) -> pd.DataFrame:
        at = pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)
        return pd.DataFrame({"allowed": True, "reason": "", "local_time": local_times(numbers, at),
                             "next_allowed": pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns, UTC]")},
                            index=numbers.index)

    def block(self, numbers: Any, *, source: str) -> None:
        """Nothing keeps a do-not-call list here: the session's journal still records the outcome."""


def _unknown_zones(numbers: pd.Series) -> pd.Series:
    return pd.Series("", index=numbers.index, dtype="string")


try:  # the real zones, once the calling rules are part of the package
    from ..rules.zones import zone_names as _zone_names  # type: ignore[import-not-found]
except ImportError:
    _zone_names = _unknown_zones

ALLOW_EVERYTHING = AllowEverything()

# ---- end of the stand-in ------------------------------------------------------------------------

UNKNOWN_ZONE = "UTC"  # how a number with no known zone reads its wall clock


def rules_of(phone: Any) -> Any:
    """The calling rules a phone follows (``phone.rules``), or the stand-in."""
    return getattr(phone, "rules", None) or ALLOW_EVERYTHING


def zone_names(numbers: pd.Series) -> pd.Series:
    """The IANA zone of each number ("UTC" where it is not known)."""
    zones = pd.Series(_zone_names(numbers), index=numbers.index).astype("string")
    return zones.fillna(UNKNOWN_ZONE).replace("", UNKNOWN_ZONE)


def local_times(numbers: pd.Series, at: Any) -> pd.Series:
    """The lead's wall-clock time (naive) at ``at`` (one moment, or one a number), vectorised by zone."""
    moments = at if isinstance(at, pd.Series) else pd.Series(pd.Timestamp(at), index=numbers.index)
    moments = pd.to_datetime(moments, utc=True)
    zones = zone_names(numbers)
    local = pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns]")
    for zone, rows in zones.groupby(zones, sort=False).groups.items():
        local.loc[rows] = moments.loc[rows].dt.tz_convert(zone).dt.tz_localize(None).to_numpy()
    return local


def to_utc(local: Any, number: str) -> pd.Timestamp:
    """A wall-clock time in ``number``'s zone (naive, or ISO text) as a UTC moment."""
    moment = pd.Timestamp(local)
    if moment.tzinfo is not None:  # an aware time already names its moment
        return moment.tz_convert("UTC")
    zone = zone_names(pd.Series([number])).iat[0]
    return moment.tz_localize(zone, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
