"""A sandbox's past: a few plausible calls and texts with each number, the same for the same seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .records import MESSAGE_PRICE_PER_SEGMENT, call_price, call_record, message_record

__all__ = ["seed_history"]

_SAMPLE_TEXTS = (
    "Hi, following up on our chat last week.",
    "Thanks! Can we move the call to Thursday?",
    "Sounds good, talk then.",
    "Sent you the proposal, let me know what you think.",
    "Could you call me after 3pm?",
    "Great meeting you at the expo.",
)

Records = dict[str, dict[str, Any]]


def seed_history(numbers: list[str], days: int, anchor: datetime, own_number: str,
                 rng: random.Random, new_sid: Callable[[str], str]) -> tuple[Records, Records]:
    """Calls and messages (by sid) with each of ``numbers`` over the ``days`` before ``anchor``.

    The order of ``rng``'s draws is part of the result: a seed gives the same past every time."""
    calls: Records = {}
    messages: Records = {}
    for number in numbers:
        for _ in range(rng.randint(1, 4)):
            record = _past_call(number, days, anchor, own_number, rng, new_sid)
            calls[record["sid"]] = record
        for _ in range(rng.randint(0, 3)):
            record = _past_text(number, days, anchor, own_number, rng, new_sid)
            messages[record["sid"]] = record
    return calls, messages


def _past_call(number: str, days: int, anchor: datetime, own_number: str, rng: random.Random,
               new_sid: Callable[[str], str]) -> dict[str, Any]:
    start = anchor - timedelta(minutes=rng.randint(60, days * 24 * 60))
    inbound = rng.random() < 0.35
    status = rng.choices(("completed", "no-answer", "busy", "failed"), weights=(70, 18, 8, 4))[0]
    duration = rng.randint(20, 900) if status == "completed" else 0
    sid = new_sid("CA")
    record = call_record(sid, "inbound" if inbound else "outbound-dial",
                         number if inbound else own_number, own_number if inbound else number,
                         status, start)
    record.update(end_time=start + timedelta(seconds=duration), duration=duration,
                  price=call_price(duration) if duration else None)
    if status == "completed" and rng.random() < 0.2 and not inbound:
        record["_recording"] = {
            "sid": new_sid("RE"), "date_created": start + timedelta(seconds=duration),
            "duration": duration, "status": "completed", "channels": 1, "source": "DialVerb",
            "media_url": f"https://sandbox.invalid/Recordings/{sid}.mp3",
        }
    return record


def _past_text(number: str, days: int, anchor: datetime, own_number: str, rng: random.Random,
               new_sid: Callable[[str], str]) -> dict[str, Any]:
    sent = anchor - timedelta(minutes=rng.randint(30, days * 24 * 60))
    inbound = rng.random() < 0.5
    body = rng.choice(_SAMPLE_TEXTS)
    record = message_record(new_sid("SM"), "inbound" if inbound else "outbound-api",
                            number if inbound else own_number, own_number if inbound else number,
                            body, "received" if inbound else "delivered", sent, sent)
    record["price"] = -MESSAGE_PRICE_PER_SEGMENT * record["num_segments"]
    return record
