"""The real backend: Twilio's REST API through ``twilio.rest.Client``, history as typed frames.

Design choices, each for a reason the library leaves to its callers, one module each:

- ``pages``: list pages fetched as raw JSON, 1000 records a page, decoded (msgspec where
  installed) into one typed frame per query, without a ``CallInstance`` per record.
- ``retries``: every request goes through :class:`RetryingHttpClient`, installed on the
  client's HTTP layer: bounded back-off with jitter on 429 and 5xx, honouring ``Retry-After``;
  a POST only on the answers that say nothing was done.
- ``errors``: failures surface as :class:`TwilioError` with Twilio's code, message, status
  and link, also where the library raises without a code. Credentials never appear in
  messages or reprs (``rest``).
- ``cache``: history cached per query scope, brought up to date by asking only for what is new.
- ``inputs``: bad input refused before anything is sent, naming the argument.
- ``backend``: :class:`TwilioBackend`, the Backend protocol over all of the above.

The names this module offered before it became a package are still importable from here.
"""

from __future__ import annotations

from ...vocabulary import FINAL_MESSAGE_STATUSES, FINAL_RECORDING_STATUSES, MAX_BODY_CHARS
from ..base import TwilioError
from .backend import TwilioBackend
from .errors import InputError, as_twilio_error
from .pages import MAX_PAGE_SIZE
from .rest import API_VERSION
from .retries import RetryingHttpClient, RetryPolicy

__all__ = [
    "API_VERSION",
    "FINAL_MESSAGE_STATUSES",
    "FINAL_RECORDING_STATUSES",
    "MAX_BODY_CHARS",
    "MAX_PAGE_SIZE",
    "InputError",
    "RetryPolicy",
    "RetryingHttpClient",
    "TwilioBackend",
    "TwilioError",
    "as_twilio_error",
]
