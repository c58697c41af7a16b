"""The store on both engines: what must hold between several processes sharing one database,
its migrations, and a database that goes away under a running service."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from routing_helpers import ALICE, LEAD, Twilio, make_settings
from starlette.testclient import TestClient
from throwaway_postgres import ThrowawayPostgres

from twilio_widget.routing import Store, create_app
from twilio_widget.routing.store import SCHEMA_VERSION, StoreUnavailable, is_postgres
from twilio_widget.routing.store.base import status_write, writes
from twilio_widget.routing.store.changes import StatusChange
from twilio_widget.routing.store.schema import call_record
from twilio_widget.vocabulary import CALL_RANK

STATUSES = ["initiated", "ringing", "in-progress", "completed"]


def test_two_stores_on_one_database_make_one_event_per_callback_in_any_order(database) -> None:
    """Two stores stand for two workers: each gets every callback of 40 calls, shuffled, at the
    same time. Each status is stored once and no call ends anywhere but completed."""
    callbacks = [(f"CA{i:032d}", status) for i in range(40) for status in STATUSES]
    with Store(database) as first, Store(database) as second:
        def deliver(store: Store, seed: int) -> int:
            mine = callbacks[:]
            random.Random(seed).shuffle(mine)
            futures = [store.submit(store.record_call_status, sid, status, from_=ALICE, to=LEAD)
                       for sid, status in mine]
            return sum(f.result().new for f in futures)

        with ThreadPoolExecutor(2) as pool:
            news = list(pool.map(deliver, (first, second), (1, 2)))
        assert sum(news) == len(callbacks)
        assert first.count_events("call") == len(callbacks)
        assert {c["status"] for c in second.calls()} == {"completed"}


def test_a_store_is_migrated_once_and_keeps_its_data(database) -> None:
    with Store(database) as store:
        store.opt_out(LEAD)
        version = store._query("SELECT value FROM meta WHERE key='schema_version'")[0]["value"]
        assert int(version) == SCHEMA_VERSION
    with Store(database) as again:
        assert again.is_opted_out(LEAD)


def test_a_database_restart_is_503_then_service_as_before(database, tmp_path) -> None:
    if not is_postgres(database):
        pytest.skip("a SQLite file does not restart")
    with ThrowawayPostgres(fsync=False) as server:
        settings = make_settings(tmp_path, store_path=server.url)
        with TestClient(create_app(settings)) as client:
            twilio = Twilio(client)
            sms = {"MessageSid": "SM" + "1" * 32, "From": LEAD, "To": ALICE, "Body": "hi", "SmsStatus": "received"}
            assert twilio.post("/sms/incoming", sms).status_code == 200
            server.restart()
            later = {**sms, "MessageSid": "SM" + "2" * 32}
            refused = twilio.post("/sms/incoming", later)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert twilio.post("/sms/incoming", later).status_code == 200  # Twilio's retry
            store = client.app.state.store
            assert [m["sid"] for m in store.messages()] == [later["MessageSid"], sms["MessageSid"]]


def test_an_unreachable_database_is_named_when_the_store_opens() -> None:
    with pytest.raises(StoreUnavailable, match="database: cannot connect"):
        Store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_a_store_of_the_first_version_is_brought_up_to_date(tmp_path) -> None:
    import sqlite3

    from twilio_widget.routing.store.schema import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:  # as the package's first release left it
        old.executescript(MIGRATIONS[1])
        old.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        old.execute("INSERT INTO mail_outbox(key, to_addr, subject, body, created_at) VALUES ('k','a@b.c','s','b','t')")
    with Store(path) as store:
        (mail,) = store.mail_all()
        assert mail["claimed_until"] is None and store.mail_claim(mail["id"], 60)


def test_one_mail_is_claimed_by_one_worker(database) -> None:
    with Store(database) as first, Store(database) as second:
        first.mail_add("voicemail:RE1", "alice@example.org", "Voicemail", "Listen")
        (mail,) = first.mail_pending()
        assert first.mail_claim(mail["id"], 60)
        assert not second.mail_claim(mail["id"], 60)
        first.mail_mark(mail["id"], error="SMTPServerDisconnected: down")  # failed: free again
        assert second.mail_claim(mail["id"], 60)
        assert not first.mail_claim(mail["id"], 60)
        second.mail_mark(mail["id"])
        assert not first.mail_claim(mail["id"], 60)  # sent: nobody sends it again


class HeldStore(Store):
    """A store whose writer can be held busy, so that the writes queued meanwhile meet in one batch."""

    @writes
    def hold(self, started: threading.Event, until: threading.Event) -> None:
        started.set()
        until.wait(30)

    @status_write
    def broken_status(self, sid: str) -> StatusChange:
        def fields(current: dict) -> dict:
            raise ValueError(f"{sid}: cannot be decided")

        return StatusChange("calls", "call", sid, "ringing", CALL_RANK, call_record, fields)

    @writes
    def queue_next(self, method: Callable[..., Any], *args: Any) -> Future:
        """Queue a write from inside a batch: it is waiting when the next batch is taken."""
        return self.submit(method, *args)


def in_one_batch(store: HeldStore, *writes: tuple) -> list:
    """Queue ``writes`` (method, args...) while the writer is held, so that it takes them together."""
    started, until = threading.Event(), threading.Event()
    held = store.submit(store.hold, started, until)
    assert started.wait(30)
    futures = [store.submit(method, *args) for method, *args in writes]
    until.set()
    held.result(30)
    return futures


def test_statuses_in_one_batch_are_decided_in_order_retries_included(database) -> None:
    """One batch: a call's statuses out of order, a retry of one of them, another call between."""
    first, second = "CA" + "1" * 32, "CA" + "2" * 32
    with HeldStore(database) as store:
        futures = in_one_batch(store, (store.record_call_status, first, "completed"),
                               (store.record_call_status, first, "ringing"),
                               (store.record_call_status, second, "queued"),
                               (store.record_call_status, first, "ringing"),
                               (store.record_call_status, first, "in-progress"))
        done = [f.result(30) for f in futures]
        assert [d.new for d in done] == [True, True, True, False, True]
        assert [d.record["status"] for d in done] == ["completed", "completed", "queued", "completed", "completed"]
        ids = [d.event_id for d in done if d.new]
        assert ids == sorted(ids) and len(set(ids)) == 4
        assert [(e["id"], e["record"]["status"]) for e in store.events_since(0)] == list(
            zip(ids, ["completed", "ringing", "queued", "in-progress"], strict=True))
        assert store.call(first)["status"] == "completed" and store.call(first)["end_time"]
        assert store.call(second)["status"] == "queued"


def test_a_status_that_cannot_be_decided_fails_alone_in_its_batch(database) -> None:
    with HeldStore(database) as store:
        good = [(store.record_call_status, f"CA{i:032d}", "ringing") for i in range(6)]
        futures = in_one_batch(store, *good[:3], (store.broken_status, "CA" + "f" * 32), *good[3:])
        with pytest.raises(ValueError, match="cannot be decided"):
            futures.pop(3).result(30)
        assert all(f.result(30).new for f in futures)
        assert store.count_events("call") == 6 and store.call("CA" + "f" * 32) is None


def test_a_batch_does_not_wait_for_a_record_another_worker_holds(database) -> None:
    """Another worker writes a call now (its lock held): the batch stores the rest at once, and
    that call's status after the other worker committed, reading the row it left."""
    if not is_postgres(database):
        pytest.skip("a SQLite file has one writer: no record is held by another")
    import psycopg

    busy = "CA" + "b" * 32
    with HeldStore(database) as store, psycopg.connect(database) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"calls:{busy}",))
        other.execute("INSERT INTO calls(sid, status, updated_at) VALUES (%s, 'in-progress', 'now')", (busy,))
        futures = in_one_batch(store, (store.record_call_status, busy, "ringing"),
                               *[(store.record_call_status, f"CA{i:032d}", "ringing") for i in range(5)])
        waiting = futures.pop(0)
        assert all(f.result(30).new for f in futures)
        assert not waiting.done()  # still waiting for the other worker
        other.commit()
        assert waiting.result(30).record["status"] == "in-progress"  # ringing came late: not backwards
        assert store.count_events("call") == 6


def test_a_status_whose_record_is_held_goes_with_the_next_batch_and_never_holds_it_up(database) -> None:
    """The held call's status is tried again with the write queued next; when its record is still
    held it waits alone, after that write is stored."""
    if not is_postgres(database):
        pytest.skip("a SQLite file has one writer: no record is held by another")
    import psycopg

    busy, later = "CA" + "b" * 32, "CA" + "c" * 32
    with HeldStore(database) as store, psycopg.connect(database) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"calls:{busy}",))
        waiting, queued = in_one_batch(store, (store.record_call_status, busy, "ringing"),
                                       (store.queue_next, store.record_call_status, later, "ringing"))
        assert queued.result(30).result(30).new  # the next batch: stored while the other still holds busy
        assert not waiting.done()
        other.commit()
        assert waiting.result(30).new
        assert store.count_events("call") == 2


class GatheringStore(HeldStore):
    """Counts the times the writer waited for more writes to join a batch."""

    BUSY_SECONDS = 60.0  # "recently", however slow the machine running the tests
    gathered = 0

    def _gather(self) -> None:
        self.gathered += 1


def test_one_caller_writing_one_after_the_other_never_waits_for_a_batch(database) -> None:
    with GatheringStore(database) as store:
        for i in range(20):
            assert store.record_call_status(f"CA{i:032d}", "ringing").new
        store.opt_out(LEAD)
        assert store.gathered == 0


def test_writes_from_several_callers_at_once_wait_for_others_to_join_them(database) -> None:
    with GatheringStore(database) as store:
        futures = in_one_batch(store, *[(store.record_call_status, f"CA{i:032d}", "ringing") for i in range(5)])
        assert all(f.result(30).new for f in futures)
        assert store.gathered == 1  # queued while the writer was busy: their batch waited for more
        assert store.record_call_status("CA" + "9" * 32, "ringing").new  # right after a batch of five
        assert store.gathered == 2
        assert store.record_call_status("CA" + "8" * 32, "ringing").new  # one caller alone again: no wait
        assert store.gathered == 2


def test_postgresql_plans_each_statement_for_its_values_and_keeps_the_urls_options(database) -> None:
    """A plan made while a table was nearly empty must not stay (a whole-table scan ever after);
    the URL's own options (here the test's schema) still apply."""
    if not is_postgres(database):
        pytest.skip("SQLite plans each statement itself")
    from urllib.parse import parse_qs, urlsplit

    schema = parse_qs(urlsplit(str(database)).query)["options"][0].split("=", 1)[1]
    with Store(database) as store:
        (row,) = store._query("SELECT current_setting('plan_cache_mode') AS mode, current_schema() AS schema")
    assert row["mode"] == "force_custom_plan"
    assert row["schema"] == schema


def test_the_writer_connects_as_the_store_opens_not_at_its_first_write(database) -> None:
    """A fresh worker's first webhook must not wait for a connection to be made."""
    if not is_postgres(database):
        pytest.skip("a SQLite file has no connection to wait for")
    import time

    import psycopg

    def connections() -> int:
        with psycopg.connect(str(database), autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                " AND pid <> pg_backend_pid()").fetchone()[0]

    before = connections()
    with Store(database) as store:
        deadline = time.monotonic() + 10
        while connections() < before + 2 and time.monotonic() < deadline:  # the writer's, the readers' pool's
            time.sleep(0.02)
        opened = connections()
        assert store.record_call_status("CA" + "7" * 32, "ringing").new
        assert opened == before + 2
        assert connections() == opened
