"""A calling session: the queue on the panel, one lead at a time, each call's outcome journaled
before the panel moves on.

``CallingSession`` is the one writer of the phone's ``session`` trait, a bounded view (the lead
on the card, the next one, counts, the outcome vocabulary), never the frame. It places calls
through the phone (so every calling mode and its checks apply), follows the ``call`` trait to
learn how each ended, and asks the calling rules which leads may be called now.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..backends.base import TwilioError
from ..payloads import SessionLead, SessionView, iso
from ..vocabulary import FINAL_CALL_STATUSES
from .journal import Journal, SQLiteJournal, open_journal, stored_outcome, stored_problem
from .outcomes import Outcome, Vocabulary
from .queue import LeadQueue, ns, stamp
from .retry import RetryRule
from .rules_link import local_times, rules_of, to_utc, zone_names

if TYPE_CHECKING:
    from ..widget import TwilioPhone

#: What the session is doing: a lead to call, a call on, a call waiting for its outcome, paused,
#: or nothing to call now.
STATUSES = ("ready", "calling", "outcome", "paused", "done")


class CallingSession:
    """Work through ``leads`` on ``phone``'s panel; see ``TwilioPhone.queue`` for the options."""

    def __init__(self, phone: TwilioPhone, leads: pd.DataFrame, fields: Any, *, name: str = "default",
                 order: Any = None, ascending: Any = True, lead_name: Hashable | None = None, view: Any = None,
                 outcomes: Iterable[Outcome | Mapping[str, Any]] | None = None, require_outcome: bool = True,
                 retry: RetryRule | None = None, autodial: float | None = None,
                 journal: Journal | str | None = None, agent: str | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"name: a queue's name must be a non-empty string, not {name!r}")
        if autodial is not None and not (isinstance(autodial, (int, float)) and 0 < autodial <= 60):
            raise ValueError(f"autodial: seconds of countdown between 0 and 60, or None; not {autodial!r}")
        self.name = name
        self._phone = phone
        self.vocabulary = Vocabulary(outcomes)
        self.queue = LeadQueue(leads, fields, order=order, ascending=ascending, name=lead_name, view=view,
                               region=phone.region, retry=retry)
        self.journal = open_journal(journal, team=lambda: phone.team)  # connected: the team's service gets them
        #: Where the journal stood as the session started (what it records after, it may send later).
        self._outcomes_before = self.journal.last_outcome_id() if isinstance(self.journal, SQLiteJournal) else 0
        self.require_outcome = bool(require_outcome)
        self.autodial = autodial
        self.agent = phone.user if agent is None else agent
        self.status = "ready"
        self._current: int | None = None
        self._call: dict[str, Any] | None = None  # the call placed to the current lead, until settled
        self._countdown = 0
        self._resume()
        phone.observe(self._call_changed, "call")

    # -- the public API --------------------------------------------------------------------

    @property
    def current(self) -> Hashable | None:
        """The row label of the lead on the card (None when there is none to call now)."""
        return None if self._current is None else self.queue.key(self._current)

    @property
    def suggested(self) -> str:
        """The outcome the last call suggests (its final status), "" before it ended."""
        return (self._call or {}).get("suggested", "")

    def call(self, override: str | None = None) -> dict[str, Any]:
        """Call the lead on the card (from the caller ID the rules choose); returns the call as it
        stands. A lead the calling rules refuse now is called only with an ``override`` (why), which
        the call and its outcome record."""
        if self.status == "paused":
            raise ValueError("session: it is paused; resume() first")
        if self.status in ("calling", "outcome") and self._call and not self._call.get("ended"):
            raise ValueError("session: a call to this lead is still going")
        if self.status == "outcome":
            if self.require_outcome:
                raise ValueError("outcome: record the last call's outcome before the next call")
            self.record(self.suggested or next(iter(self.vocabulary.by_name)))
        if self._current is None:
            raise ValueError("session: no lead may be called now" + self._due_text())
        position, now = self._current, self._now()
        number = self.queue.number(position)
        verdict = self._rules.can_call(pd.Series([number]), at=now).iloc[0]
        if not verdict["allowed"] and not override:
            raise ValueError(f"rules: {number} may not be called now ({verdict['reason']})")
        self._phone.selected_number = number
        placed = self._phone.place_call(number, override=override)
        attempt = self.queue.called(position, now)
        self.journal.save_lead(self.name, self.queue.key(position), self.queue.lead_state(position))
        self._call = {"sid": placed.get("sid", ""), "number": number, "placed_at": now, "attempt": attempt,
                      "ended": False, "status": placed.get("status", ""), "suggested": ""}
        self.status = "calling"
        self.show()
        return placed

    def record(self, outcome: str, note: str = "", callback_at: Any = None) -> dict[str, Any]:
        """Record the outcome (and a note) of the lead on the card, journal it, move to the next lead.
        ``callback_at`` (for a call-back) is a time on the lead's own clock, unless it names its zone."""
        chosen = self.vocabulary[outcome]
        if not isinstance(note, str):
            raise ValueError(f"note: must be text, not {type(note).__name__}")
        if self._current is None:
            raise ValueError("session: there is no lead on the card to record an outcome for")
        if self._call and not self._call["ended"]:
            raise ValueError("outcome: the call is still going; hang up first")
        position, now = self._current, self._now()
        number = self.queue.number(position)
        when = self._callback_time(chosen, callback_at, number)
        row = self._outcome_row(position, chosen.name, note, when, now)
        if problem := stored_problem(stored_outcome(row)):  # one a journal or a team's service would refuse
            raise ValueError(problem)
        self.queue.settle(position, chosen, now, when)
        self.journal.append_outcome(row, self.queue.lead_state(position))  # durable before moving on
        if chosen.then == "block":
            self._rules.block(pd.Series([number]), source=f"calling session {self.name!r}")
        self._call = None
        self._advance(arm=True)
        return row

    def call_back(self, at: Any, note: str = "") -> dict[str, Any]:
        """Call the lead on the card back at ``at`` (the lead's local time); records the call-back outcome."""
        names = [o.name for o in self.vocabulary.by_name.values() if o.then == "callback"]
        if not names:
            raise ValueError("outcomes: the session's vocabulary has no call-back outcome")
        return self.record(names[0], note, callback_at=at)

    def skip(self) -> None:
        """Not this lead now: it goes to the back of the line."""
        if self.status == "calling" or (self.status == "outcome" and self.require_outcome):
            raise ValueError("outcome: record the call's outcome before skipping the lead")
        if self._current is None:
            raise ValueError("session: there is no lead to skip")
        position = self._current
        self.queue.skip(position)
        self.journal.save_lead(self.name, self.queue.key(position), self.queue.lead_state(position))
        self._call = None  # an ended call whose outcome was optional stays unrecorded (its attempt counts)
        self._advance(arm=False)

    def pause(self) -> None:
        """No more calls until resume() (the call on, if any, goes on)."""
        if self.status in ("calling", "outcome"):
            raise ValueError("session: finish the call and its outcome before pausing")
        self.status = "paused"
        self._save_queue()
        self.show()

    def resume(self) -> None:
        self.status = "ready"
        self._advance(arm=False, keep=True)

    def refresh(self) -> None:
        """Look again for a lead to call (retries and call-backs fall due as time passes)."""
        if self.status in ("ready", "done"):
            self._advance(arm=False, keep=True)

    def outcomes(self) -> pd.DataFrame:
        """This queue's outcomes, oldest first (the journal's, so earlier sessions' too)."""
        return self.journal.outcomes(self.name)

    def join_team(self) -> None:
        """The phone connected to a team's service after this session started: the outcomes it
        recorded so far, and those it records from now on, go to the service too (its own journal
        staying first). A session that already sends to a service, or keeps a journal of the
        caller's own kind, is left as it is."""
        if isinstance(self.journal, SQLiteJournal) and self._phone.team is not None:
            from .team_journal import TeamJournal

            joined = TeamJournal(self.journal, lambda: self._phone.team)
            joined.send_earlier(self.name, self._outcomes_before)
            self.journal = joined

    def close(self) -> None:
        self._phone.unobserve(self._call_changed, "call")
        self.journal.close()

    # -- the line ----------------------------------------------------------------------------

    @property
    def _rules(self) -> Any:
        return rules_of(self._phone)

    def _now(self) -> pd.Timestamp:
        """The backend's clock: the sandbox's virtual time in scripts and tests, else the wall clock."""
        simulator = self._phone.backend.simulator
        return pd.Timestamp(simulator.now() if simulator is not None else datetime.now(UTC)).tz_convert("UTC")

    def _resume(self) -> None:
        saved, leads = self.journal.load_queue(self.name)
        self.queue.restore(leads, saved["next_rank"] if saved else 0)
        current = saved["current"] if saved else None
        if current is not None and current in self.queue.book:
            self._current = self.queue.position(current)
        if saved and saved["paused"]:
            self.status = "paused"
            self.show()
        else:
            self._advance(arm=False, keep=self._current is not None)

    def _advance(self, *, arm: bool, keep: bool = False) -> None:
        """Put the next lead on the card (``keep``: the one there stays while it may be called now)."""
        now = self._now()
        if not (keep and self._current is not None and self._callable_now(self._current, now)):
            previous = [] if self._current is None else [self._current]
            picked = self.queue.pick(now, self._rules, exclude=previous) or (
                self.queue.pick(now, self._rules) if previous else [])  # it was the only one left
            self._current = picked[0] if picked else None
        if self.status != "paused":
            self.status = "ready" if self._current is not None else "done"
        if arm and self.autodial and self._current is not None:
            self._countdown += 1  # the panel counts down, then calls (the user can cancel)
        self._save_queue()
        self.show()

    def _callable_now(self, position: int, now: pd.Timestamp) -> bool:
        queue = self.queue
        return bool(queue.callable[position] and not queue.closed[position] and queue.next_at[position] <= ns(now))

    def _save_queue(self) -> None:
        self.journal.save_queue(self.name, {"current": self.current, "paused": self.status == "paused",
                                            "next_rank": self.queue.next_rank})

    # -- following the call --------------------------------------------------------------------

    def _call_changed(self, change: dict[str, Any]) -> None:
        call, ours = change["new"] or {}, self._call
        if ours is None or ours["ended"] or call.get("remote") != ours["number"]:
            return
        ours["sid"] = call.get("sid") or ours["sid"]  # a browser call learns its sid from the Device
        ours["status"] = call.get("status", "")
        # What the calling rules decided for this call: its caller ID, and any rule set aside.
        ours.update({k: call[k] for k in ("caller_id", "override", "overridden") if call.get(k)})
        if call.get("voicemail_dropped"):
            ours["voicemail_dropped"] = True
        if ours["status"] in FINAL_CALL_STATUSES:
            ours.update(ended=True, duration=call.get("duration"), started_at=call.get("started_at"),
                        suggested=self._suggestion(ours, call))
            self.status = "outcome"
        self.show()

    def _suggestion(self, ours: dict[str, Any], call: dict[str, Any]) -> str:
        """The outcome the ended call suggests: "left voicemail" after a voicemail drop, else by its
        status and who answered (a machine means voicemail)."""
        if ours.get("voicemail_dropped") and "left voicemail" in self.vocabulary.by_name:
            return "left voicemail"
        answered_by = call.get("answered_by") or self._answered_by(ours["sid"])
        return self.vocabulary.suggest(ours["status"], answered_by)

    def _answered_by(self, sid: str) -> str | None:
        """Who took the call (a machine means voicemail), where the backend knows without a request."""
        backend = self._phone.backend
        if not backend.in_memory or not sid:
            return None
        try:
            return backend.call_status(sid).get("answered_by")
        except TwilioError:
            return None

    def _callback_time(self, outcome: Outcome, at: Any, number: str) -> pd.Timestamp | None:
        if outcome.then != "callback":
            return None
        if at is None or at == "":
            raise ValueError("callback_at: give the time to call back (the lead's local time)")
        try:
            return to_utc(at, number)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"callback_at: {at!r} is not a time ({exc})") from None

    def _outcome_row(self, position: int, outcome: str, note: str, callback_at: pd.Timestamp | None,
                     now: pd.Timestamp) -> dict[str, Any]:
        call = self._call or {}
        started = call.get("started_at") or call.get("placed_at")
        return {"call_sid": call.get("sid", ""), "key": self.queue.key(position), "number": self.queue.number(position),
                "field": self.queue.field(position), "outcome": outcome, "note": note, "agent": self.agent,
                "caller_id": call.get("caller_id") or self._phone.caller_id,
                "started_at": pd.Timestamp(started) if started else None,
                "duration": call.get("duration") if call else None,
                "attempt": call.get("attempt", int(self.queue.attempts[position])),
                "overrides": _overrides(call),
                "callback_at": callback_at, "queue": self.name, "recorded_at": now}

    # -- the view ----------------------------------------------------------------------------

    def _lead(self, position: int | None, now: pd.Timestamp) -> SessionLead | None:
        if position is None:
            return None
        queue, key = self.queue, self.queue.key(position)
        number = queue.number(position)
        numbers = pd.Series([number])
        callback_at = stamp(int(queue.next_at[position])) if queue.callback[position] else None
        return {"key": str(key), "name": queue.book.name_of(key), "number": number,
                "display": queue.book.format(number), "field": queue.field(position),
                "fields": queue.book.record(key), "zone": str(zone_names(numbers).iat[0]),
                "local_time": iso(local_times(numbers, now).iat[0]).removesuffix("+00:00"),
                "attempts": int(queue.attempts[position]), "callback_at": iso(callback_at)}

    def view(self) -> SessionView:
        now = self._now()
        counts = self.queue.counts()
        worked_now = self._current is not None and bool(self.queue.attempts[self._current] or
                                                        self.queue.closed[self._current])
        following = self.queue.pick(now, self._rules, exclude=[self._current]) if self._current is not None else []
        position = min(counts["total"], counts["worked"] + (0 if worked_now or self._current is None else 1))
        return {"queue": self.name, "status": self.status, "position": position, "total": counts["total"],
                "open": counts["open"], "lead": self._lead(self._current, now),
                "next": self._lead(following[0] if following else None, now),
                "outcomes": self.vocabulary.choices(), "require_outcome": self.require_outcome,
                "suggested": self.suggested, "autodial": self.autodial, "countdown": self._countdown,
                "call_sid": (self._call or {}).get("sid", ""), "next_due": iso(self.queue.next_due(now))}

    def show(self) -> None:
        """Write the panel's view of the session (the ``session`` trait)."""
        self._phone.session = self.view()

    def _due_text(self) -> str:
        due = self.queue.next_due(self._now())
        return f" (the next falls due at {due.isoformat()})" if due is not None else ""


__all__ = ["STATUSES", "CallingSession", "ns"]


def _overrides(call: dict[str, Any]) -> str:
    """The rule a call was placed against and the user's reason, as the outcomes frame keeps them."""
    if not call.get("override"):
        return ""
    return f"{call.get('overridden') or 'rule'}: {call['override']}"
