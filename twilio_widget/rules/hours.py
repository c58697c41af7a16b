"""Calling hours in the lead's local time, for whole columns: allowed now, why not, and when next.

Each number has a set of zones (`zones.zone_sets`) and a region (`places`); its window on a
day comes from the calling hours (`config.hours.CallingHours`) of its region and that day in
each zone. A number spanning zones may be called only when every one of its zones is inside
its window (the strictest reading). The next allowed instant is found by moving forward to
the next window start of each zone that is closed, until all are open at once (two passes
for almost every number).

The work is per zone, not per row: rows are reduced to distinct (zone set, region, instant)
cases first, so one instant for a million numbers is a few hundred cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.hours import CallingHours, clock
from .zones import NO_ZONE, groups_of, zone_table

_NS_MINUTE = 60 * 10**9
_NS_DAY = 24 * 60 * _NS_MINUTE
_NAT = np.iinfo(np.int64).min
#: Passes to find an instant when every zone of a number is open; one more than a
#: number spanning zones a day apart needs. A number whose windows never meet gets NaT.
_MAX_PASSES = 16
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNKNOWN_ZONE = "no time zone is known for this number, so its calling hours cannot be checked"
NEVER = "its time zones share no calling hours"


@dataclass(frozen=True)
class Verdicts:
    """Per case: allowed now, the next allowed instant (int64 ns UTC, NaT when allowed), why not."""

    allowed: np.ndarray
    next_allowed: np.ndarray
    reason: np.ndarray  # object: str


def window_table(hours: CallingHours, regions: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) in ns after local midnight, shape (len(regions) + 1, 7); the last row is for
    a number of no known region. A closed day has start == end == 0."""
    starts = np.zeros((len(regions) + 1, 7), dtype=np.int64)
    ends = np.zeros_like(starts)
    for row, region in enumerate((*regions, "")):
        for day in range(7):
            window = hours.window(region, day)
            if window is not None:
                starts[row, day], ends[row, day] = window[0] * _NS_MINUTE, window[1] * _NS_MINUTE
    return starts, ends


def to_local(instants: np.ndarray, zone: str) -> np.ndarray:
    """UTC instants (int64 ns) as naive local wall-clock int64 ns in ``zone``."""
    index = pd.DatetimeIndex(instants.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
    return index.tz_localize(None).asi8


def to_utc(local: np.ndarray, zone: str) -> np.ndarray:
    """Naive local int64 ns in ``zone`` as UTC instants: a time skipped by a clock change moves
    forward to the change, a time that happens twice is its first occurrence."""
    index = pd.DatetimeIndex(local.view("datetime64[ns]"))
    first = np.ones(len(local), dtype=bool)
    return index.tz_localize(zone, ambiguous=first, nonexistent="shift_forward").tz_convert("UTC").asi8


def open_and_next(instants: np.ndarray, zone: str, rows: np.ndarray, starts: np.ndarray,
                  ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each instant is inside its window in ``zone`` (``rows`` picks the window row), and
    the first instant at or after it that is (int64 ns UTC; NaT when every day is closed)."""
    local = to_local(instants, zone)
    day, time_of_day = np.divmod(local, _NS_DAY)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    start, end = starts[rows, weekday], ends[rows, weekday]
    is_open = (time_of_day >= start) & (time_of_day < end)
    next_local = np.full(len(local), _NAT, dtype=np.int64)
    later_today = ~is_open & (time_of_day < start) & (start < end)
    next_local[later_today] = day[later_today] * _NS_DAY + start[later_today]
    for ahead in range(1, 8):
        waiting = ~is_open & (next_local == _NAT)
        if not waiting.any():
            break
        day_ahead = (weekday[waiting] + ahead) % 7
        start_ahead = starts[rows[waiting], day_ahead]
        opens = start_ahead < ends[rows[waiting], day_ahead]
        chosen = np.flatnonzero(waiting)[opens]
        next_local[chosen] = (day[chosen] + ahead) * _NS_DAY + start_ahead[opens]
    next_open = instants.copy()
    moving = ~is_open & (next_local != _NAT)
    if moving.any():
        next_open[moving] = np.maximum(to_utc(next_local[moving], zone), instants[moving])
    next_open[~is_open & (next_local == _NAT)] = _NAT
    return is_open, next_open


def judge(set_codes: np.ndarray, window_rows: np.ndarray, instants: np.ndarray, starts: np.ndarray,
          ends: np.ndarray) -> Verdicts:
    """Verdicts for cases (zone set, window row, instant), all arrays of one length."""
    table = zone_table()
    count = len(instants)
    allowed = np.zeros(count, dtype=bool)
    next_allowed = np.full(count, _NAT, dtype=np.int64)
    reason = np.full(count, UNKNOWN_ZONE, dtype=object)
    known = set_codes != NO_ZONE
    members = _members_by_zone(set_codes, table.sets)
    candidate = instants.copy()
    # The zone the reason speaks of: of those closed now, the one that opens last.
    binding = np.full(count, -1, dtype=np.int32)
    binding_opens = np.full(count, _NAT, dtype=np.int64)
    active = known.copy()
    for attempt in range(_MAX_PASSES):
        all_open = active.copy()
        moved = candidate.copy()
        for zone_index, cases in members.items():
            cases = cases[active[cases]]
            if not len(cases):
                continue
            is_open, next_open = open_and_next(candidate[cases], table.names[zone_index], window_rows[cases],
                                               starts, ends)
            all_open[cases] &= is_open
            never = next_open == _NAT
            moved[cases] = np.where(never | (moved[cases] == _NAT), _NAT, np.maximum(moved[cases], next_open))
            if attempt == 0:
                later = ~is_open & ((binding[cases] < 0) | (never & (binding_opens[cases] != _NAT))
                                    | (~never & (binding_opens[cases] != _NAT) & (next_open > binding_opens[cases])))
                binding[cases[later]] = zone_index
                binding_opens[cases[later]] = next_open[later]
        if attempt == 0:
            allowed = all_open & known
        settled = all_open & active
        next_allowed[settled] = candidate[settled]
        active &= ~all_open & (moved != _NAT)
        candidate = np.where(active, moved, candidate)
        if not active.any():
            break
    next_allowed[allowed] = _NAT
    next_allowed[active] = _NAT  # windows that never met
    reason[allowed] = ""
    refused = np.flatnonzero(known & ~allowed)
    for zone_index, within in groups_of(binding[refused]):
        cases = refused[within]
        reason[cases] = _reasons(instants[cases], next_allowed[cases], table.names[zone_index])
    return Verdicts(allowed, next_allowed, reason)


def _members_by_zone(set_codes: np.ndarray, sets: tuple[tuple[str, ...], ...]) -> dict[int, np.ndarray]:
    """For each zone, the cases whose zone set includes it."""
    names = zone_table().names
    position = {name: i for i, name in enumerate(names)}
    members: dict[int, list[np.ndarray]] = {}
    for code, cases in groups_of(set_codes):
        if code == NO_ZONE:
            continue
        for zone in sets[code]:
            members.setdefault(position[zone], []).append(cases)
    # the most prominent zone first: of zones that open at the same instant, the reason names it
    return {zone: np.concatenate(members[zone]) for zone in sorted(members)}


def place_name(zone: str) -> str:
    """'America/Denver' -> 'Denver'; 'America/North_Dakota/Center' -> 'Center'."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def _reasons(instants: np.ndarray, next_allowed: np.ndarray, zone: str) -> list[str]:
    """'7:42 am in Denver: calls allowed from 8:00' for each case in one zone (the day named when
    it is not today)."""
    now_local = to_local(instants, zone) // _NS_MINUTE
    never = next_allowed == _NAT
    next_local = np.where(never, 0, to_local(np.where(never, instants, next_allowed), zone) // _NS_MINUTE)
    days_ahead = next_local // 1440 - now_local // 1440
    next_weekday = (next_local // 1440 + 3) % 7
    place = place_name(zone)
    return [
        f"{_wall_clock(int(now) % 1440)} in {place}: "
        + (NEVER if stop else f"calls allowed from {clock(int(then) % 1440)}{_which_day(int(ahead), int(day))}")
        for now, then, ahead, day, stop in zip(now_local, next_local, days_ahead, next_weekday, never, strict=True)
    ]


def _which_day(days_ahead: int, weekday: int) -> str:
    return "" if days_ahead == 0 else " tomorrow" if days_ahead == 1 else f" on {_DAY_NAMES[weekday]}"


def _wall_clock(minutes: int) -> str:
    """'7:42 am' for 462 minutes after midnight."""
    hour, minute = divmod(minutes, 60)
    return f"{hour % 12 or 12}:{minute:02d} {'am' if hour < 12 else 'pm'}"
