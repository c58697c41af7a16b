"""One rule per check: each rule says what is wrong, and every place that validates agrees with it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twilio_widget import checks
from twilio_widget.config import ConfigError, PhoneConfig
from twilio_widget.routing import RoutingSettings
from twilio_widget.vocabulary import MAX_BODY_CHARS
from twilio_widget.voice import identity_for

HEX32 = "0123456789abcdef" * 2
PUBLIC_URL = "https://hooks.example.com/twilio"


def test_numbers_are_the_contacts_parser_s_verdict():
    assert checks.number_problem("(415) 555-0100") is None
    assert checks.number_problem("555") == "'555' is not a valid phone number (too short)"
    assert checks.number_problem("") == "'' is not a valid phone number (blank)"
    assert checks.e164_problem("+14155550100") is None
    assert "is not an E.164 number" in checks.e164_problem("4155550100")
    assert checks.e164_problem("+1415555010") == "'+1415555010' is not a valid phone number (too short)"


@pytest.mark.parametrize("kind", sorted(checks.SID_KINDS))
def test_a_sid_is_its_prefix_and_32_hex_digits(kind):
    prefixes, what = checks.SID_KINDS[kind]
    for prefix in prefixes:
        assert checks.sid_problem(prefix + HEX32, kind) is None
        assert checks.sid_problem(prefix + HEX32[:-1], kind) is not None
    problem = checks.sid_problem("XX" + HEX32, kind)
    assert what in problem and all(repr(p) in problem for p in prefixes)
    assert checks.sid_problem(None, kind) is not None


def test_a_secret_s_problem_tells_its_shape_never_its_value():
    assert checks.secret_problem(HEX32, "auth_token") is None
    problem = checks.secret_problem("hunter2-hunter2", "auth_token")
    assert "hunter2" not in problem and "15 characters" in problem


@given(st.text(min_size=1, max_size=121))
def test_every_identity_the_phone_registers_under_passes_the_identity_rule(user_id):
    try:
        identity = identity_for(user_id)
    except ConfigError:
        return
    assert checks.identity_problem(identity) is None


@pytest.mark.parametrize("identity", ["ada.l", "a b", "", "x" * 122, None])
def test_identities_twilio_would_refuse(identity):
    assert "is not a client identity" in checks.identity_problem(identity)


def test_a_body_is_some_text_within_twilio_s_limit():
    assert checks.body_problem("x" * MAX_BODY_CHARS) is None
    assert checks.body_problem(" \n") == "the message is empty"
    assert checks.body_problem("x" * 1601) == "1601 characters; Twilio accepts at most 1600"


@pytest.mark.parametrize("url", ["https://example.com/vm.mp3", "http://127.0.0.1:8080/x", "http://[::1]:8000"])
def test_web_urls(url):
    assert checks.url_problem(url) is None


@pytest.mark.parametrize("url", ["ftp://example.com/a.mp3", "javascript:alert(1)", "dsfssdg@gmail.com",
                                 "https://exa mple.com", "http://[::1", "https://-bad-.com", None])
def test_what_is_not_a_web_url(url):
    assert "is not an http(s) URL" in checks.url_problem(url)


def accepted_by_the_config(sip_domain: str) -> bool:
    try:
        PhoneConfig(sip_domain=sip_domain)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize(("host", "ok"), [("acme.sip.twilio.com", True), ("localhost", True), ("mail.", True),
                                          ("sdhkui&89a7ihween", False), ("-a.example.com", False),
                                          ("a" * 64 + ".com", False)])
def test_the_sip_domain_the_config_accepts_is_the_one_the_service_dials(tmp_path, host, ok):
    assert (checks.host_problem(host) is None) is ok
    assert accepted_by_the_config(host) is ok
    settings = RoutingSettings(PUBLIC_URL, auth_token=HEX32, sip_domain=host, store_path=tmp_path / "s.sqlite3")
    assert (settings.usable_sip_domain == host) is ok


def test_mail_addresses():
    assert checks.email_problem("ada@example.com") is None
    assert checks.email_problem("ada@localhost") is not None  # a user's mailbox has a domain
    assert checks.sender_problem("phone@localhost") is None  # a sender need not
    assert checks.sender_problem("no at sign") is not None
