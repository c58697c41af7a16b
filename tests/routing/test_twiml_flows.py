"""Every call-flow step, asserted on the TwiML the service returns (parsed as XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from routing_helpers import ALICE, BOB, LEAD, PUBLIC_URL, Twilio, make_settings
from starlette.testclient import TestClient

from twilio_widget.routing import Store, create_app
from twilio_widget.routing.twiml import DIAL_CALL_STATUSES

NOT_ANSWERED = [s for s in DIAL_CALL_STATUSES if s not in ("completed", "answered")]


def xml(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def incoming_params(status: str | None = None, **extra: str) -> dict[str, str]:
    params = {
        "CallSid": "CA" + "1" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": LEAD,
        "To": ALICE,
        "Direction": "inbound",
        "CallStatus": "in-progress",
    }
    if status is not None:
        params["DialCallStatus"] = status
    params.update(extra)
    return params


def assert_voicemail(
    root: ET.Element,
    *,
    play: str | None = "https://example.com/voicemail.mp3",
    max_length: str = "90",
) -> None:
    if play:
        assert verbs(root) == ["Play", "Record", "Hangup"]
        assert root[0].text == play
    else:
        assert verbs(root) == ["Say", "Record", "Hangup"]
        assert "message" in root[0].text
    record = root[1]
    assert record.get("maxLength") == max_length
    assert record.get("playBeep") == "true"
    assert record.get("recordingStatusCallback") == f"{PUBLIC_URL}/status/recording"
    assert record.get("action") == f"{PUBLIC_URL}/voice/voicemail/after-record"


# --- outgoing ------------------------------------------------------------------------------


def outgoing_params(to: str, **extra: str) -> dict[str, str]:
    return {
        "CallSid": "CA" + "2" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "client:alice",
        "To": to,
        "Direction": "inbound",
        **extra,
    }


def test_outgoing_dials_the_number_with_the_users_caller_id(twilio: Twilio) -> None:
    root = xml(twilio.post("/voice/outgoing", outgoing_params("(415) 555-0199")))
    assert verbs(root) == ["Dial"]
    dial = root[0]
    assert dial.get("callerId") == ALICE
    assert dial.get("answerOnBridge") == "true"
    (number,) = list(dial)
    assert number.tag == "Number" and number.text == LEAD
    assert number.get("statusCallback") == f"{PUBLIC_URL}/status/call"
    assert number.get("statusCallbackEvent") == "initiated ringing answered completed"


def test_outgoing_accepts_the_users_own_caller_id_param(twilio: Twilio) -> None:
    root = xml(twilio.post("/voice/outgoing", outgoing_params(LEAD, CallerId=ALICE)))
    assert root[0].get("callerId") == ALICE


def test_outgoing_refuses_someone_elses_caller_id(twilio: Twilio) -> None:
    root = xml(twilio.post("/voice/outgoing", outgoing_params(LEAD, CallerId=BOB)))
    assert verbs(root) == ["Say", "Hangup"]
    assert "caller ID" in root[0].text


def test_outgoing_unknown_identity_without_caller_id_says_so(twilio: Twilio) -> None:
    root = xml(twilio.post("/voice/outgoing", outgoing_params(LEAD, From="client:mallory")))
    assert verbs(root) == ["Say", "Hangup"]


def test_a_users_preflight_test_hears_a_short_call_that_ends(twilio: Twilio) -> None:
    params = {k: v for k, v in outgoing_params("").items() if k != "To"}  # the SDK's test sends no number
    root = xml(twilio.post("/voice/outgoing", params))
    assert verbs(root) == ["Say", "Pause", "Hangup"]
    assert root[1].get("length") == "10"


def test_outgoing_unknown_identity_may_use_a_configured_caller_id(twilio: Twilio) -> None:
    root = xml(twilio.post("/voice/outgoing", outgoing_params(LEAD, From="client:x", CallerId=BOB)))
    assert root[0].get("callerId") == BOB


@pytest.mark.parametrize(
    "to",
    ["12", "not a number", "+1 555", "sip:x@evil.example.net", "client:mallory", "+999123456789"],
)
def test_outgoing_bad_target_says_so_and_hangs_up(twilio: Twilio, to: str) -> None:
    root = xml(twilio.post("/voice/outgoing", outgoing_params(to)))
    assert verbs(root) == ["Say", "Hangup"]
    assert "not a valid" in root[0].text


def test_outgoing_to_another_user_and_to_the_sip_domain(twilio: Twilio) -> None:
    root = xml(twilio.post("/voice/outgoing", outgoing_params("client:bob")))
    assert root[0][0].tag == "Client" and root[0][0].text == "bob"
    root = xml(twilio.post("/voice/outgoing", outgoing_params("sip:desk@acme.sip.twilio.com")))
    assert root[0][0].tag == "Sip" and root[0][0].text == "sip:desk@acme.sip.twilio.com"


def test_outgoing_missing_to_is_a_bad_request(twilio: Twilio) -> None:
    params = outgoing_params(LEAD, From="client:mallory")  # a user's own is a preflight test (above)
    del params["To"]
    response = twilio.post("/voice/outgoing", params)
    assert response.status_code == 400
    assert "To: missing" in response.text


# --- incoming ------------------------------------------------------------------------------


def test_incoming_rings_the_users_browser_first(twilio: Twilio, store: Store, recorder) -> None:
    root = xml(twilio.post("/voice/incoming", incoming_params(CallStatus="ringing")))
    assert verbs(root) == ["Dial"]
    dial = root[0]
    assert dial.get("timeout") == "15"
    assert dial.get("action") == f"{PUBLIC_URL}/voice/incoming/after-client"
    (client,) = list(dial)
    assert client.tag == "Client" and client.text == "alice"
    call = store.call("CA" + "1" * 32)
    assert call["direction"] == "inbound" and call["from"] == LEAD and call["to"] == ALICE
    assert call["status"] == "ringing"
    assert recorder.kinds() == ["incoming_call"]
    assert recorder.events[0].record["user_id"] == "alice"
    assert recorder.events[0].record["from"] == LEAD


def test_incoming_to_an_unassigned_number(twilio: Twilio, store: Store) -> None:
    root = xml(twilio.post("/voice/incoming", incoming_params(To="+14155550142")))
    assert verbs(root) == ["Say", "Hangup"]
    assert store.count_events() == 0


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_after_client_answered_hangs_up(twilio: Twilio, status: str) -> None:
    root = xml(twilio.post("/voice/incoming/after-client", incoming_params(status)))
    assert verbs(root) == ["Hangup"]


@pytest.mark.parametrize("status", NOT_ANSWERED)
def test_after_client_not_answered_forwards_to_sip(twilio: Twilio, status: str) -> None:
    root = xml(twilio.post("/voice/incoming/after-client", incoming_params(status)))
    assert verbs(root) == ["Dial"]
    dial = root[0]
    assert dial.get("timeout") == "25"
    assert dial.get("action") == f"{PUBLIC_URL}/voice/incoming/after-sip"
    (sip,) = list(dial)
    assert sip.tag == "Sip" and sip.text == "sip:alice@acme.sip.twilio.com"


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_after_sip_answered_hangs_up(twilio: Twilio, status: str) -> None:
    root = xml(twilio.post("/voice/incoming/after-sip", incoming_params(status)))
    assert verbs(root) == ["Hangup"]


@pytest.mark.parametrize("status", NOT_ANSWERED)
def test_after_sip_not_answered_goes_to_voicemail(twilio: Twilio, status: str) -> None:
    assert_voicemail(xml(twilio.post("/voice/incoming/after-sip", incoming_params(status))))


@pytest.mark.parametrize("status", DIAL_CALL_STATUSES)
@pytest.mark.parametrize("sip_domain", [None, "", "sdhkui&89a7ihween"])
def test_without_a_usable_sip_domain_the_sip_step_is_skipped(tmp_path, status, sip_domain) -> None:
    settings = make_settings(tmp_path, sip_domain=sip_domain)
    with Store(settings.store_path) as store, TestClient(create_app(settings, store)) as client:
        root = xml(Twilio(client).post("/voice/incoming/after-client", incoming_params(status)))
    if status in ("completed", "answered"):
        assert verbs(root) == ["Hangup"]
    else:
        assert_voicemail(root)


@pytest.mark.parametrize("url", [None, "dsfssdg@gmail.com", "ftp://example.com/a.mp3"])
def test_voicemail_without_a_usable_audio_url_says_a_greeting(tmp_path, url) -> None:
    settings = make_settings(tmp_path, voice_mail_url=url)
    with Store(settings.store_path) as store, TestClient(create_app(settings, store)) as client:
        root = xml(Twilio(client).post("/voice/incoming/after-sip", incoming_params("no-answer")))
    assert_voicemail(root, play=None)


def test_after_record_hangs_up(twilio: Twilio) -> None:
    root = xml(
        twilio.post(
            "/voice/voicemail/after-record",
            incoming_params(RecordingUrl="https://api.twilio.com/x"),
        )
    )
    assert verbs(root) == ["Hangup"]


@pytest.mark.parametrize("path", ["/voice/incoming/after-client", "/voice/incoming/after-sip"])
@pytest.mark.parametrize("bad", [None, "", "ringing", "COMPLETED", "x" * 100])
def test_missing_or_unknown_dial_call_status_is_400(
    twilio: Twilio, store: Store, path, bad
) -> None:
    params = incoming_params(bad)
    response = twilio.post(path, params)
    assert response.status_code == 400
    assert "DialCallStatus" in response.text
    assert store.count_events() == 0


def test_a_full_unanswered_call_walks_every_step(twilio: Twilio) -> None:
    """Ring browser -> no answer -> ring SIP -> busy -> voicemail, as Twilio would walk it."""
    root = xml(twilio.post("/voice/incoming", incoming_params()))
    step = root[0].get("action").removeprefix(PUBLIC_URL)
    root = xml(twilio.post(step, incoming_params("no-answer")))
    step = root[0].get("action").removeprefix(PUBLIC_URL)
    assert step == "/voice/incoming/after-sip"
    root = xml(twilio.post(step, incoming_params("busy")))
    assert_voicemail(root)
    step = root[1].get("action").removeprefix(PUBLIC_URL)
    assert verbs(xml(twilio.post(step, incoming_params()))) == ["Hangup"]
