"""Browser calling's account set-up and bridge mode, held to Twilio's API contract: every
request is validated against the OpenAPI description by the in-process ``spec_api``.
Error bodies are Twilio-shaped, written by these tests."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from contract_helpers import ACCOUNT_SID, AUTH_TOKEN, twilio_error_body
from IPython.lib.pretty import pretty
from twilio.twiml.voice_response import VoiceResponse

from twilio_widget import TwilioPhone
from twilio_widget.config import Caller, PhoneConfig

pytestmark = pytest.mark.contract

KEY = "SK" + "1" * 32
APP = "AP" + "2" * 32
VOICE_URL = "https://hooks.example.com/voice/outgoing"


#: These tests are about the requests' shape, at any hour of the day they run.
ANY_HOUR = {"calling_hours": {"default": "0:00-24:00"}}


def phone_on(backend, *, bridge: bool = False, **options) -> TwilioPhone:
    config = PhoneConfig(account_sid=ACCOUNT_SID, auth_token="0123456789abcdef" * 2,
                         callers=[Caller(user_id="analyst", caller_id="+14155550123")], rules=ANY_HOUR, **options)
    leads = pd.DataFrame({"name": ["Ada"], "mobile": ["+1 415 555 0100"]})
    calling = {"mode": "bridge", "bridge_to": "+12025550143"} if bridge else {}
    return TwilioPhone(leads, ["mobile"], name="name", backend=backend, config=config, **calling)


def posts(spec_api) -> list[dict]:
    return [r for r in spec_api.requests if r["method"] == "POST"]


def setup_requests(spec_api) -> list[dict]:
    """What set-up asked for (the panel's own history requests left out)."""
    return [r for r in spec_api.requests if r["path"].split("/")[-2] in ("Keys", "Applications")
            or r["path"].endswith(("Keys.json", "Applications.json"))]


def test_setup_reports_what_is_missing_and_creates_nothing(spec_backend, spec_api):
    report = phone_on(spec_backend).setup()
    assert [(s.what, s.status) for s in report.steps] == [("API key", "missing"), ("TwiML App", "missing")]
    assert not report.ready
    assert posts(spec_api) == []


def example(spec_api, method: str, path: str) -> dict:
    return spec_api.operation(method, f"/2010-04-01/Accounts/{ACCOUNT_SID}{path}").example()[1]


def test_setup_creates_the_key_and_app_when_asked(spec_backend, spec_api):
    # The spec's example secret is a placeholder ("foobar"); Twilio's are 32 characters.
    new_key = {**example(spec_api, "POST", "/Keys.json"), "secret": "Qw" * 16}
    spec_api.handle("POST", "/Keys.json", lambda _: (201, new_key))
    phone = phone_on(spec_backend)
    report = phone.setup(create=True, voice_url=VOICE_URL)
    assert [s.status for s in report.steps] == ["created", "created"]
    key_post, app_post = posts(spec_api)
    assert key_post["path"].endswith(f"/Accounts/{ACCOUNT_SID}/Keys.json")
    assert app_post["path"].endswith(f"/Accounts/{ACCOUNT_SID}/Applications.json")
    assert app_post["data"]["VoiceUrl"] == VOICE_URL and app_post["data"]["VoiceMethod"] == "POST"
    # The new SIDs (the spec's examples) and the key's secret now configure the phone.
    assert phone.config.api_key_sid.startswith("SK") and phone.config.app_sid.startswith("AP")
    assert phone.config.api_key_secret
    assert phone.config.api_key_secret not in str(report) + repr(phone.config)


def test_a_new_keys_secret_is_shown_once_and_nowhere_else(spec_backend, spec_api, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Qw" * 16
    new_key = {**example(spec_api, "POST", "/Keys.json"), "secret": secret}
    spec_api.handle("POST", "/Keys.json", lambda _: (201, new_key))
    phone = phone_on(spec_backend)
    report = phone.setup(create=True, voice_url=VOICE_URL)
    shown, again = pretty(report), pretty(report)  # what the notebook displays, twice
    assert secret in shown and "TWILIO_API_SECRET" in shown
    assert secret not in again and "TWILIO_API_SECRET" in again
    elsewhere = [str(report), repr(report), repr(phone), json.dumps(phone.get_state(), default=str), caplog.text]
    assert not [text for text in elsewhere if secret in text]
    assert phone.config.api_key_secret == secret  # the phone uses it at once


def test_setup_checks_existing_resources(spec_backend, spec_api):
    app = {**example(spec_api, "GET", f"/Applications/{APP}.json"), "sid": APP,
           "voice_url": "https://old.example.com/voice"}
    spec_api.handle("GET", f"/Applications/{APP}.json", lambda _: (200, app))
    phone = phone_on(spec_backend, api_key_sid=KEY, api_key_secret="Zx" * 16, app_sid=APP)
    report = phone.setup(voice_url=VOICE_URL)
    assert [(s.what, s.status) for s in report.steps] == [("API key", "ok"), ("TwiML App", "mismatch")]
    assert "https://old.example.com/voice" in str(report)
    assert [r["method"] for r in setup_requests(spec_api)] == ["GET", "GET"]


def test_setup_reports_twilios_refusal(spec_backend, spec_api):
    # Twilio-shaped error body, written by this test.
    spec_api.script("GET", f"/Keys/{KEY}.json", (401, twilio_error_body(20003, "Authenticate", 401)))
    report = phone_on(spec_backend, api_key_sid=KEY, api_key_secret="Zx" * 16).setup()
    assert report.steps[0].status == "failed" and "20003" in report.steps[0].detail
    assert AUTH_TOKEN not in str(report)


def test_setup_needs_an_account(leads, sandbox):
    phone = TwilioPhone(leads, ["mobile"], backend=sandbox)
    with pytest.raises(Exception, match="not the sandbox"):
        phone.setup()


def test_bridge_call_is_a_valid_create_call_with_inline_twiml(spec_backend, spec_api):
    phone = phone_on(spec_backend, bridge=True)
    response = phone.cmd_call({})
    assert response["ok"], response
    create = posts(spec_api)[0]
    assert create["path"].endswith(f"/Accounts/{ACCOUNT_SID}/Calls.json")
    assert create["data"]["To"] == "+12025550143" and create["data"]["From"] == "+14155550123"
    expected = VoiceResponse()
    expected.say("Connecting your call.")
    expected.dial(caller_id="+14155550123", timeout=30).number("+14155550100")
    assert create["data"]["Twiml"] == str(expected)
    sid = phone.call["sid"]
    answered = {**example(spec_api, "GET", f"/Calls/{sid}.json"), "sid": sid, "status": "in-progress"}
    spec_api.handle("GET", f"/Calls/{sid}.json", lambda _: (200, answered))
    phone.call = {**phone.call, "status": "in-progress"}
    phone.hang_up()
    end = posts(spec_api)[1]
    assert end["path"].endswith(f"/Calls/{sid}.json") and end["data"]["Status"] == "completed"
    phone.close()
