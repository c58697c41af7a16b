"""The voicemail drop on the sandbox: one command leaves the recorded message, the lead's leg
plays it and hangs up, and the call says the message was left."""

from __future__ import annotations

import pytest

from tests.phone_helpers import command
from twilio_widget import TwilioPhone
from twilio_widget.backends.base import TwilioError
from twilio_widget.config import ConfigError, PhoneConfig

MESSAGE = "https://example.com/drop.mp3"


@pytest.fixture
def dropping(leads, sandbox):
    config = PhoneConfig(rules={"voicemail_drop_url": MESSAGE})
    phone = TwilioPhone(contacts=leads, fields=["mobile", "office"], backend=sandbox, config=config)
    yield phone
    phone.close()


def test_one_click_leaves_the_message_and_frees_the_user(dropping, sandbox):
    dropping.place_call()
    with pytest.raises(TwilioError, match="no answered outgoing call"):
        dropping.drop_voicemail()  # still ringing
    sandbox.advance(sandbox.ring_seconds)
    assert dropping.call["status"] == "in-progress"
    response = command(dropping, "cmd_drop_voicemail")
    assert response["ok"] and response["call"]["voicemail_dropped"] is True
    assert sandbox.voicemail_drops == [{"call_sid": dropping.call["sid"], "url": MESSAGE}]
    sandbox.advance(sandbox.message_seconds)
    assert dropping.call["status"] == "completed" and dropping.call["voicemail_dropped"] is True


def test_without_a_message_the_drop_names_the_option(phone, sandbox):
    phone.place_call()
    sandbox.advance(sandbox.ring_seconds)
    with pytest.raises(ConfigError, match="rules.voicemail_drop_url"):
        phone.drop_voicemail()


def test_a_bad_message_url_is_refused_by_the_config():
    with pytest.raises(ConfigError, match="rules.voicemail_drop_url"):
        PhoneConfig(rules={"voicemail_drop_url": "ftp://example.com/x.mp3"})
    with pytest.raises(ConfigError, match="rules: unknown option"):
        PhoneConfig(rules={"record": True})
