"""The real backend: Twilio's REST API through ``twilio.rest.Client``, history as typed frames.

The pieces, one concern each: ``retries`` (the HTTP layer's back-off), ``errors`` (Twilio's
codes on every failure), ``inputs`` (checks before anything is sent), ``rest`` (the account's
requests), ``pages`` (list pages, decoded into typed frames) and ``cache`` (history per query
scope). This class puts them together behind the Backend protocol.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd
from twilio.http import HttpClient

from ... import frames
from ...vocabulary import INSIGHTS_DIRECTIONS, INSIGHTS_EDGES
from ..base import Event, EventHub, Listener
from . import inputs
from .cache import Entry, covers, merge
from .errors import InputError
from .insights import CALL_SUMMARIES, fetch_call_records
from .pages import CALLS, EVENT_KIND, MESSAGES, RECORDINGS, Resource
from .rest import RestApi
from .retries import RetryingHttpClient, RetryPolicy

__all__ = ["TwilioBackend"]


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
        self._api = RestApi(client, http, client.account_sid or client.username)
        self.progress = progress
        self.cache_ttl = cache_ttl
        self._clock = clock
        self._events = EventHub()
        self._cache: dict[tuple[str, str | None], Entry] = {}
        self._lock = threading.RLock()  # the cache's dict and frames: held briefly
        self._fetching = threading.Lock()  # one history fetch at a time
        self._last_status: dict[str, str] = {}
        self.account_sid: str = self._api.account_sid

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

        inputs.sid(account_sid, "account_sid", "account_sid")
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
        number = None if number is None else inputs.phone(number, "number", allow_client=True)
        return self._history(CALLS, number, since, until, limit, refresh, progress)

    def messages(self, number: str | None = None, *, since: datetime | str | None = None,
                 until: datetime | str | None = None, limit: int | None = None,
                 refresh: bool = False, progress: bool | None = None) -> pd.DataFrame:
        """Messages to or from ``number`` (all when None), newest first."""
        number = None if number is None else inputs.phone(number, "number", allow_client=True)
        return self._history(MESSAGES, number, since, until, limit, refresh, progress)

    def recordings(self, call_sid: str | None = None, *, since: datetime | str | None = None,
                   until: datetime | str | None = None, limit: int | None = None,
                   refresh: bool = False, progress: bool | None = None) -> pd.DataFrame:
        """Recordings, of one call when ``call_sid`` is given, newest first."""
        if call_sid is not None:
            inputs.sid(call_sid, "call_sid", "call_sid")
        return self._history(RECORDINGS, call_sid, since, until, limit, refresh, progress)

    # ---- protocol: call quality (Voice Insights) ----------------------------------------

    def call_summaries(self, number: str | None = None, *, since: datetime | str | None = None,
                       until: datetime | str | None = None, limit: int | None = None,
                       refresh: bool = False, progress: bool | None = None) -> pd.DataFrame:
        """Voice Insights summaries of the calls with ``number`` (all calls when None), newest
        first: quality tags, answered_by, carriers, edges and the worst media figures. With no
        ``since``, all that Insights keeps (30 days). Needs Voice Insights Advanced Features on
        the account."""
        number = None if number is None else inputs.phone(number, "number", allow_client=True)
        return self._history(CALL_SUMMARIES, number, since, until, limit, refresh, progress)

    def call_summary(self, call_sid: str) -> dict[str, Any]:
        """One call's Voice Insights summary (a call_summaries-schema record)."""
        inputs.sid(call_sid, "call_sid", "call_sid")
        payload = self._fetch_record(CALL_SUMMARIES, call_sid)
        return _record(frames.from_records([CALL_SUMMARIES.record(payload)], CALL_SUMMARIES.kind))

    def call_events(self, call_sid: str, *, edge: str | None = None, refresh: bool = False,
                    progress: bool | None = None) -> pd.DataFrame:
        """One call's events as each edge saw them (Voice Insights), oldest first."""
        inputs.sid(call_sid, "call_sid", "call_sid")
        params = {"Edge": inputs.choice(edge, "edge", INSIGHTS_EDGES)} if edge else {}
        return self._call_records("call_events", call_sid, params, refresh, progress)

    def call_metrics(self, call_sid: str, *, edge: str | None = None, direction: str | None = None,
                     refresh: bool = False, progress: bool | None = None) -> pd.DataFrame:
        """One call's media samples, one per 10 seconds per edge (Voice Insights), oldest first."""
        inputs.sid(call_sid, "call_sid", "call_sid")
        params = {"Edge": inputs.choice(edge, "edge", INSIGHTS_EDGES)} if edge else {}
        if direction:
            params["Direction"] = inputs.choice(direction, "direction", INSIGHTS_DIRECTIONS)
        return self._call_records("call_metrics", call_sid, params, refresh, progress)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # ---- protocol: actions --------------------------------------------------------------

    def send_message(self, to: str, from_: str, body: str, *,
                     status_callback: str | None = None) -> dict[str, Any]:
        """Send an SMS; returns the messages-schema record Twilio created."""
        data: dict[str, Any] = {"To": inputs.phone(to, "to")}
        sender_field, sender = inputs.sender(from_)
        data[sender_field] = sender
        data["Body"] = inputs.body(body)
        if status_callback is not None:
            data["StatusCallback"] = inputs.url(status_callback, "status_callback")
        payload = self._api.json("POST", self._api.url_for(MESSAGES.path), data=data,
                                 what="Unable to send message")
        return self._absorb(MESSAGES, payload)

    def create_call(self, to: str, from_: str, *, twiml: str | None = None,
                    url: str | None = None,
                    status_callback: str | None = None) -> dict[str, Any]:
        """Place a server-side call; returns the calls-schema record."""
        data: dict[str, Any] = {"To": inputs.phone(to, "to", allow_client=True),
                                "From": inputs.phone(from_, "from_", allow_client=True)}
        if (twiml is None) == (url is None):
            raise InputError("twiml", "give exactly one of twiml and url")
        if twiml is not None:
            if not isinstance(twiml, str) or "<Response" not in twiml:
                raise InputError("twiml", "expected a TwiML document (<Response>...</Response>)")
            data["Twiml"] = twiml
        else:
            data["Url"] = inputs.url(url, "url")
        if status_callback is not None:
            data["StatusCallback"] = inputs.url(status_callback, "status_callback")
        payload = self._api.json("POST", self._api.url_for(CALLS.path), data=data,
                                 what="Unable to create call")
        return self._absorb(CALLS, payload)

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
        inputs.sid(sid, "call_sid", "sid")
        return self._poll(CALLS, sid)

    def message_status(self, sid: str) -> dict[str, Any]:
        """Fetch one message (a messages-schema record); emits a "message" event when its
        status changed since last seen."""
        inputs.sid(sid, "message_sid", "sid")
        return self._poll(MESSAGES, sid)

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
        payload = self._api.json("POST", self._api.url_for(CALLS.item_path.format(sid=sid)),
                                 data={"Status": target}, what="Unable to end call")
        return self._absorb(CALLS, payload)

    def redirect_call(self, sid: str, twiml: str) -> dict[str, Any]:
        """Give a call in progress new TwiML (Calls update with ``Twiml``): the voicemail drop."""
        inputs.sid(sid, "call_sid", "sid")
        if not isinstance(twiml, str) or "<Response" not in twiml:
            raise InputError("twiml", "expected a TwiML document (<Response>...</Response>)")
        payload = self._api.json("POST", self._api.url_for(CALLS.item_path.format(sid=sid)),
                                 data={"Twiml": twiml}, what="Unable to redirect call")
        return self._absorb(CALLS, payload)

    def child_calls(self, parent_sid: str) -> list[dict[str, Any]]:
        """The legs a call dialled (bridge mode's leg to the lead), as calls-schema records;
        a leg new to us, or whose status changed, is also emitted as an event."""
        inputs.sid(parent_sid, "call_sid", "parent_sid")
        payload = self._api.json("GET", self._api.url_for(CALLS.path),
                                 params={"ParentCallSid": parent_sid, "PageSize": 20},
                                 what="Unable to fetch the call's legs")
        return [self._absorb(CALLS, leg) for leg in payload.get(CALLS.key) or []]

    def account_info(self) -> dict[str, Any]:
        """A cheap credential check: the account's name, status and type.

        Raises :class:`TwilioError` 20003 when the credentials are refused."""
        payload = self._api.json("GET", self._api.url_for("", account=True),
                                 what="Unable to fetch account")
        return {k: payload.get(k) for k in ("sid", "friendly_name", "status", "type")}

    # ---- internals: history and the cache ---------------------------------------------

    def _shows(self, progress: bool | None) -> bool | None:
        """Whether a long fetch shows a progress bar: this call's wish, else the backend's."""
        return self.progress if progress is None else progress

    def _history(self, res: Resource, scope: str | None, since: Any, until: Any,
                 limit: int | None, refresh: bool, progress: bool | None) -> pd.DataFrame:
        lo = inputs.timestamp(since, "since")
        hi = inputs.timestamp(until, "until", upper=True)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                                  or limit < 1):
            raise InputError("limit", f"{limit!r} is not a positive whole number")
        # Polls and sends (which only take the short cache lock) are not held up by a
        # long fetch; concurrent history queries wait for each other and reuse its result.
        with self._fetching:
            frame = self._cached(res, scope, lo, refresh, progress)
            if frame is None:
                frame, truncated = res.records(self._api, scope, lo, hi, limit, self._shows(progress))
                if not truncated:
                    key = (res.kind, scope)
                    with self._lock:
                        old = self._cache.get(key)
                        if old is not None and not refresh:
                            frame = merge(frame, old.frame, res.id_column)
                        self._cache[key] = Entry(frame, lo, self._clock(), hi)
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

    def _cached(self, res: Resource, scope: str | None, lo: pd.Timestamp | None,
                refresh: bool, progress: bool | None) -> pd.DataFrame | None:
        """The scope's frame brought up to date from the cache, or None when the cache
        cannot answer (nothing cached for that range, or ``refresh``)."""
        if refresh:
            return None
        with self._lock:
            entry = self._cache.get((res.kind, scope))
            parent = self._cache.get((res.kind, None))
        if entry is None and scope is not None and res.kind != "recordings":
            if parent is not None and covers(parent, lo):
                self._update(res, None, parent, progress)
                f = parent.frame
                mask = (f["to"] == scope).fillna(False) | (f["from"] == scope).fillna(False)
                return f[mask.astype(bool)]
            return None
        if entry is None or not covers(entry, lo):
            return None
        self._update(res, scope, entry, progress)
        return entry.frame

    def _update(self, res: Resource, scope: str | None, entry: Entry,
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
        fresh, _ = res.records(self._api, scope, newest if newest is not None else entry.since,
                               None, None, self._shows(progress))
        key = res.id_column
        open_rows = held[~held[res.state_column].isin(list(res.final)).fillna(False).astype(bool)]
        seen = set(fresh[key].tolist())
        stale = [s for s in open_rows[key].tolist() if s not in seen]
        if stale:
            updated = [res.record(self._fetch_record(res, s)) for s in stale[:100]]
            fresh = merge(frames.from_records(updated, res.kind), fresh, key)
        with self._lock:  # merged into what the cache holds now (sends may have added)
            entry.frame = frames.newest_first(merge(fresh, entry.frame, key), res.kind)
            entry.checked = self._clock()
            entry.until = None

    def _call_records(self, kind: str, call_sid: str, params: dict[str, str], refresh: bool,
                      progress: bool | None) -> pd.DataFrame:
        """A call's events or metrics, answered from the cache for ``cache_ttl`` seconds."""
        key = (kind, f"{call_sid}?{sorted(params.items())}")
        with self._lock:
            entry = self._cache.get(key)
        if entry is not None and not refresh and self._clock() - entry.checked < self.cache_ttl:
            return entry.frame.copy()
        frame = fetch_call_records(self._api, kind, call_sid, params, self._shows(progress))
        with self._lock:
            self._cache[key] = Entry(frame, None, self._clock())
        return frame.copy()

    def _poll(self, res: Resource, sid: str) -> dict[str, Any]:
        return self._absorb(res, self._fetch_record(res, sid))

    def _fetch_record(self, res: Resource, sid: str) -> dict[str, Any]:
        return self._api.json("GET", res.item_url(self._api, sid), what="Unable to fetch record")

    def _absorb(self, res: Resource, payload: Mapping[str, Any]) -> dict[str, Any]:
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
                    entry.frame = frames.newest_first(merge(frame, entry.frame), res.kind)
        if changed:
            self._events.emit(Event(EVENT_KIND[res.kind], record))
        return record


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
