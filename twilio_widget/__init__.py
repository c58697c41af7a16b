"""twilio-widget: a Twilio phone panel inside Jupyter, over a pandas DataFrame of contacts."""

from .backends import Backend, Event, TwilioError
from .backends.sandbox import SandboxBackend
from .backends.twilio import TwilioBackend
from .contacts import Contacts
from .widget import TwilioPhone

__all__ = ["Backend", "Contacts", "Event", "SandboxBackend", "TwilioBackend", "TwilioError", "TwilioPhone"]
__version__ = "0.1.0"
