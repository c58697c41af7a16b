"""Backends: the real Twilio REST API and the offline sandbox, behind one protocol."""

from .base import Backend, Event, EventHub, Simulator, TwilioError

__all__ = ["Backend", "Event", "EventHub", "Simulator", "TwilioError"]
