"""Voice Insights requests are valid by Twilio's own description of insights.twilio.com, and its
examples come back as typed frames: call summaries (paged, cached, retried like the calls frame),
a call's summary, events and metrics.

``insights_api`` validates each request with openapi-core against ``twilio_insights_v1.json``
and answers with the spec's examples unless a test scripted another answer. The error bodies
are Twilio-shaped, written by these tests (the spec has none).
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from contract_helpers import NUMBER, assert_schema, twilio_error_body

from twilio_widget.backends.base import TwilioError
from twilio_widget.backends.twilio import InputError

pytestmark = pytest.mark.contract

CALL_SID = "CA" + "a" * 32
SUMMARIES = "/v1/Voice/Summaries"


def summaries_page(records: list[dict], next_page_url: str | None = None) -> dict:
    url = f"https://insights.twilio.com{SUMMARIES}?PageSize=1000&Page=0"
    return {"call_summaries": records,
            "meta": {"page": 0, "page_size": len(records), "first_page_url": url, "url": url,
                     "previous_page_url": None, "next_page_url": next_page_url,
                     "key": "call_summaries"}}


def example_summary(insights_api, name: str = "readWithCarrier") -> dict:
    """The spec's own example of a summary from the list operation."""
    return copy.deepcopy(insights_api.operation("GET", SUMMARIES, "insights.twilio.com")
                         .example(name)[1]["call_summaries"][0])


def summary(insights_api, n: int, start: str, state: str = "complete", **changes) -> dict:
    return {**example_summary(insights_api), "call_sid": f"CA{n:032x}", "start_time": start,
            "processing_state": state, **changes}


@pytest.fixture
def insights_backend(spec_backend, insights_api):
    return spec_backend


def insights_requests(insights_api) -> list[dict]:
    return [r for r in insights_api.requests if r["host"] == "insights.twilio.com"]


# ---- call summaries ----------------------------------------------------------------------


def test_summaries_request_is_valid_and_asks_for_all_that_insights_keeps(insights_backend,
                                                                          insights_api):
    frame = insights_backend.call_summaries()  # the spec's first example: no summaries
    assert_schema(frame, "call_summaries")
    assert len(frame) == 0
    (sent,) = insights_requests(insights_api)
    assert sent["path"] == SUMMARIES
    # Insights' own default would be the last 4 hours; every state, partial summaries too
    assert sent["params"]["StartTime"] == "30d"
    assert sent["params"]["ProcessingState"] == "all"
    assert sent["params"]["PageSize"] == "1000"


def test_the_spec_example_becomes_one_flat_typed_row(insights_backend, insights_api):
    insights_api.script("GET", SUMMARIES, (200, summaries_page([example_summary(insights_api)])))
    row = insights_backend.call_summaries().iloc[0]
    assert row["call_sid"] == CALL_SID
    assert row["start_time"] == pd.Timestamp("2021-08-25 03:40:25", tz="UTC")
    assert (row["duration"], row["connect_duration"]) == (20, 20)
    assert (row["from"], row["to"]) == ("+15555555555", "+15555555556")
    assert (row["from_carrier"], row["to_carrier"]) == ("T-Mobile USA, Inc.", "AT&T Wireless")
    assert (row["from_country_code"], row["to_connection"]) == ("US", "mobile")
    assert row["answered_by"] == "machine_start" and row["direction"] == "inbound"
    assert row["edges"] == "carrier_edge" and row["edge_location"] == "xxxxx"
    assert row["media_region"] == "us1" and row["codec"] == "pcmu"
    assert row["packet_loss_pct"] == 0.0
    assert row["jitter_max"] == pytest.approx(1.48209)  # the worse of the two directions
    assert row["jitter_avg"] == pytest.approx(0.483035)
    assert pd.isna(row["mos"])  # a carrier edge reports no MOS
    assert row["tags"] == "high_jitter,high_packet_loss"
    assert row["pdd_ms"] == 121 and row["last_sip_response"] == 200
    assert row["disconnected_by"] == "callee" and bool(row["verified_caller"])


def test_sdk_edge_figures_give_the_lowest_mos_and_longest_round_trip(insights_backend,
                                                                      insights_api):
    sdk = {"properties": {"edge_location": "ashburn"},
           "metrics": {"inbound": {"mos": {"min": 3.1, "avg": 4.2}, "rtt": {"max": 180.0}},
                       "outbound": {"mos": {"min": 3.9}, "rtt": {"max": 95.0},
                                    "packets_loss_percentage": 2.5}}}
    record = summary(insights_api, 1, "2026-01-05T10:00:00Z", carrier_edge=None, sdk_edge=sdk,
                     call_type="client", tags=[])
    insights_api.script("GET", SUMMARIES, (200, summaries_page([record])))
    row = insights_backend.call_summaries().iloc[0]
    assert row["edges"] == "sdk_edge" and row["edge_location"] == "ashburn"
    assert row["mos"] == 3.1 and row["rtt_ms"] == 180.0 and row["packet_loss_pct"] == 2.5
    assert pd.isna(row["tags"])


def test_summaries_for_a_number_are_the_union_of_to_and_from(insights_backend, insights_api):
    both = summary(insights_api, 1, "2026-01-06T10:00:00Z")
    insights_api.script("GET", SUMMARIES,
                        (200, summaries_page([summary(insights_api, 2, "2026-01-05T10:00:00Z"),
                                              both])),
                        (200, summaries_page([summary(insights_api, 3, "2026-01-07T10:00:00Z"),
                                              both])))
    frame = insights_backend.call_summaries(NUMBER, since="2026-01-01", until="2026-02-01")
    assert frame["call_sid"].tolist() == [f"CA{n:032x}" for n in (3, 1, 2)]  # newest first
    to_q, from_q = (r["params"] for r in insights_requests(insights_api))
    assert to_q["To"] == NUMBER and "From" not in to_q
    assert from_q["From"] == NUMBER and "To" not in from_q
    assert to_q["StartTime"] == "2026-01-01T00:00:00Z"
    assert to_q["EndTime"] == "2026-02-02T00:00:00Z"  # a bare date is that whole day


def test_paging_follows_next_page_url_and_stays_on_the_insights_host(insights_backend,
                                                                      insights_api):
    second = f"https://insights.twilio.com{SUMMARIES}?PageSize=1000&Page=1&PageToken=PT1"
    insights_api.script(
        "GET", SUMMARIES,
        (200, summaries_page([summary(insights_api, 1, "2026-01-05T10:00:00Z")], second)),
        (200, summaries_page([summary(insights_api, 2, "2026-01-04T10:00:00Z")])))
    assert len(insights_backend.call_summaries()) == 2
    assert insights_requests(insights_api)[1]["params"]["PageToken"] == "PT1"

    elsewhere = "https://example.com/v1/Voice/Summaries?Page=1"
    insights_api.script(
        "GET", SUMMARIES,
        (200, summaries_page([summary(insights_api, 3, "2026-01-05T10:00:00Z")], elsewhere)))
    with pytest.raises(TwilioError, match="another host"):
        insights_backend.call_summaries(refresh=True)
    assert all(r["host"] == "insights.twilio.com" for r in insights_requests(insights_api))


def test_limit_caps_page_size_and_rows(insights_backend, insights_api):
    records = [summary(insights_api, n, f"2026-01-0{n}T10:00:00Z") for n in (1, 2, 3)]
    insights_api.script("GET", SUMMARIES, (200, summaries_page(records)))
    frame = insights_backend.call_summaries(limit=2)
    assert len(frame) == 2
    assert insights_requests(insights_api)[0]["params"]["PageSize"] == "2"


def test_repeated_query_asks_only_for_what_is_new_and_refetches_partial_summaries(
        spec_api, insights_api):
    from twilio.rest import Client

    from twilio_widget.backends.twilio import TwilioBackend

    now = [0.0]
    backend = TwilioBackend(Client("AC" + "a" * 32, "token-0123456789abcdef0123456789ab",
                                   http_client=insights_api),
                            sleep=lambda s: None, progress=False, cache_ttl=60,
                            clock=lambda: now[0])
    partial = summary(insights_api, 1, "2026-01-05T10:00:00Z", state="partial")
    insights_api.script("GET", SUMMARIES, (200, summaries_page(
        [partial, summary(insights_api, 2, "2026-01-04T10:00:00Z")])))
    assert len(backend.call_summaries()) == 2
    assert len(backend.call_summaries()) == 2  # within cache_ttl: Twilio is not asked again
    assert len(insights_requests(insights_api)) == 1

    now[0] = 61.0
    insights_api.script("GET", SUMMARIES, (200, summaries_page(
        [summary(insights_api, 3, "2026-01-06T10:00:00Z")])))
    insights_api.script("GET", f"/Voice/CA{1:032x}/Summary",
                        (200, {**partial, "processing_state": "complete", "tags": ["silence"]}))
    frame = backend.call_summaries()
    update, refetch = insights_requests(insights_api)[1:]
    assert update["params"]["StartTime"] == "2026-01-05T10:00:00Z"  # since the newest held
    assert refetch["path"] == f"/v1/Voice/CA{1:032x}/Summary"
    assert frame["call_sid"].tolist() == [f"CA{n:032x}" for n in (3, 1, 2)]
    assert frame.set_index("call_sid").loc[f"CA{1:032x}", "processing_state"] == "complete"
    assert frame.set_index("call_sid").loc[f"CA{1:032x}", "tags"] == "silence"


def test_rate_limited_summaries_are_retried_with_back_off(insights_backend, insights_api):
    insights_api.script("GET", SUMMARIES,
                        (429, twilio_error_body(20429, "Too Many Requests", 429)),
                        (200, summaries_page([summary(insights_api, 1, "2026-01-05T10:00:00Z")])))
    assert len(insights_backend.call_summaries()) == 1
    assert len(insights_backend.sleeps) == 1 and insights_backend.sleeps[0] > 0


def test_a_refused_account_is_a_twilio_error_with_its_code(insights_backend, insights_api):
    insights_api.script("GET", SUMMARIES,
                        (401, twilio_error_body(20003, "Authenticate", 401)))
    with pytest.raises(TwilioError) as caught:
        insights_backend.call_summaries()
    assert caught.value.code == 20003
    assert "token-" not in str(caught.value)


# ---- one call ---------------------------------------------------------------------------


def test_one_call_summary_is_a_typed_record(insights_backend, insights_api):
    record = insights_backend.call_summary(CALL_SID)
    (sent,) = insights_requests(insights_api)
    assert sent["path"] == f"/v1/Voice/{CALL_SID}/Summary"
    assert record["call_sid"] == CALL_SID and record["answered_by"] == "machine_start"
    assert record["tags"] == "tags" and record["duration"] == 100
    assert isinstance(record["start_time"], pd.Timestamp)


def test_call_events_are_typed_and_in_time_order(insights_backend, insights_api):
    frame = insights_backend.call_events(CALL_SID)
    assert_schema(frame, "call_events")
    assert insights_requests(insights_api)[0]["path"] == f"/v1/Voice/{CALL_SID}/Events"
    first = frame.iloc[0]
    assert (first["edge"], first["level"], first["name"]) == ("sdk_edge", "ERROR", "error")
    assert first["error_code"] == 31600 and '"city": "Mountain View"' in first["details"]
    assert frame["timestamp"].is_monotonic_increasing
    assert frame["edge"].isna().sum() == 3  # events of no edge keep no details
    assert frame["details"].isna().sum() == 3


def test_call_metrics_are_typed_samples(insights_backend, insights_api):
    frame = insights_backend.call_metrics(CALL_SID, edge="sdk_edge", direction="both")
    assert_schema(frame, "call_metrics")
    params = insights_requests(insights_api)[0]["params"]
    assert (params["Edge"], params["Direction"]) == ("sdk_edge", "both")
    row = frame.iloc[0]
    assert (row["mos"], row["rtt_ms"], row["jitter"]) == (4.39, 81.0, 9.0)
    assert (row["packets_received"], row["packets_lost"]) == (50, 0)
    assert (row["audio_in"], row["audio_out"]) == (81.0, 5237.0)


def test_empty_event_and_metric_lists_give_frames_of_the_schema(insights_backend, insights_api):
    for kind, key in (("call_events", "events"), ("call_metrics", "metrics")):
        insights_api.script("GET", f"/{key.capitalize()}",
                            (200, {key: [], "meta": {"next_page_url": None, "key": key}}))
        frame = getattr(insights_backend, kind)(CALL_SID, refresh=True)
        assert len(frame) == 0
        assert_schema(frame, kind)


@pytest.mark.parametrize(("call", "field"), [
    (lambda b: b.call_events("CA123"), "call_sid"),
    (lambda b: b.call_metrics(CALL_SID, edge="moon_edge"), "edge"),
    (lambda b: b.call_metrics(CALL_SID, direction="sideways"), "direction"),
    (lambda b: b.call_summaries("not a number"), "number"),
    (lambda b: b.call_summaries(since="yesterday-ish"), "since"),
])
def test_bad_input_names_the_field_and_sends_nothing(insights_backend, insights_api, call, field):
    with pytest.raises(InputError) as caught:
        call(insights_backend)
    assert caught.value.field == field
    assert insights_requests(insights_api) == []
