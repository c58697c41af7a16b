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


def bridged_phone(spec_backend, spec_api, **rules):
    phone = phone_on(spec_backend, bridge=True)
    phone.config = PhoneConfig(**{**vars(phone.config), "rules": {**ANY_HOUR, **rules}})
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
