"""Failures as :class:`~twilio_widget.backends.base.TwilioError` with Twilio's code, message,
status and link, also where twilio-python raises its code-less
``TwilioException("Unable to fetch page")``; and :class:`InputError`, bad input caught before
anything was sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from twilio.base.exceptions import TwilioRestException
from twilio.http.response import Response

from ...vocabulary import AUTHENTICATION_FAILED, TOO_MANY_REQUESTS
from ..base import InputError, TwilioError

__all__ = ["InputError", "as_twilio_error", "error_from_response"]


def error_from_response(response: Response | None, fallback: str) -> TwilioError:
    if response is None:
        return TwilioError(fallback)
    status = int(response.status_code)
    code = message = more_info = None
    try:
        body = json.loads(response.text or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, Mapping):
        code = body.get("code")
        message = body.get("message") or body.get("detail") or body.get("title")
        more_info = body.get("more_info") or body.get("type")
    if code is None and status == 401:
        code = AUTHENTICATION_FAILED
    if code is None and status == 429:
        code = TOO_MANY_REQUESTS
    if not message:
        message = {401: "Authenticate", 404: "The requested resource was not found",
                   429: "Too Many Requests"}.get(status, f"{fallback} (HTTP {status})")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    if more_info is None and code is not None:
        more_info = f"https://www.twilio.com/docs/errors/{code}"
    return TwilioError(str(message), code=code, status=status, more_info=more_info)


def as_twilio_error(exc: BaseException, last_response: Response | None = None) -> TwilioError:
    """twilio-python's exceptions as :class:`TwilioError` with Twilio's code.

    ``TwilioRestException`` carries code and status; the plain
    ``TwilioException("Unable to fetch page", response)`` that a failed list page raises
    does not, so the code is read from that response, or from ``last_response`` (what
    :attr:`RetryingHttpClient.last_response` kept)."""
    if isinstance(exc, TwilioError):
        return exc
    if isinstance(exc, TwilioRestException):
        text = str(exc.msg)
        for prefix in ("Unable to fetch record: ", "Unable to create record: ",
                       "Unable to update record: ", "Unable to delete record: "):
            text = text.removeprefix(prefix)
        code = exc.code if isinstance(exc.code, int) and exc.code >= 10000 else None
        more_info = f"https://www.twilio.com/docs/errors/{code}" if code else None
        return TwilioError(text, code=code, status=exc.status, more_info=more_info)
    response = next((a for a in getattr(exc, "args", ())[1:] if isinstance(a, Response)),
                    last_response)
    message = str(exc.args[0]) if getattr(exc, "args", None) else type(exc).__name__
    return error_from_response(response, message)
