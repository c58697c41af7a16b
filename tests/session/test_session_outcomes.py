"""A session on the phone: calls, outcomes and notes, the panel's view and commands."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from phone_helpers import command
from session_helpers import finish_call

from twilio_widget.session import OUTCOME_COLUMNS, Outcome


@pytest.fixture
def session(phone, call_leads, journal_path):
    return phone.queue(call_leads, order="score", ascending=False, lead_name="name", view=["name", "stage"],
                       journal=journal_path)


def test_the_panel_shows_the_lead_the_next_one_and_where_the_queue_stands(phone, session):
    view = phone.session
    assert (view["status"], view["position"], view["total"]) == ("ready", 1, 5)
    assert view["lead"]["name"] == "Alan" and view["next"]["name"] == "Katherine"
    assert view["lead"]["fields"] == {"name": "Alan", "stage": "new"}
    assert view["lead"]["number"] == "+14155550101" and view["lead"]["display"] == "(415) 555-0101"
    assert [o["name"] for o in view["outcomes"]][:3] == ["connected", "no answer", "busy"]


def test_a_call_ends_asks_for_its_outcome_and_moves_on_once_it_is_journaled(phone, sandbox, session):
    session.call()
    assert phone.session["status"] == "calling" and phone.call["remote"] == "+14155550101"
    finish_call(phone, sandbox)
    assert phone.session["status"] == "outcome" and phone.session["suggested"] == "connected"
    with pytest.raises(ValueError, match="outcome: record the last call's outcome"):
        session.call()
    row = session.record("meeting booked", "Demo on Tuesday")
    saved = session.journal.outcomes()
    assert saved["call_sid"].tolist() == [phone.call["sid"]] == [row["call_sid"]]
    assert saved.iloc[0][["key", "outcome", "note", "agent", "attempt", "duration"]].tolist() == \
        [12, "meeting booked", "Demo on Tuesday", "ada", 1, 30]
    assert phone.session["lead"]["name"] == "Katherine" and phone.session["position"] == 2


def test_an_unanswered_call_suggests_its_status_and_a_voicemail_says_so(phone, sandbox, session):
    sandbox.script_outcome("+14155550101", "no-answer")
    session.call()
    finish_call(phone, sandbox)
    assert session.suggested == "no answer"
    session.record("no answer")
    sandbox.behave_like_leads().script("+17575550103", "voicemail")
    session.call()
    finish_call(phone, sandbox, seconds=60)  # the voicemail hangs up by itself
    assert session.suggested == "voicemail"


def test_outcomes_are_a_typed_frame_empty_or_not(phone, sandbox, session):
    assert dict(phone.outcomes.dtypes.astype(str)) == OUTCOME_COLUMNS
    session.call()
    finish_call(phone, sandbox)
    session.record("connected")
    frame = phone.outcomes
    assert dict(frame.dtypes.astype(str)) == OUTCOME_COLUMNS
    answered = pd.Timestamp("2026-05-01 15:00", tz="UTC") + pd.Timedelta(seconds=sandbox.ring_seconds)
    assert frame["started_at"].iloc[0] == answered


def test_an_unknown_outcome_or_a_call_back_without_a_time_is_refused_by_field(phone, sandbox, session):
    with pytest.raises(ValueError, match="outcome: 'hung up'"):
        session.record("hung up")
    with pytest.raises(ValueError, match="callback_at"):
        session.record("call back")
    with pytest.raises(ValueError, match="note"):
        session.record("connected", note=3)
    with pytest.raises(ValueError, match="note: 10001 characters; at most 10000"):
        session.record("connected", note="x" * 10_001)
    assert session.outcomes().empty and phone.session["status"] == "ready"  # nothing recorded, nothing moved


def test_a_call_back_is_set_on_the_leads_clock_and_comes_first_when_due(phone, sandbox, session):
    # Alan's number (415) is in Los Angeles: 14:30 there on 1 May is 21:30 UTC.
    assert phone.session["lead"]["zone"] == "America/Los_Angeles"
    assert phone.session["lead"]["local_time"] == "2026-05-01T08:00:00"
    session.call_back("2026-05-01 14:30", note="after lunch")
    assert phone.outcomes["callback_at"].iloc[0] == pd.Timestamp("2026-05-01 21:30", tz="UTC")
    assert phone.outcomes["call_sid"].iloc[0] == ""
    assert phone.session["lead"]["name"] == "Katherine"
    sandbox.advance(7 * 3600)
    session.skip()  # Katherine to the back: the call-back is due, so Alan is next
    assert phone.session["lead"]["name"] == "Alan"
    assert phone.session["lead"]["callback_at"] == "2026-05-01T21:30:00+00:00"
    assert phone.session["lead"]["local_time"].startswith("2026-05-01T15:00")


def test_no_answer_retries_until_the_attempts_run_out(phone, sandbox, call_leads, journal_path):
    from twilio_widget.session import RetryRule
    one = call_leads.loc[[12]]
    session = phone.queue(one, lead_name="name", journal=journal_path,
                          retry=RetryRule(delay=pd.Timedelta(minutes=30), max_attempts=2, hours=(0, 24)))
    sandbox.script_outcome("+14155550101", "busy")
    session.call()
    finish_call(phone, sandbox)
    session.record("busy")
    assert phone.session["status"] == "done" and phone.session["next_due"] is not None
    sandbox.advance(1800)
    session.refresh()
    session.call()
    finish_call(phone, sandbox)
    session.record("busy")
    assert phone.outcomes["attempt"].tolist() == [1, 2]
    sandbox.advance(7200)
    session.refresh()
    assert phone.session["status"] == "done" and phone.session["next_due"] is None


def test_the_panels_commands_work_the_queue(phone, sandbox, session):
    assert command(phone, "cmd_session_call")["ok"]
    finish_call(phone, sandbox)
    assert command(phone, "cmd_session_outcome", outcome="connected", note="nice")["ok"]
    assert command(phone, "cmd_session_skip")["ok"]
    assert command(phone, "cmd_session_pause", paused=True)["ok"]
    assert phone.session["status"] == "paused"
    refused = command(phone, "cmd_session_call")
    assert not refused["ok"] and "paused" in refused["error"]["message"]
    assert command(phone, "cmd_session_pause", paused=False)["ok"]
    assert command(phone, "cmd_session_outcome", outcome="call back", callback_at="2026-05-02T10:00")["ok"]
    assert phone.outcomes["outcome"].tolist() == ["connected", "call back"]


def test_without_a_session_the_commands_say_how_to_start_one(phone):
    refused = command(phone, "cmd_session_call")
    assert "phone.queue(leads)" in refused["error"]["message"]


def test_with_outcomes_optional_the_next_call_records_the_suggested_one(phone, sandbox, call_leads, journal_path):
    session = phone.queue(call_leads, lead_name="name", journal=journal_path, require_outcome=False)
    session.call()
    finish_call(phone, sandbox)
    session.call()
    assert phone.outcomes["outcome"].tolist() == ["connected"]


def test_a_configured_vocabulary_is_the_one_the_panel_offers(phone, call_leads, journal_path):
    phone.queue(call_leads, journal=journal_path, outcomes=[Outcome("reached", "Reached", "done", connected=True),
                                                            {"name": "nobody", "label": "Nobody", "then": "retry"}])
    assert [o["label"] for o in phone.session["outcomes"]] == ["Reached", "Nobody"]
    with pytest.raises(ValueError, match="then='later'"):
        Outcome("x", "X", "later")


def test_autodial_arms_a_countdown_after_each_outcome(phone, sandbox, call_leads, journal_path):
    session = phone.queue(call_leads, journal=journal_path, autodial=5)
    assert phone.session["autodial"] == 5 and phone.session["countdown"] == 0
    session.call()
    finish_call(phone, sandbox)
    session.record("connected")
    assert phone.session["countdown"] == 1
    with pytest.raises(ValueError, match="autodial"):
        phone.queue(call_leads, journal=journal_path, autodial=0)


def test_the_session_trait_is_bounded_whatever_the_number_of_leads(phone, journal_path, tmp_path):
    def view_size(size):
        leads = pd.DataFrame({"name": [f"Lead {i:06d}" for i in range(size)],
                              "mobile": [f"+1415555{i % 10000:04d}" if i < 10000 else f"+1212555{i % 10000:04d}"
                                         for i in range(size)]})
        phone.queue(leads, lead_name="name", journal=tmp_path / f"{size}.sqlite3")
        return phone.session, len(json.dumps(phone.session))

    small, small_size = view_size(10)
    large, large_size = view_size(20_000)
    assert set(small) == set(large) and large["total"] == 20_000
    assert abs(large_size - small_size) <= 8  # the counts' digits, nothing a lead more


def test_skipping_after_an_optional_outcome_leaves_that_call_behind(phone, sandbox, call_leads, journal_path):
    session = phone.queue(call_leads, lead_name="name", journal=journal_path, require_outcome=False)
    session.call()
    finish_call(phone, sandbox)
    session.skip()
    session.record("wrong number")  # the next lead, never called
    assert phone.outcomes[["key", "call_sid", "attempt"]].values.tolist() == [[12, "", 0]]
