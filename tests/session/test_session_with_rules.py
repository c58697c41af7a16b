"""The calling session with the phone's real calling rules (not a stand-in): the do-not-call
outcome lands on the durable list, calling hours pass leads over, the outcome keeps the call's
caller ID, and a voicemail drop makes the outcome "left voicemail"."""

from __future__ import annotations

import pytest
from session_helpers import finish_call

from twilio_widget import TwilioPhone
from twilio_widget.config import PhoneConfig

MESSAGE = "https://example.com/drop.mp3"


def session_phone(call_leads, sandbox, **rules) -> TwilioPhone:
    return TwilioPhone(contacts=call_leads, fields=["mobile"], name="name", backend=sandbox, user="ada",
                       config=PhoneConfig(rules=rules) if rules else None)


def test_do_not_call_blocks_the_number_everywhere(call_leads, sandbox, journal_path):
    phone = session_phone(call_leads, sandbox)
    try:
        session = phone.queue(call_leads, order="score", ascending=False, lead_name="name", journal=journal_path)
        session.call()
        finish_call(phone, sandbox)
        session.record("do not call", "asked us to stop")
        assert phone.rules.is_blocked("+14155550101")
        with pytest.raises(ValueError, match="do-not-call"):
            phone.place_call("+14155550101")
        again = phone.queue(call_leads, order="score", ascending=False, lead_name="name", journal=journal_path,
                            name="second")
        assert again.current != 12 and phone.session["lead"]["name"] != "Alan"
    finally:
        phone.close()


def test_calling_hours_pass_a_lead_over_and_the_outcome_keeps_the_calls_caller_id(call_leads, sandbox,
                                                                                   journal_path):
    # 15:00 UTC: 8:00 in San Francisco, 11:00 in New York and Boston; only the east may be called.
    phone = session_phone(call_leads, sandbox, calling_hours={"default": "9:00-21:00"})
    try:
        west = phone.queue(call_leads.loc[[11, 12]], lead_name="name", journal=journal_path, name="west")
        with pytest.raises(ValueError, match="no lead may be called now"):
            west.call()
        session = phone.queue(call_leads, order="score", ascending=False, lead_name="name", journal=journal_path)
        assert phone.session["lead"]["name"] == "Katherine"  # Alan (415, 8:00 his time) is passed over
        session.call()
        finish_call(phone, sandbox)
        session.record("connected", "good talk")
        row = phone.outcomes.iloc[-1]
        assert row["number"] == "+17575550103" and row["overrides"] == ""
        assert row["caller_id"] == phone.call["caller_id"]
    finally:
        phone.close()


def test_a_voicemail_drop_suggests_left_voicemail(call_leads, sandbox, journal_path):
    phone = session_phone(call_leads, sandbox, voicemail_drop_url=MESSAGE)
    try:
        session = phone.queue(call_leads, order="score", ascending=False, lead_name="name", journal=journal_path)
        session.call()
        sandbox.advance(sandbox.ring_seconds + 0.5)
        phone.drop_voicemail()
        sandbox.advance(sandbox.message_seconds + 1)
        assert phone.call["status"] == "completed"
        assert session.suggested == "left voicemail"
        session.record(session.suggested)
        assert phone.outcomes.iloc[-1]["outcome"] == "left voicemail"
    finally:
        phone.close()
