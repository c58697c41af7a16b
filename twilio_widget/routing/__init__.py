"""The webhook service Twilio asks about calls and messages: TwiML flows, signed status
callbacks, a durable store, mail of voicemails and SMS, and the team API of a shared service.

    settings = RoutingSettings.from_config(phone_config, public_url="https://example.ngrok.app")
    hub = EventHub()                                          # twilio_widget.backends.base
    hub.subscribe(print)                                      # each event, once it is stored
    handle = serve_in_thread(settings, hub=hub)               # or: twilio-widget serve ...
"""

from .mail import Mailer, deliver_pending
from .messaging import retry_outbox, send_message
from .server import ServerHandle, create_app, serve_in_thread
from .settings import CallerRoute, RoutingSettings, SmtpSettings
from .store import OptedOutError, Store, StoreUnavailable

__all__ = [
    "CallerRoute",
    "Mailer",
    "OptedOutError",
    "RoutingSettings",
    "ServerHandle",
    "SmtpSettings",
    "Store",
    "StoreUnavailable",
    "create_app",
    "deliver_pending",
    "retry_outbox",
    "send_message",
    "serve_in_thread",
]
