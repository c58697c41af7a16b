"""TwilioBackend without the spec or the network: a fake HTTP client plays Twilio.

(The contract tests in tests/contract/ hold the same backend to Twilio's OpenAPI spec.)
"""

from __future__ import annotations

import json
import sys
from email.utils import format_datetime

import pandas as pd
import pytest
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from twilio_widget import frames
from twilio_widget.backends import twilio as tw
from twilio_widget.backends.base import Backend, TwilioError
from twilio_widget.backends.twilio import pages, retries

ACCOUNT_SID = "AC" + "1" * 32
TOKEN = "super-secret-token-0000000000000"


class FakeHttp(HttpClient):
    """Answers GET list pages of ``records`` (paged by PageSize), records requests."""

    def __init__(self, records: list[dict], key: str = "calls") -> None:
        super().__init__(logger=__import__("logging").getLogger("fake"), is_async=False)
        self.records, self.key, self.seen = records, key, []
        self.answers: list[Response] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.seen.append((method, url, dict(params or {}), dict(data or {})))
        if self.answers:
            return self.answers.pop(0)
        start = int(url.rsplit("start=", 1)[1]) if "start=" in url else 0
        size = int((params or {}).get("PageSize", 2 if "start=" not in url else
                                      url.split("PageSize=")[1].split("&")[0]))
        chunk = self.records[start:start + size]
        nxt = None
        if start + size < len(self.records):
            nxt = (f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json?PageSize={size}"
                   f"&start={start + size}")
        return Response(200, json.dumps({self.key: chunk, "next_page_uri": nxt}))


def call(i: int, status: str = "completed") -> dict:
    when = pd.Timestamp("2026-01-10", tz="UTC") - pd.Timedelta(hours=i)
    return {"sid": f"CA{i:032x}", "status": status, "to": "+14155550100",
            "from": "+14155550199", "direction": "inbound", "subresource_uris": {"a": "b"},
            "start_time": format_datetime(when.to_pydatetime()).replace("-0000", "+0000"),
            "end_time": None, "duration": str(i), "price": None, "price_unit": "USD"}


def backend_for(records, **kwargs):
    http = FakeHttp(records)
    client = Client(ACCOUNT_SID, TOKEN, http_client=http)
    return tw.TwilioBackend(client, sleep=lambda s: None, progress=False, cache_ttl=0,
                            **kwargs), http


def test_is_a_backend_with_mode_twilio():
    backend, _ = backend_for([])
    assert isinstance(backend, Backend) and backend.mode == "twilio"
    assert TOKEN not in repr(backend) and ACCOUNT_SID in repr(backend)


def test_is_importable_from_the_package_like_the_sandbox():
    import twilio_widget
    from twilio_widget import TwilioBackend

    assert TwilioBackend is tw.TwilioBackend
    assert {"TwilioBackend", "SandboxBackend"} <= set(twilio_widget.__all__)


def test_pages_are_followed_and_typed_newest_first():
    records = [call(i) for i in range(2500)]
    backend, http = backend_for(records)
    frame = backend.calls()
    assert len(frame) == 2500 and len(http.seen) == 3  # 1000 + 1000 + 500
    assert http.seen[0][2]["PageSize"] == 1000
    assert frame["sid"].iloc[0] == f"CA{0:032x}"
    assert frame["start_time"].is_monotonic_decreasing
    assert frame["duration"].dtype == "Int64" and frame["duration"].iloc[-1] == 2499
    assert list(frame.columns) == list(frames.CALLS)


def test_limit_stops_paging_and_sets_page_size():
    backend, http = backend_for([call(i) for i in range(50)])
    frame = backend.calls(limit=7)
    assert len(frame) == 7 and len(http.seen) == 1 and http.seen[0][2]["PageSize"] == 7


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, "3"])
def test_bad_limit_names_the_field(limit):
    backend, http = backend_for([])
    with pytest.raises(tw.InputError, match="limit"):
        backend.calls(limit=limit)
    assert http.seen == []


def test_bad_since_and_number_name_the_field():
    backend, http = backend_for([])
    with pytest.raises(tw.InputError, match="since"):
        backend.calls(since="not a date")
    with pytest.raises(tw.InputError, match="number"):
        backend.messages("555-0100")
    with pytest.raises(tw.InputError, match="call_sid"):
        backend.recordings("RE123")
    assert http.seen == []


@pytest.mark.parametrize(("to", "problem"), [("+1 (415) 555-0100", None),
                                             ("+10000000000", "not a valid phone number"),
                                             ("4155550100", "is not an E.164 number")])
def test_numbers_follow_the_shared_rule_separators_aside(to, problem):
    """The number rule of checks.py (the pad's and the config's), with the field named."""
    backend, http = backend_for([])
    if problem is None:
        assert tw.inputs.phone(to, "to") == "+14155550100"
        return
    with pytest.raises(tw.InputError, match=f"to: .*{problem}"):
        backend.send_message(to, "+14155550111", "Hello")
    assert http.seen == []


def test_progress_bar_for_multi_page_fetches(monkeypatch):
    bars = []

    class Bar:
        def __init__(self, **kwargs):
            self.n, self.closed = 0, False
            bars.append(self)

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    backend, _ = backend_for([call(i) for i in range(1500)])
    backend.calls(progress=True)
    assert len(bars) == 1 and bars[0].n == 1500 and bars[0].closed
    backend.calls(progress=False, refresh=True)
    assert len(bars) == 1


def test_decoders_agree_with_and_without_msgspec(monkeypatch):
    pytest.importorskip("msgspec")
    text = json.dumps({"calls": [call(1), call(2) | {"from": None}], "next_page_uri": "/x"})
    pages._DECODERS.clear()
    fast = pages.page_decoder(pages.CALLS)
    pages._DECODERS.clear()
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec now fails
    plain = pages.page_decoder(pages.CALLS)
    pages._DECODERS.clear()
    assert fast is not plain
    assert fast(text) == plain(text)
    assert plain(text)[1] == "/x"


def test_retry_policy_backoff_is_bounded_and_jittered():
    policy = tw.RetryPolicy(base_delay=1, max_delay=8)
    assert [policy.backoff(n, lambda: 0.0) for n in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert [policy.backoff(n, lambda: 1.0) for n in range(5)] == [1, 2, 4, 8, 8]


def test_retry_after_as_http_date():
    when = format_datetime(pd.Timestamp("2030-01-01 00:00:10", tz="UTC").to_pydatetime(),
                           usegmt=True)
    response = Response(429, "", {"Retry-After": when})
    now = pd.Timestamp("2030-01-01 00:00:00", tz="UTC").timestamp()
    assert retries.retry_after(response, now=lambda: now) == 10
    assert retries.retry_after(Response(429, "", {"retry-after": "7"})) == 7
    assert retries.retry_after(Response(429, "", {})) is None


def test_errors_never_carry_the_token():
    backend, http = backend_for([])
    http.answers.append(Response(400, json.dumps(
        {"code": 21211, "message": f"bad {TOKEN}", "status": 400})))  # Twilio-shaped, made up
    with pytest.raises(TwilioError) as info:
        backend.send_message("+14155550100", "+14155550199", "hi")
    assert TOKEN not in str(info.value) and info.value.code == 21211


def test_from_credentials_checks_its_input():
    with pytest.raises(tw.InputError, match="account_sid"):
        tw.TwilioBackend.from_credentials("nope", "token")
    with pytest.raises(tw.InputError, match="auth_token"):
        tw.TwilioBackend.from_credentials(ACCOUNT_SID)
    with pytest.raises(tw.InputError, match="api_secret"):
        tw.TwilioBackend.from_credentials(ACCOUNT_SID, api_key="SK" + "0" * 32)
    backend = tw.TwilioBackend.from_credentials(ACCOUNT_SID, api_key="SK" + "0" * 32,
                                                api_secret="secret", http_client=FakeHttp([]))
    assert backend.account_sid == ACCOUNT_SID and "secret" not in repr(backend)


def test_input_error_is_both_a_twilio_error_and_a_value_error():
    err = tw.InputError("to", "is empty")
    assert isinstance(err, TwilioError) and isinstance(err, ValueError)
    assert err.as_payload() == {"message": "to: is empty", "code": None, "more_info": None,
                                "field": "to"}


def test_rfc2822_fast_path_matches_pandas():
    stamps = pd.date_range("1999-12-31 22:00", periods=5000, freq="37min", tz="UTC")
    text = [format_datetime(t.to_pydatetime()).replace("-0000", "+0000") for t in stamps]
    text += ["Tue, 31 Aug 2010 20:36:28 -0730", None, "2026-01-02T03:04:05Z", "junk"]
    ours = frames.coerce(pd.DataFrame({"start_time": text}), "calls")["start_time"]
    ref = pd.to_datetime(pd.Series(text), utc=True, errors="coerce", format="mixed")
    assert ours.equals(ref.astype(frames.UTC_TIME))


def test_async_http_clients_are_refused_clearly():
    from twilio.http import AsyncHttpClient

    class Async(AsyncHttpClient):
        def __init__(self) -> None:
            super().__init__(logger=__import__("logging").getLogger("async"), is_async=True)

    client = Client(ACCOUNT_SID, TOKEN, http_client=Async())
    with pytest.raises(TypeError, match="synchronous"):
        tw.TwilioBackend(client)
