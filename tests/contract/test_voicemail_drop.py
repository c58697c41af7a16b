"""Voicemail drop and answering-machine detection, as requests Twilio's OpenAPI description
accepts: the lead's leg redirected by a Calls update carrying TwiML (<Play>, <Hangup>), and the
bridge's lead dialled with machine detection that waits for the greeting's end."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contract_helpers import ACCOUNT_SID
from test_voice_setup import ANY_HOUR, example, phone_on, posts
from twilio.twiml.voice_response import VoiceResponse

from twilio_widget.config import PhoneConfig
from twilio_widget.voice import MACHINE_DETECTION

MESSAGE = "https://example.com/voicemail-drop.mp3"
LEAD_LEG = "CA" + "7" * 32


def test_the_spec_knows_the_machine_detection_we_ask_for(spec):
    create = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Calls.json"]["post"]
    form = create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]
    # The spec gives no enum, only the documented values in prose; ours is one of them.
    assert form["MachineDetection"]["type"] == "string" and MACHINE_DETECTION in form["MachineDetection"]["description"]
    update = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json"]["post"]
    assert "Twiml" in update["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]


def bridged_phone(spec_backend, spec_api, *, call: bool = True, **rules):
    phone = phone_on(spec_backend, bridge=True)
    phone.config = PhoneConfig(**{**vars(phone.config), "rules": {**ANY_HOUR, **rules}})
    if call:
        assert phone.cmd_call({})["ok"]
    return phone


def test_a_bridged_lead_is_dialled_with_machine_detection(spec_backend, spec_api):
    phone = bridged_phone(spec_backend, spec_api, answering_machine_detection=True)
    create = posts(spec_api)[0]
    number = ET.fromstring(create["data"]["Twiml"]).find("Dial/Number")
    assert number.get("machineDetection") == MACHINE_DETECTION and number.text == "+14155550100"
    phone.close()


def test_the_voicemail_drop_redirects_the_leads_leg_with_play_and_hangup(spec_backend, spec_api):
    phone = bridged_phone(spec_backend, spec_api, voicemail_drop_url=MESSAGE)
    sid = phone.call["sid"]
    leg = {**example(spec_api, "GET", f"/Calls/{sid}.json"), "sid": LEAD_LEG, "parent_call_sid": sid,
           "status": "in-progress", "answered_by": "machine_end_beep"}
    phone._calls.current.on_call_record(spec_backend.call_status(sid) | {"status": "in-progress"})
    spec_api.handle("GET", f"/Calls/{LEAD_LEG}.json", lambda _: (200, leg))
    phone._calls.current.on_call_record(spec_backend.call_status(LEAD_LEG))
    assert phone.call["answered_by"] == "machine_end_beep"
    response = phone.cmd_drop_voicemail({})
    assert response["ok"], response
    update = posts(spec_api)[-1]
    assert update["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{LEAD_LEG}.json"
    expected = VoiceResponse()
    expected.play(MESSAGE)
    expected.hangup()
    assert update["data"] == {"Twiml": str(expected)}
    assert phone.call["voicemail_dropped"] is True
    phone.close()


def test_a_bridged_recorded_call_whispers_the_announcement_and_reports_amd_to_the_service(spec_backend, spec_api,
                                                                                          tmp_path):
    phone = bridged_phone(spec_backend, spec_api, call=False, answering_machine_detection=True,
                          recording={"enabled": True})
    hooks = "https://hooks.example.com/twilio"
    phone.serve(public_url=hooks, port=0, store_path=str(tmp_path / "service.sqlite3"))
    try:
        response = phone.cmd_call({})  # Ada, in San Francisco: every party must consent
        assert response["ok"], response
        assert phone.call["recording"]["announce"] and phone.call["recording"]["place"] == "US-CA"
        dial = ET.fromstring(posts(spec_api)[0]["data"]["Twiml"]).find("Dial")  # the create call passed the spec
        number = dial.find("Number")
        assert dial.get("record") == "record-from-answer-dual"
        assert dial.get("recordingStatusCallback") == hooks + "/status/recording"
        assert number.get("url") == hooks + "/voice/recording-notice"
        assert number.get("machineDetection") == MACHINE_DETECTION and number.get("amdStatusCallback") == hooks + (
            "/status/amd")
    finally:
        phone.close()


def test_without_a_routing_service_a_bridged_all_party_lead_is_not_recorded(spec_backend, spec_api):
    phone = bridged_phone(spec_backend, spec_api, recording={"enabled": True})
    dial = ET.fromstring(posts(spec_api)[0]["data"]["Twiml"]).find("Dial")
    assert dial.get("record") is None and dial.find("Number").get("url") is None
    assert not phone.call["recording"]["record"]
    phone.close()
