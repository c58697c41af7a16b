"""phone.serve(): the routing service in the notebook's kernel, its events on the open panel."""

from __future__ import annotations

import time

import httpx
import pytest
from routing_helpers import free_port, smtp_server
from twilio.request_validator import RequestValidator

from twilio_widget import TwilioError, TwilioPhone
from twilio_widget.config import Caller, PhoneConfig

PUBLIC_URL = "https://tunnel.example.com"
TOKEN = "0123456789abcdef" * 2  # a made-up auth token: the service checks signatures with it


@pytest.fixture
def serving_phone(leads, sandbox, database):
    config = PhoneConfig(account_sid="AC" + "0" * 32, auth_token=TOKEN,
                         callers=[Caller(user_id="analyst", caller_id="+15005550006")])
    phone = TwilioPhone(leads, ["mobile", "office"], name="name", backend=sandbox, config=config, mode="sandbox")
    handle = phone.serve(PUBLIC_URL, port=0, store_path=str(database))
    yield phone, handle
    phone.close()
    assert not handle.running


def post(handle, path: str, params: dict[str, str], token: str = TOKEN) -> httpx.Response:
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, params)
    return httpx.post(handle.url + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=5)


def eventually(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the panel never caught up"
        time.sleep(0.02)


def test_inbound_sms_reaches_the_open_thread(serving_phone):
    phone, handle = serving_phone
    response = post(handle, "/sms/incoming", {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32,
                                              "From": "+14155550100", "To": "+15005550006",
                                              "Body": "Are you free at 3?"})
    assert response.status_code == 200
    eventually(lambda: phone.thread and phone.thread[-1]["body"] == "Are you free at 3?")
    assert phone.thread[-1]["direction"] == "inbound"


def test_forged_request_changes_nothing_on_the_panel(serving_phone):
    phone, handle = serving_phone
    before = list(phone.thread)
    response = post(handle, "/sms/incoming", {"MessageSid": "SM" + "2" * 32, "From": "+14155550100",
                                              "To": "+15005550006", "Body": "forged"}, token="f" * 32)
    assert response.status_code == 403
    time.sleep(0.2)
    assert phone.thread == before


def test_stop_blocks_sending_from_the_panel(serving_phone, sandbox):
    phone, handle = serving_phone
    post(handle, "/sms/incoming", {"MessageSid": "SM" + "3" * 32, "AccountSid": "AC" + "0" * 32,
                                   "From": "+14155550100", "To": "+15005550006", "Body": "STOP"})
    before = len(sandbox.messages())
    response = phone.cmd_send_message({"body": "Hello again"})
    assert not response["ok"] and response["error"]["code"] == 21610
    assert len(sandbox.messages()) == before


def test_delivery_callbacks_update_the_thread(serving_phone):
    phone, handle = serving_phone
    sent = phone.send_message("See you Thursday")
    post(handle, "/status/message", {"MessageSid": sent["sid"], "AccountSid": "AC" + "0" * 32,
                                     "MessageStatus": "undelivered", "ErrorCode": "30003",
                                     "From": "+15005550006", "To": "+14155550100"})
    eventually(lambda: phone.thread[-1]["status"] == "undelivered")
    assert phone.thread[-1]["error_code"] == 30003


def test_only_one_service_at_a_time(serving_phone):
    phone, handle = serving_phone
    with pytest.raises(RuntimeError, match="already serving"):
        phone.serve(PUBLIC_URL, port=0)


def test_a_failed_send_waits_in_the_outbox(serving_phone, sandbox, monkeypatch):
    phone, handle = serving_phone

    def unavailable(*args, **kwargs):
        raise TwilioError("Service unavailable", code=20503, status=503)

    monkeypatch.setattr(sandbox, "send_message", unavailable)
    response = phone.cmd_send_message({"body": "Quote attached"})
    assert response["error"]["code"] == 20503
    waiting = phone.outbox()
    assert list(waiting["body"]) == ["Quote attached"] and list(waiting["error_code"]) == [20503]
    assert phone.retry_outbox() == {"sent": 0, "failed": 1, "blocked": 0}
    assert len(phone.outbox()) == 1  # still there, with its error, for a later try


def test_a_body_twilio_would_refuse_never_waits_in_the_outbox(serving_phone):
    phone, handle = serving_phone
    too_long = "x" * 1601  # refused before sending, with Twilio's code for it (21617)
    response = phone.cmd_send_message({"body": too_long})
    assert response["error"]["code"] == 21617 and "body" in response["error"]["message"]
    assert len(phone.outbox()) == 0  # no retry could ever send it


def mailing_phone(leads, sandbox, **options) -> TwilioPhone:
    config = PhoneConfig(account_sid="AC" + "0" * 32, auth_token=TOKEN, callers=[
        Caller(user_id="analyst", caller_id="+15005550006", client_mail="analyst@example.com")], **options)
    return TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="sandbox")


def inbound_sms(handle, sid: str = "SM" + "4" * 32) -> httpx.Response:
    return post(handle, "/sms/incoming", {"MessageSid": sid, "AccountSid": "AC" + "0" * 32,
                                          "From": "+14155550100", "To": "+15005550006", "Body": "Call me back"})


def test_smtp_given_to_serve_mails_an_inbound_sms(leads, sandbox, database, smtp):
    smtp_settings, inbox = smtp
    phone = mailing_phone(leads, sandbox)
    handle = phone.serve(PUBLIC_URL, port=0, store_path=str(database),
                         smtp={"host": "127.0.0.1", "port": smtp_settings.port, "sender": "phone@example.org"})
    try:
        assert inbound_sms(handle).status_code == 200
        (mail,) = inbox.wait(1)
        assert mail["to"] == ["analyst@example.com"] and "Call me back" in mail["data"]
    finally:
        phone.close()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # a loopback test server
def test_smtp_in_the_config_is_retried_from_the_store_until_it_goes_out(leads, sandbox, database):
    port = free_port()
    phone = mailing_phone(leads, sandbox, smtp={"host": "127.0.0.1", "port": port, "sender": "phone@example.org",
                                                "username": "phone", "password": "smtp-secret", "timeout": 2})
    assert "smtp-secret" not in repr(phone.config) + repr(phone.data_model)
    handle = phone.serve(PUBLIC_URL, port=0, store_path=str(database), mail_retry_seconds=0.2)
    try:
        assert inbound_sms(handle).status_code == 200  # answered while the SMTP server is down
        eventually(lambda: [m for m in handle.store.mail_all() if m["last_error"]])
        with smtp_server(port, login=("phone", "smtp-secret")) as inbox:  # back: no new webhook, no restart
            (mail,) = inbox.wait(1, timeout=10)
        assert mail["to"] == ["analyst@example.com"]
        eventually(lambda: handle.store.mail_all()[0]["sent_at"])
    finally:
        phone.close()


def test_the_outbox_needs_the_service(leads, sandbox):
    phone = TwilioPhone(leads, ["mobile"], backend=sandbox)
    with pytest.raises(RuntimeError, match="phone.serve"):
        phone.outbox()
