"""Team outcomes end to end: two analysts' calling sessions on one team service (on loopback, on
SQLite and PostgreSQL), a team lead's notebook reading them as DataFrames, and a service that goes
away mid-session and comes back: nothing lost, nothing counted twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest
from routing_helpers import ALICE, BOB, team_settings

from twilio_widget import TwilioPhone
from twilio_widget.backends.sandbox import SandboxBackend
from twilio_widget.config import Caller, PhoneConfig
from twilio_widget.routing import Store, serve_in_thread
from twilio_widget.routing.team import user_token
from twilio_widget.session import OUTCOME_COLUMNS, TeamJournal
from twilio_widget.team_client import TeamClient

SECRET = "team-secret-" + "t" * 20
START = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York, 8:00 in San Francisco
LEADS = pd.DataFrame({"name": ["Ada", "Alan", "Grace", "Katherine"],
                      "mobile": ["+14155550110", "+14155550111", "+12125550112", "+17575550113"]},
                     index=pd.Index([11, 12, 13, 14], name="lead_id"))


@pytest.fixture
def service(tmp_path, store: Store) -> Iterator[object]:
    with serve_in_thread(team_settings(tmp_path, SECRET), store=store) as handle:
        yield handle


class Analyst:
    """An analyst's notebook: a phone on the sandbox, connected to the team's service."""

    def __init__(self, user: str, number: str, url: str, journal) -> None:
        self.sandbox = SandboxBackend(seed=3, now=START, realtime=False, numbers=list(LEADS["mobile"]))
        config = PhoneConfig(callers=[Caller(user_id=user, caller_id=number)])
        self.phone = TwilioPhone(LEADS, ["mobile"], name="name", config=config, backend=self.sandbox, mode="sandbox")
        self.phone.connect(url, user_token(SECRET, user))
        self.session = self.phone.queue(LEADS, journal=journal, name="spring")

    def call_and_record(self, outcome: str, note: str = "") -> None:
        self.session.call()
        self.sandbox.advance(self.sandbox.ring_seconds + 0.5)
        self.sandbox.advance(45)
        self.phone.hang_up()
        self.session.record(outcome, note)

    def close(self) -> None:
        self.phone.close()
        self.sandbox.close()


@pytest.fixture
def analysts(service, tmp_path) -> Iterator[dict[str, Analyst]]:
    made = {user: Analyst(user, number, service.url, tmp_path / f"{user}.sqlite3")
            for user, number in (("alice", ALICE), ("bob", BOB))}
    yield made
    for analyst in made.values():
        analyst.close()


def test_two_analysts_write_and_the_lead_reads_the_team(service, analysts) -> None:
    alice, bob = analysts["alice"], analysts["bob"]
    assert isinstance(alice.session.journal, TeamJournal)
    alice.call_and_record("connected", "spoke to the CTO")
    alice.session.record("no answer")  # no call: a row without a call_sid
    bob.call_and_record("meeting booked", "Tuesday")
    assert alice.session.journal.flush() == 0 and bob.session.journal.flush() == 0

    lead = TeamClient(service.url, user_token(SECRET, "carol"))  # a lead's notebook needs no phone
    try:
        assert lead.lead
        team = lead.outcomes()
        assert dict(team.dtypes.astype(str)) == OUTCOME_COLUMNS  # the frame of phone.outcomes, agent and all
        assert sorted(zip(team["agent"], team["outcome"], strict=True)) == [
            ("alice", "connected"), ("alice", "no answer"), ("bob", "meeting booked")]
        mine = alice.phone.outcomes.drop(columns="agent")
        theirs = lead.outcomes(agent="alice").drop(columns="agent")
        pd.testing.assert_frame_equal(theirs, mine)  # what the service keeps is what the journal kept
        assert lead.outcomes(agent="bob")["note"].tolist() == ["Tuesday"]
        assert lead.outcomes(since=START.replace(hour=23)).empty

        activity = lead.activity()
        assert activity.by_agent["calls"].to_dict() == {"alice": 1, "bob": 1}
        assert activity.by_agent["connect_rate"].to_dict() == {"alice": 1.0, "bob": 1.0}
        assert activity.by_outcome["calls"].sum() == 3
    finally:
        lead.close()


def test_an_analyst_reads_only_their_own(service, analysts) -> None:
    alice, bob = analysts["alice"], analysts["bob"]
    alice.session.record("busy")
    bob.session.record("wrong number")
    assert alice.session.journal.flush() == 0 and bob.session.journal.flush() == 0
    assert alice.phone.team.outcomes()["outcome"].tolist() == ["busy"]
    assert bob.phone.team.outcomes()["agent"].tolist() == ["bob"]
    with pytest.raises(Exception, match="only a team lead"):
        alice.phone.team.outcomes(agent="bob")


def test_the_service_away_mid_session_loses_nothing_and_doubles_nothing(tmp_path, store: Store) -> None:
    settings = team_settings(tmp_path, SECRET)
    handle = serve_in_thread(settings, store=store)
    port, journal = handle.port, tmp_path / "alice.sqlite3"
    alice = Analyst("alice", ALICE, handle.url, journal)
    try:
        alice.call_and_record("connected", "before")
        assert alice.session.journal.flush() == 0
        handle.stop()

        alice.session.record("busy", "while away")  # recording never waits for the service
        alice.call_and_record("voicemail", "still away")
        assert alice.session.journal.flush(timeout=1) == 2
        assert alice.phone.outcomes["note"].tolist() == ["before", "while away", "still away"]

        handle = serve_in_thread(settings, port=port, store=store)
        # The journal's answer may be lost on the way: the same outcomes sent again count once.
        journal_of = alice.session.journal
        alice.phone.team.send_outcomes([o for _, o in journal_of.local.unsent(journal_of.target, 100)])
        assert journal_of.flush(timeout=40) == 0
        assert store.team_outcomes(agent="alice")[0] and _notes(store) == ["before", "while away", "still away"]
    finally:
        alice.close()
        handle.stop()


def test_what_a_closed_session_left_unsent_goes_with_the_next(tmp_path, store: Store) -> None:
    settings = team_settings(tmp_path, SECRET)
    handle = serve_in_thread(settings, store=store)
    port, journal = handle.port, tmp_path / "alice.sqlite3"
    alice = Analyst("alice", ALICE, handle.url, journal)
    handle.stop()
    alice.session.record("busy", "unsent")
    alice.close()  # the kernel ends with the outcome in the journal's outbox only

    handle = serve_in_thread(settings, port=port, store=store)
    again = Analyst("alice", ALICE, handle.url, journal)
    try:
        assert again.session.journal.flush(timeout=20) == 0
        assert _notes(store) == ["unsent"]
    finally:
        again.close()
        handle.stop()


def _notes(store: Store) -> list[str]:
    rows, _ = store.team_outcomes()
    return [row[5] for row in rows]


def test_a_disconnected_session_keeps_its_outcomes_until_the_same_user_connects_again(service, tmp_path, store):
    alice = Analyst("alice", ALICE, service.url, tmp_path / "alice.sqlite3")
    try:
        alice.phone.disconnect()
        alice.session.record("busy", "while disconnected")
        assert alice.session.journal.flush() == 1  # at once: there is no connection to wait for
        alice.phone.connect(service.url, user_token(SECRET, "bob"))  # another user's token never sends it
        assert alice.session.journal.flush(timeout=1.5) == 1 and _notes(store) == []
        alice.phone.connect(service.url, user_token(SECRET, "alice"))
        assert alice.session.journal.flush() == 0 and _notes(store) == ["while disconnected"]
        assert store.team_outcomes(agent="alice")[0]
    finally:
        alice.close()


def test_the_lead_reads_every_page_into_one_typed_frame(service, analysts, monkeypatch) -> None:
    monkeypatch.setattr("twilio_widget.routing.outcomes_api.PAGE_ROWS", 2)
    for user, notes in (("alice", ("one", "two", "three")), ("bob", ("four", "five"))):
        for note in notes:
            analysts[user].session.record("no answer", note)
            analysts[user].sandbox.advance(60)  # recorded one after the other
        assert analysts[user].session.journal.flush() == 0
    lead = TeamClient(service.url, user_token(SECRET, "carol"))
    try:
        team = lead.outcomes()
        assert sorted(team["note"]) == sorted(["one", "two", "three", "four", "five"])
        assert team["recorded_at"].is_monotonic_increasing
        assert dict(team.dtypes.astype(str)) == OUTCOME_COLUMNS
        assert lead.outcomes(agent="bob")["note"].tolist() == ["four", "five"]
    finally:
        lead.close()


def test_a_session_started_before_the_phone_connects_sends_what_it_recorded_once_connected(
        service, tmp_path, store: Store) -> None:
    journal = tmp_path / "alice.sqlite3"
    sandbox = SandboxBackend(seed=3, now=START, realtime=False, numbers=list(LEADS["mobile"]))
    config = PhoneConfig(callers=[Caller(user_id="alice", caller_id=ALICE)])
    phone = TwilioPhone(LEADS, ["mobile"], name="name", config=config, backend=sandbox, mode="sandbox")
    try:
        phone.queue(LEADS, journal=journal, name="spring").record("busy", "an earlier session")
        phone.end_session()
        session = phone.queue(LEADS, journal=journal, name="spring")
        session.record("no answer", "before connecting")
        phone.connect(service.url, user_token(SECRET, "alice"))
        assert isinstance(session.journal, TeamJournal)
        session.record("voicemail", "after connecting")
        assert session.journal.flush() == 0
        assert _notes(store) == ["before connecting", "after connecting"]  # this session's, not the earlier one's

        phone.disconnect()
        phone.connect(service.url, user_token(SECRET, "alice"))  # connecting again sends nothing twice
        assert session.journal.flush() == 0 and _notes(store) == ["before connecting", "after connecting"]
        assert phone.outcomes["note"].tolist() == ["an earlier session", "before connecting", "after connecting"]
    finally:
        phone.close()
        sandbox.close()
