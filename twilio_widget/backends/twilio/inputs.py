"""The REST backend's input checks: each asks the shared rule in ``checks.py`` and raises
:class:`~.errors.InputError` naming the argument, before anything is sent to Twilio."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from ... import checks
from .errors import InputError

__all__ = ["body", "day_floor", "iso", "phone", "sender", "sid", "timestamp", "url"]

#: Separators people type inside a number; Twilio's E.164 has none.
_SEPARATORS = re.compile(r"[\s().-]")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: What a call may be addressed to besides a number: a Voice SDK client or a SIP address.
_ADDRESS_SCHEMES = ("client", "sip")


def phone(value: Any, field: str, *, allow_client: bool = False) -> str:
    """An E.164 number (separators dropped), or with ``allow_client`` a ``client:``/``sip:`` address."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "a phone number is required (E.164, like +14155550100)")
    text = value.strip()
    scheme, colon, address = text.partition(":")
    if allow_client and colon and scheme.lower() in _ADDRESS_SCHEMES:
        if not address:
            raise InputError(field, f"{text!r} names no client or SIP address")
        return text
    compact = _SEPARATORS.sub("", text)
    problem = checks.e164_problem(compact)
    if problem:
        raise InputError(field, problem)
    return compact


def sender(value: Any) -> tuple[str, str]:
    """Return ("From" | "MessagingServiceSid", value) for a message sender."""
    if isinstance(value, str) and checks.sid_problem(value.strip(), "messaging_service_sid") is None:
        return "MessagingServiceSid", value.strip()
    return "From", phone(value, "from_")


def body(value: Any) -> str:
    problem = checks.body_problem(value)
    if problem:
        raise InputError("body", problem)
    return value


def sid(value: Any, kind: str, field: str) -> str:
    """A SID of ``kind`` (a key of :data:`~twilio_widget.checks.SID_KINDS`) given as ``field``."""
    problem = checks.sid_problem(value, kind)
    if problem:
        raise InputError(field, problem)
    return value


def choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``, exactly."""
    problem = checks.choice_problem(value, allowed)
    if problem:
        raise InputError(field, problem)
    return value


def url(value: Any, field: str) -> str:
    """An absolute http(s) URL (surrounding blanks dropped): where Twilio fetches TwiML or posts statuses."""
    text = value.strip() if isinstance(value, str) else value
    problem = checks.url_problem(text)
    if problem:
        raise InputError(field, problem)
    return text


def timestamp(value: Any, field: str, *, upper: bool = False) -> pd.Timestamp | None:
    """A UTC timestamp; for ``upper`` bounds given as a bare date, the end of that day
    (returned as an exclusive bound)."""
    if value is None:
        return None
    whole_day = (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and bool(_DATE_ONLY.match(value.strip())))
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(field, f"{value!r} is not a date or time") from None
    if ts is pd.NaT:
        raise InputError(field, f"{value!r} is not a date or time")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if upper:
        return ts + pd.Timedelta(days=1) if whole_day else ts + pd.Timedelta(microseconds=1)
    return ts


def day_floor(ts: pd.Timestamp) -> datetime:
    return ts.floor("D").to_pydatetime()


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
