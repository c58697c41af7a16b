"""Stand-ins shared by the phone's tests.

Where a phone's work runs is injected (``runner=``): a test that needs the worker thread a
Twilio account gets passes ``WorkerRunner()``, one that wants every answer at once passes
``InlineRunner()``; no sandbox has to pretend to be Twilio for it.
"""

from __future__ import annotations

from twilio_widget import Event, SandboxBackend


class RestOnlySandbox(SandboxBackend):
    """A sandbox whose news arrives only when asked for (``message_status``), as on a Twilio
    account without a routing service: the panel must poll."""

    pushes_events = False

    def subscribe(self, listener):
        self._listener = listener
        return lambda: None

    def message_status(self, sid):
        record = super().message_status(sid)
        self._listener(Event("message", record))
        return record


def command(phone, name, **args):
    """Run a panel command as the panel does; its response."""
    return getattr(phone, name)(args)


def displayed(phone, monkeypatch, status: str = "registered") -> list[dict]:
    """Play a displayed panel whose Device reported ``status``; returns the list that collects
    what the kernel sends the panel from here on."""
    sent: list[dict] = []
    monkeypatch.setattr(phone, "send", lambda content, buffers=None: sent.append(content))
    assert command(phone, "cmd_device_event", status=status, identity=phone.identity)["ok"]
    return sent


def device_requests(sent: list[dict]) -> list[tuple[str, dict]]:
    """(action, args) of each request the kernel sent the panel's Device."""
    return [(m["action"], m["args"]) for m in sent if m.get("type") == "twp:device"]
