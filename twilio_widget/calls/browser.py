"""Twilio mode: the displayed panel's Voice SDK Device places and takes the calls.

The kernel decides and the browser dials: a call placed from the panel or from a cell is
checked here, then the panel's Device is asked to dial it (a ``twp:device`` message). The
panel reports what the Device did (``cmd_call_event``, ``cmd_device_event``, ``cmd_incoming``)
and this object writes ``call``, ``device`` and ``incoming`` from those reports, so Python
sees a browser call as it sees any other.

A cell holds the kernel's message loop while it runs, so nothing here waits for the panel:
``place`` returns the call as "connecting", and the reports move it on once the cell ends.
Whether a panel is there to ask is known from its Device's last report; a panel that never
answers a dial is given ``SILENCE_SECONDS`` before the call is marked failed.
"""

from __future__ import annotations

import threading
import weakref
from datetime import UTC, datetime
from typing import Any, ClassVar

from ..backends.base import TwilioError
from ..config import ConfigError
from ..contacts import InvalidNumber, parse_number
from ..payloads import BridgeOffer, CallEvent, DeviceEvent, IncomingCall
from ..vocabulary import ACTIVE_CALL_STATUSES as ACTIVE_CALL
from ..vocabulary import MICROPHONE_UNAVAILABLE
from .base import ModeCalls

#: How the Device reports any end of a call; the lead's leg may know better (busy ...).
GENERIC_END = frozenset({"completed", "canceled"})
#: Device statuses in which it can dial (an unregistered Device still places calls).
CAN_DIAL = frozenset({"registered", "unregistered"})
NO_PANEL = frozenset({"off", "destroyed"})


class BrowserCalls(ModeCalls):
    #: How long a dial may go unanswered by the panel before the call is marked failed.
    SILENCE_SECONDS = 20.0
    #: The browser calls registered under each identity in this kernel: one Device an identity.
    _registered: ClassVar[weakref.WeakValueDictionary[str, BrowserCalls]] = weakref.WeakValueDictionary()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._silence: threading.Timer | None = None

    def start(self) -> None:
        """Re-running the cell that builds a phone makes a new widget while the old one lives
        on, so two Devices would ring under one identity: the older phone is closed."""
        identity = self._phone.identity
        older = self._registered.get(identity)
        if older is not None and older._phone is not self._phone:
            older._phone.close()
        self._registered[identity] = self

    def stop(self) -> None:
        self._heard_from_panel()
        if self._registered.get(self._phone.identity) is self:
            del self._registered[self._phone.identity]
        self._phone.device = {"status": "off"}  # the panel stops its Device when it leaves this mode

    # -- the user's controls: asked of the panel's Device -----------------------------------------

    def _dial(self, target: str) -> None:
        if not self.caller_id:
            raise ConfigError("caller_id", "set the Twilio number to call from (Callers in the element)")
        self._require_panel()
        self._begin("pending", "outbound", target, "connecting")
        self._channel.tell_device("dial", To=target, CallerId=self.caller_id)
        self._silence = threading.Timer(self.SILENCE_SECONDS, self._panel_silent)
        self._silence.daemon = True
        self._silence.start()

    def ask_preflight(self, run_id: str) -> None:
        self._require_panel()
        self._channel.tell_device("preflight", id=run_id)

    def _require_panel(self) -> None:
        status = self._phone.device.get("status", "off")
        if status in NO_PANEL:
            raise TwilioError("No panel is displayed: show `phone` in a cell first", status=409)
        if status not in CAN_DIAL:
            raise TwilioError(f"The panel's phone is not ready ({status}): see the panel", status=409)

    def _end(self, sid: str) -> None:
        self._channel.tell_device("hang_up")

    def _mute(self, muted: bool) -> None:
        self._channel.tell_device("mute", muted=muted)

    def _send_digits(self, digits: str) -> None:
        self._channel.tell_device("digits", digits=digits)

    def _answer(self, ringing: IncomingCall, sid: str | None) -> None:
        if not sid:  # the panel's Accept button answers, then tells the kernel the call's sid
            raise TwilioError("Answer browser calls with the panel's Accept button", status=409)

    def _decline(self, ringing: IncomingCall) -> None:
        """The Device has already declined it."""

    def _lead_leg_changed(self, record: dict[str, Any]) -> None:
        # The Device reports ringing and answer itself, sooner: only answering-machine detection's
        # verdict (the routing service's AMD callback) and how the lead's leg ended (busy,
        # no-answer ...) are news for it.
        if isinstance(record.get("answered_by"), str) and self._phone.call.get("status") in ACTIVE_CALL:
            self._write(answered_by=record["answered_by"])
        if record["status"] not in ACTIVE_CALL and self._phone.call.get("status") in ACTIVE_CALL | GENERIC_END:
            self._apply(record)

    # -- the panel's reports ---------------------------------------------------------------------

    def panel_call_event(self, report: CallEvent) -> None:
        sid, status = report["sid"], report.get("status")
        with self._lock:
            self._heard_from_panel()
            if report.get("direction"):  # the Device began a call: dialled, or answered
                self._begin(sid, report["direction"], report.get("remote", ""), "connecting")
            elif self._phone.call.get("sid") not in (sid, "pending"):
                return  # about a call the panel no longer shows
            update: dict[str, Any] = {"sid": sid}
            if "muted" in report:
                update["muted"] = bool(report["muted"])
            if report.get("digits"):
                update["digits"] = self._phone.call.get("digits", "") + report["digits"]
            if report.get("quality"):
                update["quality"] = report["quality"]
            self._write(**update)
            if status in ACTIVE_CALL:
                self._apply({"status": status})
            elif status:
                self._ended(status)

    def _ended(self, reason: str) -> None:
        call = self._phone.call
        started = call.get("started_at")
        # The kernel may already know how the far end's leg ended (busy, no-answer ...): keep it.
        known = call.get("status") if call.get("status") not in ACTIVE_CALL else None
        status = known or ("canceled" if reason == "completed" and not started else reason)
        duration = round((datetime.now(UTC) - datetime.fromisoformat(started)).total_seconds()) if started else 0
        self._write(status=status, end_reason=status, duration=duration)
        self._conversations.refresh_soon()

    def panel_device_event(self, report: DeviceEvent) -> None:
        device = {**self._phone.device, **report}
        # Where this page cannot use a microphone, or its registration lapsed for long, calls can
        # still ring the user's own phone; an offer made for a lapse goes once it registers again.
        if (report.get("error") or {}).get("code") in MICROPHONE_UNAVAILABLE or report.get("status") == "stale":
            device["bridge_offer"] = self._bridge_offer()
        elif report.get("status") == "registered" and self._phone.device.get("status") == "stale":
            device.pop("bridge_offer", None)
        self._phone.device = device
        if report.get("error"):
            self._phone.report(report["error"])

    def _bridge_offer(self) -> BridgeOffer:
        number = self._phone.bridge_to
        return {"number": number, "display": self._selection.contacts.format(number) if number else ""}

    def panel_incoming(self, sid: str, **params: str) -> None:
        caller = params.get("from", "")  # a Python keyword: it comes as a keyword of its own
        try:
            number = parse_number(caller, self._selection.region, field="from")
        except InvalidNumber:
            number = caller  # a client: or sip: caller is shown as it came
        self._ring(sid, number)

    def panel_incoming_ended(self, sid: str) -> None:
        if self._phone.incoming and self._phone.incoming.get("sid") == sid:
            self._phone.incoming = None

    # -- a panel that does not answer -------------------------------------------------------------

    def _heard_from_panel(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None

    def _panel_silent(self) -> None:
        with self._lock:
            call = self._phone.call
            if call.get("sid") != "pending" or call.get("status") != "connecting":
                return
            self._write(status="failed", end_reason="failed", duration=0)
        self._phone.report(TwilioError("The panel did not dial: is `phone` still displayed? Show it in a cell, "
                                       "then call again", status=504))
