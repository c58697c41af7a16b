"""Texts in the sandbox: sent ones are queued, then sent, then delivered; inbound ones arrive
when a script says so, and STOP/START keywords opt their sender out and back in."""

from __future__ import annotations

from typing import Any

from ...vocabulary import NOT_FOUND, OPTED_OUT, opt_keyword
from ..base import TwilioError, body_refused
from .records import MESSAGE_PRICE_PER_SEGMENT, message_record, public, require_number
from .state import SandboxState

__all__ = ["Messaging"]

#: Statuses after which a sent message's delivery stops moving.
_DELIVERY_OVER = ("failed", "undelivered", "delivered")


class Messaging(SandboxState):
    """The sandbox's texts; :class:`~.backend.SandboxBackend` gives it its state."""

    def send_message(self, to: str, from_: str, body: str, *,
                     status_callback: str | None = None) -> dict[str, Any]:
        """Send an SMS; its delivery is reported through this sandbox's own events, so a
        ``status_callback`` has nothing to add."""
        to = require_number(to, "to")
        from_ = require_number(from_, "from_")
        refused = body_refused(body)
        if refused:
            raise refused
        if to in self._opted_out:
            raise TwilioError(f"Attempt to send to unsubscribed recipient {to}", code=OPTED_OUT, status=400)
        record = message_record(self._sid("SM"), "outbound-api", from_, to, body, "queued", self.now(), None)
        with self._lock:
            self._messages[record["sid"]] = record
        self._emit("message", record)
        self._clock.call_later(self.delivery_seconds / 2, lambda: self._message_status(record["sid"], "sent"))
        self._clock.call_later(self.delivery_seconds, lambda: self._message_status(record["sid"], "delivered"))
        return dict(record)

    def message_status(self, sid: str) -> dict[str, Any]:
        with self._lock:
            if sid not in self._messages:
                raise TwilioError(f"The requested resource Message {sid} was not found", code=NOT_FOUND, status=404)
            return public(self._messages[sid])

    def inbound_message(self, from_: str, body: str, to: str | None = None) -> dict[str, Any]:
        """Someone texts in: the thread with that number gains the message."""
        from_ = require_number(from_, "from_")
        now = self.now()
        record = message_record(self._sid("SM"), "inbound", from_, to or self.own_number, body, "received", now, now)
        with self._lock:
            self._messages[record["sid"]] = record
            keyword = opt_keyword(body)
            if keyword == "out":
                self._opted_out.add(from_)
            elif keyword == "in":
                self._opted_out.discard(from_)
        self._emit("message", record)
        return dict(record)

    def _message_status(self, sid: str, status: str) -> None:
        with self._lock:
            message = self._messages[sid]
            if message["status"] in _DELIVERY_OVER:
                return
            message["status"] = status
            if status == "sent":
                message["date_sent"] = self.now()
                message["price"] = -MESSAGE_PRICE_PER_SEGMENT * message["num_segments"]
            snapshot = dict(message)
        self._emit("message", snapshot)
