"""The team API's outcomes: stored as the sender's, once each; read back by their own user, or
by a team lead for everyone (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from routing_helpers import ALICE, make_settings, team_settings
from starlette.testclient import TestClient

from twilio_widget.routing import Store, create_app
from twilio_widget.routing.outcomes_api import MAX_OUTCOMES
from twilio_widget.routing.store.outcomes import OUTCOME_COLUMNS as STORE_COLUMNS
from twilio_widget.routing.team import user_token
from twilio_widget.session import OUTCOME_COLUMNS
from twilio_widget.session.journal import encode_key, outcomes_of_stored

SECRET = "team-secret-" + "o" * 20
MAY_1 = 1_777_647_600_000_000_000  # 2026-05-01 15:00 UTC, in nanoseconds


def outcome(given_id: str, **changes) -> dict:
    return {"outcome_id": given_id, "queue": "spring", "call_sid": "CA" + "1" * 32, "key": "12",
            "number": "+14155550199", "field": "mobile", "outcome": "connected", "note": "spoke to the CTO",
            "caller_id": ALICE, "started_at": MAY_1, "duration": 90, "attempt": 1, "overrides": "",
            "callback_at": None, "recorded_at": MAY_1 + 120_000_000_000, **changes}


class Team:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, user: str, *outcomes: dict):
        return self.client.post("/api/outcomes", json={"outcomes": list(outcomes)},
                                headers={"Authorization": f"Bearer {user_token(SECRET, user)}"})

    def read(self, user: str, **params):
        return self.client.get("/api/outcomes", params=params,
                               headers={"Authorization": f"Bearer {user_token(SECRET, user)}"})

    def notes(self, user: str, **params) -> list[tuple[str, str]]:
        answer = self.read(user, **params)
        assert answer.status_code == 200, answer.text
        return [(row[STORE_COLUMNS.index("agent")], row[STORE_COLUMNS.index("note")]) for row in answer.json()["rows"]]


@pytest.fixture
def team(tmp_path, store: Store) -> Iterator[Team]:
    settings = team_settings(tmp_path, SECRET)
    with TestClient(create_app(settings, store)) as client:
        yield Team(client)


def test_the_store_reads_the_columns_of_the_sessions_outcomes_frame() -> None:
    assert tuple(OUTCOME_COLUMNS) == STORE_COLUMNS


def test_a_user_reads_only_their_own_and_a_lead_reads_everyones(team: Team) -> None:
    assert team.post("alice", outcome("a1", note="Alice's")).json() == {"stored": 1, "known": 0}
    assert team.post("bob", outcome("b1", note="Bob's")).json() == {"stored": 1, "known": 0}
    assert team.notes("alice") == [("alice", "Alice's")]
    assert team.notes("bob") == [("bob", "Bob's")]
    assert team.notes("carol") == [("alice", "Alice's"), ("bob", "Bob's")]
    assert team.notes("carol", agent="bob") == [("bob", "Bob's")]


def test_a_user_asking_for_anothers_outcomes_is_refused(team: Team) -> None:
    team.post("bob", outcome("b1"))
    answer = team.read("alice", agent="bob")
    assert answer.status_code == 403 and "only a team lead" in answer.json()["error"]["message"]
    assert team.notes("alice", agent="alice") == []


def test_an_outcome_sent_again_is_stored_once(team: Team, store: Store) -> None:
    first, second = outcome("a1"), outcome("a2", note="second")
    assert team.post("alice", first).json() == {"stored": 1, "known": 0}
    assert team.post("alice", first, second).json() == {"stored": 1, "known": 1}  # the answer was lost: again
    assert team.post("alice", second, second).json() == {"stored": 0, "known": 2}
    assert [note for _, note in team.notes("alice")] == ["spoke to the CTO", "second"]
    # Another user's outcome of the same id is theirs, not a repeat: nobody can hide another's.
    assert team.post("bob", outcome("a1")).json() == {"stored": 1, "known": 0}
    assert len(team.notes("carol")) == 3


def test_the_agent_is_the_tokens_user_never_the_bodys(team: Team) -> None:
    answer = team.post("alice", outcome("a1"), outcome("a2", agent="bob"))
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "outcomes[1].agent: set by the service from the token; leave it out"
    assert team.notes("carol") == []  # nothing of a refused request is stored


@pytest.mark.parametrize(("changes", "message"), [
    ({"duration": "90"}, "outcomes[0].duration: expected a whole number or null, not str"),
    ({"duration": True}, "outcomes[0].duration: expected a whole number or null, not bool"),
    ({"started_at": 1.5}, "outcomes[0].started_at: expected nanoseconds since the epoch or null, not float"),
    ({"recorded_at": None}, "outcomes[0].recorded_at: missing"),
    ({"outcome": ""}, "outcomes[0].outcome: missing"),
    ({"note": "x" * 10_001}, "outcomes[0].note: 10001 characters; at most 10000"),
    ({"note": "a\x00b"}, "outcomes[0].note: holds a NUL character"),
    ({"mood": "good"}, "outcomes[0].mood: not a column of an outcome"),
    ({"outcome_id": ""}, "outcomes[0].outcome_id: expected the journal's id"),
    ({"attempt": 2**40}, "outcomes[0].attempt: 1099511627776 is out of range"),
])
def test_a_bad_outcome_is_refused_naming_the_field(team: Team, changes: dict, message: str) -> None:
    answer = team.post("alice", outcome("a1", **changes))
    assert answer.status_code == 400 and answer.json()["error"]["message"].startswith(message), answer.text


def test_a_bad_body_is_refused(team: Team) -> None:
    headers = {"Authorization": f"Bearer {user_token(SECRET, 'alice')}"}
    assert team.client.post("/api/outcomes", content=b"{", headers=headers).json()["error"]["message"] == \
        "body: not JSON"
    assert team.client.post("/api/outcomes", json={"outcomes": []}, headers=headers).status_code == 400
    too_many = [outcome(f"a{i}") for i in range(MAX_OUTCOMES + 1)]
    assert "at most 500" in team.post("alice", *too_many).json()["error"]["message"]
    assert team.client.post("/api/outcomes", content=b"x" * (9 * 1024 * 1024), headers=headers).status_code == 413


def test_without_a_token_nothing_is_read_or_stored(team: Team) -> None:
    assert team.client.get("/api/outcomes").status_code == 401
    assert team.client.post("/api/outcomes", json={"outcomes": [outcome("a1")]}).status_code == 401
    assert team.notes("carol") == []


def test_reads_by_time_and_queue_and_in_pages(team: Team, monkeypatch) -> None:
    hour = 3600 * 10**9
    team.post("alice", *[outcome(f"a{i}", recorded_at=MAY_1 + i * hour, queue="spring" if i % 2 else "fall",
                                 note=str(i)) for i in range(5)])
    assert [n for _, n in team.notes("alice", since="2026-05-01T17:00:00+00:00")] == ["2", "3", "4"]
    assert [n for _, n in team.notes("alice", since="2026-05-01T19:00:00+02:00")] == ["2", "3", "4"]
    assert [n for _, n in team.notes("alice", queue="spring")] == ["1", "3"]
    assert team.read("alice", since="yesterday").json()["error"]["message"].startswith("since: 'yesterday'")
    monkeypatch.setattr("twilio_widget.routing.outcomes_api.PAGE_ROWS", 2)
    first = team.read("alice").json()
    assert len(first["rows"]) == 2 and first["next"] is not None
    rest = team.read("alice", after=first["next"]).json()
    assert [row[STORE_COLUMNS.index("note")] for row in rest["rows"]] == ["2", "3"]


def test_what_is_read_is_the_typed_outcomes_frame(team: Team) -> None:
    team.post("alice", outcome("a1"), outcome("a2", key=encode_key(("north", 7)), duration=None, started_at=None))
    frame = outcomes_of_stored(team.read("carol").json()["rows"])
    assert dict(frame.dtypes.astype(str)) == OUTCOME_COLUMNS
    assert frame["key"].tolist() == [12, ("north", 7)] and frame["agent"].tolist() == ["alice", "alice"]
    assert frame["started_at"].iloc[0].value == MAY_1 and frame["duration"].isna().tolist() == [False, True]


def test_me_says_who_is_a_team_lead(team: Team) -> None:
    def me(user: str) -> dict:
        return team.client.get("/api/me", headers={"Authorization": f"Bearer {user_token(SECRET, user)}"}).json()

    assert me("carol")["lead"] is True and me("alice")["lead"] is False


def test_a_team_lead_must_be_a_caller(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"team_leads: 'dave' not among the callers' user ids \(alice, bob\)"):
        make_settings(tmp_path, team_leads=["dave"])
    with pytest.raises(ValueError, match="team_leads: a list of the callers' user ids, not 'alice'"):
        make_settings(tmp_path, team_leads="alice")
