"""An offline stand-in for Twilio: deterministic history, calls and messages that behave like
the real thing, and hooks to script incoming calls and texts for demos and tests.

Time is either the wall clock (``realtime=True``, for demos: a call rings, then connects) or a
virtual clock moved by :meth:`SandboxBackend.advance` (for tests: nothing happens until told).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from .. import frames
from ..contacts import InvalidNumber, parse_number
from .base import Event, EventHub, TwilioError

logger = logging.getLogger(__name__)

#: The number the sandbox calls and texts from (Twilio's own magic test "From" number).
SANDBOX_NUMBER = "+15005550006"

#: Outcomes a test or demo can script for a dialled number.
CALL_OUTCOMES = ("completed", "busy", "no-answer", "failed")

_SAMPLE_TEXTS = (
    "Hi, following up on our chat last week.",
    "Thanks! Can we move the call to Thursday?",
    "Sounds good, talk then.",
    "Sent you the proposal, let me know what you think.",
    "Could you call me after 3pm?",
    "Great meeting you at the expo.",
)


class _Scheduler:
    """Runs callbacks at given clock times, on the wall clock or on a virtual one."""

    def __init__(self, realtime: bool, start: datetime) -> None:
        self.realtime = realtime
        self._virtual_now = start
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def now(self) -> datetime:
        if self.realtime:
            return datetime.now(UTC)
        return self._virtual_now

    def call_later(self, seconds: float, fn: Callable[[], None]) -> None:
        due = self.now().timestamp() + seconds
        with self._cond:
            heapq.heappush(self._queue, (due, next(self._seq), fn))
            self._cond.notify()
        if self.realtime:
            self._ensure_thread()

    def advance(self, seconds: float) -> None:
        if self.realtime:
            raise RuntimeError("advance() moves the virtual clock; this sandbox runs in real time")
        target = self._virtual_now.timestamp() + seconds
        while True:
            with self._cond:
                if not self._queue or self._queue[0][0] > target:
                    break
                due, _, fn = heapq.heappop(self._queue)
            self._virtual_now = max(self._virtual_now, datetime.fromtimestamp(due, UTC))
            fn()
        self._virtual_now = datetime.fromtimestamp(target, UTC)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify()

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-clock", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                    not self._queue or self._queue[0][0] > time.time()
                ):
                    timeout = self._queue[0][0] - time.time() if self._queue else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                _, _, fn = heapq.heappop(self._queue)
            try:
                fn()
            except Exception:  # the clock keeps ticking for every other call and message
                logger.exception("sandbox task failed")


class SandboxBackend:
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
        self._rng = random.Random(seed)
        self._sids = itertools.count(1)
        self._seed = seed
        start = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self._clock = _Scheduler(realtime, start)
        self._hub = EventHub()
        self._lock = threading.RLock()
        self._calls: dict[str, dict[str, Any]] = {}
        self._messages: dict[str, dict[str, Any]] = {}
        self._outcomes: dict[str, str] = {}
        self._opted_out: set[str] = set()
        self._leg_watchers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._seed_history(list(numbers), history_days)

    # -- the Backend protocol ------------------------------------------------------------

    def calls(self, number: str | None = None, *, since=None, until=None,
              limit: int | None = None) -> pd.DataFrame:
        with self._lock:
            rows = [dict(r) for r in self._calls.values()]
        rows = [r for r in rows if _involves(r, number)]
        return _window(frames.from_records(rows, "calls"), "calls", since, until, limit)

    def messages(self, number: str | None = None, *, since=None, until=None,
                 limit: int | None = None) -> pd.DataFrame:
        with self._lock:
            rows = [dict(r) for r in self._messages.values()]
        rows = [r for r in rows if _involves(r, number)]
        return _window(frames.from_records(rows, "messages"), "messages", since, until, limit)

    def recordings(self, call_sid: str | None = None, *, since=None, until=None,
                   limit: int | None = None) -> pd.DataFrame:
        with self._lock:
            rows = [dict(r["_recording"], call_sid=sid) for sid, r in self._calls.items()
                    if r.get("_recording") and (call_sid is None or sid == call_sid)]
        return _window(frames.from_records(rows, "recordings"), "recordings", since, until, limit)

    def send_message(self, to: str, from_: str, body: str, *,
                     status_callback: str | None = None) -> dict[str, Any]:
        """Send an SMS; its delivery is reported through this sandbox's own events, so a
        ``status_callback`` has nothing to add."""
        to = _require_number(to, "to")
        from_ = _require_number(from_, "from_")
        if not body or not body.strip():
            raise TwilioError("A message body is required", code=21602, status=400)
        if len(body) > 1600:
            raise TwilioError("The message body exceeds the 1600 character limit",
                              code=21617, status=400)
        if to in self._opted_out:
            raise TwilioError(f"Attempt to send to unsubscribed recipient {to}",
                              code=21610, status=400)
        now = self.now()
        record = {
            "sid": self._sid("SM"), "direction": "outbound-api", "from": from_, "to": to,
            "body": body, "status": "queued", "date_created": now, "date_sent": None,
            "num_segments": _segments(body), "num_media": 0, "error_code": None,
            "error_message": None, "price": None, "price_unit": "USD",
        }
        with self._lock:
            self._messages[record["sid"]] = record
        self._emit("message", record)
        self._clock.call_later(self.delivery_seconds / 2,
                               lambda: self._message_status(record["sid"], "sent"))
        self._clock.call_later(self.delivery_seconds,
                               lambda: self._message_status(record["sid"], "delivered"))
        return dict(record)

    def create_call(self, to: str, from_: str, *, twiml: str | None = None,
                    url: str | None = None, status_callback: str | None = None) -> dict[str, Any]:
        """A server-side call; TwiML that dials a number (bridge mode) makes a second leg to
        it once this one answers, as Twilio does."""
        lead = _dialled_number(twiml)
        bridge = (lambda sid: self._bridge(sid, lead, from_)) if lead else None
        return self.dial(to, from_, direction="outbound-api", on_answer=bridge)

    def child_calls(self, parent_sid: str) -> list[dict[str, Any]]:
        """The legs a call dialled (bridge mode's leg to the lead), oldest first."""
        with self._lock:
            return [_public(c) for c in self._calls.values() if c["parent_call_sid"] == parent_sid]

    def subscribe(self, listener):
        return self._hub.subscribe(listener)

    def call_status(self, sid: str) -> dict[str, Any]:
        return _public(self._call(sid))

    def message_status(self, sid: str) -> dict[str, Any]:
        with self._lock:
            if sid not in self._messages:
                raise TwilioError(f"The requested resource Message {sid} was not found", code=20404, status=404)
            return _public(self._messages[sid])

    def end_call(self, sid: str) -> dict[str, Any]:
        for leg in self.child_calls(sid):  # hanging up a bridge ends the lead's leg too
            self.hang_up(leg["sid"])
        return self.hang_up(sid)

    @property
    def simulator(self) -> SandboxBackend:
        """The sandbox simulates its calls itself."""
        return self

    # -- live calls, as the panel drives them -------------------------------------------

    def dial(self, to: str, from_: str | None = None, *, direction: str = "outbound-dial",
             parent: str | None = None, on_answer: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Start an outgoing call: it rings, then follows the scripted outcome."""
        to = _require_number(to, "to")
        from_ = _require_number(from_ or self.own_number, "from_")
        record = self._new_call(to, from_, direction, status="ringing", parent=parent)
        outcome = self._outcomes.get(to, "completed")
        if outcome == "completed":
            def answer() -> None:
                if self._answer_if_ringing(record["sid"]) and on_answer:
                    on_answer(record["sid"])

            self._clock.call_later(self.ring_seconds, answer)
        else:
            self._clock.call_later(self.ring_seconds,
                                   lambda: self._end_if_ringing(record["sid"], outcome))
        return dict(record)

    def hang_up(self, sid: str) -> dict[str, Any]:
        """End a call from our side: completed if it was answered, canceled if still ringing."""

        def decide(call: dict[str, Any]):
            if call["status"] == "in-progress":
                return self._ending(call, "completed")
            if call["status"] in ("queued", "ringing"):
                return self._ending(call, "canceled" if call["direction"] != "inbound" else "no-answer")
            return None

        return self._change_call(sid, decide)

    def accept(self, sid: str) -> dict[str, Any]:
        """Answer a ringing incoming call."""
        return self._change_call(sid, lambda call: _ringing(sid, call) and ("in-progress", {"start_time": self.now()}))

    def reject(self, sid: str) -> dict[str, Any]:
        """Decline a ringing incoming call (the caller hears busy)."""
        return self._change_call(sid, lambda call: _ringing(sid, call) and self._ending(call, "busy"))

    # -- scripting, for demos and tests --------------------------------------------------

    def script_outcome(self, number: str, outcome: str) -> None:
        """Make calls to ``number`` end as ``outcome`` (busy, no-answer, failed or completed)."""
        if outcome not in CALL_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(CALL_OUTCOMES)}, not {outcome!r}")
        self._outcomes[_require_number(number, "number")] = outcome

    def incoming_call(self, from_: str, to: str | None = None) -> dict[str, Any]:
        """Someone calls in: the panel rings until it accepts or rejects (or the caller gives up)."""
        record = self._new_call(to or self.own_number, _require_number(from_, "from_"),
                                "inbound", status="ringing", swap=True)
        self._emit("incoming_call", record)
        return dict(record)

    def caller_hangs_up(self, sid: str) -> dict[str, Any]:
        """The remote party ends the call (or gives up while it rings)."""
        return self._change_call(sid, lambda call: self._ending(
            call, "completed" if call["status"] == "in-progress" else "no-answer"))

    def inbound_message(self, from_: str, body: str, to: str | None = None) -> dict[str, Any]:
        """Someone texts in: the thread with that number gains the message."""
        from_ = _require_number(from_, "from_")
        now = self.now()
        record = {
            "sid": self._sid("SM"), "direction": "inbound", "from": from_,
            "to": to or self.own_number, "body": body, "status": "received",
            "date_created": now, "date_sent": now, "num_segments": _segments(body),
            "num_media": 0, "error_code": None, "error_message": None, "price": None,
            "price_unit": "USD",
        }
        with self._lock:
            self._messages[record["sid"]] = record
            keyword = frames.opt_keyword(body)
            if keyword == "out":
                self._opted_out.add(from_)
            elif keyword == "in":
                self._opted_out.discard(from_)
        self._emit("message", record)
        return dict(record)

    def advance(self, seconds: float) -> None:
        """Move the virtual clock on, running everything that falls due (tests and scripts)."""
        self._clock.advance(seconds)

    def now(self) -> datetime:
        return self._clock.now()

    @property
    def realtime(self) -> bool:
        return self._clock.realtime

    def close(self) -> None:
        self._clock.close()

    # -- internals -----------------------------------------------------------------------

    def _new_call(self, to: str, from_: str, direction: str, *, status: str,
                  swap: bool = False, parent: str | None = None) -> dict[str, Any]:
        record = {
            "sid": self._sid("CA"), "direction": direction, "from": from_, "to": to,
            "status": status, "start_time": self.now(), "end_time": None, "duration": None,
            "price": None, "price_unit": "USD", "answered_by": None, "parent_call_sid": parent,
        }
        with self._lock:
            self._calls[record["sid"]] = record
        if not swap:
            self._emit("call", record)
        return record

    def _call(self, sid: str) -> dict[str, Any]:
        with self._lock:
            if sid not in self._calls:
                raise TwilioError(f"The requested resource Call {sid} was not found",
                                  code=20404, status=404)
            return self._calls[sid]

    def _answer_if_ringing(self, sid: str) -> bool:
        answered = self._change_call(sid, lambda call: ("in-progress", {"start_time": self.now()})
                                     if call["status"] == "ringing" else None)
        return answered["status"] == "in-progress"

    def _bridge(self, parent_sid: str, lead: str, caller_id: str) -> None:
        """The user picked up: dial the lead; when that leg ends, so does the user's call."""

        def after_lead(leg: dict[str, Any]) -> None:
            if leg["status"] in frames.FINAL_CALL_STATUSES:
                self._clock.call_later(0, lambda: self.hang_up(parent_sid))

        if self.call_status(parent_sid)["status"] != "in-progress":
            return  # the user hung up before the lead was dialled
        self._leg_watchers[parent_sid] = after_lead
        self.dial(lead, caller_id, parent=parent_sid)

    def _end_if_ringing(self, sid: str, outcome: str) -> None:
        self._change_call(sid, lambda call: self._ending(call, outcome) if call["status"] == "ringing" else None)

    def _ending(self, call: dict[str, Any], status: str) -> tuple[str, dict[str, Any]]:
        """The end of a call: its final status, end time, duration and price."""
        now = self.now()
        answered = call["status"] == "in-progress"
        duration = int((now - call["start_time"]).total_seconds()) if answered else 0
        price = -round(0.014 * max(1, -(-duration // 60)), 3) if answered else None
        return status, {"end_time": now, "duration": duration, "price": price}

    def _change_call(self, sid: str, decide) -> dict[str, Any]:
        """Check and change a call in one step under the lock (the clock thread races the
        panel), then tell the listeners outside it. ``decide(call)`` returns (status, changes),
        or None to leave the call as it is."""
        with self._lock:
            call = self._call(sid)
            decision = decide(call)
            if not decision:
                return _public(call)
            status, changes = decision
            call.update(status=status, **changes)
            snapshot = _public(call)
        self._emit("call", snapshot)
        return snapshot

    def _message_status(self, sid: str, status: str) -> None:
        with self._lock:
            message = self._messages[sid]
            if message["status"] in ("failed", "undelivered", "delivered"):
                return
            message["status"] = status
            if status == "sent":
                message["date_sent"] = self.now()
                message["price"] = -0.0079 * message["num_segments"]
            snapshot = dict(message)
        self._emit("message", snapshot)

    def _emit(self, kind: str, record: dict[str, Any]) -> None:
        self._hub.emit(Event(kind, _public(record)))
        if kind != "call":
            return
        watcher = self._leg_watchers.get(record.get("parent_call_sid"))
        if watcher:
            watcher(record)
        if record["status"] in frames.FINAL_CALL_STATUSES:  # a call that ends takes its legs with it
            for leg in self.child_calls(record["sid"]):
                if leg["status"] not in frames.FINAL_CALL_STATUSES:
                    self._clock.call_later(0, lambda sid=leg["sid"]: self.hang_up(sid))

    def _sid(self, prefix: str) -> str:
        return f"{prefix}{self._seed:08x}{next(self._sids):024x}"

    def _seed_history(self, numbers: list[str], days: int) -> None:
        """A plausible, reproducible past: a few calls and texts with each number."""
        anchor = self.now()
        rng = self._rng
        for number in numbers:
            for _ in range(rng.randint(1, 4)):
                start = anchor - timedelta(minutes=rng.randint(60, days * 24 * 60))
                inbound = rng.random() < 0.35
                status = rng.choices(("completed", "no-answer", "busy", "failed"),
                                     weights=(70, 18, 8, 4))[0]
                duration = rng.randint(20, 900) if status == "completed" else 0
                sid = self._sid("CA")
                self._calls[sid] = {
                    "sid": sid, "direction": "inbound" if inbound else "outbound-dial",
                    "from": number if inbound else self.own_number,
                    "to": self.own_number if inbound else number, "status": status,
                    "start_time": start, "end_time": start + timedelta(seconds=duration),
                    "duration": duration,
                    "price": -round(0.014 * max(1, -(-duration // 60)), 3) if duration else None,
                    "price_unit": "USD", "answered_by": None, "parent_call_sid": None,
                }
                if status == "completed" and rng.random() < 0.2 and not inbound:
                    self._calls[sid]["_recording"] = {
                        "sid": self._sid("RE"), "date_created": start + timedelta(seconds=duration),
                        "duration": duration, "status": "completed", "channels": 1,
                        "source": "DialVerb",
                        "media_url": f"https://sandbox.invalid/Recordings/{sid}.mp3",
                    }
            for _ in range(rng.randint(0, 3)):
                sent = anchor - timedelta(minutes=rng.randint(30, days * 24 * 60))
                inbound = rng.random() < 0.5
                body = rng.choice(_SAMPLE_TEXTS)
                sid = self._sid("SM")
                self._messages[sid] = {
                    "sid": sid, "direction": "inbound" if inbound else "outbound-api",
                    "from": number if inbound else self.own_number,
                    "to": self.own_number if inbound else number, "body": body,
                    "status": "received" if inbound else "delivered", "date_created": sent,
                    "date_sent": sent, "num_segments": _segments(body), "num_media": 0,
                    "error_code": None, "error_message": None,
                    "price": -0.0079, "price_unit": "USD",
                }


def _ringing(sid: str, call: dict[str, Any]) -> bool:
    if call["status"] != "ringing":
        raise TwilioError(f"Call {sid} is {call['status']}, not ringing", status=409)
    return True


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """A copy without the sandbox's own bookkeeping keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _involves(record: dict[str, Any], number: str | None) -> bool:
    return number is None or number in (record["from"], record["to"])


def _window(frame: pd.DataFrame, kind: str, since, until, limit: int | None) -> pd.DataFrame:
    column = frames.TIME_COLUMN[kind]
    if since is not None:
        frame = frame[frame[column] >= frames.utc(since)]
    if until is not None:
        frame = frame[frame[column] < frames.utc(until)]
    frame = frames.newest_first(frame, kind)
    return frame.head(limit) if limit is not None else frame


def _require_number(value: str, field: str) -> str:
    """E.164 of ``value`` or a Twilio-shaped 21211 error that names the field."""
    try:
        return parse_number(value, "US", field=field)
    except InvalidNumber as exc:
        raise TwilioError(str(exc), code=21211, status=400) from None


def _dialled_number(twiml: str | None) -> str | None:
    """The number a TwiML document's <Dial> calls, if it dials one."""
    if not twiml:
        return None
    try:
        dial = ElementTree.fromstring(twiml).find("Dial")
    except ElementTree.ParseError:
        return None
    number = (dial.findtext("Number") or dial.text or "").strip() if dial is not None else ""
    return number or None


def _segments(body: str) -> int:
    """SMS segments: 160 GSM characters in one, 153 a segment when concatenated."""
    return 1 if len(body) <= 160 else -(-len(body) // 153)
