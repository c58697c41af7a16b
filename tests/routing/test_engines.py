"""The store on both engines: what must hold between several processes sharing one database,
its migrations, and a database that goes away under a running service."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from routing_helpers import ALICE, LEAD, Twilio, make_settings
from starlette.testclient import TestClient
from throwaway_postgres import ThrowawayPostgres

from twilio_widget.routing import Store, create_app
from twilio_widget.routing.store import SCHEMA_VERSION, StoreUnavailable, is_postgres

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
