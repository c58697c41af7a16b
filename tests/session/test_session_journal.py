"""The journal: durable outcomes and queue state in SQLite, resumed by a new session."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from session_helpers import finish_call

from twilio_widget import TwilioPhone
from twilio_widget.routing.store import Store
from twilio_widget.session import SQLiteJournal
from twilio_widget.session.journal import decode_key, encode_key


def work_two_leads(phone, sandbox, session):
    session.call()
    finish_call(phone, sandbox)
    session.record("connected", "spoke to the CTO")
    session.skip()


def test_a_new_session_resumes_the_queue_where_it_was(phone, sandbox, call_leads, journal_path):
    session = phone.queue(call_leads, order="score", ascending=False, lead_name="name", journal=journal_path,
                          name="spring")
    work_two_leads(phone, sandbox, session)
    where = phone.session["lead"]["name"]
    phone.end_session()
    again = TwilioPhone(contacts=call_leads, fields=["mobile"], name="name", backend=sandbox)
    try:
        resumed = again.queue(call_leads, order="score", ascending=False, lead_name="name", journal=journal_path,
                              name="spring")
        assert again.session["lead"]["name"] == where
        assert again.session["position"] == phone_position(resumed)
        assert resumed.outcomes()["note"].tolist() == ["spoke to the CTO"]
        # Katherine was skipped: she comes after everyone else, as before the restart.
        assert [resumed.queue.key(p) for p in resumed.queue.pick(sandbox.now(), _allow(), count=5)][-1] == 14
    finally:
        again.close()


def phone_position(session):
    return session.view()["position"]


def _allow():
    from twilio_widget.session.rules_link import ALLOW_EVERYTHING
    return ALLOW_EVERYTHING


def test_a_paused_queue_stays_paused_after_a_restart(phone, call_leads, journal_path):
    phone.queue(call_leads, journal=journal_path).pause()
    phone.end_session()
    phone.queue(call_leads, journal=journal_path)
    assert phone.session["status"] == "paused"


def test_queues_of_other_names_keep_apart(phone, sandbox, call_leads, journal_path):
    work_two_leads(phone, sandbox, phone.queue(call_leads, journal=journal_path, name="a"))
    other = phone.queue(call_leads, journal=journal_path, name="b")
    assert other.outcomes().empty
    assert phone.outcomes["queue"].tolist() == ["a"]  # the phone's outcomes are every queue's


def test_the_journal_shares_the_routing_stores_file_in_tables_of_its_own(tmp_path):
    path = tmp_path / "twilio-widget.sqlite3"
    store = Store(path)
    journal = SQLiteJournal(path)
    journal.close()
    store.close()
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"session_schema", "session_outcomes", "session_leads", "session_queues"} <= tables
    assert len(tables) > 4  # the store's own are there too


def test_by_default_the_journal_is_the_routing_stores_file_in_the_working_directory(
        phone, call_leads, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    phone.queue(call_leads)
    assert (tmp_path / "twilio-widget.sqlite3").exists()


def test_a_journal_of_another_schema_version_is_refused(journal_path):
    SQLiteJournal(journal_path).close()
    with sqlite3.connect(journal_path) as db:
        db.execute("UPDATE session_schema SET version = 99")
    with pytest.raises(ValueError, match="journal: .* version 99"):
        SQLiteJournal(journal_path)


@pytest.mark.parametrize("key", [7, "lead-7", 2.5, ("north", 7), pd.Timestamp("2026-01-02 03:04")])
def test_row_labels_read_back_as_they_were(key):
    assert decode_key(encode_key(key)) == key


def test_outcomes_export_with_pandas(phone, sandbox, call_leads, journal_path, tmp_path):
    work_two_leads(phone, sandbox, phone.queue(call_leads, journal=journal_path))
    phone.outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
    back = pd.read_csv(tmp_path / "outcomes.csv")
    assert back["note"].tolist() == ["spoke to the CTO"]
    # pandas writes Parquet through pyarrow, which this project does not install (with it, pandas 3
    # would change the default string storage of every frame): a user who has it gets Parquet.
    pytest.importorskip("pyarrow", reason="DataFrame.to_parquet needs pyarrow, not installed here")
    phone.outcomes.to_parquet(tmp_path / "outcomes.parquet")
    assert pd.read_parquet(tmp_path / "outcomes.parquet")["outcome"].tolist() == ["connected"]


def test_a_bad_journal_option_is_refused_by_name(phone, call_leads):
    with pytest.raises(TypeError, match="journal: expected a path or a Journal"):
        phone.queue(call_leads, journal=42)


def test_times_read_back_to_the_nanosecond(journal_path):
    journal = SQLiteJournal(journal_path)
    moment = pd.Timestamp("2026-05-01 15:00:00.123456789", tz="UTC")
    lead = {"attempts": 2, "last_called": moment.value, "next_at": None, "callback": False, "closed": False, "rank": 4}
    journal.append_outcome({"key": 7, "queue": "q", "outcome": "busy", "started_at": moment, "recorded_at": moment,
                            "callback_at": None}, lead)
    _, leads = journal.load_queue("q")
    assert leads["last_called"].iloc[0] == moment.value and pd.isna(leads["next_at"].iloc[0])
    assert journal.outcomes()["started_at"].iloc[0] == moment
    journal.close()


def test_a_session_replacing_one_on_the_panel_shows_its_own_state(phone, call_leads, journal_path):
    phone.queue(call_leads, journal=journal_path, name="paused").pause()
    phone.queue(call_leads, journal=journal_path, name="other")
    assert phone.session["queue"] == "other"
    phone.queue(call_leads, journal=journal_path, name="paused")
    assert phone.session["queue"] == "paused" and phone.session["status"] == "paused"


def test_a_journal_of_version_1_is_brought_up_to_date_and_keeps_its_outcomes(journal_path):
    journal = SQLiteJournal(journal_path)
    journal.append_outcome({"key": 7, "queue": "q", "outcome": "busy", "recorded_at": pd.Timestamp.now(tz="UTC")},
                           {"attempts": 1, "callback": False, "closed": False, "rank": 0})
    journal.close()
    with sqlite3.connect(journal_path) as db:  # as the package before team outcomes left it
        db.execute("DROP TABLE session_team_outbox")
        db.execute("UPDATE session_schema SET version = 1")
    journal = SQLiteJournal(journal_path)
    assert journal.outcomes()["outcome"].tolist() == ["busy"] and journal.unsent_count("any") == 0
    journal.close()
    with sqlite3.connect(journal_path) as db:
        assert db.execute("SELECT version FROM session_schema").fetchone()[0] == 2
