"""Every request TwilioBackend sends is valid by Twilio's OpenAPI description, and the
spec's own response examples come back as frames of the documented schema.

The in-process ``spec_api`` validates each request with openapi-core (a violation fails
the test) and answers with the spec's example for the operation unless a test scripted
another answer. Error bodies below are Twilio-shaped, written by these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest
from contract_helpers import ACCOUNT_SID, AUTH_TOKEN, NUMBER, OTHER, assert_schema, twilio_error_body

from twilio_widget import frames
from twilio_widget.backends.base import TwilioError
from twilio_widget.backends.twilio import MAX_PAGE_SIZE, InputError, as_twilio_error

pytestmark = pytest.mark.contract


def page(key: str, records: list[dict], next_page_uri: str | None = None) -> dict:
    return {key: records, "next_page_uri": next_page_uri, "page": 0,
            "page_size": len(records), "start": 0, "end": max(0, len(records) - 1),
            "first_page_uri": "/", "previous_page_uri": None, "uri": "/"}


def call(sid_n: int, start: str, status: str = "completed", to: str = NUMBER,
         from_: str = OTHER) -> dict:
    return {"sid": f"CA{sid_n:032x}", "status": status, "to": to, "from": from_,
            "direction": "outbound-api", "start_time": start, "end_time": start,
            "duration": "7", "price": "-0.0130", "price_unit": "USD", "answered_by": None,
            "parent_call_sid": None}


# ---- lists ----------------------------------------------------------------------------------


def test_calls_list_request_is_valid_and_example_becomes_typed_frame(spec_backend, spec_api):
    frame = spec_backend.calls(limit=2)
    assert_schema(frame, "calls")
    assert len(frame) == 2
    # newest first, RFC 2822 times parsed to UTC
    assert frame["start_time"].is_monotonic_decreasing
    assert frame["start_time"].iloc[0] == pd.Timestamp("2019-10-18 17:02:00", tz="UTC")
    assert frame["duration"].dtype == "Int64" and frame["price"].dtype == "Float64"
    sent = spec_api.requests[0]
    assert sent["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert sent["params"]["PageSize"] == "2"


def test_page_size_is_capped_at_the_api_maximum(spec_backend, spec_api):
    spec_api.script("GET", "/Calls.json", (200, page("calls", [])))
    spec_backend.calls(limit=50_000)  # the library would send PageSize=50000 (spec: <= 1000)
    assert spec_api.requests[0]["params"]["PageSize"] == str(MAX_PAGE_SIZE)
    spec_api.script("GET", "/Calls.json", (200, page("calls", [])))
    spec_backend.calls(refresh=True)
    assert spec_api.requests[1]["params"]["PageSize"] == str(MAX_PAGE_SIZE)


def test_calls_for_a_number_are_the_union_of_to_and_from(spec_backend, spec_api):
    both = call(1, "Tue, 06 Jan 2026 10:00:00 +0000", to=NUMBER, from_=NUMBER)  # in both
    spec_api.script("GET", "/Calls.json",
                    (200, page("calls", [call(2, "Mon, 05 Jan 2026 10:00:00 +0000"), both])),
                    (200, page("calls", [call(3, "Wed, 07 Jan 2026 10:00:00 +0000",
                                              to=OTHER, from_=NUMBER), both])))
    frame = spec_backend.calls(NUMBER, since=datetime(2026, 1, 1, tzinfo=UTC))
    assert_schema(frame, "calls")
    assert frame["sid"].tolist() == [f"CA{3:032x}", f"CA{1:032x}", f"CA{2:032x}"]
    to_q, from_q = (r["params"] for r in spec_api.requests)
    assert to_q["To"] == NUMBER and "From" not in to_q
    assert from_q["From"] == NUMBER and "To" not in from_q
    assert to_q["StartTime>"] == from_q["StartTime>"] == "2026-01-01T00:00:00Z"


def test_until_bounds_by_whole_days_on_the_wire_and_exactly_in_the_frame(spec_backend,
                                                                           spec_api):
    spec_api.script("GET", "/Calls.json", (200, page("calls", [
        call(1, "Sat, 31 Jan 2026 23:59:00 +0000"), call(2, "Sun, 01 Feb 2026 00:00:10 +0000"),
        call(3, "Tue, 30 Dec 2025 10:00:00 +0000")])))
    frame = spec_backend.calls(since="2026-01-01", until="2026-01-31")
    assert frame["sid"].tolist() == [f"CA{1:032x}"]
    params = spec_api.requests[0]["params"]
    assert params["StartTime>"] == "2026-01-01T00:00:00Z"
    assert params["StartTime<"] == "2026-02-01T00:00:00Z"


def test_paging_follows_next_page_uri_until_the_end(spec_backend, spec_api):
    base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json?PageSize=1000&Page=1&PageToken=PA1"
    spec_api.script("GET", "/Calls.json",
                    (200, page("calls", [call(1, "Mon, 05 Jan 2026 10:00:00 +0000")], base)),
                    (200, page("calls", [call(2, "Sun, 04 Jan 2026 10:00:00 +0000")])))
    frame = spec_backend.calls()
    assert len(frame) == 2 and len(spec_api.requests) == 2
    assert spec_api.requests[1]["params"]["PageToken"] == "PA1"


def test_messages_list_request_is_valid_and_typed(spec_backend, spec_api):
    frame = spec_backend.messages(NUMBER, since="2008-01-01", limit=1)
    assert_schema(frame, "messages")
    assert len(frame) == 1
    for r in spec_api.requests:
        assert r["path"].endswith("/Messages.json")
        assert r["params"]["DateSent>"] == "2008-01-01T00:00:00Z"
    assert frame["num_segments"].dtype == "Int64"


def test_recordings_list_request_is_valid_and_typed(spec_backend, spec_api):
    frame = spec_backend.recordings(call_sid="CA" + "a" * 32)
    assert_schema(frame, "recordings")
    assert len(frame) == 1
    assert spec_api.requests[0]["params"]["CallSid"] == "CA" + "a" * 32
    assert frame["media_url"].iloc[0].endswith("/Recordings/RE" + "a" * 32)
    assert frame["duration"].iloc[0] == 4


def test_empty_answers_give_empty_frames_of_the_schema(spec_backend, spec_api):
    for kind, key, fetch in (("calls", "calls", spec_backend.calls),
                             ("messages", "messages", spec_backend.messages),
                             ("recordings", "recordings", spec_backend.recordings)):
        spec_api.script("GET", f"/{key.capitalize()}.json", (200, page(key, [])))
        frame = fetch(refresh=True)
        assert len(frame) == 0
        assert_schema(frame, kind)


# ---- the cache ----------------------------------------------------------------------------


def test_repeated_query_asks_only_for_what_is_new_and_refreshes_open_calls(spec_backend,
                                                                             spec_api):
    ringing = call(2, "Tue, 06 Jan 2026 09:00:00 +0000", status="in-progress")
    spec_api.script("GET", "/Calls.json", (200, page("calls", [
        call(1, "Mon, 05 Jan 2026 10:00:00 +0000"), ringing,
        call(9, "Fri, 02 Jan 2026 08:00:00 +0000", status="ringing")])))
    first = spec_backend.calls()
    assert len(first) == 3
    # Second time: only calls since the newest cached day; CA..2 comes back completed in it,
    # CA..9 (still ringing in the cache, older) is re-fetched by sid.
    spec_api.script("GET", "/Calls.json", (200, page("calls", [
        call(3, "Wed, 07 Jan 2026 10:00:00 +0000"),
        call(2, "Tue, 06 Jan 2026 09:00:00 +0000", status="completed")])))
    spec_api.script("GET", f"/Calls/CA{9:032x}.json",
                    (200, call(9, "Fri, 02 Jan 2026 08:00:00 +0000", status="no-answer")))
    second = spec_backend.calls()
    assert [r["path"].rsplit("/", 1)[-1] for r in spec_api.requests[1:]] == [
        "Calls.json", f"CA{9:032x}.json"]
    assert spec_api.requests[1]["params"]["StartTime>"] == "2026-01-06T00:00:00Z"
    assert second["sid"].tolist() == [f"CA{n:032x}" for n in (3, 2, 1, 9)]
    assert second.set_index("sid")["status"].to_dict() == {
        f"CA{3:032x}": "completed", f"CA{2:032x}": "completed",
        f"CA{1:032x}": "completed", f"CA{9:032x}": "no-answer"}


def test_number_query_is_answered_from_the_all_calls_cache(spec_backend, spec_api):
    spec_api.script("GET", "/Calls.json", (200, page("calls", [
        call(1, "Mon, 05 Jan 2026 10:00:00 +0000", to="+14155550111"),
        call(2, "Sun, 04 Jan 2026 10:00:00 +0000")])))
    spec_backend.calls()
    spec_api.script("GET", "/Calls.json", (200, page("calls", [])))
    frame = spec_backend.calls(NUMBER)
    assert frame["sid"].tolist() == [f"CA{2:032x}"]
    assert len(spec_api.requests) == 2  # one incremental list, not a to= and a from= query


def test_failed_page_reports_and_caches_nothing(spec_backend, spec_api):
    nxt = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json?PageSize=1000&Page=1&PageToken=PA1"
    spec_api.script("GET", "/Calls.json",
                    (200, page("calls", [call(1, "Mon, 05 Jan 2026 10:00:00 +0000")], nxt)),
                    # Twilio-shaped error body, written by this test:
                    (404, twilio_error_body(20404, "The requested resource was not found", 404)))
    with pytest.raises(TwilioError) as info:
        spec_backend.calls()
    assert info.value.code == 20404 and info.value.status == 404
    spec_api.script("GET", "/Calls.json", (200, page("calls", [])))
    assert len(spec_backend.calls()) == 0  # the half-fetched page 1 was not kept


# ---- send SMS, create call -------------------------------------------------------------------


def test_send_message_request_is_valid_and_returns_a_schema_record(spec_backend, spec_api):
    record = spec_backend.send_message(NUMBER, OTHER, "Hello from the notebook")
    sent = spec_api.requests[0]
    assert sent["method"] == "POST" and sent["path"].endswith("/Messages.json")
    assert sent["data"] == {"To": NUMBER, "From": OTHER, "Body": "Hello from the notebook"}
    assert set(record) == set(frames.MESSAGES)
    assert record["sid"].startswith(("SM", "MM"))
    assert isinstance(record["date_created"], pd.Timestamp)


def test_send_message_through_a_messaging_service(spec_backend, spec_api):
    service = "MG" + "a" * 32
    spec_backend.send_message(NUMBER, service, "hi")
    assert spec_api.requests[0]["data"]["MessagingServiceSid"] == service
    assert "From" not in spec_api.requests[0]["data"]


@pytest.mark.parametrize("kwargs", [{"twiml": "<Response><Say>Hi</Say></Response>"},
                                    {"url": "https://example.com/twiml"}])
def test_create_call_request_is_valid_and_returns_a_schema_record(spec_backend, spec_api,
                                                                  kwargs):
    record = spec_backend.create_call(NUMBER, OTHER, status_callback="https://example.com/s",
                                      **kwargs)
    sent = spec_api.requests[0]
    assert sent["path"].endswith("/Calls.json") and sent["method"] == "POST"
    assert sent["data"]["StatusCallback"] == "https://example.com/s"
    assert ("Twiml" in sent["data"]) == ("twiml" in kwargs)
    assert set(record) == set(frames.CALLS)
    assert record["sid"].startswith("CA")


@pytest.mark.parametrize("args, field", [
    (("4155550100", OTHER, "hi"), "to"),
    ((NUMBER, "+1 (415) 555", "hi"), "from_"),
    ((NUMBER, OTHER, "   "), "body"),
    ((NUMBER, OTHER, "x" * 1601), "body"),
    (("", OTHER, "hi"), "to"),
])
def test_bad_message_input_names_the_field_and_sends_nothing(spec_backend, spec_api, args,
                                                             field):
    with pytest.raises(InputError) as info:
        spec_backend.send_message(*args)
    assert info.value.field == field and field in str(info.value)
    assert isinstance(info.value, ValueError)
    assert spec_api.requests == []


@pytest.mark.parametrize("kwargs, field", [
    ({}, "twiml"),
    ({"twiml": "<Response/>", "url": "https://example.com"}, "twiml"),
    ({"url": "ftp://example.com"}, "url"),
    ({"twiml": "<Response/>", "status_callback": "not a url"}, "status_callback"),
])
def test_bad_call_input_names_the_field_and_sends_nothing(spec_backend, spec_api, kwargs, field):
    with pytest.raises(InputError) as info:
        spec_backend.create_call(NUMBER, OTHER, **kwargs)
    assert info.value.field == field
    assert spec_api.requests == []


# ---- Twilio's errors ---------------------------------------------------------------------


@pytest.mark.parametrize("status, code, message", [
    (400, 21211, "The 'To' number +14155550100 is not a valid phone number."),
    (400, 21610, "Attempt to send to unsubscribed recipient"),
    (401, 20003, "Authenticate"),
])
def test_twilio_errors_surface_with_code_status_and_link(spec_backend, spec_api, status, code,
                                                         message):
    # Twilio-shaped error body, written by this test (the spec describes no errors).
    spec_api.script("POST", "/Messages.json", (status, twilio_error_body(code, message, status)))
    with pytest.raises(TwilioError) as info:
        spec_backend.send_message(NUMBER, OTHER, "hi")
    err = info.value
    assert (err.code, err.status, err.message) == (code, status, message)
    assert err.more_info == f"https://www.twilio.com/docs/errors/{code}"
    assert AUTH_TOKEN not in str(err) and AUTH_TOKEN not in repr(err)
    assert AUTH_TOKEN not in repr(spec_backend)


def test_bad_credentials_without_a_body_are_20003(spec_backend, spec_api):
    spec_api.script("GET", f"/Accounts/{ACCOUNT_SID}.json", (401, ""))
    with pytest.raises(TwilioError) as info:
        spec_backend.account_info()
    assert info.value.code == 20003 and info.value.status == 401


def test_account_info_is_a_valid_cheap_check(spec_backend, spec_api):
    info = spec_backend.account_info()
    assert set(info) == {"sid", "friendly_name", "status", "type"}
    assert spec_api.requests[0]["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"


# ---- polling and events --------------------------------------------------------------------


def test_call_status_polls_and_emits_on_change(spec_backend, spec_api):
    events = []
    unsubscribe = spec_backend.subscribe(events.append)
    sid = "CA" + "a" * 32
    spec_api.script("GET", f"/Calls/{sid}.json",
                    (200, call(0xA, "Mon, 05 Jan 2026 10:00:00 +0000", status="ringing")
                     | {"sid": sid}),
                    (200, call(0xA, "Mon, 05 Jan 2026 10:00:00 +0000", status="ringing")
                     | {"sid": sid}),
                    (200, call(0xA, "Mon, 05 Jan 2026 10:00:00 +0000", status="in-progress")
                     | {"sid": sid}))
    statuses = [spec_backend.call_status(sid)["status"] for _ in range(3)]
    assert statuses == ["ringing", "ringing", "in-progress"]
    assert [e.record["status"] for e in events] == ["ringing", "in-progress"]
    assert all(e.kind == "call" for e in events)
    unsubscribe()
    spec_backend.message_status("SM" + "a" * 32)
    assert len(events) == 2


def test_library_exception_without_code_is_translated(spec_backend, spec_api):
    """twilio-python's list pages raise TwilioException("Unable to fetch page") with no code;
    if the library is used on the same client, the backend still recovers Twilio's code."""
    from twilio.base.exceptions import TwilioException

    client = spec_backend._client
    spec_api.script("GET", "/Calls.json",
                    (403, twilio_error_body(20403, "Forbidden: account suspended", 403)))
    with pytest.raises(TwilioException) as info:
        list(client.calls.list(limit=1))
    assert getattr(info.value, "code", None) is None  # what the library gives
    error = as_twilio_error(info.value, spec_backend.http.last_response)
    assert (error.code, error.status) == (20403, 403)
    assert error.message == "Forbidden: account suspended"

    # The library's TwilioRestException (fetch, create ...) keeps its code too.
    from twilio.base.exceptions import TwilioRestException

    spec_api.script("GET", "/Calls/CA" + "a" * 32 + ".json",
                    (404, twilio_error_body(20404, "The requested resource was not found", 404)))
    with pytest.raises(TwilioRestException) as rest:
        client.calls("CA" + "a" * 32).fetch()
    error = as_twilio_error(rest.value)
    assert (error.code, error.status) == (20404, 404)
    assert error.message == "The requested resource was not found"


def test_the_query_string_the_library_would_send_is_the_same_shape(spec_backend, spec_api):
    """Our raw requests use the same parameter names as twilio-python's CallList.page."""
    spec_backend._client.calls.page(start_time_after=datetime(2026, 1, 1), page_size=10)
    ours = spec_backend.calls(since="2026-01-01", limit=10, refresh=True)
    assert isinstance(ours, pd.DataFrame)
    lib, mine = (dict(parse_qsl(urlsplit(r["url"]).query)) | r["params"]
                 for r in spec_api.requests[:2])
    assert lib == mine


def test_end_call_request_is_valid(spec_backend, spec_api):
    sid = "CA" + "a" * 32
    events = []
    spec_backend.subscribe(events.append)
    spec_api.script("GET", f"/Calls/{sid}.json",
                    (200, call(0xA, "Mon, 05 Jan 2026 10:00:00 +0000", status="in-progress")
                     | {"sid": sid}))
    spec_api.script("POST", f"/Calls/{sid}.json",
                    (200, call(0xA, "Mon, 05 Jan 2026 10:00:00 +0000", status="completed")
                     | {"sid": sid}))
    record = spec_backend.end_call(sid)
    assert record["status"] == "completed"
    assert spec_api.requests[1]["method"] == "POST"
    assert spec_api.requests[1]["data"] == {"Status": "completed"}
    assert [e.record["status"] for e in events] == ["in-progress", "completed"]
    # still ringing: canceled instead; already over: nothing sent
    spec_api.script("GET", f"/Calls/{sid}.json",
                    (200, call(0xA, "Mon, 05 Jan 2026 10:00:00 +0000", status="ringing")
                     | {"sid": sid}),
                    (200, call(0xA, "Mon, 05 Jan 2026 10:00:00 +0000", status="busy")
                     | {"sid": sid}))
    spec_backend.end_call(sid)
    assert spec_api.requests[3]["data"] == {"Status": "canceled"}
    assert spec_backend.end_call(sid)["status"] == "busy"
    assert len(spec_api.requests) == 5


def test_recordings_date_range_is_valid(spec_backend, spec_api):
    spec_backend.recordings(since="2016-10-01", until="2016-10-31")
    params = spec_api.requests[0]["params"]
    assert params["DateCreated>"] == "2016-10-01T00:00:00Z"
    assert params["DateCreated<"] == "2016-11-01T00:00:00Z"


def test_a_sent_message_joins_the_cached_history_at_once(spec_backend, spec_api):
    spec_api.script("GET", "/Messages.json", (200, page("messages", [])))
    assert len(spec_backend.messages()) == 0
    spec_backend.cache_ttl = 3600  # within it, history is answered from the cache alone
    record = spec_backend.send_message(NUMBER, OTHER, "Hello")
    history = spec_backend.messages()
    assert history["sid"].tolist() == [record["sid"]]
    assert [r["method"] for r in spec_api.requests] == ["GET", "POST"]


def test_a_range_ending_in_the_past_is_topped_up_on_the_next_open_query(spec_backend,
                                                                          spec_api):
    spec_backend.cache_ttl = 3600
    spec_api.script("GET", "/Calls.json", (200, page("calls", [
        call(1, "Mon, 05 Jan 2026 10:00:00 +0000")])))
    assert len(spec_backend.calls(until="2026-01-31")) == 1
    spec_api.script("GET", "/Calls.json", (200, page("calls", [
        call(2, "Tue, 03 Feb 2026 10:00:00 +0000")])))
    frame = spec_backend.calls()  # the cache held January only: ask for what came after
    assert frame["sid"].tolist() == [f"CA{2:032x}", f"CA{1:032x}"]
    assert spec_api.requests[1]["params"]["StartTime>"] == "2026-01-05T00:00:00Z"
    assert len(spec_backend.calls()) == 2 and len(spec_api.requests) == 2  # now within TTL
