"""What the sandbox's calls and messages share: its number, lock, clock, records and SIDs."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .clock import Scheduler

__all__ = ["SandboxState"]


class SandboxState:
    """The state :class:`~.backend.SandboxBackend` sets up; its call and message parts use it."""

    own_number: str
    ring_seconds: float
    delivery_seconds: float
    _seed: int
    _sids: itertools.count
    _lock: threading.RLock  # the clock thread races the panel
    _clock: Scheduler
    _calls: dict[str, dict[str, Any]]
    _messages: dict[str, dict[str, Any]]
    _outcomes: dict[str, str]
    leads: Any  # a LeadBehaviour once behave_like_leads() is called, else None
    _opted_out: set[str]
    _leg_watchers: dict[str, Callable[[dict[str, Any]], None]]
    announcements: list[dict[str, Any]]
    _recorded: dict[str, str]

    def _call(self, sid: str) -> dict[str, Any]:
        """The call's record; a Twilio-shaped 20404 error when there is none."""
        raise NotImplementedError

    def now(self) -> datetime:
        return self._clock.now()

    def _sid(self, prefix: str) -> str:
        return f"{prefix}{self._seed:08x}{next(self._sids):024x}"

    def _emit(self, kind: str, record: dict[str, Any]) -> None:
        """Tell the listeners (the backend's event hub)."""
        raise NotImplementedError
