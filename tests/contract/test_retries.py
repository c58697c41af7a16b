"""Retry and back-off over real HTTP: a loopback server answers 429/503 and then 200.

twilio-python's own TwilioHttpClient does the HTTP (pointed at 127.0.0.1); sleeping is
injected, so the waits are recorded, not spent. Success bodies are the spec's examples;
error bodies are Twilio-shaped, written by these tests.
"""

from __future__ import annotations

import pytest
from contract_helpers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    NUMBER,
    OTHER,
    LoopbackHttpClient,
    operations,
    twilio_error_body,
)
from twilio.rest import Client

from twilio_widget.backends.base import TwilioError
from twilio_widget.backends.twilio import RetryPolicy, TwilioBackend

pytestmark = pytest.mark.contract

CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def example(spec, method: str, template_suffix: str) -> dict:
    op = next(o for o in operations(spec) if o.method == method
              and o.template.endswith(template_suffix))
    body = op.example()[1]
    if "next_page_uri" in body:
        body["next_page_uri"] = None
    return body


def make_backend(server, openapi, policy: RetryPolicy | None = None, clock=None):
    http = LoopbackHttpClient(server.base, openapi)
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
    sleeps: list[float] = []
    backend = TwilioBackend(client, retry=policy or RetryPolicy(), sleep=sleeps.append,
                            progress=False, cache_ttl=0)
    if clock is not None:
        backend.http.clock = clock
    backend.http.rng = lambda: 0.5
    return backend, sleeps


def error(status: int, code: int, message: str, headers: dict | None = None):
    # Twilio-shaped error body, written by the test.
    return (status, twilio_error_body(code, message, status), headers or {})


def test_429_then_503_then_200_is_retried_with_growing_backoff(loopback, openapi, spec):
    loopback.queue = [error(429, 20429, "Too Many Requests"),
                      error(503, 20503, "Service Unavailable"),
                      (200, example(spec, "GET", "/Calls.json"), {})]
    backend, sleeps = make_backend(loopback, openapi, RetryPolicy(base_delay=1.0))
    frame = backend.calls(limit=2)
    assert len(frame) == 2
    assert [m for m, _ in loopback.seen] == ["GET"] * 3
    # d/2 + U*d/2 with U = 0.5: 0.75 * 1, then 0.75 * 2
    assert sleeps == [0.75, 1.5]
    assert backend.http.retries == 2


def test_retry_after_is_honoured(loopback, openapi, spec):
    loopback.queue = [error(429, 20429, "Too Many Requests", {"Retry-After": "3"}),
                      (200, example(spec, "GET", "/Calls.json"), {})]
    backend, sleeps = make_backend(loopback, openapi, RetryPolicy(base_delay=0.1))
    backend.calls(limit=2)
    assert sleeps == [3.0]


def test_attempts_are_bounded_and_the_last_error_keeps_twilio_code(loopback, openapi):
    loopback.default = error(429, 20429, "Too Many Requests")
    backend, sleeps = make_backend(loopback, openapi, RetryPolicy(max_attempts=4))
    with pytest.raises(TwilioError) as info:
        backend.calls()
    assert len(loopback.seen) == 4 and len(sleeps) == 3
    assert info.value.code == 20429 and info.value.status == 429


def test_total_time_is_bounded(loopback, openapi):
    """A Retry-After beyond the time budget ends the retries at once, with the error."""
    loopback.default = error(503, 20503, "Service Unavailable", {"Retry-After": "120"})
    backend, sleeps = make_backend(loopback, openapi, RetryPolicy(max_total=30))
    with pytest.raises(TwilioError) as info:
        backend.calls()
    assert len(loopback.seen) == 1 and sleeps == []
    assert info.value.status == 503


def test_time_budget_counts_time_already_spent(loopback, openapi):
    now = [0.0]

    def clock() -> float:
        return now[0]

    loopback.default = error(500, 20500, "Internal Server Error")
    backend, sleeps = make_backend(loopback, openapi,
                                   RetryPolicy(max_attempts=50, base_delay=4, max_delay=4,
                                               max_total=10), clock=clock)
    backend.http.sleep = lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s))
    with pytest.raises(TwilioError):
        backend.calls()
    assert sum(sleeps) <= 10 and len(loopback.seen) == len(sleeps) + 1 == 4


def test_send_message_retried_on_503_but_never_after_a_500(loopback, openapi, spec):
    created = (201, example(spec, "POST", "/Messages.json"), {})
    loopback.queue = [error(503, 20503, "Service Unavailable"), created]
    backend, _ = make_backend(loopback, openapi)
    record = backend.send_message(NUMBER, OTHER, "hello")
    assert record["sid"].startswith(("SM", "MM"))
    assert [m for m, _ in loopback.seen] == ["POST", "POST"]

    # A 500 after a POST may already have sent the SMS: reported, not repeated.
    loopback.seen.clear()
    loopback.queue = [error(500, 20500, "Internal Server Error"), created]
    with pytest.raises(TwilioError) as info:
        backend.send_message(NUMBER, OTHER, "hello")
    assert info.value.status == 500 and len(loopback.seen) == 1


def test_unreachable_twilio_is_a_clear_error_without_credentials(openapi):
    from contract_helpers import free_port

    http = LoopbackHttpClient(f"http://127.0.0.1:{free_port()}", openapi)  # nobody listens
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
    sleeps: list[float] = []
    backend = TwilioBackend(client, retry=RetryPolicy(max_attempts=3), sleep=sleeps.append,
                            progress=False)
    with pytest.raises(TwilioError) as info:
        backend.calls()
    assert "Could not reach Twilio" in str(info.value) and len(sleeps) == 2
    assert AUTH_TOKEN not in str(info.value)
