"""Two analysts' notebooks on one team service: each phone gets its own user's events, live,
and sends through the service from its own number."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from routing_helpers import ACCOUNT, ALICE, BOB, LEAD, FakeBackend, make_settings, sign

from twilio_widget import TwilioPhone
from twilio_widget.backends.sandbox import SandboxBackend
from twilio_widget.config import Caller, PhoneConfig
from twilio_widget.routing import Store, serve_in_thread
from twilio_widget.routing.team import user_token

SECRET = "team-secret-" + "y" * 20
LEADS = pd.DataFrame({"name": ["Grace Hopper"], "mobile": [LEAD]})


@pytest.fixture
def service(tmp_path, store: Store) -> Iterator[tuple[object, FakeBackend]]:
    backend = FakeBackend()
    with serve_in_thread(make_settings(tmp_path, team_secret=SECRET), store=store, backend=backend) as handle:
        yield handle, backend


def phone_of(user: str, number: str, service_url: str) -> TwilioPhone:
    """An analyst's notebook: no Twilio secret in it, only the user's token for the service."""
    config = PhoneConfig(callers=[Caller(user_id=user, caller_id=number)])
    phone = TwilioPhone(LEADS, ["mobile"], name="name", config=config, backend=SandboxBackend(numbers=[LEAD]),
                        mode="sandbox")
    phone.connect(service_url, user_token(SECRET, user))
    return phone


def twilio_posts(handle, path: str, params: dict[str, str]) -> int:
    return httpx.post(handle.url + path, data=params, headers={"X-Twilio-Signature": sign(params, path)},
                      timeout=5).status_code


def inbound(sid: str, to: str, body: str) -> dict[str, str]:
    return {"MessageSid": sid, "AccountSid": ACCOUNT, "From": LEAD, "To": to, "Body": body, "SmsStatus": "received"}


def eventually(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the panel never caught up"
        time.sleep(0.02)


def bodies(phone: TwilioPhone) -> list[str]:
    return [row["body"] for row in phone.thread]


def test_two_users_panels_each_get_only_their_own_events(service) -> None:
    handle, _ = service
    alice, bob = phone_of("alice", ALICE, handle.url), phone_of("bob", BOB, handle.url)
    try:
        assert alice.live_events and bob.live_events
        assert alice.selected_number == bob.selected_number == LEAD
        assert twilio_posts(handle, "/sms/incoming", inbound("SM" + "a" * 32, ALICE, "For Alice")) == 200
        assert twilio_posts(handle, "/sms/incoming", inbound("SM" + "b" * 32, BOB, "For Bob")) == 200
        eventually(lambda: "For Alice" in bodies(alice) and "For Bob" in bodies(bob))
        time.sleep(0.3)  # a stream that would leak has had time to
        assert "For Bob" not in bodies(alice) and "For Alice" not in bodies(bob)
    finally:
        alice.close()
        bob.close()


def test_a_connected_phone_sends_through_the_service_and_sees_the_status(service) -> None:
    handle, backend = service
    alice = phone_of("alice", ALICE, handle.url)
    try:
        sent = alice.send_message("See you Thursday")
        assert backend.sent == [(LEAD, ALICE, "See you Thursday", handle.public_url + "/status/message")]
        status = {"MessageSid": sent["sid"], "AccountSid": ACCOUNT, "MessageStatus": "delivered",
                  "From": ALICE, "To": LEAD}
        assert twilio_posts(handle, "/status/message", status) == 200
        eventually(lambda: alice.thread and alice.thread[-1]["status"] == "delivered")
        assert alice.outbox().empty
    finally:
        alice.close()


def test_a_refused_token_is_named_and_nothing_is_connected(service) -> None:
    handle, _ = service
    phone = TwilioPhone(LEADS, ["mobile"], backend=SandboxBackend(numbers=[LEAD]), mode="sandbox")
    try:
        with pytest.raises(ValueError, match="token: the service at .* refused it"):
            phone.connect(handle.url, user_token("not the team's secret", "alice"))
        with pytest.raises(RuntimeError, match="phone.connect"):
            phone.outbox()
    finally:
        phone.close()


def test_the_token_may_come_from_the_environment(service, monkeypatch) -> None:
    handle, _ = service
    monkeypatch.setenv("TWILIO_WIDGET_TOKEN", user_token(SECRET, "bob"))
    phone = TwilioPhone(LEADS, ["mobile"], config=PhoneConfig(callers=[Caller(user_id="bob", caller_id=BOB)]),
                        backend=SandboxBackend(numbers=[LEAD]), mode="sandbox")
    try:
        assert phone.connect(handle.url).user == "bob" and phone.live_events
        phone.disconnect()
        monkeypatch.delenv("TWILIO_WIDGET_TOKEN")
        with pytest.raises(ValueError, match=r"token: empty \(give it, or set \$TWILIO_WIDGET_TOKEN\)"):
            phone.connect(handle.url)
    finally:
        phone.close()
