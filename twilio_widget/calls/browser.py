"""Twilio mode: the displayed panel's Voice SDK Device places and takes the calls.

The kernel decides and the browser dials: the call button's number is checked here, and the
panel's Device dials it. The panel reports what the Device did (``cmd_call_event``,
``cmd_device_event``, ``cmd_incoming``) and this object writes ``call``, ``device`` and
``incoming`` from those reports, so Python sees a browser call as it sees any other.
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime
from typing import Any, ClassVar

from ..backends.base import TwilioError
from ..config import ConfigError
from ..contacts import InvalidNumber, parse_number
from ..frames import ACTIVE_CALL_STATUSES as ACTIVE_CALL
from ..payloads import CallEvent, DeviceEvent, IncomingCall
from .base import ModeCalls

#: How the Device reports any end of a call; the lead's leg may know better (busy ...).
GENERIC_END = frozenset({"completed", "canceled"})


class BrowserCalls(ModeCalls):
    #: The browser calls registered under each identity in this kernel: one Device an identity.
    _registered: ClassVar[weakref.WeakValueDictionary[str, BrowserCalls]] = weakref.WeakValueDictionary()

    def start(self) -> None:
        """Re-running the cell that builds a phone makes a new widget while the old one lives
        on, so two Devices would ring under one identity: the older phone is closed."""
        identity = self._phone.identity
        older = self._registered.get(identity)
        if older is not None and older._phone is not self._phone:
            older._phone.close()
        self._registered[identity] = self

    def stop(self) -> None:
        if self._registered.get(self._phone.identity) is self:
            del self._registered[self._phone.identity]
        self._phone.device = {"status": "off"}  # the panel stops its Device when it leaves this mode

    # -- the user's controls: on the panel ---------------------------------------------------------

    def place(self, target: str) -> dict[str, str]:  # type: ignore[override]
        """What the panel's Device dials (the call button's): the number and the caller ID."""
        with self._lock:
            if self._phone.call.get("status") in ACTIVE_CALL:
                raise TwilioError("A call is already in progress: hang up first", status=409)
        if not self._phone.caller_id:
            raise ConfigError("caller_id", "set the Twilio number to call from (Callers in the element)")
        return {"To": target, "CallerId": self._phone.caller_id}

    def _end(self, sid: str) -> None:
        raise TwilioError("This call runs in the browser: hang up on the panel", status=409)

    def _controls(self, action: str) -> None:
        raise TwilioError(f"This call runs in the browser: {action} on the panel", status=409)

    def _answer(self, ringing: IncomingCall, sid: str | None) -> None:
        if not sid:  # the panel's Accept button answers, then tells the kernel the call's sid
            raise TwilioError("Answer browser calls with the panel's Accept button", status=409)

    def _decline(self, ringing: IncomingCall) -> None:
        """The Device has already declined it."""

    def _lead_leg_changed(self, record: dict[str, Any]) -> None:
        # The Device reports ringing and answer itself, sooner: only how the lead's leg ended
        # (busy, no-answer ...) is news for it.
        if record["status"] not in ACTIVE_CALL and self._phone.call.get("status") in ACTIVE_CALL | GENERIC_END:
            self._apply(record)

    # -- the panel's reports ---------------------------------------------------------------------

    def panel_call_event(self, report: CallEvent) -> None:
        sid, status = report["sid"], report.get("status")
        with self._lock:
            if report.get("direction"):  # the Device began a call: dialled, or answered
                self._begin(sid, report["direction"], report.get("remote", ""), "connecting")
            elif self._phone.call.get("sid") not in (sid, "pending"):
                return  # about a call the panel no longer shows
            update: dict[str, Any] = {"sid": sid}
            if "muted" in report:
                update["muted"] = bool(report["muted"])
            if report.get("digits"):
                update["digits"] = self._phone.call.get("digits", "") + report["digits"]
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
        self._phone.device = {**self._phone.device, **report}
        if report.get("error"):
            self._phone.report(report["error"])

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
