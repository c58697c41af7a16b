"""SandboxBackend: the Backend protocol with no network and no account, put together from the
sandbox's calls, its messages, its clock and its seeded past."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ... import frames
from ..base import Event, EventHub
from .calls import CallSimulation
from .clock import Scheduler
from .insights import CallQuality
from .messages import Messaging
from .records import involves, public, window
from .seeding import seed_history

__all__ = ["SANDBOX_NUMBER", "SandboxBackend"]

#: The number the sandbox calls and texts from (Twilio's own magic test "From" number).
SANDBOX_NUMBER = "+15005550006"


class SandboxBackend(CallSimulation, Messaging, CallQuality):
    """Twilio without Twilio: same protocol, same frames, no network, no account."""

    mode = "sandbox"
    in_memory = True
    pushes_events = True
    client = None  # no account behind it: nothing to set up

    def __init__(
        self,
        *,
        seed: int = 0,
        numbers: Iterable[str] = (),
        own_number: str = SANDBOX_NUMBER,
        now: datetime | None = None,
        realtime: bool = False,
        ring_seconds: float = 2.0,
        delivery_seconds: float = 1.0,
        history_days: int = 30,
    ) -> None:
        self.own_number = own_number
        self.ring_seconds = ring_seconds
        self.delivery_seconds = delivery_seconds
        self._sids = itertools.count(1)
        self._seed = seed
        start = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self._clock = Scheduler(realtime, start)
        self._hub = EventHub()
        self._lock = threading.RLock()
        self._outcomes = {}
        self.leads = None
        #: The voicemail drops played: {"call_sid", "url"} each (demos and tests read them).
        self.voicemail_drops: list[dict[str, str | None]] = []
        #: The recording announcements played: {"call_sid", "announcement", "at"} each.
        self.announcements: list[dict[str, Any]] = []
        self._recorded: dict[str, str] = {}  # a recorded call's sid -> the call its recording goes with
        self._opted_out = set()
        self._leg_watchers = {}
        self._calls, self._messages = seed_history(list(numbers), history_days, self.now(), own_number,
                                                   random.Random(seed), self._sid)

    # -- the Backend protocol's history and events ----------------------------------------

    def calls(self, number: str | None = None, *, since=None, until=None,
              limit: int | None = None) -> pd.DataFrame:
        return self._history("calls", self._calls, number, since, until, limit)

    def messages(self, number: str | None = None, *, since=None, until=None,
                 limit: int | None = None) -> pd.DataFrame:
        return self._history("messages", self._messages, number, since, until, limit)

    def recordings(self, call_sid: str | None = None, *, since=None, until=None,
                   limit: int | None = None) -> pd.DataFrame:
        with self._lock:
            rows = [dict(r["_recording"], call_sid=sid) for sid, r in self._calls.items()
                    if r.get("_recording") and (call_sid is None or sid == call_sid)]
        return window(frames.from_records(rows, "recordings"), "recordings", since, until, limit)

    def _history(self, kind: str, records: dict[str, dict[str, Any]], number: str | None,
                 since, until, limit: int | None) -> pd.DataFrame:
        """The ``kind`` frame of the records with ``number`` (all when None), in the window asked."""
        with self._lock:
            rows = [dict(r) for r in records.values()]
        rows = [r for r in rows if involves(r, number)]
        return window(frames.from_records(rows, kind), kind, since, until, limit)

    def subscribe(self, listener):
        return self._hub.subscribe(listener)

    @property
    def simulator(self) -> SandboxBackend:
        """The sandbox simulates its calls itself."""
        return self

    # -- the clock, for demos and tests -----------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the virtual clock on, running everything that falls due (tests and scripts)."""
        self._clock.advance(seconds)

    @property
    def realtime(self) -> bool:
        return self._clock.realtime

    def close(self) -> None:
        self._clock.close()

    def _emit(self, kind: str, record: dict[str, Any]) -> None:
        self._hub.emit(Event(kind, public(record)))
        if kind == "call":
            self._end_legs_of(record)
