"""Calls on the panel: one class per calling mode, behind one protocol (:class:`CallMode`).

    sandbox  SimulatedCalls  the sandbox plays the calls
    twilio   BrowserCalls    the displayed panel's Voice SDK Device dials and answers
    bridge   BridgeCalls     Twilio rings the user's own phone, then the lead (REST)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backends.base import Event
from ..payloads import IncomingCall
from .base import CallMode, ModeCalls, ModeUnavailable
from .bridge import BridgeCalls
from .browser import BrowserCalls
from .simulated import SimulatedCalls

#: The calls class of each value of the phone's ``mode``.
CALL_MODES: dict[str, type[ModeCalls]] = {"sandbox": SimulatedCalls, "twilio": BrowserCalls, "bridge": BridgeCalls}

__all__ = ["CALL_MODES", "BridgeCalls", "BrowserCalls", "CallMode", "CallsByMode", "ModeCalls", "ModeUnavailable",
           "SimulatedCalls"]


class CallsByMode:
    """The calls object of the phone's current mode (``current``), replaced when the mode changes.

    The phone starts it once it is whole, so a phone that fails to build leaves the others
    alone (a browser phone closes an older one of the same identity when it starts).
    """

    def __init__(self, phone: Any, *parts: Any) -> None:
        self._phone = phone
        self._parts = parts  # what every calls object is built with, after the phone
        self._started = False
        self._ringers: list[Callable[[IncomingCall], Any]] = []
        self.current: ModeCalls | None = None

    def check(self, mode: str) -> str:
        """``mode`` when the phone can use it; ModeUnavailable says why not."""
        if reason := CALL_MODES[mode].unavailable(self._phone):
            raise ModeUnavailable(reason)
        return mode

    def change(self, mode: str) -> None:
        if self.current is not None:
            self.current.stop()
        self.current = CALL_MODES[mode](self._phone, *self._parts, self._rang)
        if self._started:
            self.current.start()

    def start(self) -> None:
        self._started = True
        self.current.start()

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()

    def on_event(self, event: Event) -> None:
        if event.kind == "call":
            self.current.on_call_record(event.record)
        elif event.kind == "incoming_call":
            self.current.on_incoming_record(event.record)

    def on_incoming(self, callback: Callable[[IncomingCall], Any]) -> Callable[[], None]:
        """Call ``callback(incoming)`` when a call comes in; returns a function that removes it."""
        self._ringers.append(callback)
        return lambda: self._ringers.remove(callback)

    def _rang(self, incoming: IncomingCall) -> None:
        for callback in list(self._ringers):
            callback(incoming)
