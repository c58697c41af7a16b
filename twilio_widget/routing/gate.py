"""The request gate every webhook passes before its handler: the body read as a bounded
urlencoded form, the Twilio signature checked against the public URL, the parameters parsed.

A request that fails here gets its status (413, 400, 403) with the reason and changes nothing.
The gate reads the ASGI request itself (its scope's headers, its ``receive``): it is the whole
of a webhook's way in, so a webhook costs no framework request object (see ``server.Webhook``).
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import ImmutableMultiDict
from starlette.types import Receive, Scope
from twilio.request_validator import RequestValidator

from .settings import RoutingSettings
from .twiml import BadParams

try:  # newer twilio: the signature algorithm can be named in a header (HMAC-SHA256)
    from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, get_signature_algorithm
except ImportError:  # pragma: no cover - older twilio signs with HMAC-SHA1 only
    SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"

    def get_signature_algorithm(header: str | None) -> str | None:  # type: ignore[misc]
        return None


FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 256


class ClientGone(Exception):
    """The client hung up before its body arrived: routine on the internet (a proxy's timeout, a
    retry that gave up), so it is logged in one line and answered by nobody."""


class Problem(Exception):
    """An HTTP error with a reason the caller may see (never a secret)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def headers_of(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the first of a repeated one, as Starlette reads them)."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return headers


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The body, read no further than ``limit`` bytes (a declared length over it is refused unread)."""
    length = headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise Problem(400, "Content-Length: not a number")
        if int(length) > limit:
            raise Problem(413, f"body larger than {limit} bytes")
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone(f"client disconnected after {len(body)} bytes of the body")
        body += message.get("body", b"")
        if len(body) > limit:
            raise Problem(413, f"body larger than {limit} bytes")
        more = message.get("more_body", False)
    return body


async def read_form(receive: Receive, headers: dict[str, str], limit: int) -> ImmutableMultiDict:
    """The body as the form Twilio posts: read no further than ``limit`` bytes, UTF-8, urlencoded."""
    body = await read_body(receive, headers, limit)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if body and content_type != FORM_TYPE:
        raise Problem(400, f"Content-Type: expected {FORM_TYPE}")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            encoding="utf-8",
            errors="strict",
        )
    except UnicodeDecodeError:
        raise Problem(400, "body: not valid UTF-8") from None
    except ValueError as exc:
        raise Problem(400, f"body: not a readable form ({exc})") from None
    for name, value in pairs:  # Twilio sends none; no database keeps one in a text column
        if "\x00" in name or "\x00" in value:
            raise Problem(400, f"{name[:40]!r}: contains a NUL character")
    return ImmutableMultiDict(pairs)


def signed_url(settings: RoutingSettings, path: str, query: str) -> str:
    """The URL Twilio signed: the configured public URL, the route, the raw query."""
    return settings.url(path) + (f"?{query}" if query else "")


def _matches_as_is(
    validator: RequestValidator, url: str, form: ImmutableMultiDict, signature: str, algorithm: str | None
) -> bool:
    """One HMAC over the URL exactly as configured: the common case. ``validate`` (which
    also tries the URL with and without its default port) decides everything else."""
    try:
        expected = validator.compute_signature(url, form, algorithm)
    except ValueError:  # an algorithm this twilio does not know
        return False
    return hmac.compare_digest(expected.encode(), signature.encode())


def verify_signature(
    settings: RoutingSettings, validator: RequestValidator, scope: Scope, headers: dict[str, str], path: str,
    form: ImmutableMultiDict,
) -> None:
    """403 unless Twilio signed this request, for this account, at the URL it was sent to."""
    signature = headers.get("x-twilio-signature")
    if not signature:
        raise Problem(403, "missing Twilio signature")
    query = scope.get("query_string", b"").decode("latin-1")
    algorithm = get_signature_algorithm(headers.get(SIGNATURE_SETTINGS_HEADER.lower()))
    url = signed_url(settings, path, query)
    if not (
        _matches_as_is(validator, url, form, signature, algorithm)
        or validator.validate(url, form, signature, algorithm)
    ):
        raise Problem(403, "invalid Twilio signature")
    account = form.get("AccountSid")
    if settings.account_sid and account and account != settings.account_sid:
        raise Problem(403, "request for another account")


# --- parameters ----------------------------------------------------------------------------


def int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise BadParams(f"{name}: {raw[:40]!r} is not an integer")
    return int(raw)


def float_param(params: Mapping[str, str], name: str) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadParams(f"{name}: {raw[:40]!r} is not a number") from None
    if not math.isfinite(value):  # Twilio sends none, and a stored NaN breaks every sum of prices
        raise BadParams(f"{name}: {raw[:40]!r} is not a finite number")
    return value


def one_of(
    params: Mapping[str, str],
    name: str,
    allowed: Mapping[str, Any] | set[str],
    *,
    fallback: str | None = None,
    default: str = "",
) -> str:
    """A status parameter (``name``, else ``fallback``, else ``default``) that ``allowed`` knows."""
    value = (params.get(name) or (params.get(fallback) if fallback else "") or default).strip()
    if not value:
        raise BadParams(f"{name}: missing")
    if value not in allowed:
        raise BadParams(f"{name}: {value[:40]!r} is not a known status")
    return value


def message_sid(params: Mapping[str, str]) -> str:
    """The message a webhook is about (Twilio names it MessageSid, older callbacks SmsSid)."""
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    if not sid:
        raise BadParams("MessageSid: missing")
    return sid
