"""Signatures, bad input, large bodies: 403/400/413 with a reason, never 500, nothing stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import socket
import time
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from routing_helpers import ACCOUNT, ALICE, LEAD, PUBLIC_URL, TOKEN, Twilio, sign
from twilio.request_validator import RequestValidator

from twilio_widget.routing import Store, serve_in_thread
from twilio_widget.routing.server import ROUTES

CALL = {
    "CallSid": "CA" + "a" * 32,
    "AccountSid": ACCOUNT,
    "CallStatus": "completed",
    "From": ALICE,
    "To": LEAD,
    "Direction": "outbound-dial",
    "CallDuration": "42",
}
SMS = {
    "MessageSid": "SM" + "b" * 32,
    "AccountSid": ACCOUNT,
    "From": LEAD,
    "To": ALICE,
    "Body": "Hello there",
    "NumMedia": "0",
    "SmsStatus": "received",
}


def nothing_stored(store: Store) -> bool:
    return (
        store.count_events() == 0
        and not store.calls()
        and not store.messages()
        and not store.opt_outs()
        and not store.mail_all()
    )


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_unsigned_requests_are_refused_on_every_route(
    twilio: Twilio, store: Store, recorder, path: str
) -> None:
    response = twilio.post(path, {**CALL, **SMS, "DialCallStatus": "busy"}, signature="")
    assert response.status_code == 403
    assert nothing_stored(store)
    assert recorder.events == []


def test_forged_signature_is_refused(twilio: Twilio, store: Store) -> None:
    forged = RequestValidator("not-the-token").compute_signature(PUBLIC_URL + "/status/call", CALL)
    assert twilio.post("/status/call", CALL, signature=forged).status_code == 403
    assert twilio.post("/status/call", CALL, signature="garbage==").status_code == 403
    assert nothing_stored(store)


def test_replay_with_changed_params_is_refused(twilio: Twilio, store: Store) -> None:
    signature = sign(SMS, "/sms/incoming")
    changed = {**SMS, "Body": "STOP"}
    assert twilio.post("/sms/incoming", changed, signature=signature).status_code == 403
    added = {**SMS, "NumMedia": "1", "MediaUrl0": "https://evil.example/x"}
    assert twilio.post("/sms/incoming", added, signature=signature).status_code == 403
    moved = sign(SMS, "/sms/incoming")  # valid for /sms/incoming, replayed on another route
    assert (
        twilio.post(
            "/status/message", {**SMS, "MessageStatus": "failed"}, signature=moved
        ).status_code
        == 403
    )
    assert nothing_stored(store)
    # the untouched original is accepted, once
    assert twilio.post("/sms/incoming", SMS, signature=signature).status_code == 200
    assert twilio.post("/sms/incoming", SMS, signature=signature).status_code == 200
    assert store.count_events() == 1


def test_the_configured_public_url_counts_not_the_host_header(twilio: Twilio, store: Store) -> None:
    as_seen = RequestValidator(TOKEN).compute_signature("http://testserver/status/call", CALL)
    assert twilio.post("/status/call", CALL, signature=as_seen).status_code == 403
    proxied = {
        "X-Forwarded-Host": "hooks.example.com",
        "X-Forwarded-Proto": "https",
        "Host": "internal:8080",
    }
    assert twilio.post("/status/call", CALL, headers=proxied).status_code == 200
    with_port = RequestValidator(TOKEN).compute_signature(
        "https://hooks.example.com:443/twilio/status/call", CALL
    )
    assert (
        twilio.post(
            "/status/call", {**CALL, "CallStatus": "ringing"}, signature=with_port
        ).status_code
        == 403
    )  # params changed
    assert twilio.post("/status/call", CALL, signature=with_port).status_code == 200
    assert store.count_events() == 1


def test_the_query_string_is_part_of_the_signature(twilio: Twilio, store: Store) -> None:
    signature = sign(CALL, "/status/call", query="leg=child")
    assert (
        twilio.post("/status/call", CALL, query="leg=child", signature=signature).status_code == 200
    )
    assert (
        twilio.post(
            "/status/call",
            {**CALL, "CallStatus": "busy"},
            query="leg=parent",
            signature=sign({**CALL, "CallStatus": "busy"}, "/status/call", query="leg=child"),
        ).status_code
        == 403
    )
    assert store.count_events() == 1


def test_hmac_sha256_signatures_named_in_the_settings_header(twilio: Twilio, store: Store) -> None:
    data = PUBLIC_URL + "/status/call" + "".join(k + CALL[k] for k in sorted(CALL))
    digest = hmac.new(TOKEN.encode(), data.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=sk_1,algorithm=HMAC_SHA256"}
    assert twilio.post("/status/call", CALL, signature=signature, headers=header).status_code == 200
    assert store.count_events() == 1


def test_another_accounts_request_is_refused(twilio: Twilio, store: Store) -> None:
    other = {**CALL, "AccountSid": "AC" + "f" * 32}
    assert twilio.post("/status/call", other).status_code == 403
    assert nothing_stored(store)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({k: v for k, v in CALL.items() if k != "CallSid"}, "CallSid: missing"),
        ({**CALL, "CallStatus": ""}, "CallStatus: missing"),
        ({**CALL, "CallStatus": "exploded"}, "CallStatus: 'exploded' is not a known status"),
        ({**CALL, "CallDuration": "forty"}, "CallDuration: 'forty' is not an integer"),
        ({**CALL, "CallSid": "CA" + "x" * 100}, "CallSid: longer than 64 characters"),
    ],
)
def test_malformed_call_status_is_400_with_the_reason(
    twilio: Twilio, store: Store, params, reason
) -> None:
    response = twilio.post("/status/call", params)
    assert response.status_code == 400
    assert reason in response.text
    assert nothing_stored(store)


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        (
            "/sms/incoming",
            {k: v for k, v in SMS.items() if k != "MessageSid"},
            "MessageSid: missing",
        ),
        ("/sms/incoming", {k: v for k, v in SMS.items() if k != "From"}, "From: missing"),
        ("/sms/incoming", {**SMS, "NumMedia": "99"}, "NumMedia"),
        ("/sms/incoming", {**SMS, "NumMedia": "-"}, "NumMedia"),
        ("/status/message", {"MessageSid": "SM1", "AccountSid": ACCOUNT}, "MessageStatus: missing"),
        ("/status/message", {"MessageSid": "SM1", "MessageStatus": "lost"}, "not a known status"),
        (
            "/status/message",
            {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "x"},
            "ErrorCode",
        ),
        (
            "/status/message",
            {"MessageSid": "SM1", "MessageStatus": "delivered", "Price": "nan"},
            "Price: 'nan' is not a finite number",
        ),
        (
            "/status/recording",
            {"RecordingSid": "RE1", "CallSid": "CA1"},
            "RecordingStatus: missing",
        ),
        (
            "/status/recording",
            {"RecordingSid": "RE1", "CallSid": "CA1", "RecordingStatus": "completed"},
            "RecordingUrl: missing",
        ),
        (
            "/status/recording",
            {
                "RecordingSid": "RE1",
                "CallSid": "CA1",
                "RecordingStatus": "completed",
                "RecordingUrl": "javascript:alert(1)",
            },
            "RecordingUrl",
        ),
        ("/voice/incoming", {"To": ALICE}, "CallSid: missing"),
        ("/voice/voicemail/after-record", {}, "CallSid: missing"),
    ],
)
def test_malformed_params_elsewhere_are_400(
    twilio: Twilio, store: Store, path, params, reason
) -> None:
    response = twilio.post(path, params)
    assert response.status_code == 400, response.text
    assert reason in response.text
    assert nothing_stored(store)


def _raw(twilio: Twilio, path: str, body: bytes, content_type: str, signature: str = "x"):
    return twilio.client.post(
        path, content=body, headers={"Content-Type": content_type, "X-Twilio-Signature": signature}
    )


def test_unreadable_bodies_are_400(twilio: Twilio, store: Store) -> None:
    assert (
        _raw(twilio, "/status/call", b'{"CallSid": "CA1"}', "application/json").status_code == 400
    )
    assert (
        _raw(
            twilio, "/status/call", b"CallSid=\xff\xfe", "application/x-www-form-urlencoded"
        ).status_code
        == 400
    )
    many = urlencode({f"P{i}": "v" for i in range(300)}).encode()
    response = _raw(twilio, "/status/call", many, "application/x-www-form-urlencoded")
    assert response.status_code == 400
    nul = _raw(twilio, "/sms/incoming", b"MessageSid=SM1&Body=a%00b", "application/x-www-form-urlencoded")
    assert nul.status_code == 400 and "'Body': contains a NUL character" in nul.text
    assert nothing_stored(store)


def test_large_bodies_are_413_and_the_service_keeps_serving(twilio: Twilio, store: Store) -> None:
    big = {**SMS, "Body": "x" * 9000}
    assert twilio.post("/sms/incoming", big).status_code == 413

    def chunks():  # no Content-Length: refused while reading
        for _ in range(100):
            yield b"Body=" + b"y" * 1000 + b"&"

    response = twilio.client.post(
        "/sms/incoming",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert response.status_code == 413
    assert nothing_stored(store)
    assert twilio.post("/sms/incoming", SMS).status_code == 200
    assert store.count_events() == 1


def test_other_methods_and_paths(twilio: Twilio) -> None:
    assert twilio.client.get("/status/call").status_code == 405
    assert twilio.client.post("/nowhere", data={}).status_code == 404
    assert twilio.client.get("/healthz").json() == {"status": "ok"}


def test_a_webhook_reached_through_the_routes_answers_as_the_short_way(twilio: Twilio, store: Store) -> None:
    """A root path sends a webhook through Starlette's routes: the same gate, the same answers."""
    from starlette.testclient import TestClient

    with TestClient(twilio.client.app, root_path="/phone") as behind_a_prefix:
        routed = Twilio(behind_a_prefix)
        assert routed.post("/status/call", CALL, signature="").status_code == 403
        assert nothing_stored(store)
        assert routed.post("/status/call", CALL).status_code == 200
    assert store.count_events("call") == 1


def test_a_bug_in_a_handler_is_a_logged_500_and_the_service_serves_on(
    twilio: Twilio, store: Store, caplog, monkeypatch
) -> None:
    hook = twilio.client.app.webhooks["/status/call"]

    async def broken(ctx, params):
        raise KeyError("a bug")

    monkeypatch.setattr(hook, "handler", broken)
    with caplog.at_level(logging.ERROR, logger="twilio_widget.routing.server"):
        response = twilio.post("/status/call", CALL)
    assert response.status_code == 500 and "a bug" not in response.text
    assert "/status/call failed" in caplog.text and "KeyError" in caplog.text
    assert twilio.post("/sms/incoming", SMS).status_code == 200


FIELD_NAMES = [
    "CallSid",
    "CallStatus",
    "DialCallStatus",
    "From",
    "To",
    "CallerId",
    "Body",
    "MessageSid",
    "MessageStatus",
    "SmsStatus",
    "ErrorCode",
    "NumMedia",
    "RecordingSid",
    "RecordingStatus",
    "RecordingUrl",
    "RecordingDuration",
    "CallDuration",
    "Timestamp",
    "OptOutType",
    "Direction",
    "MediaUrl0",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "completed",
            "busy",
            "no-answer",
            "received",
            "delivered",
            "failed",
            "client:alice",
            "sip:alice@acme.sip.twilio.com",
            ALICE,
            LEAD,
            "STOP",
            "START",
            "12",
            "-1",
            "1" * 13,
            "https://api.twilio.com/x",
            "\x00",
        ]
    ),
)


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(sorted(ROUTES)),
    params=st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=10),
)
def test_signed_but_arbitrary_params_never_give_a_500(twilio: Twilio, path, params) -> None:
    response = twilio.post(path, params)
    assert response.status_code in (200, 400), (path, params, response.text)


def test_a_client_that_hangs_up_mid_body_is_routine(settings, store: Store, caplog) -> None:
    """A real client on loopback promises a body, sends part of it and closes: the service logs
    one line (no traceback), stores nothing and keeps serving."""
    caplog.set_level(logging.INFO)
    uvicorn_log = logging.getLogger("uvicorn")  # uvicorn's loggers do not propagate to the root
    uvicorn_log.addHandler(caplog.handler)
    body = urlencode(CALL).encode()
    with serve_in_thread(settings, store=store) as handle:
        with socket.create_connection((handle.host, handle.port), timeout=5) as client:
            client.sendall(
                b"POST /status/call HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"X-Twilio-Signature: {sign(CALL, '/status/call')}\r\n".encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[:20]
            )
        deadline = time.monotonic() + 5
        while "client disconnected" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        assert httpx.get(handle.url + "/healthz").status_code == 200
    uvicorn_log.removeHandler(caplog.handler)
    assert "client disconnected after 20 bytes" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert nothing_stored(store)
