"""Mail through a real SMTP server on loopback; restarts (in process and kill -9) lose nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from email import message_from_string
from pathlib import Path

import httpx
import pytest
from routing_helpers import (
    ACCOUNT,
    ALICE,
    BOB,
    LEAD,
    PUBLIC_URL,
    TOKEN,
    Twilio,
    free_port,
    make_settings,
    sign,
)
from starlette.testclient import TestClient

from twilio_widget.routing import Mailer, Store, create_app, deliver_pending
from twilio_widget.routing.store import is_postgres

REPO = Path(__file__).resolve().parents[2]
CALL_SID = "CA" + "7" * 32
REC_SID = "RE" + "8" * 32
REC_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC_SID}"


def incoming_call(to: str = ALICE) -> dict[str, str]:
    return {
        "CallSid": CALL_SID,
        "AccountSid": ACCOUNT,
        "From": LEAD,
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def recording(status: str = "completed") -> dict[str, str]:
    return {
        "RecordingSid": REC_SID,
        "CallSid": CALL_SID,
        "AccountSid": ACCOUNT,
        "RecordingStatus": status,
        "RecordingUrl": REC_URL,
        "RecordingDuration": "17",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }


def sms(sid: str, body: str, to: str = ALICE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": LEAD,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
    }


def text_of(mail: dict) -> str:
    return message_from_string(mail["data"]).get_payload(decode=True).decode()


@pytest.fixture
def mailing(tmp_path, smtp):
    smtp_settings, inbox = smtp
    settings = make_settings(tmp_path, smtp=smtp_settings)
    with Store(settings.store_path) as store, TestClient(create_app(settings, store)) as client:
        yield Twilio(client), store, inbox


def test_voicemail_is_stored_and_mailed_with_a_link(mailing) -> None:
    twilio, store, inbox = mailing
    assert twilio.post("/voice/incoming", incoming_call()).status_code == 200
    assert twilio.post("/status/recording", recording()).status_code == 200
    assert twilio.post("/status/recording", recording()).status_code == 200  # Twilio retry
    (mail,) = inbox.wait(1)
    time.sleep(0.2)
    assert len(inbox.messages) == 1
    assert mail["to"] == ["alice@example.org"] and mail["from"] == "phone@example.org"
    message = message_from_string(mail["data"])
    assert message["Subject"] == f"Voicemail from {LEAD}"
    assert REC_URL + ".mp3" in text_of(mail)
    assert TOKEN not in mail["data"]
    (row,) = store.recordings(CALL_SID)
    assert row["status"] == "completed" and row["duration"] == 17 and row["media_url"] == REC_URL
    assert store.mail_all()[0]["sent_at"]


def test_absent_recording_sends_no_mail(mailing) -> None:
    twilio, store, inbox = mailing
    twilio.post("/voice/incoming", incoming_call())
    params = recording("absent")
    del params["RecordingUrl"]
    assert twilio.post("/status/recording", params).status_code == 200
    assert store.mail_all() == [] and inbox.messages == []


def test_inbound_sms_is_mailed_to_the_owner_of_the_number(mailing) -> None:
    twilio, store, inbox = mailing
    twilio.post("/sms/incoming", sms("SM" + "1" * 32, "Is the offer still open?"))
    twilio.post("/sms/incoming", sms("SM" + "2" * 32, "To Bob, who has no mail", to=BOB))
    (mail,) = inbox.wait(1)
    assert mail["to"] == ["alice@example.org"]
    assert "Is the offer still open?" in text_of(mail)
    assert len(store.thread(LEAD)) == 2


def test_without_smtp_nothing_is_queued(twilio: Twilio, store: Store) -> None:
    twilio.post("/voice/incoming", incoming_call())
    twilio.post("/status/recording", recording())
    twilio.post("/sms/incoming", sms("SM" + "3" * 32, "hi"))
    assert store.mail_all() == []
    assert store.recordings(CALL_SID)


def test_mail_refused_while_smtp_is_down_goes_out_after_a_restart(tmp_path, smtp) -> None:
    smtp_settings, inbox = smtp
    down = make_settings(
        tmp_path,
        smtp=smtp_settings.__class__(
            host="127.0.0.1", port=free_port(), sender="phone@example.org", timeout=2
        ),
    )
    with Store(down.store_path) as store, TestClient(create_app(down, store)) as client:
        twilio = Twilio(client)
        twilio.post("/voice/incoming", incoming_call())
        assert twilio.post("/status/recording", recording()).status_code == 200
        (queued,) = store.mail_all()
        assert queued["sent_at"] is None and "ConnectionRefused" in queued["last_error"]
    # restart with the SMTP server reachable: the lifespan delivers what waited
    up = make_settings(tmp_path, smtp=smtp_settings)
    with TestClient(create_app(up)) as client:
        (mail,) = inbox.wait(1)
        assert REC_URL + ".mp3" in text_of(mail)
        deadline = time.monotonic() + 5
        while (
            client.app.state.store.mail_all()[0]["sent_at"] is None and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        assert client.app.state.store.mail_all()[0]["sent_at"]


def test_a_mail_failing_in_any_way_is_kept_with_its_error_and_the_rest_go_out(database, smtp) -> None:
    smtp_settings, inbox = smtp
    with Store(database) as store:
        store.mail_add("broken", "alice@example.org\nBcc: eve@example.org", "Voicemail", "a header no mail may carry")
        store.mail_add("fine", "alice@example.org", "SMS from a lead", "Is the offer still open?")
        assert deliver_pending(store, Mailer(smtp_settings)) == (1, 1)
        (mail,) = inbox.wait(1)
        assert mail["to"] == ["alice@example.org"]
        broken, fine = store.mail_all()
        assert broken["sent_at"] is None and "ValueError" in broken["last_error"] and fine["sent_at"]


def test_a_mail_is_retried_however_often_it_failed(database, smtp) -> None:
    smtp_settings, inbox = smtp
    with Store(database) as store:
        store.mail_add("late", "alice@example.org", "Voicemail", "The SMTP server was down for a day.")
        (item,) = store.mail_all()
        for _ in range(25):
            store.mail_mark(item["id"], error="SMTPServerDisconnected: down")
        assert deliver_pending(store, Mailer(smtp_settings)) == (1, 0)
        assert inbox.wait(1) and store.mail_all()[0]["sent_at"]


def test_restart_in_process_loses_nothing_and_retries_stay_single(tmp_path) -> None:
    settings = make_settings(tmp_path)
    first = [sms(f"SM{i:032d}", f"message {i}") for i in range(20)]
    with TestClient(create_app(settings)) as client:  # the app owns and closes its store
        for params in first:
            assert Twilio(client).post("/sms/incoming", params).status_code == 200
    with TestClient(create_app(settings)) as client:
        twilio = Twilio(client)
        for params in first:  # Twilio retries everything after the outage
            assert twilio.post("/sms/incoming", params).status_code == 200
        store = client.app.state.store
        assert store.count_events("message") == 20
        assert len(store.thread(LEAD)) == 20


def _start(store: str | Path, port: int, config: dict, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twilio_widget.cli",
            "serve",
            "--public-url",
            PUBLIC_URL,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--store",
            str(store),
            "--config",
            json.dumps(config),
            "--log-level",
            "warning",
            *extra,
        ],
        env=env,
        # files the service keeps beside a PostgreSQL store (the do-not-call list) go to a folder of its own
        cwd=tempfile.mkdtemp(prefix="twilio-widget-service-"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"server did not start: {proc.communicate()[1].decode()[-2000:]}")


def _post(port: int, path: str, params: dict[str, str]) -> int:
    return httpx.post(
        f"http://127.0.0.1:{port}{path}",
        data=params,
        headers={"X-Twilio-Signature": sign(params, path)},
        timeout=5,
    ).status_code


def test_kill_9_in_the_middle_loses_no_acknowledged_event(database) -> None:
    """Every event answered 200 survives SIGKILL; Twilio's retries after it add nothing."""
    store_path = database
    config = {
        "data_model": {
            "callers": [
                {"user_id": "alice", "caller_id": ALICE, "client_mail": "alice@example.org"}
            ]
        }
    }
    statuses = ["initiated", "ringing", "in-progress", "completed"]
    sent = [
        (
            "/status/call",
            {
                "CallSid": f"CA{i:032d}",
                "CallStatus": s,
                "From": ALICE,
                "To": LEAD,
                "Direction": "outbound-dial",
            },
        )
        for i in range(15)
        for s in statuses
    ]
    sent += [("/sms/incoming", sms(f"SM{i:032d}", f"hello {i}")) for i in range(15)]
    port = free_port()
    proc = _start(store_path, port, config)
    try:
        for path, params in sent[:50]:
            assert _post(port, path, params) == 200
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    port = free_port()
    proc = _start(store_path, port, config)
    try:
        for path, params in sent:  # the first 50 again (retries), then the rest
            assert _post(port, path, params) == 200
        with Store(store_path) as store:
            assert store.count_events("call") == 60
            assert store.count_events("message") == 15
            assert all(c["status"] == "completed" for c in store.calls())
    finally:
        proc.terminate()
        proc.wait(10)


def test_workers_share_the_database_and_a_killed_one_loses_nothing(database) -> None:
    """Two worker processes on PostgreSQL: callbacks spread over both, one is killed with
    SIGKILL mid-way and replaced; every callback answered 200 is stored once."""
    if not is_postgres(database):
        pytest.skip("several workers need PostgreSQL")
    import psutil

    config = {"data_model": {"callers": [{"user_id": "alice", "caller_id": ALICE}]}}
    port = free_port()
    proc = _start(database, port, config, "--workers", "2")
    try:
        workers = [w for w in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(w.cmdline())]
        assert len(workers) == 2
        sent = [sms(f"SM{i:032d}", f"hello {i}") for i in range(60)]
        answered = []
        for i, params in enumerate(sent):
            if i == 30:
                workers[-1].kill()
            try:
                if _post(port, "/sms/incoming", params) == 200:
                    answered.append(params["MessageSid"])
            except httpx.HTTPError:
                pass  # the killed worker's connection: Twilio would retry it
        assert len(answered) >= 55
        with Store(database) as store:
            stored = {m["sid"] for m in store.messages()}
            assert set(answered) <= stored and store.count_events("message") == len(stored)
    finally:
        proc.terminate()
        proc.wait(15)
