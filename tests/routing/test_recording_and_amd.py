"""The routing service records the browser's calls to leads as the consent rules decide (the
announcement whispered to the lead first where every party must consent), keeps the recording
with the call, and passes answering-machine detection's verdict on to the phone."""

from __future__ import annotations

from dataclasses import replace

import pytest
from routing_helpers import ACCOUNT, LEAD, PUBLIC_URL, Recorder, Twilio, make_settings
from starlette.testclient import TestClient
from test_twiml_flows import outgoing_params, verbs, xml

from twilio_widget.config.recording import RecordingSettings
from twilio_widget.routing import Store, create_app

CALIFORNIA = "+14155550199"  # LEAD: San Francisco, all-party
TEXAS = "+15125550100"  # Austin, one-party
LEAD_LEG = "CA" + "9" * 32


def recording_service(tmp_path, hub=None, **recording):
    settings = make_settings(tmp_path)
    rules = replace(settings.rules, recording=RecordingSettings(enabled=True, **recording),
                    answering_machine_detection=True)
    settings = settings.with_(rules=rules)
    store = Store(settings.store_path)
    return settings, store, TestClient(create_app(settings, store, hub), raise_server_exceptions=True)


@pytest.fixture
def service(tmp_path, hub):
    settings, store, client = recording_service(tmp_path, hub)
    with store, client:
        yield Twilio(client), store


def dial_of(root):
    (dial,) = [child for child in root if child.tag == "Dial"]
    return dial, dial.find("Number")


def test_an_all_party_lead_is_recorded_after_hearing_the_announcement(service) -> None:
    twilio, _ = service
    dial, number = dial_of(xml(twilio.post("/voice/outgoing", outgoing_params(CALIFORNIA))))
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == PUBLIC_URL + "/status/recording"
    assert number.get("url") == PUBLIC_URL + "/voice/recording-notice" and number.text == CALIFORNIA
    notice = xml(twilio.post("/voice/recording-notice", {"CallSid": LEAD_LEG, "AccountSid": ACCOUNT}))
    assert verbs(notice) == ["Say"] and notice[0].text == "This call may be recorded."


def test_a_one_party_lead_is_recorded_without_an_announcement(service) -> None:
    twilio, _ = service
    dial, number = dial_of(xml(twilio.post("/voice/outgoing", outgoing_params(TEXAS))))
    assert dial.get("record") == "record-from-answer-dual" and number.get("url") is None


def test_skip_leaves_an_all_party_lead_unrecorded_and_a_url_is_played(tmp_path) -> None:
    settings, store, client = recording_service(tmp_path, all_party_consent="skip",
                                                announcement="https://example.com/notice.mp3")
    with store, client:
        twilio = Twilio(client)
        dial, number = dial_of(xml(twilio.post("/voice/outgoing", outgoing_params(CALIFORNIA))))
        assert dial.get("record") is None and number.get("url") is None
        assert dial_of(xml(twilio.post("/voice/outgoing", outgoing_params(TEXAS))))[0].get("record")
        notice = xml(twilio.post("/voice/recording-notice", {"CallSid": LEAD_LEG, "AccountSid": ACCOUNT}))
    assert verbs(notice) == ["Play"] and notice[0].text == "https://example.com/notice.mp3"


def test_recording_is_off_by_default(twilio: Twilio) -> None:
    dial, number = dial_of(xml(twilio.post("/voice/outgoing", outgoing_params(LEAD))))
    assert dial.get("record") is None and number.get("url") is None and number.get("machineDetection") is None


def test_a_call_recording_is_kept_with_its_call_and_not_mailed_as_a_voicemail(service) -> None:
    twilio, store = service
    call_sid = outgoing_params(CALIFORNIA)["CallSid"]
    params = {"AccountSid": ACCOUNT, "CallSid": call_sid, "RecordingSid": "RE" + "4" * 32,
              "RecordingStatus": "completed", "RecordingUrl": "https://api.twilio.com/rec/RE4",
              "RecordingDuration": "42", "RecordingChannels": "2", "RecordingSource": "DialVerb"}
    assert twilio.post("/status/recording", params).status_code == 200
    (row,) = store.recordings(call_sid)
    assert row["source"] == "DialVerb" and row["channels"] == 2 and row["duration"] == 42
    assert store.mail_all() == []


def test_machine_detection_asks_for_the_greetings_end_and_its_verdict_reaches_the_phone(service, hub) -> None:
    twilio, store = service
    recorder = Recorder(hub)
    _, number = dial_of(xml(twilio.post("/voice/outgoing", outgoing_params(TEXAS))))
    assert number.get("machineDetection") == "DetectMessageEnd"
    assert number.get("amdStatusCallback") == PUBLIC_URL + "/status/amd"
    parent = outgoing_params(TEXAS)["CallSid"]
    answered = {"AccountSid": ACCOUNT, "CallSid": LEAD_LEG, "CallStatus": "in-progress", "ParentCallSid": parent,
                "To": TEXAS, "Direction": "outbound-dial"}
    assert twilio.post("/status/call", answered).status_code == 200
    verdict = {"AccountSid": ACCOUNT, "CallSid": LEAD_LEG, "AnsweredBy": "machine_end_beep",
               "MachineDetectionDuration": "4100"}
    assert twilio.post("/status/amd", verdict).status_code == 200
    assert twilio.post("/status/amd", verdict).status_code == 200  # Twilio's retry: no second event
    calls = [e.record for e in recorder.events if e.kind == "call"]
    assert [c["answered_by"] for c in calls] == [None, "machine_end_beep"]
    assert calls[-1]["parent_call_sid"] == parent and calls[-1]["status"] == "in-progress"
    assert store.call(LEAD_LEG)["answered_by"] == "machine_end_beep"
    bad = twilio.post("/status/amd", {**verdict, "AnsweredBy": "robot"})
    assert bad.status_code == 400 and "AnsweredBy" in bad.text
