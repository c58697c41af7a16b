"""Calling hours over whole columns, held to the one-number-at-a-time rule (reference.py) across
time zones, daylight-saving changes and the edges of windows, days and weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from twilio_widget.config import ConfigError
from twilio_widget.config.hours import WEEKDAYS, CallingHours
from twilio_widget.rules import CallingRules, DoNotCall

from .reference import verdict
from .test_zones import reference_zones

DENVER, LONDON, PHOENIX = "+13035550100", "+447911123456", "+16025550100"
#: One zone with daylight saving and one without, half-hour offsets, both hemispheres, a number
#: in two zones (Boise and Los Angeles), and one a whole country code covers (dozens of zones).
NUMBERS = [DENVER, PHOENIX, "+12025550100", "+18085550100", LONDON, "+61291234567", "+919812345678",
           "+17095550100", "+97715512345", "+5511987654321", "+12082000000", "+15555550100"]


@pytest.fixture
def rules(tmp_path):
    made = []

    def build(hours=None):
        made.append(CallingRules(CallingHours.parse(hours), DoNotCall(tmp_path / "rules.sqlite3")))
        return made[-1]

    yield build
    for r in made:
        r.close()


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_the_reason_names_the_local_time_the_place_and_the_hour(rules):
    got = rules().can_call(pd.Series([DENVER, LONDON], index=["a", "b"]), utc("2026-07-06 13:42"))
    assert list(got.columns) == ["allowed", "reason", "local_time", "next_allowed"]
    assert got.index.tolist() == ["a", "b"]
    assert got.loc["a"].tolist() == [False, "7:42 am in Denver: calls allowed from 8:00",
                                     pd.Timestamp("2026-07-06 07:42"), utc("2026-07-06 14:00")]
    assert got.loc["b", "allowed"] and got.loc["b", "reason"] == "" and pd.isna(got.loc["b", "next_allowed"])
    assert str(got["next_allowed"].dtype) == "datetime64[ns, UTC]" and got["allowed"].dtype == bool


def test_after_hours_the_next_day_is_named(rules):
    got = rules({"sat": "closed", "sun": "closed"}).can_call(pd.Series([DENVER]), utc("2026-07-04 04:00"))
    assert got["reason"][0] == "10:00 pm in Denver: calls allowed from 8:00 on Monday"
    assert got["next_allowed"][0] == utc("2026-07-06 14:00")
    friday_night = rules().can_call(pd.Series([DENVER]), utc("2026-07-04 03:30"))
    assert friday_night["reason"][0] == "9:30 pm in Denver: calls allowed from 8:00 tomorrow"


def test_a_number_in_two_zones_gets_the_strictest_window(rules):
    # 7:30 in Boise is 6:30 in Los Angeles: closed until 8:00 there
    got = rules().can_call(pd.Series(["+12082000000"]), utc("2026-07-06 13:30"))
    assert got["reason"][0] == "6:30 am in Los Angeles: calls allowed from 8:00"
    assert got["next_allowed"][0] == utc("2026-07-06 15:00")


def test_windows_by_region_and_weekday(rules):
    hours = {"default": "9:00-20:00", "GB": "10:00-18:00", "US-CO sun": "closed", "sat": "11:00-15:00"}
    r = rules(hours)
    sunday = utc("2026-07-05 17:00")  # 11:00 in Denver, 13:00 in Washington, 18:00 in London
    got = r.can_call(pd.Series([DENVER, "+12025550100", LONDON]), sunday)
    assert got["allowed"].tolist() == [False, True, False]
    assert got["reason"][0] == "11:00 am in Denver: calls allowed from 9:00 tomorrow"
    assert got["reason"][2] == "6:00 pm in London: calls allowed from 10:00 tomorrow"
    saturday = r.can_call(pd.Series(["+12025550100"]), utc("2026-07-04 19:30"))
    assert saturday["reason"][0] == "3:30 pm in New York: calls allowed from 9:00 tomorrow"


def test_daylight_saving_starts_between_now_and_the_window(rules):
    # Saturday 22:00 MST in Denver; Sunday the clocks go forward at 2:00
    got = rules().can_call(pd.Series([DENVER]), utc("2026-03-08 05:00"))
    assert got["reason"][0] == "10:00 pm in Denver: calls allowed from 8:00 tomorrow"
    assert got["next_allowed"][0] == utc("2026-03-08 14:00")  # 8:00 MDT, an hour earlier in UTC


def test_a_window_starting_in_the_skipped_hour_opens_when_the_clocks_change(rules):
    got = rules({"default": "2:30-21:00"}).can_call(pd.Series([DENVER]), utc("2026-03-08 08:00"))
    assert got["next_allowed"][0] == utc("2026-03-08 09:00")  # 3:00 MDT, the first minute after the gap


def test_a_number_with_no_known_zone_is_refused_with_the_reason(rules):
    got = rules().can_call(pd.Series(["+99912345", "4155550100"]), utc("2026-07-06 18:00"))
    assert not got["allowed"].any() and got["next_allowed"].isna().all()
    assert got["reason"].str.contains("no time zone is known").all()


def test_do_not_call_outranks_the_hours(rules):
    r = rules()
    r.block([DENVER], source="customer request")
    got = r.can_call(pd.Series([DENVER, LONDON]), utc("2026-07-06 18:00"))
    assert got["allowed"].tolist() == [False, True]
    assert got["reason"][0] == "on the do-not-call list (customer request)" and pd.isna(got["next_allowed"][0])


def test_instants_per_row_and_a_bad_argument(rules):
    r = rules()
    at = pd.Series([utc("2026-07-06 13:42"), utc("2026-07-06 18:00")])
    assert r.can_call(pd.Series([DENVER, DENVER]), at)["allowed"].tolist() == [False, True]
    with pytest.raises(ValueError, match="at: 1 row"):
        r.can_call(pd.Series([DENVER, DENVER]), pd.Series([utc("2026-07-06 13:42"), pd.NaT]))
    with pytest.raises(TypeError, match="numbers: expected a pandas Series"):
        r.can_call([DENVER])


@pytest.mark.parametrize(("hours", "option", "problem"), [
    ({"default": "8-21"}, "calling_hours['default']", "not a window"),
    ({"sun": "21:00-8:00"}, "calling_hours['sun']", "must end after it starts"),
    ({"funday": "closed"}, "calling_hours['funday']", "neither a weekday"),
    ({"GB": "8:00-25:00"}, "calling_hours['GB']", "0:00 to 24:00"),
])
def test_calling_hours_errors_name_the_option(hours, option, problem):
    with pytest.raises(ConfigError) as caught:
        CallingHours.parse(hours)
    assert caught.value.problems[0][0] == option and problem in caught.value.problems[0][1]


windows = st.one_of(st.none(), st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(lambda w: w[0] < w[1]))
week = st.dictionaries(st.sampled_from(WEEKDAYS), windows, max_size=7)
instants = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2037, 12, 1), timezones=st.just(UTC))


def hours_of(default, days) -> CallingHours:
    return CallingHours({("", ""): default, **{("", day): window for day, window in days.items()}})


def near_an_edge(instant: datetime, minutes: int) -> datetime:
    """An instant on a minute boundary: windows open and close on minutes."""
    return instant.replace(second=0, microsecond=0) + timedelta(minutes=minutes)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NUMBERS), instants), min_size=1, max_size=12), windows, week,
       st.integers(-2, 2))
@example([(DENVER, datetime(2026, 3, 8, 8, 59, tzinfo=UTC))], (8 * 60, 21 * 60), {}, 0)
@example([(DENVER, datetime(2026, 11, 1, 7, 30, tzinfo=UTC))], (60, 120), {}, 0)
@example([("+12082000000", datetime(2026, 3, 8, 9, 0, tzinfo=UTC))], (120, 180), {}, 0)
def test_column_verdicts_equal_the_rule_number_by_number(tmp_path_factory, rows, default, days, nudge):
    hours = hours_of(default, days)
    rules = CallingRules(hours, DoNotCall(tmp_path_factory.mktemp("dnc") / "x.sqlite3"))
    try:
        numbers = pd.Series([n for n, _ in rows])
        at = pd.Series([near_an_edge(t, nudge) for _, t in rows])
        got = rules.can_call(numbers, at)
        for i, (number, _) in enumerate(rows):
            allowed, next_allowed = verdict(number, at[i].to_pydatetime(), hours, zones_of=reference_zones)
            assert got["allowed"][i] == allowed, (number, at[i])
            assert (pd.isna(got["next_allowed"][i]) and next_allowed is None) or got["next_allowed"][i] == next_allowed
            assert (got["reason"][i] == "") == allowed
        one = rules.can_call(numbers, at[0])  # one instant for all rows: the same answers
        same = rules.can_call(numbers, pd.Series([at[0]] * len(numbers)))
        pd.testing.assert_frame_equal(one, same)
    finally:
        rules.close()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NUMBERS), instants, windows, week)
def test_the_next_allowed_instant_is_allowed_and_nothing_before_it_is(tmp_path_factory, number, instant, default, days):
    rules = CallingRules(hours_of(default, days), DoNotCall(tmp_path_factory.mktemp("dnc") / "x.sqlite3"))
    try:
        got = rules.can_call(pd.Series([number]), instant)
        later = got["next_allowed"][0]
        if got["allowed"][0] or pd.isna(later):
            return
        assert rules.can_call(pd.Series([number]), later)["allowed"][0]
        before = later - pd.Timedelta(minutes=1)
        if before > pd.Timestamp(instant):
            assert not rules.can_call(pd.Series([number]), before)["allowed"][0]
    finally:
        rules.close()


def test_the_next_change_is_when_the_window_opens_or_closes(tmp_path):
    rules = CallingRules(CallingHours.parse({"default": "8:00-21:00", "sat": "closed"}),
                         DoNotCall(tmp_path / "rules.sqlite3"))
    denver = "+13035550100"
    friday_early = pd.Timestamp("2026-11-27 13:47:10", tz="UTC")  # 6:47 am in Denver
    assert rules.next_change(denver, friday_early) == pd.Timestamp("2026-11-27 15:00", tz="UTC")  # opens at 8:00
    friday_noon = pd.Timestamp("2026-11-27 19:00", tz="UTC")
    assert rules.next_change(denver, friday_noon) == pd.Timestamp("2026-11-28 04:00", tz="UTC")  # closes at 21:00
    rules.block([denver], source="asked")
    assert rules.next_change(denver, friday_early) is None  # only the list can change it now
    rules.hours = CallingHours.parse({"default": "0:00-24:00"})
    assert rules.next_change("+15125550100", friday_noon) is None  # open all week
    rules.close()


def test_the_pad_is_checked_again_when_the_window_opens(tmp_path):
    import time

    from twilio_widget import TwilioPhone
    from twilio_widget.backends import SandboxBackend

    backend = SandboxBackend(realtime=False, now=pd.Timestamp("2026-11-27 14:59:59", tz="UTC").to_pydatetime())
    phone = TwilioPhone(backend=backend)
    phone.rules.hours = CallingHours.parse({"default": "8:00-21:00"})
    phone.dialpad = "+13035550100"  # 7:59:59 am in Denver
    assert "calls allowed from 8:00" in phone.dialpad_check["problem"]
    backend.advance(2)  # the sandbox's clock passes 8:00; the check comes half a second later
    deadline = time.monotonic() + 10
    while phone.dialpad_check["problem"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert phone.dialpad_check == {"dialpad": "+13035550100", "problem": ""}
    phone.close()
    backend.close()
