"""Backends: the real Twilio REST API and the offline sandbox, behind one protocol."""

from __future__ import annotations

from typing import Any

from .base import Backend, Event, EventHub, Simulator, TwilioError
from .sandbox import SandboxBackend
from .twilio import TwilioBackend

__all__ = ["Backend", "Event", "EventHub", "Simulator", "TwilioError", "default_backend"]
#: A new sandbox's past covers this many contacts: a million-row book seeds no more.
SANDBOX_SEEDED_CONTACTS = 200


def default_backend(config: Any, contacts: Any) -> Backend:
    """The account ``config`` names; with no credentials, a sandbox in real time whose past
    holds calls and texts with the first contacts' numbers."""
    if not config.has_credentials:
        seeded = [n["number"] for i in range(min(len(contacts), SANDBOX_SEEDED_CONTACTS))
                  for n in contacts.numbers(contacts.key_at(i))]
        return SandboxBackend(numbers=seeded, realtime=True)
    return TwilioBackend.from_credentials(config.account_sid, config.auth_token or None,
                                          api_key=config.api_key_sid or None, api_secret=config.api_key_secret or None)
