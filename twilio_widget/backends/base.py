"""The one protocol every backend speaks; the widget never knows which backend it talks to.

History comes back as the typed frames of :mod:`twilio_widget.frames`. Live happenings
(a call changing state, an incoming call, an inbound message, a message status) are
:class:`Event` objects delivered to the listeners added with ``subscribe``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd

from ..checks import EMPTY_BODY, body_problem
from ..vocabulary import BODY_REQUIRED, BODY_TOO_LONG

EventKind = Literal["call", "incoming_call", "message"]


@dataclass(frozen=True)
class Event:
    """Something that happened on the line.

    ``kind`` is "call" (a call's status changed; ``record`` is a calls-schema row),
    "incoming_call" (``record`` is the ringing call) or "message" (a message was received or
    its status changed; ``record`` is a messages-schema row).
    """

    kind: EventKind
    record: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]
logger = logging.getLogger(__name__)


class TwilioError(Exception):
    """An error Twilio (or the sandbox, speaking like Twilio) reported.

    ``code`` is Twilio's error code where one was given (20003, 21211, 21610 ...),
    ``status`` the HTTP status. The message never carries credentials.
    """

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None,
                 more_info: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.more_info = more_info

    def as_payload(self) -> dict[str, Any]:
        """What the panel shows: never more than the message, code and link."""
        return {"message": self.message, "code": self.code, "more_info": self.more_info}

    def __str__(self) -> str:
        return f"Twilio error {self.code}: {self.message}" if self.code else self.message


class InputError(TwilioError, ValueError):
    """Bad input caught before anything was sent; ``field`` names the offending argument."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field

    def as_payload(self) -> dict[str, Any]:
        return {**super().as_payload(), "field": self.field}


def body_refused(body: Any) -> TwilioError | None:
    """The error Twilio answers a message body it refuses with (21602 empty, 21617 too long),
    or None for a body it takes; for those who must refuse it the same way before sending."""
    problem = body_problem(body)
    if problem is None:
        return None
    code = BODY_REQUIRED if problem == EMPTY_BODY else BODY_TOO_LONG
    return TwilioError(f"body: {problem}", code=code, status=400)


class Simulator(Protocol):
    """Calls a backend plays itself (the sandbox): sandbox mode drives them, and scripts reach
    them as ``phone.sandbox`` to make the far end act."""

    def dial(self, to: str, from_: str | None = None, *, record: bool = False,
             announcement: str | None = None) -> dict[str, Any]:
        """Start an outgoing call; returns its calls-schema record (it rings, then plays out).
        ``record``: recorded from the answer on; ``announcement``: what the callee hears first."""
        ...

    def accept(self, sid: str) -> dict[str, Any]:
        """Answer a ringing incoming call."""
        ...

    def reject(self, sid: str) -> dict[str, Any]:
        """Decline a ringing incoming call (the caller hears busy)."""
        ...

    def incoming_call(self, from_: str, to: str | None = None) -> dict[str, Any]:
        """Someone calls in."""
        ...

    def inbound_message(self, from_: str, body: str, to: str | None = None) -> dict[str, Any]:
        """Someone texts in."""
        ...

    def script_outcome(self, number: str, outcome: str) -> None:
        """Make calls to ``number`` end as ``outcome``."""
        ...


@runtime_checkable
class Backend(Protocol):
    """Everything the phone asks of Twilio, or of something that behaves like it. The phone
    reads what a backend can do from these members, never from its class or its name."""

    #: "sandbox" or "twilio": what the backend is, for people (reprs, reports).
    mode: str
    #: The number it calls and texts from when no caller ID is configured ("" when it has none).
    own_number: str
    #: True when it answers from memory at once (the sandbox): the phone's work on it runs in
    #: place. A backend on the network is asked from the phone's worker thread instead.
    in_memory: bool
    #: True when its live events reach subscribers by themselves; False when they come only
    #: from polling (``call_status``, ``message_status``) or from a routing service.
    pushes_events: bool
    #: The ``twilio.rest.Client`` behind it, for account set-up; None when no account is.
    client: Any
    #: The calls it simulates (sandbox mode), or None when calls are real.
    simulator: Simulator | None

    def calls(self, number: str | None = None, *, since: datetime | str | None = None,
              until: datetime | str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Calls to or from ``number`` (all calls when None), newest first."""
        ...

    def messages(self, number: str | None = None, *, since: datetime | str | None = None,
                 until: datetime | str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Messages to or from ``number`` (all when None), newest first."""
        ...

    def recordings(self, call_sid: str | None = None, *, since: datetime | str | None = None,
                   until: datetime | str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Recordings, of one call when ``call_sid`` is given, newest first."""
        ...

    def call_summaries(self, number: str | None = None, *, since: datetime | str | None = None,
                       until: datetime | str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Voice Insights' summaries of the calls with ``number`` (all when None), newest first."""
        ...

    def call_summary(self, call_sid: str) -> dict[str, Any]:
        """One call's Voice Insights summary (a call_summaries-schema record)."""
        ...

    def call_events(self, call_sid: str, *, edge: str | None = None) -> pd.DataFrame:
        """One call's events as each edge saw them, oldest first."""
        ...

    def call_metrics(self, call_sid: str, *, edge: str | None = None,
                     direction: str | None = None) -> pd.DataFrame:
        """One call's 10-second media samples per edge, oldest first."""
        ...

    def send_message(self, to: str, from_: str, body: str, *,
                     status_callback: str | None = None) -> dict[str, Any]:
        """Send an SMS; returns the messages-schema record Twilio created. ``status_callback``
        is where delivery receipts go (the routing service)."""
        ...

    def create_call(self, to: str, from_: str, *, twiml: str | None = None,
                    url: str | None = None,
                    status_callback: str | None = None) -> dict[str, Any]:
        """Place a server-side call; returns the calls-schema record."""
        ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Deliver live events to ``listener``; returns a function that unsubscribes."""
        ...

    def call_status(self, sid: str) -> dict[str, Any]:
        """One call's current record (polling); a changed status is also emitted as an event."""
        ...

    def message_status(self, sid: str) -> dict[str, Any]:
        """One message's current record (polling); a changed status is also emitted as an event."""
        ...

    def child_calls(self, parent_sid: str) -> list[dict[str, Any]]:
        """The legs a call dialled (bridge mode's leg to the lead); changes are also emitted."""
        ...

    def end_call(self, sid: str) -> dict[str, Any]:
        """Hang up a server-side call (bridge mode): completed if answered, canceled if ringing."""
        ...

    def redirect_call(self, sid: str, twiml: str) -> dict[str, Any]:
        """Give a call in progress new TwiML (the voicemail drop: play a message, hang up)."""
        ...

    def close(self) -> None:
        """Release what the backend holds (the sandbox's clock thread)."""
        ...


class EventHub:
    """A small thread-safe list of listeners; backends embed one to implement ``subscribe``."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one broken listener must not starve the others, or the emitter
                logger.exception("event listener failed on %s event", event.kind)
