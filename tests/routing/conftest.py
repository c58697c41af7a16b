"""Fixtures for the routing tests live in routing_helpers (a unique module name, importable
from the test modules too)."""

from routing_helpers import hub, recorder, settings, smtp, store, twilio  # noqa: F401
