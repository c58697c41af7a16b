"""Bridge mode: Twilio rings the user's own phone, then connects it to the lead (REST, inline
TwiML). The panel follows both legs: "you" while the user's phone rings, "lead" once the lead's
does, and how the lead's leg ended (busy, no-answer) rather than the user's."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .. import voice
from ..backends.base import TwilioError
from ..payloads import IncomingCall
from ..vocabulary import ACTIVE_CALL_STATUSES as ACTIVE_CALL
from .base import ModeCalls

if TYPE_CHECKING:
    from ..widget import TwilioPhone


class BridgeCalls(ModeCalls):
    #: How often (seconds) a call is polled when the backend pushes no events of its own.
    POLL_SECONDS = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stopped = threading.Event()

    @staticmethod
    def unavailable(phone: TwilioPhone) -> str:
        if not phone.bridge_to:
            return "mode: 'bridge' rings your own phone first; set bridge_to to its number"
        return ""

    def stop(self) -> None:
        self._stopped.set()

    def _dial(self, target: str) -> None:
        # One POST, answered at once: the panel needs the call's SID to follow it.
        phone = self._phone
        twiml = voice.bridge_twiml(target, self.caller_id, callbacks=self._callbacks(),
                                   detect_machine=phone.config.rules.answering_machine_detection,
                                   recording=self._plan.recording if self._plan is not None else None)
        record = self._backend.create_call(phone.bridge_to, self.caller_id, twiml=twiml)
        self._track(record, remote=target, direction="outbound")
        self._write(leg="you")
        if not self._backend.pushes_events:  # Twilio reports the legs to no webhook: poll them
            self._follow(record["sid"])

    @property
    def can_announce(self) -> bool:
        """The announcement is TwiML Twilio fetches from the routing service: only with one."""
        return bool(self._routing.public_url)

    def _callbacks(self) -> voice.LeadCallbacks:
        """The routing service's URLs for the lead's leg, when this phone has a service."""
        if not self._routing.public_url:
            return voice.LeadCallbacks()
        from ..routing.twiml import lead_callbacks  # the service's modules: loaded by those who use one

        return lead_callbacks(self._routing.public_url)

    def _follow(self, sid: str) -> None:
        """Poll the bridged call until it ends; the backend turns status changes into events."""

        def follow() -> None:
            while self._phone.call.get("sid") == sid and self._phone.call.get("status") in ACTIVE_CALL:
                if self._stopped.wait(self.POLL_SECONDS):
                    return
                try:  # both legs: the user's phone, then the lead
                    self.on_call_record(self._backend.call_status(sid))
                    for leg in self._backend.child_calls(sid):
                        self.on_call_record(leg)
                except TwilioError as exc:
                    self._phone.report(exc)
                    return

        threading.Thread(target=follow, name=f"bridge-{sid}", daemon=True).start()

    def _controls(self, action: str) -> None:
        raise TwilioError(f"In bridge mode the call runs on your own phone: {action} there", status=409)

    def _answer(self, ringing: IncomingCall, sid: str | None) -> None:
        raise TwilioError("In bridge mode calls ring your own phone: answer there", status=409)

    def _decline(self, ringing: IncomingCall) -> None:
        raise TwilioError("In bridge mode calls ring your own phone: decline there", status=409)

    def _own_leg(self) -> str | None:
        return None if self._lead_leg else "you"
