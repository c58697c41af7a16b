"""Zones and local times of whole columns, held to phonenumbers and zoneinfo number by number."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.timezone import time_zones_for_geographical_number
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from twilio_widget.rules import local_times, zone_names, zone_sets


def reference_zones(number: object) -> tuple[str, ...]:
    """phonenumbers' own longest-prefix walk, one value at a time."""
    if not (isinstance(number, str) and number.startswith("+") and number[1:].isdigit() and len(number) <= 16):
        return ()
    if not number[1:].isascii():
        return ()
    for length in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        zones = TIMEZONE_DATA.get(number[1 : 1 + length]) if length <= len(number) - 1 else None
        if zones:
            return tuple(zone for zone in zones if zone != "Etc/Unknown")
    return ()


def test_zones_of_known_numbers():
    numbers = pd.Series(
        ["+13035550100", "+12082151234", "+12025550100", "+442079460018", "+81312345678", "+5511987654321"],
        index=list("abcdef"),
    )
    assert zone_names(numbers).tolist() == [
        "America/Denver",
        "America/Los_Angeles",
        "America/New_York",
        "Europe/London",
        "Asia/Tokyo",
        "America/Sao_Paulo",
    ]
    assert zone_names(numbers).index.equals(numbers.index)


def test_a_number_spanning_zones_has_a_representative_and_keeps_the_set():
    numbers = pd.Series(["+12082151234", "+12082000000"])  # 208-215: Pacific; 208-200: Boise and Los Angeles
    assert zone_sets(numbers).tolist() == [("America/Los_Angeles",), ("America/Boise", "America/Los_Angeles")]
    assert zone_names(numbers).tolist() == ["America/Los_Angeles", "America/Los_Angeles"]


def test_the_representative_of_several_zones_is_the_most_prominent():
    numbers = pd.Series(["+447911123456", "+15555550100", "+12082000000"])  # UK mobile; +1 with no area data
    assert zone_names(numbers).tolist() == ["Europe/London", "America/Chicago", "America/Los_Angeles"]


@pytest.mark.parametrize("value", [None, float("nan"), "", "+", "4155550100", "+1-415-555-0100", "+99912345",
                                   "+0123", "+1234567890123456", "+1é", "abc", 14155550100])
def test_unknown_or_malformed_numbers_have_no_zone(value):
    numbers = pd.Series([value, "+13035550100"], dtype=object)
    assert zone_names(numbers).isna().tolist() == [True, False]
    assert zone_sets(numbers)[0] == ()
    assert pd.isna(local_times(numbers, pd.Timestamp("2026-01-01", tz="UTC"))[0])


def test_empty_and_string_dtype_columns():
    assert zone_names(pd.Series([], dtype="string")).empty
    numbers = pd.Series(["+13035550100", pd.NA], dtype="string")
    assert zone_names(numbers).tolist()[0] == "America/Denver" and zone_names(numbers).isna().tolist() == [False, True]


digits = st.text(alphabet="0123456789", min_size=1, max_size=15)


@settings(max_examples=300, deadline=None)
@given(st.lists(digits, min_size=1, max_size=30))
def test_zone_sets_match_the_longest_prefix_walk(tails):
    numbers = pd.Series(["+" + tail for tail in tails])
    assert zone_sets(numbers).tolist() == [reference_zones(n) for n in numbers]
    names = zone_names(numbers)
    for name, zones in zip(names, numbers.map(reference_zones), strict=True):
        assert (pd.isna(name) and not zones) or name in zones
        assert len(zones) != 1 or name == zones[0]


def test_valid_numbers_agree_with_phonenumbers_parse():
    samples = ["+13035550100", "+16175550100", "+19075550100", "+18085550100", "+447911123456", "+61291234567",
               "+4930123456", "+33123456789", "+525512345678", "+14165550100"]
    expected = [time_zones_for_geographical_number(phonenumbers.parse(n)) for n in samples]
    assert zone_sets(pd.Series(samples)).tolist() == [tuple(z) for z in expected]


instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC))
# numbers in zones with daylight saving, without it, and with half-hour offsets
spread = ["+13035550100", "+16025550100", "+12025550100", "+18085550100", "+447911123456", "+61291234567",
          "+919812345678", "+17095550100", "+97715512345", "+5511987654321"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(spread), instants), min_size=1, max_size=20))
def test_local_times_match_zoneinfo_row_by_row(rows):
    numbers = pd.Series([n for n, _ in rows])
    at = pd.Series([t for _, t in rows])
    got = local_times(numbers, at)
    zones = zone_names(numbers)
    for i, (_, instant) in enumerate(rows):
        expected = instant.astimezone(ZoneInfo(zones[i])).replace(tzinfo=None)
        assert got[i] == pd.Timestamp(expected)


@settings(max_examples=40, deadline=None)
@given(instants)
def test_one_instant_for_every_row_equals_a_column_of_it(instant):
    numbers = pd.Series(spread)
    column = pd.Series([instant] * len(spread))
    assert local_times(numbers, pd.Timestamp(instant)).equals(local_times(numbers, column))


def test_daylight_saving_edges_in_denver():
    numbers = pd.Series(["+13035550100"] * 4)
    at = pd.Series(pd.to_datetime(["2026-03-08 08:59", "2026-03-08 09:00", "2026-11-01 07:59", "2026-11-01 08:00"],
                                  utc=True))
    assert local_times(numbers, at).dt.strftime("%H:%M").tolist() == ["01:59", "03:00", "01:59", "01:00"]


def test_naive_instants_are_utc_and_the_index_is_kept():
    numbers = pd.Series(["+13035550100", "+447911123456"], index=[10, 20])
    got = local_times(numbers, pd.Timestamp("2026-07-01 12:00"))
    assert got.index.tolist() == [10, 20]
    assert got.tolist() == [pd.Timestamp("2026-07-01 06:00"), pd.Timestamp("2026-07-01 13:00")]
    aligned = local_times(numbers, pd.Series(pd.to_datetime(["2026-01-01 12:00", "2026-01-01 18:00"]), index=[20, 10]))
    assert aligned.tolist() == [pd.Timestamp("2026-01-01 11:00"), pd.Timestamp("2026-01-01 12:00")]
