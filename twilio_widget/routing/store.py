"""The routing service's durable store: one SQLite file, WAL mode, written before any 200.

Every webhook that carries news (a call status, an incoming call, a recording, an inbound
SMS, an outbound SMS status) becomes one row in ``events`` keyed by what Twilio repeats when
it retries (``call:<CallSid>:<status>``, ``message:<MessageSid>:<status>`` ...), so a retry
finds its key taken and changes nothing. The latest state of each call, message and
recording is kept beside it, for history and threads. Opt-outs block sends; outbound
messages that failed to send wait in ``outbox``; mail waits in ``mail_outbox`` until the
SMTP server took it.

One connection guarded by a lock serves every thread (the uvicorn thread, the kernel).
"""

from __future__ import annotations

import contextlib
import functools
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ..contacts import normalize as normalize_number
from ..frames import from_records, newest_first
from ..vocabulary import CALL_RANK, CALL_STATUS_ALIASES, FINAL_CALL_STATUSES, MESSAGE_RANK, OPTED_OUT, RECORDING_RANK

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  sid TEXT,
  record TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
  sid TEXT PRIMARY KEY, direction TEXT, from_number TEXT, to_number TEXT, status TEXT,
  start_time TEXT, end_time TEXT, duration INTEGER, price REAL, price_unit TEXT,
  answered_by TEXT, parent_call_sid TEXT, user_id TEXT, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_from ON calls(from_number);
CREATE INDEX IF NOT EXISTS calls_to ON calls(to_number);
CREATE TABLE IF NOT EXISTS messages (
  sid TEXT PRIMARY KEY, direction TEXT, from_number TEXT, to_number TEXT, body TEXT,
  status TEXT, date_sent TEXT, date_created TEXT, num_segments INTEGER, num_media INTEGER,
  error_code INTEGER, error_message TEXT, price REAL, price_unit TEXT, media TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_from ON messages(from_number);
CREATE INDEX IF NOT EXISTS messages_to ON messages(to_number);
CREATE TABLE IF NOT EXISTS recordings (
  sid TEXT PRIMARY KEY, call_sid TEXT, date_created TEXT, duration INTEGER, status TEXT,
  channels INTEGER, source TEXT, media_url TEXT, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS opt_outs (
  number TEXT PRIMARY KEY, keyword TEXT, since TEXT NOT NULL, message_sid TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, to_number TEXT NOT NULL, from_number TEXT,
  body TEXT NOT NULL, error_code INTEGER, error_message TEXT, attempts INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL, last_attempt_at TEXT, sent_at TEXT, sid TEXT
);
CREATE TABLE IF NOT EXISTS mail_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, to_addr TEXT NOT NULL,
  subject TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, sent_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT
);
"""

_CALL_COLUMNS = (
    "sid",
    "direction",
    "from",
    "to",
    "status",
    "start_time",
    "end_time",
    "duration",
    "price",
    "price_unit",
    "answered_by",
    "parent_call_sid",
)
_MESSAGE_COLUMNS = (
    "sid",
    "direction",
    "from",
    "to",
    "body",
    "status",
    "date_sent",
    "date_created",
    "num_segments",
    "num_media",
    "error_code",
    "error_message",
    "price",
    "price_unit",
)
_RECORDING_COLUMNS = (
    "sid",
    "call_sid",
    "date_created",
    "duration",
    "status",
    "channels",
    "source",
    "media_url",
)


class Recorded(NamedTuple):
    """What a ``record_*`` call did: the row as it now stands, and whether it was news."""

    record: dict[str, Any]
    new: bool
    event_id: int | None = None


class OptedOutError(Exception):
    """Sending to a number that texted STOP. Same code as Twilio's own refusal (21610)."""

    code = OPTED_OUT

    def __init__(self, number: str) -> None:
        super().__init__(
            f"to: {number} has opted out of messages (replied STOP); "
            "nothing was sent. They can opt back in by texting START."
        )
        self.number = number


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_time(value: Any) -> str | None:
    """Twilio's RFC 2822 or ISO 8601 timestamps as ISO 8601 UTC, None when unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if isinstance(value, datetime):
        stamp = value
    else:
        text = str(value).strip()
        try:
            stamp = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            try:
                stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).isoformat(timespec="microseconds")


def _writes(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a write method on the store's writer thread and wait for its commit."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is self._writer:
            return method(self, *args, **kwargs)
        return self.submit(wrapper.__get__(self), *args, **kwargs).result()

    return wrapper


class Store:
    """Durable state of the routing service. Safe to share between threads.

    Writes go through one writer thread that commits whatever is waiting in one transaction
    (group commit: one fsync for many webhooks; each write in its own savepoint, so one
    failing write does not undo the others). A write method returns only once its
    transaction is committed. Reads use a second connection (WAL lets them run beside the
    writer). ``submit`` queues a write and returns a future, for the ASGI app to await.
    """

    MAX_BATCH = 512

    def __init__(self, path: str | Path, *, durability: str = "FULL") -> None:
        if str(path) == ":memory:" or not str(path):
            raise ValueError("path: the store needs a file (it is shared by two connections)")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wconn = self._connect(durability)
        self._wconn.executescript(_DDL)
        self._wconn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        self._wcur = self._wconn.cursor()
        self._rconn = self._connect(durability)
        self._rlock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[Future, Callable[[], Any]] | None] = queue.SimpleQueue()
        self._closed = False
        self._writer = threading.Thread(
            target=self._write_loop, daemon=True, name=f"twilio-widget-store:{self.path.name}"
        )
        self._writer.start()

    def _connect(self, durability: str) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={durability.upper()}")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    # --- plumbing ------------------------------------------------------------------------

    def _write_loop(self) -> None:
        cur = self._wcur
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < self.MAX_BATCH:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                done = self._run_batch(cur, batch)
            except Exception as exc:  # BEGIN or COMMIT failed: nothing of the batch is stored
                with contextlib.suppress(sqlite3.Error):
                    cur.execute("ROLLBACK")
                done = [(future, None, exc) for future, _ in batch if not future.cancelled()]
            for future, result, error in done:
                if future.done():
                    continue
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)
            if stop:
                return

    @staticmethod
    def _run_batch(
        cur: sqlite3.Cursor, batch: list[tuple[Future, Callable[[], Any]]]
    ) -> list[tuple[Future, Any, BaseException | None]]:
        """Run the jobs in one transaction, each in a savepoint; results once committed."""
        done: list[tuple[Future, Any, BaseException | None]] = []
        cur.execute("BEGIN IMMEDIATE")
        for future, call in batch:
            if not future.set_running_or_notify_cancel():
                continue
            cur.execute("SAVEPOINT job")
            try:
                result = call()
            except Exception as exc:
                cur.execute("ROLLBACK TO job")
                cur.execute("RELEASE job")
                done.append((future, None, exc))
            else:
                cur.execute("RELEASE job")
                done.append((future, result, None))
        cur.execute("COMMIT")
        return done

    def submit(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Queue a write (a bound write method of this store); the future resolves once it
        is committed."""
        if self._closed:
            raise RuntimeError("store is closed")
        future: Future = Future()
        self._jobs.put((future, functools.partial(method, *args, **kwargs)))
        return future

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        if threading.current_thread() is not self._writer:
            raise RuntimeError("store writes run on the writer thread (use a write method)")
        yield self._wcur

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._rlock:
            return self._rconn.execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._writer.join(30)
        while True:  # anything queued after the writer stopped fails rather than hangs
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None and job[0].set_running_or_notify_cancel():
                job[0].set_exception(RuntimeError("store is closed"))
        with self._rlock:
            self._rconn.close()
        self._wconn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @staticmethod
    def _event(cur: sqlite3.Cursor, key: str, kind: str, sid: str | None, record: Mapping[str, Any]) -> int | None:
        cur.execute(
            "INSERT OR IGNORE INTO events(key, kind, sid, record, created_at) VALUES (?,?,?,?,?)",
            (key, kind, sid, json.dumps(dict(record), default=str), now_iso()),
        )
        return cur.lastrowid if cur.rowcount == 1 else None

    # --- calls ---------------------------------------------------------------------------

    @_writes
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
    ) -> Recorded:
        """Store one call status. A status already seen for this call changes nothing.

        ``kind`` "incoming_call" marks the first webhook of a call that rings a user.
        Statuses arriving out of order never move a call backwards (completed stays).
        """
        status = CALL_STATUS_ALIASES.get(status, status)
        at = parse_time(timestamp) or now_iso()
        with self._tx() as cur:
            row = cur.execute("SELECT * FROM calls WHERE sid=?", (sid,)).fetchone()
            current = dict(row) if row else {}
            old_status = current.get("status")
            advance = old_status is None or CALL_RANK.get(status, 0) >= CALL_RANK.get(old_status, 0)
            merged = {
                "sid": sid,
                **_overlay(current, direction=direction, from_number=from_, to_number=to, duration=duration,
                           price=price, price_unit=price_unit, answered_by=answered_by,
                           parent_call_sid=parent_call_sid, user_id=user_id),
                "status": status if advance else old_status,
                "start_time": current.get("start_time") or at,
                "end_time": current.get("end_time") or (at if status in FINAL_CALL_STATUSES else None),
                "updated_at": now_iso(),
            }
            record = _call_record(merged)
            event_record = {**record, "status": status}
            event_id = self._event(cur, f"{kind}:{sid}:{status}", kind, sid, event_record)
            if event_id is None:
                return Recorded(_call_record(current) if current else record, False)
            _upsert(cur, "calls", merged)
            return Recorded(record, True, event_id)

    def call(self, sid: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM calls WHERE sid=?", (sid,))
        return _call_record(dict(rows[0])) if rows else None

    def call_user(self, sid: str) -> str | None:
        rows = self._query("SELECT user_id FROM calls WHERE sid=?", (sid,))
        return rows[0]["user_id"] if rows else None

    def calls(self, number: str | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Calls to or from ``number`` (all when None), newest first."""
        sql, args = "SELECT * FROM calls", []
        if number:
            n = normalize_number(number) or number
            sql += " WHERE from_number=? OR to_number=?"
            args = [n, n]
        sql += " ORDER BY start_time DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_call_record(dict(r)) for r in self._query(sql, args)]

    # --- messages ------------------------------------------------------------------------

    @_writes
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
    ) -> Recorded:
        """Store an inbound message, an outbound one, or a status of either; retries are no-ops.

        A status that arrives after a later one (sent after delivered) is kept as an event
        but does not move the message backwards.
        """
        at = now_iso()
        with self._tx() as cur:
            row = cur.execute("SELECT * FROM messages WHERE sid=?", (sid,)).fetchone()
            current = dict(row) if row else {}
            old_status = current.get("status")
            advance = old_status is None or MESSAGE_RANK.get(status, 0) >= MESSAGE_RANK.get(old_status, 0)
            merged = {
                "sid": sid,
                **_overlay(current, direction=direction, from_number=from_, to_number=to, num_segments=num_segments,
                           num_media=num_media, error_code=error_code, error_message=error_message, price=price,
                           price_unit=price_unit),
                "body": body if body is not None else current.get("body"),
                "status": status if advance else old_status,
                "date_sent": parse_time(date_sent)
                or current.get("date_sent")
                or (at if status in ("sent", "delivered", "received") else None),
                "date_created": current.get("date_created") or parse_time(date_created) or at,
                "media": json.dumps(media) if media else current.get("media"),
                "updated_at": at,
            }
            record = _message_record(merged)
            event_id = self._event(cur, f"message:{sid}:{status}", "message", sid, {**record, "status": status})
            if event_id is None:
                return Recorded(_message_record(current) if current else record, False)
            _upsert(cur, "messages", merged)
            if mail:
                self._mail_add(cur, f"message:{sid}", *mail)
            return Recorded(record, True, event_id)

    def message(self, sid: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM messages WHERE sid=?", (sid,))
        return _message_record(dict(rows[0])) if rows else None

    def thread(self, number: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Messages exchanged with ``number``, newest first (the backends' order)."""
        n = normalize_number(number) or number
        sql = "SELECT * FROM messages WHERE from_number=? OR to_number=? ORDER BY date_created DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_message_record(dict(r)) for r in self._query(sql, (n, n))]

    def messages(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM messages ORDER BY date_created DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_message_record(dict(r)) for r in self._query(sql)]

    # --- recordings ----------------------------------------------------------------------

    @_writes
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
    ) -> Recorded:
        """Store a recording status. ``mail`` (to, subject, body) is queued in the same
        transaction, so a voicemail is never stored without its notification or vice versa."""
        at = now_iso()
        with self._tx() as cur:
            row = cur.execute("SELECT * FROM recordings WHERE sid=?", (sid,)).fetchone()
            current = dict(row) if row else {}
            old = current.get("status")
            advance = old is None or RECORDING_RANK.get(status, 0) >= RECORDING_RANK.get(old, 0)
            merged = {
                "sid": sid,
                "call_sid": call_sid or current.get("call_sid"),
                "date_created": current.get("date_created") or parse_time(start_time) or at,
                "duration": duration if duration is not None else current.get("duration"),
                "status": status if advance else old,
                "channels": channels if channels is not None else current.get("channels"),
                "source": source or current.get("source"),
                "media_url": url or current.get("media_url"),
                "updated_at": at,
            }
            record = {k: merged.get(k) for k in _RECORDING_COLUMNS}
            event_id = self._event(cur, f"recording:{sid}:{status}", "recording", sid, {**record, "status": status})
            if event_id is None:
                return Recorded({k: current.get(k) for k in _RECORDING_COLUMNS} if current else record, False)
            _upsert(cur, "recordings", merged)
            if mail:
                self._mail_add(cur, f"recording:{sid}", *mail)
            return Recorded(record, True, event_id)

    def recordings(self, call_sid: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM recordings", []
        if call_sid:
            sql += " WHERE call_sid=?"
            args = [call_sid]
        sql += " ORDER BY date_created DESC, rowid DESC"
        return [{k: r[k] for k in _RECORDING_COLUMNS} for r in self._query(sql, args)]

    # --- opt-outs ------------------------------------------------------------------------

    @_writes
    def opt_out(self, number: str, *, keyword: str = "STOP", message_sid: str | None = None) -> bool:
        """Record that ``number`` asked for no more messages. True when this is news."""
        n = normalize_number(number) or number
        with self._tx() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO opt_outs(number, keyword, since, message_sid) VALUES (?,?,?,?)",
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

    @_writes
    def opt_in(self, number: str, *, keyword: str = "START", message_sid: str | None = None) -> bool:
        """Lift an opt-out. True when there was one."""
        n = normalize_number(number) or number
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
        n = normalize_number(number) or number
        return bool(self._query("SELECT 1 FROM opt_outs WHERE number=?", (n,)))

    def check_can_send(self, number: str) -> None:
        """Raise :class:`OptedOutError` when ``number`` opted out."""
        if self.is_opted_out(number):
            raise OptedOutError(normalize_number(number) or number)

    def opt_outs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM opt_outs ORDER BY since")]

    # --- outbox of outbound messages that failed to send --------------------------------

    @_writes
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
            cur.execute(
                "INSERT INTO outbox(to_number, from_number, body, error_code, error_message,"
                " attempts, created_at, last_attempt_at) VALUES (?,?,?,?,?,1,?,?)",
                (to, from_, body, error_code, error_message, at, at),
            )
            return int(cur.lastrowid)

    def outbox_pending(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id")]

    @_writes
    def outbox_mark_sent(self, outbox_id: int, sid: str | None = None) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE outbox SET sent_at=?, sid=?, last_attempt_at=? WHERE id=?",
                (now_iso(), sid, now_iso(), outbox_id),
            )

    @_writes
    def outbox_mark_failed(
        self, outbox_id: int, *, error_code: int | None = None, error_message: str | None = None
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE outbox SET attempts=attempts+1, error_code=?, error_message=?, last_attempt_at=? WHERE id=?",
                (error_code, error_message, now_iso(), outbox_id),
            )

    @_writes
    def outbox_remove(self, outbox_id: int) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM outbox WHERE id=? AND sent_at IS NULL", (outbox_id,))

    # --- mail ----------------------------------------------------------------------------

    @staticmethod
    def _mail_add(cur: sqlite3.Cursor, key: str, to_addr: str, subject: str, body: str) -> None:
        cur.execute(
            "INSERT OR IGNORE INTO mail_outbox(key, to_addr, subject, body, created_at) VALUES (?,?,?,?,?)",
            (key, to_addr, subject, body, now_iso()),
        )

    @_writes
    def mail_add(self, key: str, to_addr: str, subject: str, body: str) -> None:
        with self._tx() as cur:
            self._mail_add(cur, key, to_addr, subject, body)

    def mail_pending(self, *, max_attempts: int | None = None) -> list[dict[str, Any]]:
        """Mail not sent yet, oldest first; ``max_attempts`` leaves out what failed that often."""
        capped = max_attempts is not None
        sql = "SELECT * FROM mail_outbox WHERE sent_at IS NULL" + (" AND attempts < ?" if capped else "")
        return [dict(r) for r in self._query(sql + " ORDER BY id", (max_attempts,) if capped else ())]

    @_writes
    def mail_mark(self, mail_id: int, *, error: str | None = None) -> None:
        with self._tx() as cur:
            if error is None:
                cur.execute(
                    "UPDATE mail_outbox SET sent_at=?, attempts=attempts+1, last_error=NULL WHERE id=?",
                    (now_iso(), mail_id),
                )
            else:
                cur.execute(
                    "UPDATE mail_outbox SET attempts=attempts+1, last_error=? WHERE id=?",
                    (error[:500], mail_id),
                )

    def mail_all(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM mail_outbox ORDER BY id")]

    # --- events (the widget polls these) -------------------------------------------------

    def events_since(self, after_id: int = 0, *, limit: int = 500) -> list[dict[str, Any]]:
        """Events with id > ``after_id``, oldest first: {id, kind, sid, record, created_at}.

        kinds: call, incoming_call, message, recording, opt_out, opt_in.
        """
        rows = self._query("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (int(after_id), int(limit)))
        return [
            {
                "id": r["id"],
                "kind": r["kind"],
                "sid": r["sid"],
                "record": json.loads(r["record"]),
                "created_at": r["created_at"],
            }
            for r in rows
        ]

    def last_event_id(self) -> int:
        rows = self._query("SELECT COALESCE(MAX(id), 0) AS m FROM events")
        return int(rows[0]["m"])

    def count_events(self, kind: str | None = None) -> int:
        if kind:
            return int(self._query("SELECT COUNT(*) AS n FROM events WHERE kind=?", (kind,))[0]["n"])
        return int(self._query("SELECT COUNT(*) AS n FROM events")[0]["n"])

    # --- typed frames --------------------------------------------------------------------

    def calls_frame(self, number: str | None = None) -> pd.DataFrame:
        return newest_first(from_records(self.calls(number), "calls"), "calls")

    def messages_frame(self, number: str | None = None) -> pd.DataFrame:
        rows = self.thread(number) if number else self.messages()
        return newest_first(from_records(rows, "messages"), "messages")

    def recordings_frame(self, call_sid: str | None = None) -> pd.DataFrame:
        return newest_first(from_records(self.recordings(call_sid), "recordings"), "recordings")


def _overlay(current: dict[str, Any], **given: Any) -> dict[str, Any]:
    """Each column's new value where the webhook gave one, else what is stored (Twilio's
    callbacks repeat some fields and leave others out)."""
    return {column: value if value is not None and value != "" else current.get(column)
            for column, value in given.items()}


def _upsert(cur: sqlite3.Cursor, table: str, values: Mapping[str, Any]) -> None:
    cols = list(values)
    updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c != "sid")
    cur.execute(
        f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT(sid) DO UPDATE SET {updates}",
        [values[c] for c in cols],
    )


def _call_record(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in _CALL_COLUMNS}
    out["from"] = row.get("from_number")
    out["to"] = row.get("to_number")
    return out


def _message_record(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in _MESSAGE_COLUMNS}
    out["from"] = row.get("from_number")
    out["to"] = row.get("to_number")
    return out
