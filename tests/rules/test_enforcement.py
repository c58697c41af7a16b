"""The rules where calls and texts happen: the pad's verdict, place_call and the panel's call
command, send_message, overrides recorded with the call, local caller ID, phone.can_call."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.phone_helpers import command
from twilio_widget import SandboxBackend, TwilioPhone
from twilio_widget.config import Caller, PhoneConfig
from twilio_widget.rules.callerid import choose_caller_id
from twilio_widget.rules.enforce import CallRefused

ADA = "+14155550100"  # San Francisco


@pytest.fixture
def early(leads):
    """A phone whose sandbox clock reads 5:00 in San Francisco (12:00 UTC)."""
    backend = SandboxBackend(numbers=[ADA, "+14155550101", "+442079460018"], realtime=False,
                             now=datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    config = PhoneConfig(rules={"calling_hours": {"default": "8:00-21:00"}})  # the sandbox has none unless set
    phone = TwilioPhone(contacts=leads, fields=["mobile", "office"], name="name", backend=backend, config=config)
    yield phone
    phone.close()
    backend.close()


def test_the_sandbox_applies_calling_hours_only_when_set(phone):
    assert phone.rules.hours.window("US-CA", 0) == (0, 24 * 60)


def test_the_pad_shows_the_rule_and_the_call_is_refused_with_it(early):
    assert early.selected_number == ADA
    assert early.dialpad_check == {"dialpad": ADA, "problem": "5:00 am in Los Angeles: calls allowed from 8:00",
                                   "rule": True}
    response = command(early, "cmd_call")
    assert not response["ok"] and "5:00 am in Los Angeles: calls allowed from 8:00" in response["error"]["message"]
    with pytest.raises(CallRefused) as refused:
        early.place_call()
    assert refused.value.reason == "5:00 am in Los Angeles: calls allowed from 8:00"
    assert early.call == {}


def test_an_override_calls_anyway_and_is_recorded_with_the_call(early):
    response = command(early, "cmd_call", override="they asked for an early call")
    assert response["ok"], response
    call = early.call
    assert call["status"] == "ringing" and call["override"] == "they asked for an early call"
    assert call["overridden"] == "5:00 am in Los Angeles: calls allowed from 8:00"
    early.hang_up()
    with pytest.raises(ValueError, match="override: say why"):
        early.place_call(override="  ")


def test_do_not_call_refuses_calls_and_texts_and_shows_on_the_pad(phone):
    assert phone.rules.block([ADA], source="customer request") == 1
    phone.dialpad = "415 555 0100"
    assert phone.dialpad_check["problem"] == "on the do-not-call list (customer request)"
    response = command(phone, "cmd_call")
    assert not response["ok"] and "do-not-call" in response["error"]["message"]
    sent = command(phone, "cmd_send_message", body="Hello")
    assert not sent["ok"] and sent["error"]["message"].startswith("Not texted: on the do-not-call list")
    with pytest.raises(CallRefused):
        phone.send_message("Hello", to=ADA)
    assert phone.rules.unblock(ADA) == 1 and not phone.rules.is_blocked(ADA)
    assert command(phone, "cmd_call")["ok"]


def test_can_call_over_the_leads_frame_reads_the_number_fields(phone, leads):
    phone.rules.block(["+14155550101"], source="outcome")
    got = phone.can_call()
    assert got.index.tolist() == [101, 102, 103]
    assert got["number"].tolist() == [ADA, "+14155550101", "+12125550199"]
    assert got["field"].tolist() == ["mobile", "mobile", "office"]
    assert got["allowed"].tolist() == [True, False, True]
    assert got.loc[102, "reason"] == "on the do-not-call list (outcome)"
    other = pd.DataFrame({"mobile": ["", "garbage"], "office": ["+44 20 7946 0018", None]}, index=["x", "y"])
    verdicts = phone.can_call(other)
    assert verdicts.loc["x", "number"] == "+442079460018" and verdicts.loc["x", "allowed"]
    assert verdicts.loc["y", "reason"] == "no valid phone number in the row" and not verdicts.loc["y", "allowed"]


def test_the_do_not_call_list_is_durable_and_loads_from_csv_and_frames(tmp_path):
    from twilio_widget.rules import DoNotCall

    path = tmp_path / "list.sqlite3"
    csv = tmp_path / "dnc.csv"
    csv.write_text("number,name\n(303) 555-0100,Pat\n+44 20 7946 0018,Sam\n\n")
    first = DoNotCall(path)
    assert first.load(csv) == 2
    assert first.load(pd.DataFrame({"phone": ["+1 212 555 0199"]}), column="phone", source="crm") == 1
    first.close()
    again = DoNotCall(path)
    listed = again.frame()
    assert listed["number"].tolist() == ["+13035550100", "+442079460018", "+12125550199"]
    assert listed["source"].tolist() == ["file dnc.csv", "file dnc.csv", "crm"]
    with pytest.raises(ValueError, match="numbers\\[0\\]: 'nope' is not a phone number"):
        again.block(["nope"], source="x")
    with pytest.raises(ValueError, match="column: 'mobile' is not a column"):
        again.load(pd.DataFrame({"phone": []}), column="mobile")
    again.close()


def test_a_stop_reply_is_on_the_list_and_unblocking_lifts_it(tmp_path):
    from twilio_widget.routing.store import Store
    from twilio_widget.rules import DoNotCall

    store = Store(tmp_path / "shared.sqlite3")
    store.opt_out("+13035550100", keyword="STOP")
    rules_list = DoNotCall(tmp_path / "shared.sqlite3")
    assert rules_list.is_blocked("+13035550100") and rules_list.source("+13035550100") == "STOP reply"
    assert rules_list.frame()["source"].tolist() == ["STOP reply"]
    assert rules_list.unblock("+13035550100") == 1
    assert not store.is_opted_out("+13035550100")
    rules_list.close()
    store.close()


def test_local_caller_id_prefers_the_area_code_then_the_state_then_the_default():
    owned = ["+13035550111", "+17195550122", "+14155550133"]
    assert choose_caller_id("+13035550100", owned, "+12025550000") == ("+13035550111", "area code")
    assert choose_caller_id("+19705550100", owned, "+12025550000") == ("+13035550111", "state")  # Colorado
    assert choose_caller_id("+16175550100", owned, "+12025550000") == ("+13035550111", "country")
    assert choose_caller_id("+442079460018", owned, "+12025550000") == ("+12025550000", "default")


def test_the_call_records_the_caller_id_chosen(leads, sandbox):
    config = PhoneConfig(callers=[Caller(user_id="ana", caller_id="+12125550000",
                                         numbers=["+13035550111", "+14155550133"])])
    phone = TwilioPhone(contacts=leads, fields=["mobile", "office"], backend=sandbox, config=config)
    try:
        phone.place_call(ADA)
        assert phone.call["caller_id"] == "+14155550133" and phone.call["caller_id_choice"] == "area code"
        assert phone.call["override"] == ""
    finally:
        phone.close()
