"""The kernel's side of a team's routing service: one user's token, their texts, their outbox,
their events as they are stored (server-sent events, read on a thread of their own), and the
team's calling-session outcomes (each user's own; every user's for a team lead).

The kernel is the one connected: the token stays in the kernel as the Twilio secrets stay on
the service, and the events reach the panel through the phone's traits, as those of a service
in the kernel do (``service.py``). See ``routing/team.py`` for the routes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
import pandas as pd

from .backends.base import Event, TwilioError
from .session.activity import Activity
from .session.journal import outcomes_of_stored
from .session.outcomes import Outcome, Vocabulary

log = logging.getLogger(__name__)

#: Where a user's token is read from when ``phone.connect`` is given none.
ENV_TOKEN = "TWILIO_WIDGET_TOKEN"
#: Longer than the service's keep-alive (15 s): a stream silent for this long is dead.
READ_SECONDS = 40.0
RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30)


class TeamClient:
    """One user's connection to a team's routing service. Without ``on_event`` it follows no
    events: a team lead's notebook that only reads the team's outcomes needs no phone."""

    def __init__(self, url: str, token: str, on_event: Callable[[Event], Any] | None = None, *,
                 timeout: float = 10.0) -> None:
        if not token or not token.strip():
            raise ValueError(f"token: empty (give it, or set ${ENV_TOKEN}); ask whoever runs the service for "
                             "yours (twilio-widget token USER)")
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token.strip()}"},
                                  timeout=timeout)
        self._stop = threading.Event()
        me = self._json("GET", "/api/me")
        self.user, self.caller_id = me["user"], me["caller_id"]
        #: Whether the service names this user a team lead (who reads every user's outcomes).
        self.lead = bool(me.get("lead"))
        self._after: int = int(me["last_event"])
        self._on_event = on_event
        self._response: httpx.Response | None = None
        self._thread: threading.Thread | None = None
        if on_event is not None:
            self._thread = threading.Thread(target=self._listen, daemon=True, name=f"twilio-widget-team:{self.user}")
            self._thread.start()

    def __repr__(self) -> str:
        return f"TeamClient({self.url!r}, user={self.user!r}{', lead' if self.lead else ''})"

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    # --- requests -----------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.closed:
            raise TwilioError(f"disconnected from the team's service at {self.url}")
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TwilioError(f"the team's service at {self.url} is out of reach ({type(exc).__name__})") from None
        if response.status_code == 401:
            raise ValueError(f"token: the service at {self.url} refused it (revoked, or for another service)")
        body = _json_of(response)
        if response.status_code >= 400:
            problem = body.get("error") or {}
            raise TwilioError(problem.get("message") or f"the team's service answered {response.status_code}",
                              code=problem.get("code"), status=response.status_code)
        return body

    def send(self, to: str, body: str) -> dict[str, Any]:
        """Text ``to`` from the user's number, through the service (opt-outs, outbox, StatusCallback)."""
        return self._json("POST", "/api/messages", json={"to": to, "body": body})["message"]

    def outbox(self) -> list[dict[str, Any]]:
        return self._json("GET", "/api/outbox")["outbox"]

    def retry_outbox(self) -> dict[str, int]:
        return self._json("POST", "/api/outbox/retry")

    # --- the team's outcomes -------------------------------------------------------------

    def send_outcomes(self, outcomes: list[Mapping[str, Any]]) -> dict[str, int]:
        """Store outcomes (the journal's stored form, each with its ``outcome_id``) as this user's;
        returns how many were new and how many the service already had."""
        return self._json("POST", "/api/outcomes", json={"outcomes": outcomes})

    def outcomes(self, since: Any = None, *, agent: str | None = None, queue: str | None = None) -> pd.DataFrame:
        """The team's outcomes as the typed outcomes frame (``phone.outcomes``'s columns, ``agent``
        the user who recorded each), oldest first: this user's own, or for a team lead every
        user's (``agent=`` one of them). ``since``: recorded at that time or later (a
        timestamp; UTC unless it names its zone); ``queue``: one queue's."""
        params: dict[str, Any] = {name: value for name, value in (("agent", agent), ("queue", queue)) if value}
        if since is not None:
            params["since"] = _utc(since, "since").isoformat()
        pages: list[pd.DataFrame] = []
        after: int | None = 0
        while after is not None:  # a typed frame a page: the JSON of one page at a time, never the table's
            page = self._json("GET", "/api/outcomes", params={**params, "after": after})
            pages.append(outcomes_of_stored(page["rows"]))
            after = page["next"]
        frame = pages[0] if len(pages) == 1 else pd.concat(pages, ignore_index=True)
        return frame.sort_values("recorded_at", kind="stable", ignore_index=True)

    def activity(self, since: Any = None, *, agent: str | None = None, queue: str | None = None,
                 outcomes: Iterable[Outcome | Mapping[str, Any]] | None = None) -> Activity:
        """The team's activity (connect rates by the lead's hour, caller ID and agent, outcomes,
        talk time, attempts to connect) over :meth:`outcomes`; ``outcomes`` is the vocabulary
        that says which outcomes reached a person (default: the session's defaults)."""
        connected = Vocabulary(outcomes).connected_names()
        return Activity.of(self.outcomes(since, agent=agent, queue=queue), connected)

    # --- events -------------------------------------------------------------------------

    def _listen(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                for event in self._events():
                    failures = 0
                    self._on_event(event)
            except (httpx.HTTPError, ValueError) as exc:
                if self._stop.is_set():
                    return
                log.info("team service %s: event stream broke (%s); reconnecting", self.url, exc)
            wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            self._stop.wait(wait)

    def _events(self) -> Iterator[Event]:
        """The stream's events, from the last one seen on (so a reconnect misses none)."""
        timeout = httpx.Timeout(self._http.timeout.connect, read=READ_SECONDS)
        with self._http.stream("GET", "/api/events", params={"after": self._after}, timeout=timeout) as response:
            if response.status_code != 200:
                raise ValueError(f"events: the service answered {response.status_code}")
            self._response = response
            event_id, data = None, []
            for line in response.iter_lines():
                if line.startswith("id:"):
                    event_id = int(line[3:].strip())
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    payload = json.loads("\n".join(data))
                    self._after = max(self._after, event_id or 0)
                    event_id, data = None, []
                    yield Event(payload["kind"], payload["record"])

    def close(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:  # a blocked read returns only when its socket is shut
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
        self._http.close()


def _utc(moment: Any, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(moment)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {moment!r} is not a time") from None
    if stamp is pd.NaT:
        raise ValueError(f"{name}: {moment!r} is not a time")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _json_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
