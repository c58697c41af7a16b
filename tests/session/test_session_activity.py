"""Activity: typed frames by the lead's local hour, caller ID, outcome, day and attempts; one figure."""

from __future__ import annotations

import pandas as pd
import pytest

from twilio_widget.session import Activity, outcomes_frame
from twilio_widget.session.outcomes import Vocabulary


def row(key, outcome, started, attempt, caller="+15005550006", duration=60, sid="CA1"):
    return {"call_sid": sid, "key": key, "number": "+12125550102", "field": "mobile", "outcome": outcome,
            "note": "", "agent": "ada", "caller_id": caller, "started_at": pd.Timestamp(started, tz="UTC"),
            "duration": duration, "attempt": attempt, "overrides": "", "callback_at": None, "queue": "q",
            "recorded_at": pd.Timestamp(started, tz="UTC")}


@pytest.fixture
def activity():  # every number in New York (212)
    outcomes = outcomes_frame([
        row(1, "no answer", "2026-05-01 14:00", 1, duration=0),          # 10:00 in New York
        row(1, "connected", "2026-05-01 14:30", 2, duration=120),        # 10:30
        row(2, "meeting booked", "2026-05-01 20:00", 1, caller="+15005550007", duration=300),  # 16:00
        row(3, "busy", "2026-05-02 20:10", 1, caller="+15005550007", duration=0),
        row(4, "call back", "2026-05-02 20:20", 1, sid=""),                  # no call: set from the card
    ])
    return Activity.of(outcomes, Vocabulary().connected_names())


def test_connect_rate_by_the_hour_of_the_leads_own_day(activity):
    by_hour = activity.by_hour
    assert len(by_hour) == 24 and by_hour.index.name == "local_hour"
    assert by_hour.loc[10, ["calls", "connects"]].tolist() == [2, 1]
    assert by_hour.loc[16, ["calls", "connects"]].tolist() == [2, 1]
    assert by_hour.loc[10, "connect_rate"] == 0.5 and pd.isna(by_hour.loc[3, "connect_rate"])
    assert {str(t) for t in by_hour.dtypes} == {"Int64", "Float64"}


def test_by_caller_id_outcome_day_and_attempts(activity):
    assert activity.by_caller_id["connects"].to_dict() == {"+15005550006": 1, "+15005550007": 1}
    assert activity.by_outcome.loc["connected", "calls"] == 1 and activity.by_outcome["calls"].sum() == 5
    assert activity.talk_time["talk_minutes"].tolist() == [7.0, 0.0]
    assert activity.attempts_to_connect["leads"].to_dict() == {1: 1, 2: 1}


def test_the_plots_draw_every_view(activity):
    figure = activity.plot()
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert len(titles) == 6 and "Connect rate by the lead's local hour" in titles and "Connect rate by agent" in titles


def test_an_empty_session_has_empty_typed_frames():
    activity = Activity.of(outcomes_frame([]), Vocabulary().connected_names())
    assert activity.by_hour["calls"].sum() == 0 and activity.by_outcome.empty
    activity.plot()
