"""The calling-hours rule written one number at a time, with phonenumbers and zoneinfo: the
specification the vectorised rules are held to (the tests and benchmarks/rules_bench.py).

A number may be called when every zone its prefix covers is inside its window; the next
allowed instant is the first at which they all are. A window start that a clock change skips
moves forward to the change; one that happens twice is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers.timezone import time_zones_for_geographical_number

from twilio_widget.config.hours import CallingHours

PASSES = 16


def phonenumbers_zones(number: str) -> tuple[str, ...]:
    """What phonenumbers says, through its own parser."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in time_zones_for_geographical_number(parsed) if z != "Etc/Unknown")


def local_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local time: skipped times move forward to the first that exists."""
    while True:
        instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            return instant
        wall += timedelta(minutes=1)
        wall = wall.replace(second=0, microsecond=0)


def window_at(local: datetime, hours: CallingHours, region: str) -> tuple[timedelta, timedelta] | None:
    window = hours.window(region, local.weekday())
    return None if window is None else (timedelta(minutes=window[0]), timedelta(minutes=window[1]))


def is_open(instant: datetime, zone: ZoneInfo, hours: CallingHours, region: str) -> bool:
    local = instant.astimezone(zone).replace(tzinfo=None)
    window = window_at(local, hours, region)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    return window is not None and window[0] <= since_midnight < window[1]


def next_open(instant: datetime, zone: ZoneInfo, hours: CallingHours, region: str) -> datetime | None:
    if is_open(instant, zone, hours, region):
        return instant
    local = instant.astimezone(zone).replace(tzinfo=None)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for ahead in range(8):
        day = midnight + timedelta(days=ahead)
        window = window_at(day, hours, region)
        if window is None or (ahead == 0 and local - midnight >= window[0]):
            continue
        return max(local_instant(day + window[0], zone), instant)
    return None


def verdict(number: str, at: datetime, hours: CallingHours, *, region: str = "",
            zones_of: Callable[[str], tuple[str, ...]] = phonenumbers_zones) -> tuple[bool, datetime | None]:
    """(allowed now, next allowed instant: None when allowed now, or never, or no zone is known)."""
    zones = [ZoneInfo(z) for z in zones_of(number)]
    if not zones:
        return False, None
    if all(is_open(at, z, hours, region) for z in zones):
        return True, None
    candidate = at
    for _ in range(PASSES):
        if all(is_open(candidate, z, hours, region) for z in zones):
            return False, candidate
        moved = [next_open(candidate, z, hours, region) for z in zones]
        if any(m is None for m in moved):
            return False, None
        candidate = max(moved)
    return False, None
