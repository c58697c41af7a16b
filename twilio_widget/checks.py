"""The validation rules, one function a rule, so no rule is written twice.

Each ``*_problem`` function returns None when the value is fine, else the value's problem in
words: what the value is not and what was expected. The caller puts the field's name in front
and raises its own kind of error (``ConfigError`` for options, ``ValueError`` for settings,
``BadParams`` for a webhook's parameters), so every message names the field and the problem.
Secrets are described by their shape, never echoed.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from .contacts.parsing import InvalidNumber, parse_number
from .vocabulary import MAX_BODY_CHARS, MAX_E164_DIGITS, MAX_IDENTITY_CHARS

__all__ = [
    "EMPTY_BODY",
    "SID_KINDS",
    "body_problem",
    "choice_problem",
    "e164_problem",
    "email_problem",
    "host_or_ip_problem",
    "host_problem",
    "identity_problem",
    "is_ip_address",
    "number_problem",
    "regex_problem",
    "region_problem",
    "secret_problem",
    "sender_problem",
    "sid_problem",
    "url_problem",
]

# --------------------------------------------------------------------------------------
# Phone numbers: the contacts parser decides (phonenumbers' metadata, the region's rules)
# --------------------------------------------------------------------------------------

_E164 = re.compile(rf"\+[1-9]\d{{1,{MAX_E164_DIGITS - 1}}}")


def number_problem(value: Any, region: str = "US") -> str | None:
    """A phone number as someone may type it in ``region``, valid for its country."""
    try:
        parse_number(value, region)
    except InvalidNumber as exc:
        return exc.problem
    return None


def e164_problem(value: str) -> str | None:
    """A number as Twilio writes it ('+', country code, number, nothing else) that is valid."""
    if not _E164.fullmatch(value):
        return f"{value!r} is not an E.164 number (expected '+', country code and number, e.g. '+14155550100')"
    return number_problem(value)


# --------------------------------------------------------------------------------------
# Twilio's identifiers and secrets
# --------------------------------------------------------------------------------------

#: SIDs by the option or parameter that holds them: their prefixes, and what they name.
SID_KINDS = {
    "account_sid": (("AC",), "an Account SID"),
    "app_sid": (("AP",), "a TwiML App SID"),
    "api_key_sid": (("SK",), "an API key SID"),
    "call_sid": (("CA",), "a Call SID"),
    "message_sid": (("SM", "MM"), "a Message SID"),
    "messaging_service_sid": (("MG",), "a Messaging Service SID"),
    "recording_sid": (("RE",), "a Recording SID"),
}
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


def choice_problem(value: Any, allowed: tuple[str, ...]) -> str | None:
    if value in allowed:
        return None
    return f"{value!r} is not one of {', '.join(allowed)}"


_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


def region_problem(value: Any) -> str | None:
    """A country (ISO 3166-1, 'GB') or a state or province (ISO 3166-2, 'US-FL'), as the rules name places."""
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        return f"{value!r} is not a region code such as 'US', 'US-FL' or 'GB'"
    return None


def sid_problem(value: Any, kind: str) -> str | None:
    """A SID of ``kind`` (a key of :data:`SID_KINDS`): its prefix, then 32 hexadecimal digits."""
    prefixes, what = SID_KINDS[kind]
    if isinstance(value, str) and value[:2] in prefixes and _HEX32.fullmatch(value[2:]):
        return None
    expected = " or ".join(map(repr, prefixes))
    return f"{value!r} is not {what} (expected {expected} followed by 32 hexadecimal digits)"


_SECRETS = {
    "auth_token": (re.compile(r"[0-9a-fA-F]{32}"), "an auth token", "32 hexadecimal characters"),
    "api_key_secret": (re.compile(r"[0-9A-Za-z]{32}"), "an API key secret", "32 letters and digits"),
}


def secret_problem(value: str, kind: str) -> str | None:
    """An auth token or API key secret of the right shape; the problem tells the shape only."""
    pattern, what, expected = _SECRETS[kind]
    if pattern.fullmatch(value):
        return None
    return f"not {what} (expected {expected}, got {len(value)} characters; value not shown)"


_IDENTITY = re.compile(rf"[A-Za-z0-9_]{{1,{MAX_IDENTITY_CHARS}}}")


def identity_problem(value: Any) -> str | None:
    """A Voice SDK client identity, as ``voice.identity_for`` makes them (``client:<identity>``
    in TwiML, so nothing that needs escaping)."""
    if isinstance(value, str) and _IDENTITY.fullmatch(value):
        return None
    return f"{value!r} is not a client identity (1-{MAX_IDENTITY_CHARS} letters, digits or underscores)"


#: :func:`body_problem`'s answer for a body with no text (Twilio's code for it differs from a
#: body too long's, and the sandbox answers with Twilio's codes).
EMPTY_BODY = "the message is empty"


def body_problem(value: Any) -> str | None:
    """A message body Twilio accepts: some text, at most :data:`~.vocabulary.MAX_BODY_CHARS`."""
    if not isinstance(value, str) or not value.strip():
        return EMPTY_BODY
    if len(value) > MAX_BODY_CHARS:
        return f"{len(value)} characters; Twilio accepts at most {MAX_BODY_CHARS}"
    return None


# --------------------------------------------------------------------------------------
# Hosts, URLs, mail addresses
# --------------------------------------------------------------------------------------

_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+\.)+[A-Za-z0-9-]+")


def host_problem(value: str) -> str | None:
    """A DNS host name (a SIP domain, an SMTP server): dot-separated labels, 253 characters at most."""
    host = value[:-1] if value.endswith(".") else value
    labels = host.split(".")
    if 0 < len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels):
        return None
    return f"{value!r} is not a host name (expected e.g. 'example.sip.twilio.com')"


def is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def host_or_ip_problem(value: str) -> str | None:
    """A host name or an IP address: where a server may be reached (an SMTP server, a URL's host)."""
    return None if is_ip_address(value) else host_problem(value)


def url_problem(value: Any) -> str | None:
    """An absolute http(s) URL whose host is a host name or an IP address."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except (TypeError, ValueError, AttributeError):  # not text, or e.g. an unclosed "[" of an IPv6 address
        host = None
    web = host and parts.scheme in ("http", "https") and not re.search(r"\s", value)
    if web and host_or_ip_problem(host) is None:
        return None
    return f"{value!r} is not an http(s) URL (expected e.g. 'https://example.com/path')"


def email_problem(value: str) -> str | None:
    """A mail address of the usual shape (a user's client_mail)."""
    if _EMAIL.fullmatch(value) and len(value) <= 254:
        return None
    return f"{value!r} is not an email address (expected name@example.com)"


def sender_problem(value: str) -> str | None:
    """A mail sender: like an email address, but any host name will do (``name@localhost`` too)."""
    local, at, host = value.rpartition("@")
    if at and local and not re.search(r"\s", local) and host_problem(host) is None:
        return None
    return f"{value!r} is not a mail address (expected e.g. 'phone@example.com')"


def regex_problem(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"{value!r} is not a valid regular expression ({exc})"
    return None
