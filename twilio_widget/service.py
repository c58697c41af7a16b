"""The routing service of this phone: one run from the kernel (``serve``), or a team's shared
one the kernel connects to (``connect``); its outbox, its events on the panel.

Writes ``live_events``: True while events reach the panel by themselves (a backend that pushes
them, this service running, or a team's service connected), else the open panel polls. While
a service is there, texts go through its store: opt-outs are refused and failures wait in
the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from .backends.base import Backend, Event, EventHub
from .runners import Background

if TYPE_CHECKING:
    from .routing import ServerHandle
    from .team_client import TeamClient
    from .widget import TwilioPhone


class RoutingLink:
    def __init__(self, phone: TwilioPhone, backend: Backend, background: Background,
                 on_event: Callable[[Event], Any]) -> None:
        self._phone = phone
        self._backend = backend
        self._background = background
        self._on_event = on_event
        self._handle: ServerHandle | None = None
        self._team: TeamClient | None = None
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
        if self._team is not None:
            raise RuntimeError(f"connected to the team's service at {self._team.url}; phone.disconnect() first")
        routing = RoutingSettings.from_config(self._phone.config, public_url=public_url, store_path=store_path,
                                              **settings)
        hub = EventHub()
        hub.subscribe(self._from_service)
        self._handle = serve_in_thread(routing, host=host, port=port, hub=hub)
        self._follow()
        return self._handle

    @property
    def public_url(self) -> str:
        """Where Twilio reaches the routing service this phone uses ("" with none): the one it
        serves, or the team's it is connected to."""
        if self._handle is not None and self._handle.running:
            return self._handle.public_url
        return self._team.url if self._team is not None else ""

    def _from_service(self, event: Event) -> None:
        """An event of the service's, on its event loop or the team client's thread: the panel's
        work goes to the phone's worker."""
        self._background.run(lambda: self._on_event(event))

    def stop_serving(self) -> None:
        """Stop the routing service started with ``serve``."""
        if self._handle is not None:
            self._handle.stop()
            self._handle = None
            self._follow()

    def connect(self, url: str, token: str | None = None) -> TeamClient:
        """The phone's connection to a team's service (see ``TwilioPhone.connect``)."""
        import os

        from .team_client import ENV_TOKEN, TeamClient

        token = token if token is not None else os.environ.get(ENV_TOKEN, "")
        if self._handle is not None:
            raise RuntimeError(f"serving at {self._handle.url} in this kernel; phone.stop_serving() first")
        self.disconnect()
        self._team = TeamClient(url, token, self._from_service)
        self._follow()
        return self._team

    @property
    def team(self) -> TeamClient | None:
        """The connection to the team's service (``connect``), or None."""
        return self._team

    def disconnect(self) -> None:
        """Leave the team's service joined with ``connect``."""
        if self._team is not None:
            self._team.close()
            self._team = None
            self._follow()

    def deliver(self, to: str, body: str) -> dict[str, Any]:
        """Send a text from the phone's caller ID; through the service's store while it runs."""
        caller_id = self._phone.caller_id
        if self._team is not None:
            return self._team.send(to, body)
        if self._handle is None:
            return self._backend.send_message(to, caller_id, body)
        from .routing import send_message

        return send_message(self._backend, self._handle.store, to, caller_id, body,
                            status_callback=self._handle.public_url + "/status/message", rules=self._phone.rules)

    def outbox(self) -> pd.DataFrame:
        """Messages that failed to send while the routing service ran, with their errors."""
        if self._team is not None:
            return pd.DataFrame(self._team.outbox())
        return pd.DataFrame(self._serving().store.outbox_pending())

    def retry_outbox(self) -> dict[str, int]:
        """Try the outbox's messages once more; returns how many were sent, failed, blocked."""
        from .routing import retry_outbox

        if self._team is not None:
            return self._team.retry_outbox()
        handle = self._serving()
        return retry_outbox(self._backend, handle.store, status_callback=handle.public_url + "/status/message")

    def _serving(self) -> ServerHandle:
        if self._handle is None:
            raise RuntimeError("the outbox belongs to the routing service: start it with phone.serve(...), "
                               "or join the team's with phone.connect(url, token)")
        return self._handle

    def _follow(self) -> None:
        self._phone.live_events = self._backend.pushes_events or self._handle is not None or self._team is not None
