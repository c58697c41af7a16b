"""The routing service run from the kernel: its life, its outbox, its events on the panel.

Writes ``live_events``: True while events reach the panel by themselves (a backend that pushes
them, or this service running), else the open panel polls. While the service runs, texts go
through its store: opt-outs are refused and failures wait in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from .backends.base import Backend, Event, EventHub
from .runners import Background

if TYPE_CHECKING:
    from .routing import ServerHandle
    from .widget import TwilioPhone


class RoutingLink:
    def __init__(self, phone: TwilioPhone, backend: Backend, background: Background,
                 on_event: Callable[[Event], Any]) -> None:
        self._phone = phone
        self._backend = backend
        self._background = background
        self._on_event = on_event
        self._handle: ServerHandle | None = None
        self._follow()

    def serve(self, public_url: str, *, host: str = "127.0.0.1", port: int = 8080,
              store_path: str = "twilio-widget.sqlite3", **settings: Any) -> ServerHandle:
        """Run the routing service (TwiML, status callbacks, SMS, voicemail) in a background
        thread, its events going straight to this panel. ``public_url`` is the address Twilio
        uses (a tunnel's or a proxy's): requests are verified against it. See docs/deployment.md."""
        # The service (uvicorn, starlette) is imported only by those who run it.
        from .routing import RoutingSettings, serve_in_thread

        if self._handle is not None and self._handle.running:
            raise RuntimeError(f"already serving at {self._handle.url}; phone.stop_serving() first")
        routing = RoutingSettings.from_config(self._phone.config, public_url=public_url, store_path=store_path,
                                              **settings)
        hub = EventHub()
        # Listeners run on the service's event loop: the panel's work goes to the phone's worker.
        hub.subscribe(lambda event: self._background.run(lambda: self._on_event(event)))
        self._handle = serve_in_thread(routing, host=host, port=port, hub=hub)
        self._follow()
        return self._handle

    def stop_serving(self) -> None:
        """Stop the routing service started with ``serve``."""
        if self._handle is not None:
            self._handle.stop()
            self._handle = None
            self._follow()

    def deliver(self, to: str, body: str) -> dict[str, Any]:
        """Send a text from the phone's caller ID; through the service's store while it runs."""
        caller_id = self._phone.caller_id
        if self._handle is None:
            return self._backend.send_message(to, caller_id, body)
        from .routing import send_message

        return send_message(self._backend, self._handle.store, to, caller_id, body,
                            status_callback=self._handle.public_url + "/status/message", rules=self._phone.rules)

    def outbox(self) -> pd.DataFrame:
        """Messages that failed to send while the routing service ran, with their errors."""
        return pd.DataFrame(self._serving().store.outbox_pending())

    def retry_outbox(self) -> dict[str, int]:
        """Try the outbox's messages once more; returns how many were sent, failed, blocked."""
        from .routing import retry_outbox

        handle = self._serving()
        return retry_outbox(self._backend, handle.store, status_callback=handle.public_url + "/status/message")

    def _serving(self) -> ServerHandle:
        if self._handle is None:
            raise RuntimeError("the outbox belongs to the routing service: start it with phone.serve(...)")
        return self._handle

    def _follow(self) -> None:
        self._phone.live_events = self._backend.pushes_events or self._handle is not None
