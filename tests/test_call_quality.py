"""Call quality as Voice Insights reports it, on the sandbox: a summary, events and media samples
for every call that is over, in the frames the REST backend returns (its requests are held to
Twilio's spec in contract/test_insights_requests.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from twilio_widget import SandboxBackend, TwilioPhone, frames
from twilio_widget.backends.base import InputError, TwilioError
from twilio_widget.vocabulary import NOT_FOUND

LEADS = [f"+1415555{n:04d}" for n in range(100, 140)]
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def sandbox():
    made = SandboxBackend(seed=7, numbers=LEADS, now=START)
    yield made
    made.close()


def assert_typed(frame: pd.DataFrame, kind: str) -> None:
    assert frame.dtypes.equals(frames.empty(kind).dtypes)


def test_every_call_that_is_over_has_one_typed_summary(sandbox):
    calls = sandbox.calls()
    summaries = sandbox.call_summaries()
    assert_typed(summaries, "call_summaries")
    assert set(summaries["call_sid"]) == set(calls["sid"])
    assert summaries["start_time"].is_monotonic_decreasing
    states = summaries.set_index("call_sid")["call_state"]
    for sid, status in calls.set_index("sid")["status"].items():
        assert states[sid] == {"no-answer": "noanswer", "failed": "fail"}.get(status, status)


def test_the_same_seed_gives_the_same_quality(sandbox):
    again = SandboxBackend(seed=7, numbers=LEADS, now=START)
    try:
        pd.testing.assert_frame_equal(sandbox.call_summaries(), again.call_summaries())
    finally:
        again.close()


def test_tags_agree_with_the_figures_and_the_samples(sandbox):
    answered = sandbox.call_summaries().query("call_state == 'completed'")
    tagged = answered[answered["tags"].notna()]
    assert 0 < len(tagged) < len(answered)  # most calls sound fine, some do not
    for _, row in answered.iterrows():
        tags = set(row["tags"].split(",")) if pd.notna(row["tags"]) else set()
        assert ("high_jitter" in tags) == (row["jitter_max"] > 30)
        assert ("high_packet_loss" in tags) == (row["packet_loss_pct"] > 2)
        assert ("high_latency" in tags) == (row["rtt_ms"] > 300)
        assert (row["mos"] < 3.6) == bool(tags)
    lossy = answered.sort_values("packet_loss_pct").iloc[-1]
    samples = sandbox.call_metrics(lossy["call_sid"])
    assert_typed(samples, "call_metrics")
    assert samples["timestamp"].is_monotonic_increasing
    assert samples["packet_loss_pct"].mean() == pytest.approx(lossy["packet_loss_pct"], rel=0.35)


def test_a_new_call_is_summarised_once_over_and_completed_half_an_hour_later(sandbox):
    number = LEADS[0]
    sandbox.script_outcome(number, "completed")
    call = sandbox.dial(number)
    sandbox.advance(5)
    with pytest.raises(TwilioError) as caught:  # Insights knows nothing of a call in progress
        sandbox.call_summary(call["sid"])
    assert caught.value.code == NOT_FOUND
    assert call["sid"] not in set(sandbox.call_summaries(number)["call_sid"])
    sandbox.advance(60)
    sandbox.hang_up(call["sid"])
    assert sandbox.call_summary(call["sid"])["processing_state"] == "partial"
    sandbox.advance(30 * 60)
    summary = sandbox.call_summary(call["sid"])
    assert summary["processing_state"] == "complete" and summary["call_state"] == "completed"
    names = sandbox.call_events(call["sid"])["name"].tolist()
    assert names == ["initiated", "ringing", "answered", "completed"]


def test_a_call_nobody_answered_has_events_and_no_media(sandbox):
    number = LEADS[1]
    sandbox.script_outcome(number, "busy")
    call = sandbox.dial(number)
    sandbox.advance(60)
    events = sandbox.call_events(call["sid"])
    assert_typed(events, "call_events")
    assert events["name"].tolist() == ["initiated", "busy"]
    metrics = sandbox.call_metrics(call["sid"])
    assert len(metrics) == 0
    assert_typed(metrics, "call_metrics")
    assert pd.isna(sandbox.call_summary(call["sid"])["mos"])


def test_a_number_without_calls_gets_an_empty_frame_of_the_schema(sandbox):
    frame = sandbox.call_summaries("+12125550100")
    assert len(frame) == 0
    assert_typed(frame, "call_summaries")


def test_bad_questions_name_the_field(sandbox):
    sid = sandbox.calls()["sid"].iloc[0]
    with pytest.raises(InputError) as caught:
        sandbox.call_metrics(sid, edge="moon_edge")
    assert caught.value.field == "edge"
    with pytest.raises(InputError) as caught:
        sandbox.call_metrics(sid, direction="sideways")
    assert caught.value.field == "direction"
    with pytest.raises(TwilioError) as missing:
        sandbox.call_events("CA" + "f" * 32)
    assert missing.value.code == NOT_FOUND


def test_the_phone_matches_summaries_to_its_leads():
    leads = pd.DataFrame({"name": ["Ada", "Grace"], "mobile": LEADS[:2]}, index=[101, 102])
    phone = TwilioPhone(leads, ["mobile"], name="name", backend=SandboxBackend(seed=3, numbers=LEADS[:2]))
    try:
        frame = phone.call_summaries(with_contacts=True)
        assert set(frame["contact"]) <= {101, 102} and len(frame) > 0
        assert set(phone.call_summaries(LEADS[0])["call_sid"]) <= set(frame["call_sid"])
        sid = frame["call_sid"].iloc[0]
        assert phone.call_summary(sid)["call_sid"] == sid
        assert_typed(phone.call_events(sid), "call_events")
    finally:
        phone.close()
        phone.backend.close()
