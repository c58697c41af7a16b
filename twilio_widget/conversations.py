"""Call history and the message thread of the selected number, and the texts sent from the panel.

Writes ``history`` and ``thread``. Both are bounded (``history_limit`` rows) and come from the
backend: at each selection, when asked (``refresh``, the panel's polls) and from live events.
A message sent from the panel shows at once as "sending"; the backend's record takes its place,
or it stays as "failed" with Twilio's code: the text is never lost, and a refresh cannot wipe
it, since the messages only this panel knows of are kept beside the fetched thread.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from .backends.base import Backend, Event, TwilioError
from .contacts import Contacts, parse_number
from .payloads import HistoryRow, ThreadRow, iso, missing_as_none
from .rules.enforce import check_text
from .runners import Background
from .vocabulary import ACTIVE_CALL_STATUSES, PENDING_MESSAGE_STATUSES

if TYPE_CHECKING:
    from .rules import CallingRules
    from .widget import TwilioPhone

#: Without a routing service, a poll re-checks at most this many undelivered messages.
POLLED_MESSAGES = 10
#: deliver(to, body) -> the messages-schema record of a sent text.
Deliver = Callable[[str, str], dict[str, Any]]


class Conversations:
    def __init__(self, phone: TwilioPhone, backend: Backend, contacts: Contacts, region: str,
                 background: Background, deliver: Deliver, rules: CallingRules | None = None) -> None:
        self._phone = phone
        self._rules = rules  # texts to numbers on the do-not-call list are refused
        self._backend = backend
        self._contacts = contacts
        self._region = region
        self._background = background
        self._deliver = deliver
        self._lock = threading.RLock()
        self._local: dict[str, list[ThreadRow]] = {}  # by number: sending, or failed

    # -- the panel's lists ------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the panel's Call history and Messages for the selected number."""
        phone, number = self._phone, self._phone.selected_number
        if not number:
            phone.history, phone.thread = [], []
            return
        try:
            calls = self._backend.calls(number, limit=phone.history_limit)
            messages = self._backend.messages(number, limit=phone.history_limit)
        except TwilioError as exc:
            phone.report(exc)
            return
        history = [history_row(row) for row in calls.to_dict("records")]
        thread = [thread_row(row) for row in messages.iloc[::-1].to_dict("records")]
        with self._lock:
            if phone.selected_number == number:  # the selection may have moved on meanwhile
                fetched = {row["sid"] for row in thread}
                local = [row for row in self._local.get(number, []) if row["sid"] not in fetched]
                phone.history, phone.thread = history, [*thread, *local][-phone.history_limit:]

    def refresh_soon(self) -> None:
        self._background.run(self.refresh)

    def poll(self) -> None:
        """Catch up without a routing service: new calls and messages with the selected number,
        and the delivery status of the messages still on their way."""
        self.refresh()
        pending = [row["sid"] for row in self._phone.thread if row["direction"] == "outbound"
                   and row["status"] in PENDING_MESSAGE_STATUSES and not row["sid"].startswith("pending-")]
        for sid in pending[-POLLED_MESSAGES:]:
            try:
                self._backend.message_status(sid)  # a changed status comes back as an event
            except TwilioError as exc:
                self._phone.report(exc)
                return

    def poll_soon(self) -> None:
        self._background.run(self.poll)

    def on_event(self, event: Event) -> None:
        """A message with the selected number shows in the thread; a call with it that ended, in
        the history."""
        record = event.record
        if self._phone.selected_number not in (record.get("from"), record.get("to")):
            return
        if event.kind == "message":
            self._upsert(record)
        elif event.kind == "call" and record["status"] not in ACTIVE_CALL_STATUSES:
            self.refresh_soon()

    # -- sending ------------------------------------------------------------------------------

    def send_message(self, body: str, to: str | None = None) -> ThreadRow:
        """Text ``to`` (default: the selected number) from the current caller ID; returns its thread row."""
        target = self._target(body, to)
        record = self._deliver(target, body)
        if target == self._phone.selected_number:
            self._upsert(record)
        return thread_row(record)

    def send_from_panel(self, body: str, to: str | None = None) -> ThreadRow:
        """The panel's send: shown at once as "sending" while the backend is asked in the
        background; when the work runs in place, the answer (or the refusal) is returned."""
        target = self._target(body, to)
        pending: ThreadRow = {"sid": f"pending-{uuid.uuid4().hex}", "direction": "outbound", "body": body,
                              "status": "sending", "time": iso(datetime.now(UTC)), "error_code": None}
        self._keep_local(target, pending)
        sent = self._background.run(lambda: self._deliver_pending(target, body, pending))
        return sent.result() if self._background.in_place else pending

    def _deliver_pending(self, target: str, body: str, pending: ThreadRow) -> ThreadRow:
        try:
            record = self._deliver(target, body)
        except TwilioError as exc:
            self._keep_local(target, {**pending, "status": "failed", "error_code": exc.code}, replaces=pending)
            raise
        self._keep_local(target, None, replaces=pending)
        if target == self._phone.selected_number:
            self._upsert(record)
        return thread_row(record)

    def _target(self, body: str, to: str | None) -> str:
        """Check a message before anything is sent: its text and its recipient."""
        if not isinstance(body, str) or not body.strip():
            raise ValueError("body: a message needs some text")
        target = parse_number(to or self._phone.selected_number, self._region, field="to")
        if self._rules is not None:
            check_text(self._rules, target)
        return target

    def _keep_local(self, number: str, row: ThreadRow | None, *, replaces: ThreadRow | None = None) -> None:
        """Add (or replace, or with ``row=None`` drop) a message only this panel knows of, on
        the panel too when its number is the one selected."""
        gone = {replaces["sid"]} if replaces else set()
        limit = self._phone.history_limit
        with self._lock:
            kept = [r for r in self._local.get(number, []) if r["sid"] not in gone]
            self._local[number] = ([*kept, row] if row else kept)[-limit:]
            if number == self._phone.selected_number:
                rows = [r for r in self._phone.thread if r["sid"] not in gone]
                self._phone.thread = ([*rows, row] if row else rows)[-limit:]

    def _upsert(self, record: dict[str, Any]) -> None:
        row = thread_row(record)
        with self._lock:
            thread = self._phone.thread
            if any(r["sid"] == row["sid"] for r in thread):
                rows = [row if r["sid"] == row["sid"] else r for r in thread]
            else:
                rows = [*thread, row]
            self._phone.thread = rows[-self._phone.history_limit:]

    # -- history as DataFrames ----------------------------------------------------------------

    def calls(self, number: str | None = None, *, with_contacts: bool = False, **window: Any) -> pd.DataFrame:
        """Call history as a typed DataFrame, newest first (see ``frames.CALLS``); ``with_contacts``
        adds the matching lead (``contact``, its row label) and ``field``."""
        frame = self._backend.calls(self._optional_number(number), **window)
        return self._with_contacts(frame) if with_contacts else frame

    def messages(self, number: str | None = None, *, with_contacts: bool = False, **window: Any) -> pd.DataFrame:
        """Messages as a typed DataFrame, newest first (see ``frames.MESSAGES``)."""
        frame = self._backend.messages(self._optional_number(number), **window)
        return self._with_contacts(frame) if with_contacts else frame

    def recordings(self, call_sid: str | None = None, **window: Any) -> pd.DataFrame:
        """Call recordings as a typed DataFrame, newest first."""
        return self._backend.recordings(call_sid, **window)

    def call_summaries(self, number: str | None = None, *, with_contacts: bool = False,
                       **window: Any) -> pd.DataFrame:
        """Voice Insights' summaries of calls as a typed DataFrame, newest first (see
        ``frames.CALL_SUMMARIES``): quality tags, answered_by, carriers, edges, the worst MOS,
        jitter, packet loss and round trip. On a Twilio account this needs Voice Insights
        Advanced Features; with no ``since``, all Insights keeps (30 days)."""
        frame = self._backend.call_summaries(self._optional_number(number), **window)
        return self._with_contacts(frame) if with_contacts else frame

    def call_summary(self, call_sid: str) -> dict[str, Any]:
        """One call's Voice Insights summary, as a dict of the call_summaries columns."""
        return self._backend.call_summary(call_sid)

    def call_events(self, call_sid: str, **which: Any) -> pd.DataFrame:
        """One call's events (Voice Insights) as a typed DataFrame, oldest first; ``edge=``
        keeps one edge's."""
        return self._backend.call_events(call_sid, **which)

    def call_metrics(self, call_sid: str, **which: Any) -> pd.DataFrame:
        """One call's media samples (Voice Insights), one per 10 seconds per edge and direction,
        oldest first; ``edge=`` and ``direction=`` narrow them."""
        return self._backend.call_metrics(call_sid, **which)

    def _optional_number(self, number: str | None) -> str | None:
        return parse_number(number, self._region, field="number") if number else None

    def _with_contacts(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add ``contact`` (row label) and ``field`` by matching the remote party's number."""
        remote = frame["to"].where(frame["direction"] != "inbound", frame["from"])
        matches = {n: (self._contacts.lookup(n) or [(None, None)])[0] for n in remote.dropna().unique()}
        out = frame.copy()
        out["contact"] = pd.Series([matches.get(n, (None, None))[0] for n in remote],
                                   index=frame.index, dtype="object")
        out["field"] = pd.Series([matches.get(n, (None, None))[1] for n in remote],
                                 index=frame.index, dtype="string")
        return out


def history_row(row: dict[str, Any]) -> HistoryRow:
    inbound = row["direction"] == "inbound"
    return {
        "sid": row["sid"],
        "direction": "inbound" if inbound else "outbound",
        "status": row["status"],
        "time": iso(row["start_time"]),
        "duration": missing_as_none(row["duration"]),
        "number": row["from"] if inbound else row["to"],
    }


def thread_row(row: dict[str, Any]) -> ThreadRow:
    error_code = missing_as_none(row.get("error_code"))
    return {
        "sid": row["sid"],
        "direction": "inbound" if row["direction"] == "inbound" else "outbound",
        "body": row["body"],
        "status": row["status"],
        "time": iso(missing_as_none(row.get("date_sent")) or missing_as_none(row.get("date_created"))),
        "error_code": int(error_code) if error_code is not None else None,
    }
