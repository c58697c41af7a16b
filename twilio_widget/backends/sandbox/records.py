"""The sandbox's records as Twilio shapes them: new calls and messages, their prices and
segments, the checks Twilio would make (with its codes), and the history frames cut from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from ... import frames
from ...contacts import InvalidNumber, parse_number
from ...vocabulary import CONCATENATED_SEGMENT_CHARS, INVALID_TO_NUMBER, SEGMENT_CHARS
from ..base import TwilioError

__all__ = ["call_price", "call_record", "dialled_number", "involves", "message_record", "public",
           "require_number", "segments", "window"]

#: What the sandbox charges, in USD: a call a started minute, a message a segment.
CALL_PRICE_PER_MINUTE = 0.014
MESSAGE_PRICE_PER_SEGMENT = 0.0079


def call_record(sid: str, direction: str, from_: str, to: str, status: str, start: datetime, *,
                parent: str | None = None) -> dict[str, Any]:
    """A calls-schema record, not over yet."""
    return {
        "sid": sid, "direction": direction, "from": from_, "to": to,
        "status": status, "start_time": start, "end_time": None, "duration": None,
        "price": None, "price_unit": "USD", "answered_by": None, "parent_call_sid": parent,
    }


def message_record(sid: str, direction: str, from_: str, to: str, body: str, status: str,
                   created: datetime, sent: datetime | None) -> dict[str, Any]:
    """A messages-schema record, no media, no error, not priced yet."""
    return {
        "sid": sid, "direction": direction, "from": from_, "to": to, "body": body,
        "status": status, "date_created": created, "date_sent": sent,
        "num_segments": segments(body), "num_media": 0, "error_code": None,
        "error_message": None, "price": None, "price_unit": "USD",
    }


def call_price(duration: int) -> float:
    """What an answered call of ``duration`` seconds costs (negative, as Twilio bills it)."""
    return -round(CALL_PRICE_PER_MINUTE * max(1, -(-duration // 60)), 3)


def segments(body: str) -> int:
    """SMS segments: one holds SEGMENT_CHARS GSM characters; each of a concatenated message fewer."""
    if len(body) <= SEGMENT_CHARS:
        return 1
    return -(-len(body) // CONCATENATED_SEGMENT_CHARS)


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A copy without the sandbox's own bookkeeping keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def involves(record: dict[str, Any], number: str | None) -> bool:
    return number is None or number in (record["from"], record["to"])


def window(frame: pd.DataFrame, kind: str, since, until, limit: int | None) -> pd.DataFrame:
    column = frames.TIME_COLUMN[kind]
    if since is not None:
        frame = frame[frame[column] >= frames.utc(since)]
    if until is not None:
        frame = frame[frame[column] < frames.utc(until)]
    frame = frames.newest_first(frame, kind)
    return frame.head(limit) if limit is not None else frame


def require_number(value: str, field: str) -> str:
    """E.164 of ``value`` or a Twilio-shaped 21211 error that names the field."""
    try:
        return parse_number(value, "US", field=field)
    except InvalidNumber as exc:
        raise TwilioError(str(exc), code=INVALID_TO_NUMBER, status=400) from None


def played_url(twiml: str) -> str | None:
    """The URL a TwiML document's <Play> plays, if it plays one."""
    try:
        return (ElementTree.fromstring(twiml).findtext("Play") or "").strip() or None
    except ElementTree.ParseError:
        return None


def dialled_number(twiml: str | None) -> str | None:
    """The number a TwiML document's <Dial> calls, if it dials one."""
    if not twiml:
        return None
    try:
        dial = ElementTree.fromstring(twiml).find("Dial")
    except ElementTree.ParseError:
        return None
    number = (dial.findtext("Number") or dial.text or "").strip() if dial is not None else ""
    return number or None


def dial_recording(twiml: str | None) -> tuple[bool, str | None]:
    """Whether a TwiML document's <Dial> records, and the URL its <Number> plays the callee first."""
    try:
        dial = ElementTree.fromstring(twiml).find("Dial") if twiml else None
    except ElementTree.ParseError:
        return False, None
    if dial is None:
        return False, None
    number = dial.find("Number")
    return (dial.get("record", "do-not-record").startswith("record"),
            number.get("url") if number is not None else None)
