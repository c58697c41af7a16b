"""Calls and their recordings: each status stored once, never moving a call backwards."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...frames import from_records, newest_first
from ...vocabulary import CALL_RANK, CALL_STATUS_ALIASES, FINAL_CALL_STATUSES, RECORDING_RANK
from .base import StoreBase, status_write, writes
from .changes import StatusChange
from .schema import Recorded, call_record, now_iso, number_key, overlay, parse_time, recording_record, upsert


class CallStore(StoreBase):
    """Calls as their status callbacks tell them, and the recordings (voicemails) made on them."""

    @status_write
    def record_call_status(
        self,
        sid: str,
        status: str,
        *,
        direction: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        duration: int | None = None,
        timestamp: Any = None,
        answered_by: str | None = None,
        parent_call_sid: str | None = None,
        price: float | None = None,
        price_unit: str | None = None,
        user_id: str | None = None,
        kind: str = "call",
    ) -> StatusChange:
        """Store one call status. A status already seen for this call changes nothing.

        ``kind`` "incoming_call" marks the first webhook of a call that rings a user.
        Statuses arriving out of order never move a call backwards (completed stays).
        """
        status = CALL_STATUS_ALIASES.get(status, status)
        at = parse_time(timestamp) or now_iso()

        def fields(current: dict[str, Any]) -> dict[str, Any]:
            return {
                **overlay(current, direction=direction, from_number=from_, to_number=to, duration=duration,
                           price=price, price_unit=price_unit, answered_by=answered_by,
                           parent_call_sid=parent_call_sid, user_id=user_id),
                "start_time": current.get("start_time") or at,
                "end_time": current.get("end_time") or (at if status in FINAL_CALL_STATUSES else None),
                "updated_at": now_iso(),
            }

        return StatusChange("calls", kind, sid, status, CALL_RANK, call_record, fields)

    @writes
    def record_answered_by(self, sid: str, answered_by: str) -> Recorded:
        """Answering-machine detection's verdict on a call (its AMD callback): news once a call. The
        call is answered by then, so no status carries it: its event is keyed apart from them."""
        with self._tx() as cur:
            current = self._held(cur, "calls", sid)
            merged = {"sid": sid, "status": current.get("status") or "in-progress", "answered_by": answered_by,
                      "start_time": current.get("start_time") or now_iso(), "updated_at": now_iso()}
            record = call_record({**current, **merged})
            event_id = self._event(cur, f"call:{sid}:answered-by", "call", sid, record)
            if event_id is None:  # a retry
                return Recorded(call_record(current) if current else record, False)
            upsert(cur, "calls", merged)
            return Recorded(record, True, event_id)

    def call(self, sid: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM calls WHERE sid=?", (sid,))
        return call_record(dict(rows[0])) if rows else None

    def call_user(self, sid: str) -> str | None:
        rows = self._query("SELECT user_id FROM calls WHERE sid=?", (sid,))
        return rows[0]["user_id"] if rows else None

    def calls(self, number: str | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Calls to or from ``number`` (all when None), newest first."""
        sql, args = "SELECT * FROM calls", []
        if number:
            n = number_key(number)
            sql += " WHERE from_number=? OR to_number=?"
            args = [n, n]
        sql += " ORDER BY start_time DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [call_record(dict(r)) for r in self._query(sql, args)]

    @status_write
    def record_recording(
        self,
        sid: str,
        status: str,
        *,
        call_sid: str | None = None,
        url: str | None = None,
        duration: int | None = None,
        channels: int | None = None,
        source: str | None = None,
        start_time: Any = None,
        mail: tuple[str, str, str] | None = None,
    ) -> StatusChange:
        """Store a recording status. ``mail`` (to, subject, body) is queued in the same
        transaction, so a voicemail is never stored without its notification or vice versa."""
        at = now_iso()

        def fields(current: dict[str, Any]) -> dict[str, Any]:
            return {
                "call_sid": call_sid or current.get("call_sid"),
                "date_created": current.get("date_created") or parse_time(start_time) or at,
                "duration": duration if duration is not None else current.get("duration"),
                "channels": channels if channels is not None else current.get("channels"),
                "source": source or current.get("source"),
                "media_url": url or current.get("media_url"),
                "updated_at": at,
            }

        return StatusChange("recordings", "recording", sid, status, RECORDING_RANK, recording_record, fields, mail)

    def recordings(self, call_sid: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM recordings", []
        if call_sid:
            sql += " WHERE call_sid=?"
            args = [call_sid]
        sql += " ORDER BY date_created DESC, rowid DESC"
        return [recording_record(dict(r)) for r in self._query(sql, args)]

    def calls_frame(self, number: str | None = None) -> pd.DataFrame:
        return newest_first(from_records(self.calls(number), "calls"), "calls")

    def recordings_frame(self, call_sid: str | None = None) -> pd.DataFrame:
        return newest_first(from_records(self.recordings(call_sid), "recordings"), "recordings")
