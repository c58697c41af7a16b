"""Sandbox mode: the sandbox plays every call itself, and its events drive ``call``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..payloads import IncomingCall
from .base import ModeCalls

if TYPE_CHECKING:
    from ..widget import TwilioPhone


class SimulatedCalls(ModeCalls):
    @staticmethod
    def unavailable(phone: TwilioPhone) -> str:
        if phone.backend.simulator is None:
            return "mode: 'sandbox' simulates calls and needs the sandbox backend"
        return ""

    @property
    def _simulator(self):
        return self._backend.simulator

    def _dial(self, target: str) -> None:
        recording = self._plan.recording if self._plan is not None else None
        announcement = self._phone.config.rules.recording.announcement if recording and recording.announce else None
        record = self._simulator.dial(target, self.caller_id or None, record=bool(recording and recording.record),
                                      announcement=announcement)
        self._track(record, remote=target, direction="outbound")

    def _lead_sid(self) -> str:
        return self._phone.call.get("sid", "")  # the sandbox's call is the lead's own leg

    def _answer(self, ringing: IncomingCall, sid: str | None) -> None:
        record = self._simulator.accept(ringing["sid"])
        self._track(record, remote=ringing["from"], direction="inbound")

    def _decline(self, ringing: IncomingCall) -> None:
        self._simulator.reject(ringing["sid"])

    def on_incoming_record(self, record: dict[str, Any]) -> None:
        self._ring(record["sid"], record["from"])
