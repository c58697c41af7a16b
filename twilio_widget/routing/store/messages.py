"""Messages, their threads, and the opt-outs that block sending to a number."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ...frames import from_records, newest_first
from ...vocabulary import MESSAGE_RANK, OPTED_OUT, SENT_MESSAGE_STATUSES
from .base import StoreBase, status_write, writes
from .changes import StatusChange
from .schema import message_record, now_iso, number_key, overlay, parse_time


class OptedOutError(Exception):
    """Sending to a number that texted STOP. Same code as Twilio's own refusal (21610)."""

    code = OPTED_OUT

    def __init__(self, number: str) -> None:
        super().__init__(
            f"to: {number} has opted out of messages (replied STOP); "
            "nothing was sent. They can opt back in by texting START."
        )
        self.number = number


class MessageStore(StoreBase):
    """Inbound and outbound messages, their statuses, and who asked for no more."""

    @status_write
    def record_message(
        self,
        sid: str,
        status: str,
        *,
        direction: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        body: str | None = None,
        num_segments: int | None = None,
        num_media: int | None = None,
        media: list[str] | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        date_sent: Any = None,
        date_created: Any = None,
        price: float | None = None,
        price_unit: str | None = None,
        mail: tuple[str, str, str] | None = None,
    ) -> StatusChange:
        """Store an inbound message, an outbound one, or a status of either; retries are no-ops.

        A status that arrives after a later one (sent after delivered) is kept as an event
        but does not move the message backwards.
        """
        at = now_iso()

        def fields(current: dict[str, Any]) -> dict[str, Any]:
            return {
                **overlay(current, direction=direction, from_number=from_, to_number=to, num_segments=num_segments,
                           num_media=num_media, error_code=error_code, error_message=error_message, price=price,
                           price_unit=price_unit),
                "body": body if body is not None else current.get("body"),
                "date_sent": parse_time(date_sent)
                or current.get("date_sent")
                or (at if status in SENT_MESSAGE_STATUSES else None),
                "date_created": current.get("date_created") or parse_time(date_created) or at,
                "media": json.dumps(media) if media else current.get("media"),
                "updated_at": at,
            }

        return StatusChange("messages", "message", sid, status, MESSAGE_RANK, message_record, fields, mail)

    def message(self, sid: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM messages WHERE sid=?", (sid,))
        return message_record(dict(rows[0])) if rows else None

    def thread(self, number: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Messages exchanged with ``number``, newest first (the backends' order)."""
        n = number_key(number)
        sql = "SELECT * FROM messages WHERE from_number=? OR to_number=? ORDER BY date_created DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [message_record(dict(r)) for r in self._query(sql, (n, n))]

    def messages(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM messages ORDER BY date_created DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [message_record(dict(r)) for r in self._query(sql)]

    @writes
    def opt_out(self, number: str, *, keyword: str = "STOP", message_sid: str | None = None) -> bool:
        """Record that ``number`` asked for no more messages. True when this is news."""
        n = number_key(number)
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO opt_outs(number, keyword, since, message_sid) VALUES (?,?,?,?)"
                " ON CONFLICT(number) DO NOTHING",
                (n, keyword, now_iso(), message_sid),
            )
            created = cur.rowcount == 1
            if created:
                self._event(
                    cur,
                    f"opt_out:{n}:{message_sid or now_iso()}",
                    "opt_out",
                    message_sid,
                    {"number": n, "keyword": keyword},
                )
            return created

    @writes
    def opt_in(self, number: str, *, keyword: str = "START", message_sid: str | None = None) -> bool:
        """Lift an opt-out. True when there was one."""
        n = number_key(number)
        with self._tx() as cur:
            cur.execute("DELETE FROM opt_outs WHERE number=?", (n,))
            removed = cur.rowcount == 1
            if removed:
                self._event(
                    cur,
                    f"opt_in:{n}:{message_sid or now_iso()}",
                    "opt_in",
                    message_sid,
                    {"number": n, "keyword": keyword},
                )
            return removed

    def is_opted_out(self, number: str) -> bool:
        n = number_key(number)
        return bool(self._query("SELECT 1 FROM opt_outs WHERE number=?", (n,)))

    def check_can_send(self, number: str) -> None:
        """Raise :class:`OptedOutError` when ``number`` opted out."""
        if self.is_opted_out(number):
            raise OptedOutError(number_key(number))

    def opt_outs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM opt_outs ORDER BY since")]

    def messages_frame(self, number: str | None = None) -> pd.DataFrame:
        rows = self.thread(number) if number else self.messages()
        return newest_first(from_records(rows, "messages"), "messages")
