"""The team API of a shared service: sends with the service's rules, each user's own outbox,
tokens that name their user and cannot be forged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from routing_helpers import ALICE, BOB, LEAD, FakeBackend, make_settings
from starlette.testclient import TestClient

from twilio_widget.backends.base import TwilioError
from twilio_widget.cli import main
from twilio_widget.routing import Store, create_app
from twilio_widget.routing.team import user_token
from twilio_widget.vocabulary import OPTED_OUT

SECRET = "team-secret-" + "x" * 20


class Api:
    def __init__(self, client: TestClient, backend: FakeBackend) -> None:
        self.client, self.backend = client, backend

    def call(self, method: str, path: str, user: str = "alice", token: str | None = None, **kwargs):
        token = user_token(SECRET, user) if token is None else token
        return self.client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


@pytest.fixture
def team(tmp_path, store: Store) -> Iterator[Api]:
    backend = FakeBackend()
    settings = make_settings(tmp_path, team_secret=SECRET)
    with TestClient(create_app(settings, store, backend=backend)) as client:
        yield Api(client, backend)


def test_a_send_goes_from_the_users_number_with_the_status_callback(team: Api, store: Store) -> None:
    response = team.call("POST", "/api/messages", json={"to": "+1 415 555 0199", "body": "Hello"})
    assert response.status_code == 200, response.text
    assert response.json()["message"]["from"] == ALICE
    (sent,) = team.backend.sent
    assert sent == (LEAD, ALICE, "Hello", "https://hooks.example.com/twilio/status/message")
    assert store.thread(LEAD)[0]["body"] == "Hello"


def test_stop_is_checked_before_sending(team: Api, store: Store) -> None:
    store.opt_out(LEAD)
    response = team.call("POST", "/api/messages", json={"to": LEAD, "body": "Hello again"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == OPTED_OUT
    assert team.backend.sent == []


def test_the_do_not_call_list_is_checked_before_sending(tmp_path, team: Api) -> None:
    from twilio_widget.rules import DoNotCall

    DoNotCall(tmp_path / "do-not-call.sqlite3").block([LEAD], source="customer request")
    response = team.call("POST", "/api/messages", json={"to": LEAD, "body": "Hello"})
    assert response.status_code == 403 and "do-not-call list (customer request)" in response.json()["error"]["message"]
    assert team.backend.sent == []


def test_failed_sends_wait_in_their_users_outbox_and_are_retried(team: Api, store: Store) -> None:
    team.backend.fail = TwilioError("Service unavailable", code=20503, status=503)
    assert team.call("POST", "/api/messages", json={"to": LEAD, "body": "From Alice"}).status_code == 400
    assert team.call("POST", "/api/messages", user="bob", json={"to": LEAD, "body": "From Bob"}).status_code == 400
    (alices,) = team.call("GET", "/api/outbox").json()["outbox"]
    assert alices["body"] == "From Alice" and alices["error_code"] == 20503
    assert [m["body"] for m in team.call("GET", "/api/outbox", user="bob").json()["outbox"]] == ["From Bob"]
    team.backend.fail = None
    assert team.call("POST", "/api/outbox/retry").json() == {"sent": 1, "failed": 0, "blocked": 0}
    assert team.call("GET", "/api/outbox").json()["outbox"] == []
    assert [m["from_number"] for m in store.outbox_pending()] == [BOB]  # Bob's waits for Bob


@pytest.mark.parametrize("token", ["", "alice", "alice.0123", user_token("another secret 123", "alice"),
                                   user_token(SECRET, "mallory")])
def test_a_forged_or_unknown_token_is_401(team: Api, token: str) -> None:
    for method, path in (("GET", "/api/outbox"), ("POST", "/api/outbox/retry"), ("GET", "/api/events")):
        assert team.call(method, path, token=token).status_code == 401
    assert team.call("POST", "/api/messages", token=token, json={"to": LEAD, "body": "x"}).status_code == 401
    assert team.backend.sent == []


def test_bad_bodies_name_the_problem(team: Api) -> None:
    assert "not JSON" in team.call("POST", "/api/messages", content=b"to=1").json()["error"]["message"]
    assert "expected" in team.call("POST", "/api/messages", json={"to": LEAD}).json()["error"]["message"]


def test_without_a_team_secret_there_is_no_team_api(twilio) -> None:
    assert twilio.client.get("/api/outbox").status_code == 404


def test_the_cli_prints_a_users_token(monkeypatch, capsys) -> None:
    monkeypatch.setenv("TWILIO_WIDGET_TEAM_SECRET", SECRET)
    assert main(["token", "ada.l"]) == 0
    assert capsys.readouterr().out.strip() == user_token(SECRET, "ada_l")
    monkeypatch.setenv("TWILIO_WIDGET_TEAM_SECRET", "short")
    with pytest.raises(SystemExit):
        main(["token", "ada"])
    assert "TWILIO_WIDGET_TEAM_SECRET" in capsys.readouterr().err


def test_a_number_that_is_none_is_refused_naming_the_field(team: Api) -> None:
    response = team.call("POST", "/api/messages", json={"to": "call me", "body": "x"})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("to: 'call me'")
    assert team.backend.sent == []


def test_an_event_id_skipped_by_a_stream_is_looked_for_again_until_it_commits() -> None:
    from twilio_widget.routing.team import _note_gaps

    gaps: dict[int, float] = {}
    assert _note_gaps(gaps, 0, [{"id": 1}, {"id": 4}]) == 4  # 2 and 3 not committed yet
    assert sorted(gaps) == [2, 3]
    assert _note_gaps(gaps, 4, [{"id": 3}, {"id": 5}]) == 5  # 3 came late; it is delivered, 2 still awaited
    assert sorted(gaps) == [2]


def test_a_send_larger_than_any_text_is_refused_unread_and_sends_nothing(team: Api) -> None:
    response = team.call("POST", "/api/messages", json={"to": LEAD, "body": "x" * 100_000})
    assert response.status_code == 413
    assert response.json()["error"]["message"].startswith("body larger than 65536 bytes")
    assert team.backend.sent == []


def test_a_send_that_is_not_json_is_400_naming_the_body(team: Api) -> None:
    response = team.call("POST", "/api/messages", content=b"to=+14155550199")
    assert (response.status_code, response.json()["error"]["message"]) == (400, "body: not JSON")
