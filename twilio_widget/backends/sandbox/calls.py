"""Calls in the sandbox: they ring, then follow the outcome scripted for their number; incoming
calls ring until accepted or rejected; a bridge's TwiML dials a second leg, as Twilio does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...vocabulary import FINAL_CALL_STATUSES, NOT_FOUND
from ..base import TwilioError
from .leads import CallPlan, LeadBehaviour
from .records import call_price, call_record, dial_recording, dialled_number, played_url, public, require_number
from .state import SandboxState

__all__ = ["CALL_OUTCOMES", "CallSimulation"]

#: Outcomes a test or demo can script for a dialled number.
CALL_OUTCOMES = ("completed", "busy", "no-answer", "failed")


class CallSimulation(SandboxState):
    """The sandbox's calls; :class:`~.backend.SandboxBackend` gives it its state."""

    # -- the Backend protocol's calls ------------------------------------------------------

    def create_call(self, to: str, from_: str, *, twiml: str | None = None,
                    url: str | None = None, status_callback: str | None = None) -> dict[str, Any]:
        """A server-side call; TwiML that dials a number (bridge mode) makes a second leg to
        it once this one answers, as Twilio does."""
        lead = dialled_number(twiml)
        record, whisper = dial_recording(twiml)
        bridge = (lambda sid: self._bridge(sid, lead, from_, record=record, announcement=whisper)) if lead else None
        return self.dial(to, from_, direction="outbound-api", on_answer=bridge)

    def child_calls(self, parent_sid: str) -> list[dict[str, Any]]:
        """The legs a call dialled (bridge mode's leg to the lead), oldest first."""
        with self._lock:
            return [public(c) for c in self._calls.values() if c["parent_call_sid"] == parent_sid]

    def call_status(self, sid: str) -> dict[str, Any]:
        return public(self._call(sid))

    def end_call(self, sid: str) -> dict[str, Any]:
        for leg in self.child_calls(sid):  # hanging up a bridge ends the lead's leg too
            self.hang_up(leg["sid"])
        return self.hang_up(sid)

    # -- live calls, as the panel drives them -------------------------------------------

    def dial(self, to: str, from_: str | None = None, *, direction: str = "outbound-dial",
             parent: str | None = None, on_answer: Callable[[str], None] | None = None,
             record: bool = False, announcement: str | None = None) -> dict[str, Any]:
        """Start an outgoing call: it rings, then follows the scripted outcome. ``record``: a
        recording from the answer on, kept with the call (a bridge's leg: with its parent, as
        Twilio keeps a <Dial>'s); ``announcement``: what the callee hears first (kept in
        ``announcements``)."""
        to = require_number(to, "to")
        from_ = require_number(from_ or self.own_number, "from_")
        record_of = self._new_call(to, from_, direction, status="ringing", parent=parent)
        sid = record_of["sid"]
        plan = self._plan(to)
        if plan.status == "completed":
            def answer() -> None:
                if not self._answer_if_ringing(sid, plan.answered_by):
                    return
                if announcement:
                    self.announcements.append({"call_sid": parent or sid, "announcement": announcement,
                                               "at": self.now()})
                if record:
                    self._recorded[sid] = parent or sid
                if on_answer:
                    on_answer(sid)
                if plan.talk_seconds is not None:  # the lead (or their voicemail) hangs up
                    self._clock.call_later(plan.talk_seconds, lambda: self._callee_hangs_up(sid))

            self._clock.call_later(self.ring_seconds, answer)
        else:
            self._clock.call_later(self.ring_seconds,
                                   lambda: self._end_if_ringing(sid, plan.status))
        return dict(record_of)

    def _plan(self, to: str) -> CallPlan:
        """A scripted outcome, else how the number behaves as a lead (when leads are on), else an answer."""
        if to in self._outcomes:
            return CallPlan(self._outcomes[to])
        if self.leads is not None:
            return self.leads.plan(to, self.now())
        return CallPlan("completed")

    #: How long the sandbox's recorded message plays before the lead's leg hangs up.
    message_seconds = 5.0

    def redirect_call(self, sid: str, twiml: str) -> dict[str, Any]:
        """New TwiML for a call in progress: the sandbox plays a <Play>'s message (kept in
        ``voicemail_drops``) and hangs up; a bridge's other leg is freed at once, as Twilio's is
        when its Dial loses the lead."""
        call = self._call(sid)
        if call["status"] != "in-progress":
            raise TwilioError(f"Call {sid} is not in progress", code=21220, status=400)
        self.voicemail_drops.append({"call_sid": sid, "url": played_url(twiml)})
        if call["parent_call_sid"]:
            self.hang_up(call["parent_call_sid"])
        self._clock.call_later(self.message_seconds, lambda: self.hang_up(sid))
        return public(self._call(sid))

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
        self._outcomes[require_number(number, "number")] = outcome

    def behave_like_leads(self, seed: int | None = None, **options) -> LeadBehaviour:
        """Dialled numbers answer, ring out, are busy or reach voicemail as real leads do (by the
        hour of their own day), deterministically by ``seed`` (the sandbox's own by default);
        ``options`` go to :class:`LeadBehaviour`. Returns it, to script numbers or read them."""
        self.leads = LeadBehaviour(self._seed if seed is None else seed, **options)
        return self.leads

    def incoming_call(self, from_: str, to: str | None = None) -> dict[str, Any]:
        """Someone calls in: the panel rings until it accepts or rejects (or the caller gives up)."""
        record = self._new_call(to or self.own_number, require_number(from_, "from_"),
                                "inbound", status="ringing", swap=True)
        self._emit("incoming_call", record)
        return dict(record)

    def caller_hangs_up(self, sid: str) -> dict[str, Any]:
        """The remote party ends the call (or gives up while it rings)."""
        return self._change_call(sid, lambda call: self._ending(
            call, "completed" if call["status"] == "in-progress" else "no-answer"))

    # -- internals -----------------------------------------------------------------------

    def _new_call(self, to: str, from_: str, direction: str, *, status: str,
                  swap: bool = False, parent: str | None = None) -> dict[str, Any]:
        record = call_record(self._sid("CA"), direction, from_, to, status, self.now(), parent=parent)
        with self._lock:
            self._calls[record["sid"]] = record
        if not swap:
            self._emit("call", record)
        return record

    def _call(self, sid: str) -> dict[str, Any]:
        with self._lock:
            if sid not in self._calls:
                raise TwilioError(f"The requested resource Call {sid} was not found",
                                  code=NOT_FOUND, status=404)
            return self._calls[sid]

    def _answer_if_ringing(self, sid: str, answered_by: str | None = None) -> bool:
        answered = self._change_call(sid, lambda call: ("in-progress", {"start_time": self.now(),
                                                                        "answered_by": answered_by})
                                     if call["status"] == "ringing" else None)
        return answered["status"] == "in-progress"

    def _callee_hangs_up(self, sid: str) -> None:
        self._change_call(sid, lambda call: self._ending(call, "completed") if call["status"] == "in-progress"
                          else None)

    def _bridge(self, parent_sid: str, lead: str, caller_id: str, **recording: Any) -> None:
        """The user picked up: dial the lead; when that leg ends, so does the user's call."""

        def after_lead(leg: dict[str, Any]) -> None:
            if leg["status"] in FINAL_CALL_STATUSES:
                self._clock.call_later(0, lambda: self.hang_up(parent_sid))

        if self.call_status(parent_sid)["status"] != "in-progress":
            return  # the user hung up before the lead was dialled
        self._leg_watchers[parent_sid] = after_lead
        self.dial(lead, caller_id, parent=parent_sid, **recording)

    def _end_if_ringing(self, sid: str, outcome: str) -> None:
        self._change_call(sid, lambda call: self._ending(call, outcome) if call["status"] == "ringing" else None)

    def _ending(self, call: dict[str, Any], status: str) -> tuple[str, dict[str, Any]]:
        """The end of a call: its final status, end time, duration and price."""
        now = self.now()
        answered = call["status"] == "in-progress"
        duration = int((now - call["start_time"]).total_seconds()) if answered else 0
        price = call_price(duration) if answered else None
        if answered and call["sid"] in self._recorded:
            self._keep_recording(self._recorded.pop(call["sid"]), duration)
        return status, {"end_time": now, "duration": duration, "price": price}

    def _keep_recording(self, call_sid: str, duration: int) -> None:
        """A recorded call ended: its recording, as Twilio lists a <Dial>'s (two channels)."""
        sid = self._sid("RE")
        self._calls[call_sid]["_recording"] = {
            "sid": sid, "date_created": self.now(), "duration": duration, "status": "completed",
            "channels": 2, "source": "DialVerb", "media_url": f"https://sandbox.invalid/Recordings/{sid}.mp3"}

    def _change_call(self, sid: str, decide) -> dict[str, Any]:
        """Check and change a call in one step under the lock (the clock thread races the
        panel), then tell the listeners outside it. ``decide(call)`` returns (status, changes),
        or None to leave the call as it is."""
        with self._lock:
            call = self._call(sid)
            decision = decide(call)
            if not decision:
                return public(call)
            status, changes = decision
            call.update(status=status, **changes)
            snapshot = public(call)
        self._emit("call", snapshot)
        return snapshot

    def _end_legs_of(self, record: dict[str, Any]) -> None:
        """Tell the watcher of a bridge's leg; a call that ends takes its legs with it."""
        watcher = self._leg_watchers.get(record.get("parent_call_sid"))
        if watcher:
            watcher(record)
        if record["status"] in FINAL_CALL_STATUSES:
            for leg in self.child_calls(record["sid"]):
                if leg["status"] not in FINAL_CALL_STATUSES:
                    self._clock.call_later(0, lambda sid=leg["sid"]: self.hang_up(sid))


def _ringing(sid: str, call: dict[str, Any]) -> bool:
    if call["status"] != "ringing":
        raise TwilioError(f"Call {sid} is {call['status']}, not ringing", status=409)
    return True
