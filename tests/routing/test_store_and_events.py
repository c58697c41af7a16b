"""Status callbacks, inbound SMS, opt-outs and the outbox: stored once, emitted once, typed."""

from __future__ import annotations

import pytest
from routing_helpers import ACCOUNT, ALICE, LEAD, FakeBackend, Twilio

from twilio_widget import frames
from twilio_widget.backends.base import TwilioError
from twilio_widget.routing import Store, retry_outbox, send_message
from twilio_widget.vocabulary import MAX_BODY_CHARS

CALL_SID = "CA" + "c" * 32
MSG_SID = "SM" + "d" * 32


def call_status(status: str, **extra: str) -> dict[str, str]:
    return {
        "CallSid": CALL_SID,
        "AccountSid": ACCOUNT,
        "CallStatus": status,
        "From": ALICE,
        "To": LEAD,
        "Direction": "outbound-dial",
        "ParentCallSid": "CA" + "p" * 32,
        "Timestamp": "Thu, 26 Nov 2026 10:00:00 +0000",
        **extra,
    }


def inbound(body: str, sid: str = MSG_SID, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT,
        "From": LEAD,
        "To": ALICE,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
        **extra,
    }


def test_call_status_callbacks_are_stored_once_and_emitted(
    twilio: Twilio, store: Store, recorder
) -> None:
    for status in ["initiated", "ringing", "in-progress", "completed"]:
        extra = {"CallDuration": "61"} if status == "completed" else {}
        assert twilio.post("/status/call", call_status(status, **extra)).status_code == 200
        assert twilio.post("/status/call", call_status(status, **extra)).status_code == 200  # retry
    assert store.count_events("call") == 4
    assert recorder.kinds() == ["call"] * 4
    assert [e.record["status"] for e in recorder.events] == [
        "queued",
        "ringing",
        "in-progress",
        "completed",
    ]
    record = recorder.events[-1].record
    assert set(record) == set(frames.CALLS)
    assert record["duration"] == 61 and record["from"] == ALICE and record["to"] == LEAD
    assert record["parent_call_sid"] == "CA" + "p" * 32
    assert record["start_time"].startswith("2026-11-26T10:00:00")
    (row,) = store.calls(LEAD)
    assert row["status"] == "completed" and row["end_time"]


def test_a_late_status_never_moves_a_call_backwards(twilio: Twilio, store: Store) -> None:
    twilio.post("/status/call", call_status("completed"))
    twilio.post("/status/call", call_status("ringing"))
    assert store.call(CALL_SID)["status"] == "completed"
    assert store.count_events("call") == 2


def test_inbound_sms_is_stored_pushed_and_threaded(twilio: Twilio, store: Store, recorder) -> None:
    response = twilio.post("/sms/incoming", inbound("Can we talk tomorrow?"))
    assert response.status_code == 200
    assert response.text.endswith("<Response />")
    twilio.post("/sms/incoming", inbound("Can we talk tomorrow?"))  # Twilio retry
    assert recorder.kinds() == ["message"]
    record = recorder.events[0].record
    assert set(record) == set(frames.MESSAGES)
    assert record["direction"] == "inbound" and record["status"] == "received"
    assert record["body"] == "Can we talk tomorrow?" and record["from"] == LEAD
    assert [m["sid"] for m in store.thread("(415) 555-0199")] == [MSG_SID]
    frame = store.messages_frame(LEAD)
    assert list(frame.columns) == list(frames.MESSAGES)
    assert str(frame["date_created"].dtype) == frames.UTC_TIME


def test_outbound_status_callbacks_update_the_thread(
    twilio: Twilio, store: Store, recorder
) -> None:
    store.record_message(
        "SM" + "o" * 32,
        "queued",
        direction="outbound-api",
        from_=ALICE,
        to=LEAD,
        body="Your quote is ready",
    )
    for status in ["sent", "delivered", "sent"]:
        params = {
            "MessageSid": "SM" + "o" * 32,
            "MessageStatus": status,
            "From": ALICE,
            "To": LEAD,
            "AccountSid": ACCOUNT,
        }
        assert twilio.post("/status/message", params).status_code == 200
    (row,) = store.thread(LEAD)
    assert row["status"] == "delivered" and row["body"] == "Your quote is ready"
    assert [e.record["status"] for e in recorder.events] == ["sent", "delivered"]
    assert all(e.record["body"] == "Your quote is ready" for e in recorder.events)


def test_status_of_a_message_sent_elsewhere_creates_it(twilio: Twilio, store: Store) -> None:
    params = {
        "MessageSid": "SM" + "e" * 32,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "From": ALICE,
        "To": LEAD,
    }
    twilio.post("/status/message", params)
    row = store.message("SM" + "e" * 32)
    assert row["direction"] == "outbound-api" and row["error_code"] == 30003


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe ", "QUIT", "end", "StopAll"])
def test_stop_blocks_further_sends_with_a_clear_error(twilio: Twilio, store: Store, word) -> None:
    twilio.post("/sms/incoming", inbound(word))
    assert store.is_opted_out(LEAD)
    backend = FakeBackend()
    with pytest.raises(TwilioError) as info:
        send_message(backend, store, LEAD, ALICE, "Still there?")
    assert info.value.code == 21610
    assert LEAD in str(info.value) and "opted out" in str(info.value)
    assert backend.sent == []
    twilio.post("/sms/incoming", inbound("START", sid="SM" + "s" * 32))
    assert not store.is_opted_out(LEAD)
    send_message(
        backend, store, LEAD, ALICE, "Welcome back", status_callback="https://x/status/message"
    )
    assert backend.sent == [(LEAD, ALICE, "Welcome back", "https://x/status/message")]


def test_opt_out_type_param_and_non_keywords(twilio: Twilio, store: Store) -> None:
    twilio.post("/sms/incoming", inbound("please stop calling me"))
    assert not store.is_opted_out(LEAD)
    twilio.post("/sms/incoming", inbound("arrêt", sid="SM" + "f" * 32, OptOutType="STOP"))
    assert store.is_opted_out(LEAD)


def test_twilio_refusing_21610_records_the_opt_out(twilio: Twilio, store: Store) -> None:
    params = {
        "MessageSid": "SM" + "g" * 32,
        "MessageStatus": "failed",
        "ErrorCode": "21610",
        "From": ALICE,
        "To": LEAD,
    }
    twilio.post("/status/message", params)
    assert store.is_opted_out(LEAD)


def test_failed_sends_wait_in_the_outbox_and_can_be_retried(store: Store) -> None:
    down = FakeBackend(TwilioError("Service unavailable", code=20503, status=503))
    with pytest.raises(TwilioError):
        send_message(down, store, LEAD, ALICE, "Quote attached")
    (item,) = store.outbox_pending()
    assert item["error_code"] == 20503 and item["body"] == "Quote attached"
    assert retry_outbox(down, store) == {"sent": 0, "failed": 1, "blocked": 0}
    assert store.outbox_pending()[0]["attempts"] == 2
    up = FakeBackend()
    assert retry_outbox(up, store) == {"sent": 1, "failed": 0, "blocked": 0}
    assert store.outbox_pending() == []
    assert store.thread(LEAD)[0]["body"] == "Quote attached"


def test_a_body_twilio_would_refuse_is_an_error_and_never_waits(store: Store) -> None:
    backend = FakeBackend()
    with pytest.raises(TwilioError) as info:
        send_message(backend, store, LEAD, ALICE, "x" * (MAX_BODY_CHARS + 1))
    assert info.value.code == 21617 and "body" in str(info.value)
    assert backend.sent == [] and store.outbox_pending() == []  # nothing sent, nothing to retry


def test_outbox_does_not_send_to_who_opted_out_meanwhile(store: Store) -> None:
    store.outbox_add(LEAD, ALICE, "Hello", error_code=20503, error_message="down")
    store.opt_out(LEAD)
    backend = FakeBackend()
    assert retry_outbox(backend, store)["blocked"] == 1
    assert backend.sent == []


def test_events_since_lets_the_widget_poll(twilio: Twilio, store: Store) -> None:
    twilio.post("/status/call", call_status("ringing"))
    mark = store.last_event_id()
    twilio.post("/sms/incoming", inbound("hi"))
    twilio.post("/status/call", call_status("completed"))
    events = store.events_since(mark)
    assert [e["kind"] for e in events] == ["message", "call"]
    assert events[0]["record"]["body"] == "hi"
    assert store.events_since(store.last_event_id()) == []


def test_frames_from_the_store_have_the_schema(twilio: Twilio, store: Store) -> None:
    twilio.post("/status/call", call_status("completed", CallDuration="5"))
    calls = store.calls_frame(LEAD)
    assert list(calls.columns) == list(frames.CALLS)
    assert calls.dtypes.astype(str).to_dict() == frames.CALLS
    assert list(store.recordings_frame().columns) == list(frames.RECORDINGS)


def test_a_failing_listener_does_not_fail_twilios_request(
    twilio: Twilio, hub, store: Store
) -> None:
    def boom(event):
        raise RuntimeError("panel gone")

    hub.subscribe(boom)
    assert twilio.post("/sms/incoming", inbound("hello")).status_code == 200
    assert store.count_events("message") == 1


def test_concurrent_writers_and_retries_make_one_event_each(database) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with Store(database) as store:
        def work(worker: int) -> int:
            new = 0
            for i in range(100):  # every worker sends the same 100 callbacks: 7 of 8 are retries
                new += store.record_call_status(f"CA{i:032d}", "ringing", from_=ALICE, to=LEAD).new
            return new

        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(work, range(8))) == 100
        futures = [store.submit(store.record_message, f"SM{i:032d}", "received", direction="inbound",
                                from_=LEAD, to=ALICE, body=str(i)) for i in range(300)]
        assert all(f.result().new for f in futures)
        assert store.count_events("call") == 100 and store.count_events("message") == 300


def test_a_failing_write_does_not_undo_the_others_in_its_batch(store: Store) -> None:
    def broken(*args, **kwargs):
        raise ValueError("boom")

    good = [store.submit(store.opt_out, f"+1415555{i:04d}") for i in range(20)]
    bad = store.submit(broken)
    good += [store.submit(store.opt_out, f"+1415556{i:04d}") for i in range(20)]
    with pytest.raises(ValueError, match="boom"):
        bad.result()
    assert all(f.result() for f in good)
    assert len(store.opt_outs()) == 40


def test_requests_awaiting_one_batch_each_get_their_own_outcome(store: Store) -> None:
    """The service's writes (``submit_async``) are settled a batch at a time on their loop: a
    write that fails fails only its own request, and every other one sees its row committed."""
    import asyncio

    def broken(*args, **kwargs):
        raise ValueError("boom")

    async def requests() -> list:
        writes = [store.submit_async(store.record_call_status, f"CA{i:032d}", "ringing", from_=ALICE, to=LEAD)
                  for i in range(50)]
        writes.insert(25, store.submit_async(broken))
        return await asyncio.gather(*writes, return_exceptions=True)

    outcomes = asyncio.run(requests())
    assert isinstance(outcomes.pop(25), ValueError)
    assert all(o.new for o in outcomes)
    assert {c["sid"] for c in store.calls()} == {f"CA{i:032d}" for i in range(50)}
    assert store.count_events("call") == 50


def test_writes_after_close_fail_instead_of_hanging(database) -> None:
    store = Store(database)
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.opt_out(LEAD)
    store.close()  # twice is fine


def test_send_message_through_the_sandbox_backend_lands_in_the_thread(store: Store) -> None:
    import pandas as pd

    from twilio_widget.backends.sandbox import SandboxBackend
    from twilio_widget.routing.store import parse_time

    backend = SandboxBackend(numbers=[LEAD])
    record = send_message(backend, store, LEAD, ALICE, "From the sandbox")
    (row,) = store.thread(LEAD)
    assert row["sid"] == record["sid"] and row["body"] == "From the sandbox"
    assert row["direction"].startswith("outbound")
    assert parse_time(pd.NaT) is None and parse_time(pd.NA) is None and parse_time("") is None
    assert parse_time("Thu, 26 Nov 2026 10:00:00 +0000") == "2026-11-26T10:00:00.000000+00:00"
