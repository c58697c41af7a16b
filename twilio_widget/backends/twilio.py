"""The real backend: Twilio's REST API through ``twilio.rest.Client``, history as typed frames.

Design choices, each for a reason the library leaves to its callers:

- List pages are fetched as raw JSON (``client.request``) with ``PageSize=1000`` (the API's
  maximum, which twilio-python does not cap) and turned into one typed frame per query,
  without building a ``CallInstance`` per record: 100 requests for 100,000 calls instead of
  2,000, and several times faster end to end. With msgspec installed, pages are decoded
  into structs of just the schema's fields (faster again); otherwise with ``json``.
  (Fetching the next page on a thread while decoding one was tried and measured slower:
  the reader thread convoys behind the GIL.)
- Every request goes through :class:`RetryingHttpClient`, installed on the client's HTTP
  layer: HTTP 429 and 5xx are retried with exponential back-off and jitter, bounded in
  attempts and total time, honouring ``Retry-After``. POSTs (which create messages and
  calls) are retried only on 429 and 503, the answers that say nothing was done; a 500 after
  a POST may have sent the SMS, so it is reported, not repeated.
- Failures surface as :class:`~twilio_widget.backends.base.TwilioError` with Twilio's code,
  message, status and link, also where the library would raise its code-less
  ``TwilioException("Unable to fetch page")``. Credentials never appear in messages or reprs.
- History is cached per query scope; a repeated query asks Twilio only for records since the
  newest one it holds (whole days, merged by sid) and re-fetches records whose status can
  still change (in-progress calls, queued messages).
"""

from __future__ import annotations

import email.utils
import gc
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import phonenumbers
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response

from twilio_widget import frames
from twilio_widget.backends.base import Event, EventHub, Listener, TwilioError
from twilio_widget.frames import FINAL_CALL_STATUSES

__all__ = [
    "MAX_PAGE_SIZE",
    "as_twilio_error",
    "InputError",
    "RetryPolicy",
    "RetryingHttpClient",
    "TwilioBackend",
]

#: The API's largest page (twilio-python passes any page_size through uncapped).
MAX_PAGE_SIZE = 1000
#: Most characters Twilio accepts in one message body.
MAX_BODY_CHARS = 1600

API_VERSION = "2010-04-01"

#: Statuses after which a cached record is not re-fetched by sid (everything else is).
#: "sent" counts as final: many carriers never report delivery, and re-fetching every
#: sent message on each refresh would cost a request apiece; a later "delivered" still
#: arrives through the status callback (routing service) or :meth:`message_status`.
FINAL_MESSAGE_STATUSES = frozenset(
    {"sent", "delivered", "undelivered", "failed", "received", "read", "canceled"}
)
FINAL_RECORDING_STATUSES = frozenset({"completed", "absent", "deleted", "stopped"})

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class _Resource:
    kind: str  # frames kind
    path: str  # under /2010-04-01/Accounts/{sid}/
    key: str  # list key in the page JSON
    filter_param: str  # server-side time filter ("StartTime" -> StartTime>, StartTime<)
    filter_column: str  # the frame column that filter acts on
    final: frozenset[str]
    item_path: str  # one record, formatted with sid


_CALLS = _Resource("calls", "Calls.json", "calls", "StartTime", "start_time",
                   FINAL_CALL_STATUSES, "Calls/{sid}.json")
_MESSAGES = _Resource("messages", "Messages.json", "messages", "DateSent", "date_sent",
                      FINAL_MESSAGE_STATUSES, "Messages/{sid}.json")
_RECORDINGS = _Resource("recordings", "Recordings.json", "recordings", "DateCreated",
                        "date_created", FINAL_RECORDING_STATUSES, "Recordings/{sid}.json")
#: The Event kind for a record of each frame kind whose status changed.
_EVENT_KIND: dict[str, Any] = {"calls": "call", "messages": "message", "recordings": "call"}


class InputError(TwilioError, ValueError):
    """Bad input caught before anything was sent; ``field`` names the offending argument."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field

    def as_payload(self) -> dict[str, Any]:
        return {**super().as_payload(), "field": self.field}


# --------------------------------------------------------------------------------------
# Retries at the HTTP layer
# --------------------------------------------------------------------------------------


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


def _retry_after(response: Response, now: Callable[[], float] = time.time) -> float | None:
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
            asked = _retry_after(response)
            if asked is not None:
                wait = max(wait, asked)
            if retry + 1 >= policy.max_attempts or self.clock() - started + wait > policy.max_total:
                return response  # the caller reports it, with Twilio's code
            self.retries += 1
            self.sleep(wait)
            retry += 1


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def _error_from_response(response: Response | None, fallback: str) -> TwilioError:
    if response is None:
        return TwilioError(fallback)
    status = int(response.status_code)
    code = message = more_info = None
    try:
        body = json.loads(response.text or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, Mapping):
        code = body.get("code")
        message = body.get("message") or body.get("detail") or body.get("title")
        more_info = body.get("more_info") or body.get("type")
    if code is None and status == 401:
        code = 20003
    if code is None and status == 429:
        code = 20429
    if not message:
        message = {401: "Authenticate", 404: "The requested resource was not found",
                   429: "Too Many Requests"}.get(status, f"{fallback} (HTTP {status})")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    if more_info is None and code is not None:
        more_info = f"https://www.twilio.com/docs/errors/{code}"
    return TwilioError(str(message), code=code, status=status, more_info=more_info)


def as_twilio_error(exc: BaseException, last_response: Response | None = None) -> TwilioError:
    """twilio-python's exceptions as :class:`TwilioError` with Twilio's code.

    ``TwilioRestException`` carries code and status; the plain
    ``TwilioException("Unable to fetch page", response)`` that a failed list page raises
    does not, so the code is read from that response, or from ``last_response`` (what
    :attr:`RetryingHttpClient.last_response` kept)."""
    if isinstance(exc, TwilioError):
        return exc
    if isinstance(exc, TwilioRestException):
        text = str(exc.msg)
        for prefix in ("Unable to fetch record: ", "Unable to create record: ",
                       "Unable to update record: ", "Unable to delete record: "):
            text = text.removeprefix(prefix)
        code = exc.code if isinstance(exc.code, int) and exc.code >= 10000 else None
        more_info = f"https://www.twilio.com/docs/errors/{code}" if code else None
        return TwilioError(text, code=code, status=exc.status, more_info=more_info)
    response = next((a for a in getattr(exc, "args", ())[1:] if isinstance(a, Response)),
                    last_response)
    message = str(exc.args[0]) if getattr(exc, "args", None) else type(exc).__name__
    return _error_from_response(response, message)


# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------


def _phone(value: Any, field: str, *, allow_client: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "a phone number is required (E.164, like +14155550100)")
    text = value.strip()
    if allow_client and text.split(":", 1)[0].lower() in ("client", "sip") and ":" in text:
        if len(text.split(":", 1)[1]) == 0:
            raise InputError(field, f"{text!r} names no client or SIP address")
        return text
    compact = re.sub(r"[\s().-]", "", text)
    if not _E164.match(compact):
        raise InputError(field, f"{text!r} is not an E.164 number (like +14155550100)")
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        raise InputError(field, f"{text!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InputError(field, f"{text!r} is not a possible phone number")
    return compact


def _sender(value: Any) -> tuple[str, str]:
    """Return ("From" | "MessagingServiceSid", value) for a message sender."""
    if isinstance(value, str) and _MESSAGING_SERVICE_SID.match(value.strip()):
        return "MessagingServiceSid", value.strip()
    return "From", _phone(value, "from_")


def _body(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("body", "the message is empty")
    if len(value) > MAX_BODY_CHARS:
        raise InputError("body",
                         f"{len(value)} characters; Twilio accepts at most {MAX_BODY_CHARS}")
    return value


def _timestamp(value: Any, field: str, *, upper: bool = False) -> pd.Timestamp | None:
    """A UTC timestamp; for ``upper`` bounds given as a bare date, the end of that day
    (returned as an exclusive bound)."""
    if value is None:
        return None
    whole_day = (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and bool(_DATE_ONLY.match(value.strip())))
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(field, f"{value!r} is not a date or time") from None
    if ts is pd.NaT:
        raise InputError(field, f"{value!r} is not a date or time")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if upper:
        return ts + pd.Timedelta(days=1) if whole_day else ts + pd.Timedelta(microseconds=1)
    return ts


def _day_floor(ts: pd.Timestamp) -> datetime:
    return ts.floor("D").to_pydatetime()


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(frame: pd.DataFrame) -> dict[str, Any]:
    """The first row of a typed frame as a plain dict (missing values as None)."""
    out: dict[str, Any] = {}
    for name in frame.columns:
        value = frame[name].iloc[0]
        if value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            value = None
        elif hasattr(value, "item") and not isinstance(value, pd.Timestamp):
            value = value.item()  # numpy scalar -> Python
        out[name] = value
    return out


# --------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------


@dataclass
class _Entry:
    frame: pd.DataFrame
    since: pd.Timestamp | None  # complete from here on (None: all time)
    checked: float  # clock() of the last question to Twilio
    until: pd.Timestamp | None = None  # complete only up to here, until brought up to date


# --------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------


class TwilioBackend:
    """History, messages and calls through a ``twilio.rest.Client``.

    >>> backend = TwilioBackend.from_credentials("AC...", auth_token="...")   # doctest: +SKIP
    >>> backend.calls(number="+14155550100", since="2026-01-01")              # doctest: +SKIP

    ``client`` may use any ``http_client``; the backend wraps it in a
    :class:`RetryingHttpClient` (on that client) unless it already is one.
    ``progress``: a tqdm bar (``tqdm.auto``: a widget in Jupyter) appears once a fetch runs
    past its first page, unless ``progress=False`` (here or per call). ``cache_ttl``:
    seconds during which a repeated query is answered from the cache without asking Twilio
    at all. ``retry`` bounds the back-off; ``sleep`` and ``clock`` are injectable for tests.
    """

    mode = "twilio"
    own_number = ""  # the caller ID comes from the config's Callers
    in_memory = False
    pushes_events = False  # REST has no push: polling and the routing service bring the news
    simulator = None

    def __init__(self, client: Any, *, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 progress: bool | None = None, cache_ttl: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        http = client.http_client
        if getattr(http, "is_async", False):
            raise TypeError("TwilioBackend needs a client with a synchronous http_client")
        if isinstance(http, RetryingHttpClient):
            if retry is not None:
                http.policy = retry
        else:
            http = RetryingHttpClient(http, retry, sleep=sleep)
            client.http_client = http
        self.http = http
        self.progress = progress
        self.cache_ttl = cache_ttl
        self._clock = clock
        self._events = EventHub()
        self._cache: dict[tuple[str, str | None], _Entry] = {}
        self._lock = threading.RLock()  # the cache's dict and frames: held briefly
        self._fetching = threading.Lock()  # one history fetch at a time
        self._last_status: dict[str, str] = {}
        self.account_sid: str = client.account_sid or client.username

    @property
    def client(self) -> Any:
        """The ``twilio.rest.Client`` underneath (for account set-up beyond history and sends)."""
        return self._client

    @classmethod
    def from_credentials(cls, account_sid: str, auth_token: str | None = None, *,
                         api_key: str | None = None, api_secret: str | None = None,
                         http_client: HttpClient | None = None, **kwargs: Any) -> TwilioBackend:
        """Build the client from an auth token, or from an API key and secret."""
        from twilio.rest import Client

        if not isinstance(account_sid, str) or not re.match(r"^AC[0-9a-fA-F]{32}$", account_sid):
            raise InputError("account_sid", "expected 'AC' followed by 32 hex digits")
        if api_key or api_secret:
            if not (api_key and api_secret):
                raise InputError("api_secret" if api_key else "api_key",
                                 "an API key needs both api_key and api_secret")
            client = Client(api_key, api_secret, account_sid, http_client=http_client)
        elif auth_token:
            client = Client(account_sid, auth_token, http_client=http_client)
        else:
            raise InputError("auth_token", "give an auth token, or api_key and api_secret")
        return cls(client, **kwargs)

    def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the ``twilio.rest.Client``."""

    def __repr__(self) -> str:
        return f"TwilioBackend(account_sid={self.account_sid!r}, mode='twilio')"

    # ---- protocol: history -------------------------------------------------------------

    def calls(self, number: str | None = None, *, since: datetime | str | None = None,
              until: datetime | str | None = None, limit: int | None = None,
              refresh: bool = False, progress: bool | None = None) -> pd.DataFrame:
        """Calls to or from ``number`` (all calls when None), newest first."""
        number = None if number is None else _phone(number, "number", allow_client=True)
        return self._history(_CALLS, number, since, until, limit, refresh, progress)

    def messages(self, number: str | None = None, *, since: datetime | str | None = None,
                 until: datetime | str | None = None, limit: int | None = None,
                 refresh: bool = False, progress: bool | None = None) -> pd.DataFrame:
        """Messages to or from ``number`` (all when None), newest first."""
        number = None if number is None else _phone(number, "number", allow_client=True)
        return self._history(_MESSAGES, number, since, until, limit, refresh, progress)

    def recordings(self, call_sid: str | None = None, *, since: datetime | str | None = None,
                   until: datetime | str | None = None, limit: int | None = None,
                   refresh: bool = False, progress: bool | None = None) -> pd.DataFrame:
        """Recordings, of one call when ``call_sid`` is given, newest first."""
        if call_sid is not None and not (isinstance(call_sid, str) and _CALL_SID.match(call_sid)):
            raise InputError("call_sid", f"{call_sid!r} is not a call SID (CA + 32 hex digits)")
        return self._history(_RECORDINGS, call_sid, since, until, limit, refresh, progress)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # ---- protocol: actions --------------------------------------------------------------

    def send_message(self, to: str, from_: str, body: str, *,
                     status_callback: str | None = None) -> dict[str, Any]:
        """Send an SMS; returns the messages-schema record Twilio created."""
        data: dict[str, Any] = {"To": _phone(to, "to")}
        sender_field, sender = _sender(from_)
        data[sender_field] = sender
        data["Body"] = _body(body)
        if status_callback is not None:
            data["StatusCallback"] = _url(status_callback, "status_callback")
        payload = self._json("POST", self._url_for(_MESSAGES.path), data=data,
                             what="Unable to send message")
        return self._absorb(_MESSAGES, payload)

    def create_call(self, to: str, from_: str, *, twiml: str | None = None,
                    url: str | None = None,
                    status_callback: str | None = None) -> dict[str, Any]:
        """Place a server-side call; returns the calls-schema record."""
        data: dict[str, Any] = {"To": _phone(to, "to", allow_client=True),
                                "From": _phone(from_, "from_", allow_client=True)}
        if (twiml is None) == (url is None):
            raise InputError("twiml", "give exactly one of twiml and url")
        if twiml is not None:
            if not isinstance(twiml, str) or "<Response" not in twiml:
                raise InputError("twiml", "expected a TwiML document (<Response>...</Response>)")
            data["Twiml"] = twiml
        else:
            data["Url"] = _url(url, "url")
        if status_callback is not None:
            data["StatusCallback"] = _url(status_callback, "status_callback")
        payload = self._json("POST", self._url_for(_CALLS.path), data=data,
                             what="Unable to create call")
        return self._absorb(_CALLS, payload)

    # ---- protocol: events and polling ---------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Live events; REST has no push, so :meth:`call_status`/:meth:`message_status`
        (polling) and the routing service feed them."""
        return self._events.subscribe(listener)

    def emit(self, event: Event) -> None:
        """Deliver an event from outside (the routing service's webhooks)."""
        self._events.emit(event)

    def call_status(self, sid: str) -> dict[str, Any]:
        """Fetch one call (a calls-schema record); emits a "call" event when its status
        changed since last seen."""
        if not (isinstance(sid, str) and _CALL_SID.match(sid)):
            raise InputError("sid", f"{sid!r} is not a call SID")
        return self._poll(_CALLS, sid)

    def message_status(self, sid: str) -> dict[str, Any]:
        """Fetch one message (a messages-schema record); emits a "message" event when its
        status changed since last seen."""
        if not (isinstance(sid, str) and _MESSAGE_SID.match(sid)):
            raise InputError("sid", f"{sid!r} is not a message SID")
        return self._poll(_MESSAGES, sid)

    def end_call(self, sid: str) -> dict[str, Any]:
        """Hang up a server-side call (bridge mode): completed if answered, canceled if
        still queued or ringing; a call already over is returned as it is."""
        current = self.call_status(sid)
        if current["status"] == "in-progress":
            target = "completed"
        elif current["status"] in ("queued", "ringing"):
            target = "canceled"
        else:
            return current
        payload = self._json("POST", self._url_for(_CALLS.item_path.format(sid=sid)),
                             data={"Status": target}, what="Unable to end call")
        return self._absorb(_CALLS, payload)

    def child_calls(self, parent_sid: str) -> list[dict[str, Any]]:
        """The legs a call dialled (bridge mode's leg to the lead), as calls-schema records;
        a leg new to us, or whose status changed, is also emitted as an event."""
        if not (isinstance(parent_sid, str) and _CALL_SID.match(parent_sid)):
            raise InputError("parent_sid", f"{parent_sid!r} is not a call SID")
        payload = self._json("GET", self._url_for(_CALLS.path), params={"ParentCallSid": parent_sid, "PageSize": 20},
                             what="Unable to fetch the call's legs")
        return [self._absorb(_CALLS, leg) for leg in payload.get(_CALLS.key) or []]

    def account_info(self) -> dict[str, Any]:
        """A cheap credential check: the account's name, status and type.

        Raises :class:`TwilioError` 20003 when the credentials are refused."""
        payload = self._json("GET", self._url_for("", account=True),
                             what="Unable to fetch account")
        return {k: payload.get(k) for k in ("sid", "friendly_name", "status", "type")}

    # ---- internals: HTTP ------------------------------------------------------------------

    def _url_for(self, path: str, *, account: bool = False) -> str:
        base = self._client.api.base_url.rstrip("/")
        if account:
            return f"{base}/{API_VERSION}/Accounts/{self.account_sid}.json"
        return f"{base}/{API_VERSION}/Accounts/{self.account_sid}/{path}"

    def _send(self, method: str, url: str, *, params: dict | None = None,
              data: dict | None = None, what: str) -> str:
        """One request (retried by the HTTP layer); the body of a 2xx answer, else
        :class:`TwilioError` with Twilio's code."""
        headers = {"Accept": "application/json"}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = self._client.request(method, url, params=params, data=data,
                                            headers=headers)
        except TwilioError:
            raise
        except TwilioException as exc:
            error = as_twilio_error(exc, self.http.last_response)
            error.message = self._scrub(error.message)
            error.args = (error.message,)
            raise error from None
        if not 200 <= response.status_code < 300:
            error = _error_from_response(response, what)
            error.message = self._scrub(error.message)
            error.args = (error.message,)
            raise error
        return response.text

    def _json(self, method: str, url: str, *, params: dict | None = None,
              data: dict | None = None, what: str) -> dict[str, Any]:
        text = self._send(method, url, params=params, data=data, what=what)
        try:
            payload = json.loads(text)
        except ValueError:
            raise TwilioError(f"{what}: Twilio answered with unreadable JSON") from None
        if not isinstance(payload, dict):
            raise TwilioError(f"{what}: Twilio answered with unexpected JSON")
        return payload

    def _scrub(self, text: str) -> str:
        secret = getattr(self._client, "password", None)
        if secret and secret in text:
            text = text.replace(secret, "***")
        return text

    # ---- internals: listing ----------------------------------------------------------------

    def _pages(self, res: _Resource, params: dict[str, Any], limit: int | None,
               progress: bool | None) -> dict[str, list]:
        """Fetch all pages of one list query, each decoded from raw JSON as it arrives;
        returns the schema's columns as lists."""
        decode = _page_decoder(res)
        columns: dict[str, list] = {name: [] for name in _page_columns(res)}
        page_size = MAX_PAGE_SIZE if limit is None else max(1, min(MAX_PAGE_SIZE, limit))
        show = self.progress if progress is None else progress
        base = self._client.api.base_url.rstrip("/")
        url, query = self._url_for(res.path), {**params, "PageSize": page_size}
        bar = None
        count = 0
        try:
            while True:
                text = self._send("GET", url, params=query, what="Unable to fetch page")
                page, next_uri = _without_gc(decode, text)
                n = len(page[0]) if page else 0
                if limit is not None and count + n > limit:
                    page = [col[: limit - count] for col in page]
                    n = limit - count
                for values, col in zip(columns.values(), page, strict=True):
                    values.extend(col)
                count += n
                if not next_uri or (limit is not None and count >= limit):
                    break
                url, query = base + next_uri, None
                if bar is None and show is not False:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=limit, desc=f"Twilio {res.kind}", unit=" records",
                               leave=False)
                if bar is not None:
                    bar.update(n)
        finally:
            if bar is not None:
                bar.update(count - bar.n)
                bar.close()
        return columns

    def _fetch(self, res: _Resource, scope: str | None, since: pd.Timestamp | None,
               until: pd.Timestamp | None, limit: int | None,
               progress: bool | None) -> tuple[pd.DataFrame, bool]:
        """One scope's records from Twilio, typed; also whether ``limit`` cut it short."""
        params: dict[str, Any] = {}
        if since is not None:
            params[f"{res.filter_param}>"] = _iso(_day_floor(since))
        if until is not None:
            # Twilio filters by whole days; the exact bound is applied afterwards.
            params[f"{res.filter_param}<"] = _iso(until.ceil("D").to_pydatetime())
        queries: list[dict[str, Any]]
        if scope is None:
            queries = [params]
        elif res.kind == "recordings":
            queries = [{**params, "CallSid": scope}]
        else:
            queries = [{**params, "To": scope}, {**params, "From": scope}]
        parts = []
        truncated = False
        for query in queries:
            columns = self._pages(res, query, limit, progress)
            n = len(columns["sid"])
            truncated = truncated or (limit is not None and n >= limit)
            parts.append(self._typed(res, columns))
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        frame = frame.drop_duplicates("sid", keep="first")
        return frame, truncated

    def _typed(self, res: _Resource, columns: dict[str, list]) -> pd.DataFrame:
        if res.kind == "recordings":
            uris = columns.pop("uri")
            base = self._client.api.base_url.rstrip("/")
            columns["media_url"] = [
                m if m else (base + u[: -len(".json")] if isinstance(u, str) and u.endswith(".json")
                             else None)
                for m, u in zip(columns["media_url"], uris, strict=True)
            ]
        if not columns["sid"]:
            return frames.empty(res.kind)
        return frames.coerce(pd.DataFrame(columns), res.kind)

    def _history(self, res: _Resource, scope: str | None, since: Any, until: Any,
                 limit: int | None, refresh: bool, progress: bool | None) -> pd.DataFrame:
        lo = _timestamp(since, "since")
        hi = _timestamp(until, "until", upper=True)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                                  or limit < 1):
            raise InputError("limit", f"{limit!r} is not a positive whole number")
        # Polls and sends (which only take the short cache lock) are not held up by a
        # long fetch; concurrent history queries wait for each other and reuse its result.
        with self._fetching:
            frame = self._cached(res, scope, lo, refresh, progress)
            if frame is None:
                frame, truncated = self._fetch(res, scope, lo, hi, limit, progress)
                if not truncated:
                    key = (res.kind, scope)
                    with self._lock:
                        old = self._cache.get(key)
                        if old is not None and not refresh:
                            frame = _merge(frame, old.frame)
                        self._cache[key] = _Entry(frame, lo, self._clock(), hi)
        if lo is not None or hi is not None:
            times = frame[res.filter_column]
            keep = pd.Series(True, index=frame.index)
            if lo is not None:
                keep &= (times >= lo).fillna(False)
            if hi is not None:
                keep &= (times < hi).fillna(False)
            frame = frame[keep.astype(bool)]
        frame = frames.newest_first(frame, res.kind)
        if limit is not None:
            frame = frame.head(limit).reset_index(drop=True)
        return frame

    def _cached(self, res: _Resource, scope: str | None, lo: pd.Timestamp | None,
                refresh: bool, progress: bool | None) -> pd.DataFrame | None:
        """The scope's frame brought up to date from the cache, or None when the cache
        cannot answer (nothing cached for that range, or ``refresh``)."""
        if refresh:
            return None
        with self._lock:
            entry = self._cache.get((res.kind, scope))
            parent = self._cache.get((res.kind, None))
        if entry is None and scope is not None and res.kind != "recordings":
            if parent is not None and _covers(parent, lo):
                self._update(res, None, parent, progress)
                f = parent.frame
                mask = (f["to"] == scope).fillna(False) | (f["from"] == scope).fillna(False)
                return f[mask.astype(bool)]
            return None
        if entry is None or not _covers(entry, lo):
            return None
        self._update(res, scope, entry, progress)
        return entry.frame

    def _update(self, res: _Resource, scope: str | None, entry: _Entry,
                progress: bool | None) -> None:
        """Ask Twilio only for what is new since the newest cached record, and re-fetch
        cached records whose status may still change."""
        now = self._clock()
        if entry.until is None and now - entry.checked < self.cache_ttl:
            return
        with self._lock:
            held = entry.frame
        times = held[res.filter_column].dropna()
        newest = times.max() if len(times) else None
        fresh, _ = self._fetch(res, scope, newest if newest is not None else entry.since,
                               None, None, progress)
        open_rows = held[~held["status"].isin(list(res.final)).fillna(False).astype(bool)]
        seen = set(fresh["sid"].tolist())
        stale = [s for s in open_rows["sid"].tolist() if s not in seen]
        if stale:
            updated = [self._json("GET", self._url_for(res.item_path.format(sid=s)),
                                  what="Unable to fetch record") for s in stale[:100]]
            fresh = _merge(frames.from_records(updated, res.kind), fresh)
        with self._lock:  # merged into what the cache holds now (sends may have added)
            entry.frame = frames.newest_first(_merge(fresh, entry.frame), res.kind)
            entry.checked = self._clock()
            entry.until = None

    def _poll(self, res: _Resource, sid: str) -> dict[str, Any]:
        payload = self._json("GET", self._url_for(res.item_path.format(sid=sid)),
                             what="Unable to fetch record")
        return self._absorb(res, payload)

    def _absorb(self, res: _Resource, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A record Twilio returned (created, fetched or updated): typed, merged into the
        cached scopes it belongs to, and announced as an event when it is new to us or its
        status changed."""
        frame = frames.from_records([payload], res.kind)
        record = _record(frame)
        sid, to, from_ = record["sid"], record.get("to"), record.get("from")
        with self._lock:
            changed = self._last_status.get(sid) != record["status"]
            self._last_status[sid] = record["status"]
            for (kind, scope), entry in self._cache.items():
                if kind == res.kind and (scope is None or scope in (to, from_)
                                         or sid in set(entry.frame["sid"].tolist())):
                    entry.frame = frames.newest_first(_merge(frame, entry.frame), res.kind)
        if changed:
            self._events.emit(Event(_EVENT_KIND[res.kind], record))
        return record


def _without_gc(fn: Callable[[str], Any], text: str) -> Any:
    """Run ``fn(text)`` with the cyclic GC paused: decoding a page makes thousands of
    objects that all survive, so collections during it are pure cost (about 25%)."""
    if not gc.isenabled():
        return fn(text)
    gc.disable()
    try:
        return fn(text)
    finally:
        gc.enable()


def _page_columns(res: _Resource) -> tuple[str, ...]:
    extra = ("uri",) if res.kind == "recordings" else ()
    return tuple(frames.SCHEMAS[res.kind]) + extra


_DECODERS: dict[str, Callable[[str], tuple[list[Any], str | None]]] = {}


def _page_decoder(res: _Resource) -> Callable[[str], tuple[list[Any], str | None]]:
    """text -> (one sequence per column of :func:`_page_columns`, next_page_uri).

    With msgspec installed, pages are decoded into structs holding only the schema's
    fields (several times faster than json.loads on Twilio's wide records); otherwise the
    standard library's json."""
    if res.kind in _DECODERS:
        return _DECODERS[res.kind]
    names = _page_columns(res)

    def plain(text: str) -> tuple[list[Any], str | None]:
        try:
            payload = json.loads(text)
        except ValueError:
            raise TwilioError("Unable to fetch page: Twilio answered with unreadable JSON") \
                from None
        records = payload.get(res.key)
        if records is None:
            records = next((v for v in payload.values() if isinstance(v, list)), [])
        return [[r.get(name) for r in records] for name in names], payload.get("next_page_uri")

    decoder = plain
    try:
        import msgspec
    except ImportError:
        msgspec = None
    if msgspec is not None:
        fields = [(f"f{i}", Any, None) for i in range(len(names))]
        record = msgspec.defstruct(f"{res.kind}_record", fields,
                                   rename={f"f{i}": name for i, name in enumerate(names)})
        page = msgspec.defstruct(f"{res.kind}_page", [(res.key, list[record] | None, None),
                                                      ("next_page_uri", str | None, None)])
        typed = msgspec.json.Decoder(page)
        astuple = msgspec.structs.astuple

        def fast(text: str) -> tuple[list[Any], str | None]:
            try:
                payload = typed.decode(text)
            except msgspec.DecodeError:
                return plain(text)
            records = getattr(payload, res.key)
            if records is None:
                return plain(text)
            if not records:
                return [[] for _ in names], payload.next_page_uri
            return [list(col) for col in zip(*map(astuple, records), strict=True)], \
                payload.next_page_uri

        decoder = fast
    _DECODERS[res.kind] = decoder
    return decoder


def _covers(entry: _Entry, lo: pd.Timestamp | None) -> bool:
    return entry.since is None or (lo is not None and lo >= entry.since)


def _merge(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """Union by sid; where both have a record, the new one wins."""
    if len(new) == 0:
        return old
    if len(old) == 0:
        return new
    return pd.concat([new, old], ignore_index=True).drop_duplicates("sid", keep="first")


def _url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value.strip()):
        raise InputError(field, f"{value!r} is not an http(s) URL")
    return value.strip()

