"""Retries at the HTTP layer: HTTP 429 and 5xx are retried with exponential back-off and
jitter, bounded in attempts and total time, honouring ``Retry-After``. POSTs (which create
messages and calls) are retried only on 429 and 503, the answers that say nothing was done; a
500 after a POST may have sent the SMS, so it is reported, not repeated.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from twilio.http import HttpClient
from twilio.http.response import Response

from ..base import TwilioError

__all__ = ["RetryPolicy", "RetryingHttpClient", "retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential back-off with jitter.

    The n-th retry waits ``d/2 + U(0, d/2)`` with ``d = min(max_delay, base_delay * 2**n)``,
    or what ``Retry-After`` asks when that is longer. No more than ``max_attempts`` requests
    in all, and never past ``max_total`` seconds since the first one.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total: float = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    #: What a POST (not idempotent) is retried on: answers that say nothing was done.
    retry_statuses_post: frozenset[int] = frozenset({429, 503})

    def backoff(self, retry: int, rng: Callable[[], float]) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        return ceiling / 2 + rng() * ceiling / 2


def retry_after(response: Response, now: Callable[[], float] = time.time) -> float | None:
    headers = response.headers or {}
    value = None
    for name, val in dict(headers).items():
        if str(name).lower() == "retry-after":
            value = str(val).strip()
            break
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


class RetryingHttpClient(HttpClient):
    """Wraps any twilio-python ``HttpClient``: retries 429/5xx, remembers the last response.

    ``sleep``, ``clock`` and ``rng`` are injectable so tests run without waiting.
    ``last_response`` (per thread) lets callers recover Twilio's error code where the library
    raised without one. ``attempts`` counts HTTP requests actually sent.
    """

    def __init__(self, inner: HttpClient | None = None, policy: RetryPolicy | None = None, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 rng: Callable[[], float] = random.random) -> None:
        if inner is None:
            from twilio.http.http_client import TwilioHttpClient

            inner = TwilioHttpClient()
        super().__init__(inner.logger, False, inner.timeout)
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.attempts = 0
        self.retries = 0
        self._local = threading.local()

    @property
    def last_response(self) -> Response | None:
        return getattr(self._local, "response", None)

    def request(self, method: str, uri: str, params: dict | None = None,
                data: dict | None = None, headers: dict | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        policy = self.policy
        retry_on = policy.retry_statuses_post if method.upper() == "POST" else policy.retry_statuses
        started = self.clock()
        retry = 0
        while True:
            self.attempts += 1
            try:
                response = self.inner.request(method, uri, params=params, data=data,
                                              headers=headers, auth=auth, timeout=timeout,
                                              allow_redirects=allow_redirects)
            except OSError as exc:  # requests' ConnectionError/Timeout are OSErrors
                # Only idempotent requests are repeated after a transport failure.
                wait = policy.backoff(retry, self.rng)
                if (method.upper() == "POST" or retry + 1 >= policy.max_attempts
                        or self.clock() - started + wait > policy.max_total):
                    raise TwilioError(
                        f"Could not reach Twilio ({type(exc).__name__}) after {retry + 1} "
                        "attempt(s)"
                    ) from None
                self.retries += 1
                self.sleep(wait)
                retry += 1
                continue
            self._local.response = response
            self._test_only_last_request = getattr(self.inner, "_test_only_last_request", None)
            self._test_only_last_response = response
            if response.status_code not in retry_on:
                return response
            wait = policy.backoff(retry, self.rng)
            asked = retry_after(response)
            if asked is not None:
                wait = max(wait, asked)
            if retry + 1 >= policy.max_attempts or self.clock() - started + wait > policy.max_total:
                return response  # the caller reports it, with Twilio's code
            self.retries += 1
            self.sleep(wait)
            retry += 1
