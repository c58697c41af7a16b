"""The calling hours option: when leads may be called, in their local time, by region and weekday.

    calling_hours = {"default": "8:00-21:00",      # every day, everywhere not named below
                     "sun": "12:00-21:00",         # Sundays everywhere not named below
                     "GB": "9:00-20:00",           # a country (ISO 3166-1)
                     "US-FL": "8:00-20:00",        # a state or province (ISO 3166-2)
                     "US-FL sun": "closed"}        # a region on one weekday

The most specific entry wins: region and weekday, region, country and weekday, country,
weekday, default. A window is "H:MM-H:MM" (start included, end excluded) or "closed".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..checks import region_problem
from .errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Where no entry says otherwise (the US TCPA's 8 am to 9 pm).
DEFAULT_WINDOW = (8 * 60, 21 * 60)
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")

#: A window in minutes after local midnight, [start, end); None: no calls that day.
Window = tuple[int, int] | None


@dataclass(frozen=True)
class CallingHours:
    """Parsed calling hours: (region or "", weekday or "") -> window."""

    windows: dict[tuple[str, str], Window] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: Mapping[str, Any] | CallingHours | None, option: str = "calling_hours") -> CallingHours:
        if value is None:
            return cls()
        if isinstance(value, CallingHours):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(option, f"expected a mapping of region/weekday to a window, got {type(value).__name__}")
        problems, windows = [], {}
        for key, text in value.items():
            where = f"{option}[{key!r}]"
            try:
                windows[parse_key(key)] = parse_window(text)
            except ValueError as exc:
                problems.append((where, str(exc)))
        if problems:
            raise ConfigError(problems)
        return cls(windows)

    def window(self, region: str, weekday: int) -> Window:
        """The window of a region ("US-FL", "GB" or "") on a weekday (0 = Monday)."""
        day = WEEKDAYS[weekday]
        country = region.split("-", 1)[0]
        for key in ((region, day), (region, ""), (country, day), (country, ""), ("", day), ("", "")):
            if key in self.windows:
                return self.windows[key]
        return DEFAULT_WINDOW

    @property
    def regions(self) -> set[str]:
        """The regions some entry names (none: every number gets the same windows)."""
        return {region for region, _ in self.windows if region}

    def to_data_model(self) -> dict[str, str]:
        return {format_key(key): format_window(window) for key, window in self.windows.items()}


def parse_key(key: Any) -> tuple[str, str]:
    if not isinstance(key, str):
        raise ValueError(f"expected a string key, got {type(key).__name__}")
    words = key.split()
    region = day = ""
    for word in words:
        if word.lower() in WEEKDAYS and not day:
            day = word.lower()
        elif word == "default" and len(words) == 1:
            return "", ""
        elif region_problem(word) is None and not region:
            region = word
        else:
            raise ValueError(f"{word!r} is neither a weekday ({', '.join(WEEKDAYS)}), 'default', nor a region "
                             f"code such as 'US', 'US-FL' or 'GB'")
    if not words:
        raise ValueError("an empty key: name a region, a weekday or 'default'")
    return region, day


def format_key(key: tuple[str, str]) -> str:
    return " ".join(part for part in key if part) or "default"


def parse_window(text: Any) -> Window:
    if text is None or (isinstance(text, str) and text.strip().lower() == "closed"):
        return None
    match = _WINDOW.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a window: write 'H:MM-H:MM' (e.g. '8:00-21:00') or 'closed'")
    h1, m1, h2, m2 = map(int, match.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or h1 * 60 + m1 > 1440 or h2 * 60 + m2 > 1440:
        raise ValueError(f"{text!r}: hours run from 0:00 to 24:00")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= end:
        raise ValueError(f"{text!r}: the window must end after it starts (write 'closed' for no calls)")
    return start, end


def format_window(window: Window) -> str:
    if window is None:
        return "closed"
    return f"{clock(window[0])}-{clock(window[1])}"


def clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"
