"""What waits to go out: messages that failed to send, and mail the SMTP server has not taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .base import StoreBase, writes
from .schema import now_iso, queue_mail


class OutboxStore(StoreBase):
    """The outbox of messages to send again, and the mail queue."""

    @writes
    def outbox_add(
        self,
        to: str,
        from_: str | None,
        body: str,
        *,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> int:
        with self._tx() as cur:
            at = now_iso()
            row = cur.execute(
                "INSERT INTO outbox(to_number, from_number, body, error_code, error_message,"
                " attempts, created_at, last_attempt_at) VALUES (?,?,?,?,?,1,?,?) RETURNING id",
                (to, from_, body, error_code, error_message, at, at),
            ).fetchone()
            return int(row["id"])

    def outbox_pending(self, *, from_: str | None = None) -> list[dict[str, Any]]:
        """Messages waiting to be sent again, oldest first; ``from_`` keeps one sender's."""
        if from_ is None:
            return [dict(r) for r in self._query("SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id")]
        rows = self._query("SELECT * FROM outbox WHERE sent_at IS NULL AND from_number=? ORDER BY id", (from_,))
        return [dict(r) for r in rows]

    @writes
    def outbox_mark_sent(self, outbox_id: int, sid: str | None = None) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE outbox SET sent_at=?, sid=?, last_attempt_at=? WHERE id=?",
                (now_iso(), sid, now_iso(), outbox_id),
            )

    @writes
    def outbox_mark_failed(
        self, outbox_id: int, *, error_code: int | None = None, error_message: str | None = None
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE outbox SET attempts=attempts+1, error_code=?, error_message=?, last_attempt_at=? WHERE id=?",
                (error_code, error_message, now_iso(), outbox_id),
            )

    @writes
    def outbox_remove(self, outbox_id: int) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM outbox WHERE id=? AND sent_at IS NULL", (outbox_id,))

    @writes
    def mail_add(self, key: str, to_addr: str, subject: str, body: str) -> None:
        with self._tx() as cur:
            queue_mail(cur, key, to_addr, subject, body)

    def mail_pending(self, *, max_attempts: int | None = None) -> list[dict[str, Any]]:
        """Mail not sent yet, oldest first; ``max_attempts`` leaves out what failed that often."""
        capped = max_attempts is not None
        sql = "SELECT * FROM mail_outbox WHERE sent_at IS NULL" + (" AND attempts < ?" if capped else "")
        return [dict(r) for r in self._query(sql + " ORDER BY id", (max_attempts,) if capped else ())]

    @writes
    def mail_claim(self, mail_id: int, seconds: float) -> bool:
        """Take a mail for sending for ``seconds`` (then, should this process die, another may).
        False when another worker holds it or it went out meanwhile."""
        now = now_iso()
        until = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds")
        with self._tx() as cur:
            cur.execute(
                "UPDATE mail_outbox SET claimed_until=? WHERE id=? AND sent_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until < ?)",
                (until, mail_id, now),
            )
            return cur.rowcount == 1

    @writes
    def mail_mark(self, mail_id: int, *, error: str | None = None) -> None:
        with self._tx() as cur:
            if error is None:
                cur.execute(
                    "UPDATE mail_outbox SET sent_at=?, attempts=attempts+1, last_error=NULL, claimed_until=NULL"
                    " WHERE id=?",
                    (now_iso(), mail_id),
                )
            else:
                cur.execute(
                    "UPDATE mail_outbox SET attempts=attempts+1, last_error=?, claimed_until=NULL WHERE id=?",
                    (error[:500], mail_id),
                )

    def mail_all(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM mail_outbox ORDER BY id")]
