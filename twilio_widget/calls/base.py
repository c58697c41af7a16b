"""What every calling mode answers, and what the three share.

The calls object of the phone's current mode is the one writer of ``call`` and ``incoming``
(and, in twilio mode, of ``device``). The user's controls (place, hang up, mute, digits,
accept, reject) come to it from the panel's commands and from cells alike; what happened comes
to it from the backend's events and, in twilio mode, from the panel's Device reports.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import traitlets

from .. import voice
from ..backends.base import Backend, TwilioError
from ..config import ConfigError
from ..payloads import CallEvent, CallState, DeviceEvent, IncomingCall, iso
from ..vocabulary import ACTIVE_CALL_STATUSES as ACTIVE_CALL

if TYPE_CHECKING:
    from ..channel import CommandChannel
    from ..conversations import Conversations
    from ..rules.enforce import CallPlan
    from ..selection import Selection
    from ..service import RoutingLink
    from ..widget import TwilioPhone

DIGITS = frozenset("0123456789*#w")


class ModeUnavailable(traitlets.TraitError, ValueError):
    """A calling mode this phone cannot use (a ValueError to a constructor, a TraitError to a setter)."""


class CallMode(Protocol):
    def start(self) -> None:
        """The phone is whole and in this mode now."""

    def stop(self) -> None:
        """The phone leaves this mode, or closes."""

    def place(self, target: str, plan: CallPlan | None = None) -> CallState:
        """Call the E.164 ``target`` as ``plan`` says (caller ID, override); returns at once with
        the call as it stands."""

    def hang_up(self) -> CallState: ...

    def mute(self, muted: bool = True) -> CallState: ...

    def send_digits(self, digits: str) -> CallState: ...

    def accept(self, sid: str | None = None) -> CallState:
        """Answer the ringing call (and select the caller)."""

    def reject(self) -> None: ...

    def on_call_record(self, record: dict[str, Any]) -> None:
        """The backend saw a call change (a calls-schema record)."""

    def on_incoming_record(self, record: dict[str, Any]) -> None:
        """The backend saw a call come in."""

    def panel_call_event(self, report: CallEvent) -> None:
        """The panel's Device did something with a call."""

    def panel_device_event(self, report: DeviceEvent) -> None:
        """The panel's Device changed."""

    def panel_incoming(self, sid: str, **params: str) -> None:
        """The panel's Device rings; ``params["from"]`` is the caller (the SDK's name for it)."""

    def panel_incoming_ended(self, sid: str) -> None:
        """The panel's Device stopped ringing (the caller gave up, or it was declined)."""

    def ask_preflight(self, run_id: str) -> None:
        """Ask the panel's Voice SDK for a preflight test (its report comes back as ``run_id``'s)."""


class ModeCalls:
    """The parts of :class:`CallMode` the modes share; each mode fills in its own steps."""

    def __init__(self, phone: TwilioPhone, backend: Backend, selection: Selection,
                 conversations: Conversations, channel: CommandChannel, routing: RoutingLink,
                 on_ring: Callable[[IncomingCall], Any]) -> None:
        self._phone = phone
        self._backend = backend
        self._selection = selection
        self._conversations = conversations
        self._channel = channel
        self._routing = routing
        self._on_ring = on_ring
        self._lock = threading.RLock()
        self._lead_leg = ""  # the sid of the leg our call dialled, once it reported
        self._plan: CallPlan | None = None  # the call being placed: its caller ID and override

    @staticmethod
    def unavailable(phone: TwilioPhone) -> str:
        """Why ``phone`` cannot use this mode ("" when it can)."""
        return ""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    @property
    def can_announce(self) -> bool:
        """Whether this mode can play the recording announcement to the lead (the sandbox plays it
        itself; browser calls go through the routing service, which plays it)."""
        return True

    # -- the user's controls ----------------------------------------------------------------

    def place(self, target: str, plan: CallPlan | None = None) -> CallState:
        with self._lock:
            if self._phone.call.get("status") in ACTIVE_CALL:
                raise TwilioError("A call is already in progress: hang up first", status=409)
            self._plan = plan
            self._dial(target)
            if plan is not None:  # recorded with the call: which number it showed, a rule set aside, consent
                recording = {"recording": plan.recording.payload()} if plan.recording is not None else {}
                self._write(caller_id=plan.caller_id, caller_id_choice=plan.caller_id_choice,
                            override=plan.override, overridden=plan.overridden, **recording)
            return self._phone.call

    @property
    def caller_id(self) -> str:
        """The number the call being placed shows: the plan's (local caller ID), else the phone's."""
        return self._plan.caller_id if self._plan is not None and self._plan.caller_id else self._phone.caller_id

    def hang_up(self) -> CallState:
        """End the current call (or stop it ringing)."""
        call = self._phone.call
        if call.get("sid") and call.get("status") in ACTIVE_CALL:
            self._end(call["sid"])
        return self._phone.call

    def mute(self, muted: bool = True) -> CallState:
        """Mute or unmute the microphone on the current call."""
        self._controls("mute")
        self._mute(bool(muted))
        return self._phone.call

    def send_digits(self, digits: str) -> CallState:
        """Send DTMF tones on the current call (menus, extensions)."""
        if not isinstance(digits, str) or not digits or not set(digits) <= DIGITS:
            raise ValueError(f"digits: {digits!r} may hold only 0-9, *, # and w (a pause)")
        self._controls("send digits")
        self._send_digits(digits)
        return self._phone.call

    def accept(self, sid: str | None = None) -> CallState:
        """Answer the ringing incoming call and show the caller's contact. In twilio mode the
        panel's Accept button answers, and tells the kernel the call's ``sid``."""
        ringing = self._phone.incoming
        if not ringing or (sid and sid != ringing["sid"]):
            raise TwilioError("There is no incoming call to accept", status=409)
        self._answer(ringing, sid)
        self._phone.incoming = None
        self._selection.show_caller(ringing["from"], ringing["contact"])
        return self._phone.call

    def drop_voicemail(self) -> CallState:
        """The call reached the lead's voicemail: leave the recorded message (``rules.voicemail_drop_url``)
        on the lead's leg and free the user. The lead's leg is redirected (REST: play, hang up);
        ``call["voicemail_dropped"]`` says it was done, which makes the call's outcome "left voicemail"."""
        url = self._phone.config.rules.voicemail_drop_url
        if not url:
            raise ConfigError("rules.voicemail_drop_url", "set the recorded message's URL to drop it on voicemail")
        with self._lock:
            call = self._phone.call
            if call.get("status") != "in-progress" or call.get("direction") != "outbound":
                raise TwilioError("There is no answered outgoing call to leave the message on", status=409)
            lead = self._lead_sid()
            if not lead:
                raise TwilioError("The lead's leg of this call is not known yet: wait until it answers", status=409)
            self._backend.redirect_call(lead, voice.voicemail_drop_twiml(url))
            self._write(voicemail_dropped=True)
            return self._phone.call

    def _lead_sid(self) -> str:
        """The sid of the lead's leg: the leg our call dialled (bridge, browser), once it reported."""
        return self._lead_leg

    def dismiss(self) -> None:
        """Clear the call bar of a call that has ended; a call still going stays shown."""
        with self._lock:
            if self._phone.call.get("status") not in ACTIVE_CALL:
                self._phone.call = {}

    def reject(self) -> None:
        """Decline the ringing incoming call."""
        ringing = self._phone.incoming
        if not ringing:
            raise TwilioError("There is no incoming call to reject", status=409)
        self._decline(ringing)
        self._phone.incoming = None

    # -- what happened ------------------------------------------------------------------------

    def on_call_record(self, record: dict[str, Any]) -> None:
        with self._lock:
            call, incoming = self._phone.call, self._phone.incoming
            ours = call.get("sid")
            if ours and record.get("parent_call_sid") == ours:
                self._lead_leg = record["sid"]
                self._lead_leg_changed({**record, "sid": ours})
            elif ours and record["sid"] == ours and not (
                    self._lead_leg and (record["status"] in ACTIVE_CALL or call.get("status") not in ACTIVE_CALL)):
                self._apply(record, leg=self._own_leg())
            elif incoming and record["sid"] == incoming["sid"] and record["status"] not in ACTIVE_CALL:
                self._phone.incoming = None

    def on_incoming_record(self, record: dict[str, Any]) -> None:
        """Only the sandbox's incoming calls ring the panel from the backend (see SimulatedCalls)."""

    # Only twilio mode has a Device; a late report from one being torn down changes nothing.

    def panel_call_event(self, report: CallEvent) -> None:
        pass

    def panel_device_event(self, report: DeviceEvent) -> None:
        pass

    def panel_incoming(self, sid: str, **params: str) -> None:
        pass

    def panel_incoming_ended(self, sid: str) -> None:
        pass

    def ask_preflight(self, run_id: str) -> None:
        raise TwilioError("The preflight test checks browser calling: use mode=\"twilio\"", status=409)

    # -- the steps each mode fills in -----------------------------------------------------------

    def _dial(self, target: str) -> None:
        raise NotImplementedError

    def _end(self, sid: str) -> None:
        """Hang up on the backend (the simulated and bridged calls run there)."""
        self.on_call_record(self._backend.end_call(sid))

    def _controls(self, action: str) -> None:
        """Refuse a control the call cannot take now."""
        if self._phone.call.get("status") != "in-progress":
            raise TwilioError(f"There is no call in progress to {action}", status=409)

    def _mute(self, muted: bool) -> None:
        self._write(muted=muted)

    def _send_digits(self, digits: str) -> None:
        self._write(digits=self._phone.call.get("digits", "") + digits)

    def _answer(self, ringing: IncomingCall, sid: str | None) -> None:
        raise NotImplementedError

    def _decline(self, ringing: IncomingCall) -> None:
        raise NotImplementedError

    def _lead_leg_changed(self, record: dict[str, Any]) -> None:
        """The leg our call dialled (the lead) reported: it is what the panel shows now."""
        self._apply(record, leg="lead")

    def _own_leg(self) -> str | None:
        return None

    # -- writing the traits ------------------------------------------------------------------------

    def _write(self, **update: Any) -> None:
        with self._lock:
            self._phone.call = {**self._phone.call, **update}

    def _track(self, record: dict[str, Any], *, remote: str, direction: str) -> None:
        """A new call on the panel, from the backend's record of it."""
        self._begin(record["sid"], direction, remote, record["status"])
        self._apply(record)

    def _begin(self, sid: str, direction: str, remote: str, status: str) -> None:
        self._lead_leg = ""
        self._phone.call = {
            "sid": sid, "status": status, "direction": direction, "remote": remote,
            "remote_display": self._selection.contacts.format(remote) if remote else "",
            "started_at": None, "muted": False, "digits": "", "end_reason": None,
        }

    def _apply(self, record: dict[str, Any], leg: str | None = None) -> None:
        status = record["status"]
        update: dict[str, Any] = {"status": status}
        if leg:  # bridge mode: "you" while your own phone rings, "lead" once the contact's does
            update["leg"] = leg
        if status == "in-progress" and not self._phone.call.get("started_at"):
            update["started_at"] = iso(record.get("start_time") or datetime.now(UTC))
        if record.get("answered_by") and isinstance(record["answered_by"], str):  # machine detection's verdict
            update["answered_by"] = record["answered_by"]
        if status not in ACTIVE_CALL:
            update["end_reason"] = status
            update["duration"] = record.get("duration")
        self._write(**update)

    def _ring(self, sid: str, caller: str) -> None:
        incoming: IncomingCall = {"sid": sid, "from": caller, "display": self._selection.contacts.format(caller),
                                  "contact": self._selection.card_for(caller)}
        self._phone.incoming = incoming
        self._on_ring(dict(incoming))  # type: ignore[arg-type]
