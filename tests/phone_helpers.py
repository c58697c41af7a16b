"""Stand-ins shared by the phone's tests."""

from __future__ import annotations

from twilio_widget import Event, SandboxBackend, TwilioError


class SandboxAccount:
    """The sandbox standing in for a Twilio account (backend mode "twilio"): the phone then runs
    its REST work on its worker thread, as with TwilioBackend. ``push=False`` plays a REST-only
    account whose news arrives only when asked for (``message_status``); ``refuse`` makes every
    send fail with that error."""

    mode = "twilio"

    def __init__(self, sandbox: SandboxBackend, *, push: bool = True) -> None:
        self._sandbox = sandbox
        self._push = push
        self._listener = None
        self.refuse: TwilioError | None = None

    def __getattr__(self, name):
        return getattr(self._sandbox, name)

    def subscribe(self, listener):
        if self._push:
            return self._sandbox.subscribe(listener)
        self._listener = listener
        return lambda: None

    def message_status(self, sid):
        record = self._sandbox.message_status(sid)
        if not self._push:
            self._listener(Event("message", record))
        return record

    def send_message(self, to, from_, body):
        if self.refuse:
            raise self.refuse
        return self._sandbox.send_message(to, from_, body)
