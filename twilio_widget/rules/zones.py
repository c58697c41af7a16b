"""Time zones of phone numbers, and the local time there, for whole columns at once.

The zones come from phonenumbers' time-zone metadata: a table from digit prefixes of E.164
numbers to the IANA zones they cover, matched by the longest prefix (what
`phonenumbers.timezone.time_zones_for_geographical_number` does for one parsed number).
Here the prefixes are matched numerically: each distinct number's leading digits become an
integer per prefix length and are looked up with `numpy.searchsorted` in the sorted keys of
that length, so a million numbers take a few array passes instead of a million parses.

A prefix may cover several zones (an area code split between two zones, or a country
code with no finer data). Such a number gets a deterministic representative for display and
local time: of its zones, the one that has the most prefixes to itself in the table (London
for a UK mobile, not Guernsey), then the first by name. The whole set stays available
(`zone_sets`) so the calling hours can take the strictest window of them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from phonenumbers.timezone import UNKNOWN_TIMEZONE
from phonenumbers.tzdata import TIMEZONE_DATA

# E.164: a plus and at most 15 digits.
_MAX_DIGITS = 15
_WIDTH = _MAX_DIGITS + 1
NO_ZONE = -1


#: Prefixes up to this many digits are looked up in a dense array (10**6 int32: 4 MB a table).
_DENSE_DIGITS = 6


@dataclass(frozen=True)
class PrefixKeys:
    """Digit prefixes and their entries, indexed for :func:`longest_prefix`.

    ``dense[p]`` is the entry of the longest prefix of at most `_DENSE_DIGITS` digits that the
    `_DENSE_DIGITS`-digit number ``p`` starts with; longer prefixes are searched (sorted, by
    length) only for numbers whose first digits begin one (``extends``). ``by_length`` keeps
    every length for numbers shorter than the dense width.
    """

    dense: np.ndarray
    extends: np.ndarray
    by_length: dict[int, tuple[np.ndarray, np.ndarray]]


def prefix_keys(entries: dict[str, int]) -> PrefixKeys:
    by_length: dict[int, list[tuple[int, int]]] = {}
    for prefix, entry in entries.items():
        by_length.setdefault(len(prefix), []).append((int(prefix), entry))
    sorted_keys = {}
    for length, pairs in sorted(by_length.items()):
        pairs.sort()
        prefixes, chosen = zip(*pairs, strict=True)
        sorted_keys[length] = (np.array(prefixes, dtype=np.int64), np.array(chosen, dtype=np.int32))
    dense = np.full(10**_DENSE_DIGITS, NO_ZONE, dtype=np.int32)
    extends = np.zeros(10**_DENSE_DIGITS, dtype=bool)
    for length, (prefixes, chosen) in sorted_keys.items():  # shorter first: longer prefixes overwrite
        for prefix, entry in zip(prefixes.tolist(), chosen.tolist(), strict=True):
            if length <= _DENSE_DIGITS:
                span = 10 ** (_DENSE_DIGITS - length)
                dense[prefix * span:(prefix + 1) * span] = entry
            else:
                extends[prefix // 10 ** (length - _DENSE_DIGITS)] = True
    return PrefixKeys(dense, extends, sorted_keys)


@dataclass(frozen=True)
class ZoneTable:
    """phonenumbers' prefix table, indexed for numeric lookup."""

    sets: tuple[tuple[str, ...], ...]  # zone sets, each as phonenumbers lists it
    names: tuple[str, ...]  # every zone named by some set, the most prominent first
    representative: np.ndarray  # per set: index into names of its first zone
    keys: PrefixKeys  # prefix -> set


@cache
def zone_table() -> ZoneTable:
    sets: dict[tuple[str, ...], int] = {}
    entries: dict[str, int] = {}
    alone: dict[str, int] = {}  # how many prefixes a zone has to itself: how prominent it is
    for prefix, zones in TIMEZONE_DATA.items():
        known = tuple(zone for zone in zones if zone != UNKNOWN_TIMEZONE)
        if known:
            entries[prefix] = sets.setdefault(known, len(sets))
        if len(known) == 1:
            alone[known[0]] = alone.get(known[0], 0) + 1
    # Zones by prominence, then by name: a set's representative is its first zone in this order.
    names = tuple(sorted({zone for zones in sets for zone in zones}, key=lambda z: (-alone.get(z, 0), z)))
    position = {name: i for i, name in enumerate(names)}
    representative = np.array([min(position[zone] for zone in zones) for zones in sets], dtype=np.int32)
    return ZoneTable(tuple(sets), names, representative, prefix_keys(entries))


def _as_bytes(numbers: pd.Series) -> np.ndarray:
    """Each value as at most `_WIDTH + 1` ASCII bytes; anything else (missing, non-ASCII) as b""."""
    filled = numbers.where(numbers.notna(), "") if numbers.hasnans else numbers
    try:
        return filled.to_numpy(dtype=f"S{_WIDTH + 1}")
    except (UnicodeEncodeError, TypeError, ValueError):
        ascii_only = np.fromiter((isinstance(v, str) and v.isascii() for v in filled), dtype=bool, count=len(filled))
        return filled.where(ascii_only, "").to_numpy(dtype=f"S{_WIDTH + 1}")


def _digit_matrix(numbers: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Digits of E.164 strings as an (n, 15) uint8 array, and how many each has (0: not E.164).

    One byte more than E.164 allows is read, so a longer value shows as too long.
    """
    raw = _as_bytes(numbers)
    chars = raw.view(np.uint8).reshape(len(raw), _WIDTH + 1)
    digits = chars[:, 1:_WIDTH] - np.uint8(ord("0"))  # wraps below '0', so one comparison suffices
    present = chars[:, 1:_WIDTH] != 0
    count = np.count_nonzero(present, axis=1)
    well_formed = (chars[:, 0] == ord("+")) & (chars[:, _WIDTH] == 0) & (count > 0)
    well_formed &= ~(present & (digits > 9)).any(axis=1)
    # a NUL inside the value would hide what follows it: the digits must be one run from the start
    well_formed &= present[np.arange(len(raw)), np.maximum(count - 1, 0)]
    return digits, np.where(well_formed, count, 0)


def _leading(digits: np.ndarray, length: int) -> np.ndarray:
    """The first ``length`` digits of each row as an integer."""
    value = np.zeros(len(digits), dtype=np.int64)
    for column in range(length):
        value = value * 10 + digits[:, column]
    return value


def _search(keys: PrefixKeys, digits: np.ndarray, count: np.ndarray, lengths: range, found: np.ndarray) -> None:
    """Longest match among prefixes of ``lengths``, by binary search, written into ``found``."""
    for length in lengths:
        if length not in keys.by_length:
            continue
        sorted_keys, entry = keys.by_length[length]
        prefix = _leading(digits, length)
        slot = np.minimum(np.searchsorted(sorted_keys, prefix), len(sorted_keys) - 1)
        hit = (sorted_keys[slot] == prefix) & (count >= length)
        found[hit] = entry[slot[hit]]  # longer prefixes come later and win


def longest_prefix(numbers: pd.Series, keys: PrefixKeys) -> np.ndarray:
    """The entry of each E.164 string's longest matching prefix, NO_ZONE where none matches."""
    digits, count = _digit_matrix(numbers)
    full = count >= _DENSE_DIGITS
    head = np.where(full, _leading(digits, _DENSE_DIGITS), 0)  # digits past a value's end are not digits
    found = np.where(full, keys.dense[head], NO_ZONE).astype(np.int32)
    longest = max(keys.by_length)
    if longest > _DENSE_DIGITS:
        rows = np.flatnonzero(full & keys.extends[head])
        deeper = found[rows]
        _search(keys, digits[rows], count[rows], range(_DENSE_DIGITS + 1, longest + 1), deeper)
        found[rows] = deeper
    short = np.flatnonzero(~full & (count > 0))
    if len(short):
        shallow = found[short]
        _search(keys, digits[short], count[short], range(1, _DENSE_DIGITS), shallow)
        found[short] = shallow
    return found


def zone_set_codes(numbers: pd.Series) -> np.ndarray:
    """Per row, the index of its zone set in `zone_table().sets`, NO_ZONE when unknown (an int32 a row)."""
    return longest_prefix(numbers, zone_table().keys)


def _zone_codes(set_codes: np.ndarray) -> np.ndarray:
    """Per row, the index of its representative zone in `zone_table().names`, -1 when unknown."""
    representative = zone_table().representative
    known = set_codes >= 0
    return np.where(known, representative[np.where(known, set_codes, 0)], -1).astype(np.int32)


def zone_names(numbers: pd.Series) -> pd.Series:
    """The IANA time zone of each E.164 number, <NA> where phonenumbers knows none.

    A number whose prefix covers several zones gets its most prominent one (see the module's
    notes, and `zone_sets` for all of them). The result is categorical: a zone name is stored once.
    """
    names = zone_table().names
    categories = pd.Index(names, dtype="string")
    values = pd.Categorical.from_codes(_zone_codes(zone_set_codes(numbers)), dtype=pd.CategoricalDtype(categories))
    return pd.Series(values, index=numbers.index, name="time_zone")


def zone_sets(numbers: pd.Series) -> pd.Series:
    """Every IANA zone each number's prefix covers, as a tuple (empty where none is known)."""
    sets = zone_table().sets + ((),)
    codes = zone_set_codes(numbers)
    table = np.empty(len(sets), dtype=object)
    table[:] = sets
    return pd.Series(table[codes], index=numbers.index, name="time_zones")


def as_utc(at: pd.Timestamp | pd.Series | None, index: pd.Index) -> pd.Timestamp | pd.Series:
    """`at` in UTC: one instant (now when None), or a column aligned on `index`. A naive time is UTC."""
    if isinstance(at, pd.Series):
        series = pd.to_datetime(at)
        series = series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
        return series.reindex(index).astype("datetime64[ns, UTC]")
    stamp = pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).as_unit("ns")


def distinct(codes: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of small non-negative codes (below ``size``), in one pass, sorted."""
    seen = np.zeros(size, dtype=bool)
    seen[codes] = True
    return np.flatnonzero(seen)


def groups_of(codes: np.ndarray):
    """(code, row positions) for each distinct code, in code order."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    for rows in np.split(order, np.flatnonzero(np.diff(sorted_codes)) + 1):
        if len(rows):
            yield int(codes[rows[0]]), rows


def local_wall_clock(utc: pd.Timestamp | pd.Series, zone_codes: np.ndarray) -> np.ndarray:
    """Naive local datetime64[ns] of UTC instants per zone code (index into `zone_table().names`); NaT for -1."""
    names = zone_table().names
    if isinstance(utc, pd.Timestamp):
        per_zone = np.full(len(names) + 1, np.datetime64("NaT"), dtype="datetime64[ns]")  # -1 picks the last
        for code in distinct(zone_codes[zone_codes >= 0], len(names)):
            per_zone[code] = utc.tz_convert(names[code]).tz_localize(None).as_unit("ns").to_datetime64()
        return per_zone[zone_codes]
    instants = utc.to_numpy(dtype="datetime64[ns]")
    out = np.full(len(instants), np.datetime64("NaT"), dtype="datetime64[ns]")
    for code, rows in groups_of(zone_codes):
        if code >= 0:
            zone_index = pd.DatetimeIndex(instants[rows]).tz_localize("UTC").tz_convert(names[code])
            out[rows] = zone_index.tz_localize(None).to_numpy()
    return out


def local_times(numbers: pd.Series, at: pd.Timestamp | pd.Series | None = None) -> pd.Series:
    """The naive local wall-clock time at each number's zone (`zone_names`) at the instant `at`.

    `at` is one instant for all rows or a column aligned on `numbers`' index; a naive time is
    UTC, None is now. NaT where the zone is unknown. One conversion per zone, not per row.
    """
    zone_codes = _zone_codes(zone_set_codes(numbers))
    local = local_wall_clock(as_utc(at, numbers.index), zone_codes)
    return pd.Series(local, index=numbers.index, name="local_time")
