"""The store's tables, and the rows they hold turned into the records the schemas name.

Every webhook that carries news becomes one row in ``events`` keyed by what Twilio repeats
when it retries (``call:<CallSid>:<status>``, ``message:<MessageSid>:<status>`` ...), so a
retry finds its key taken and changes nothing. ``calls``, ``messages`` and ``recordings``
keep the latest state of each; ``opt_outs`` block sends; ``outbox`` holds messages that
failed to send and ``mail_outbox`` mail the SMTP server has not taken yet.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from ...contacts import normalize
from ...frames import CALLS, MESSAGES, RECORDINGS

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


def create_schema(conn: sqlite3.Connection) -> None:
    """Create what is missing (every statement is IF NOT EXISTS) and record the version."""
    conn.executescript(_DDL)
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


class Recorded(NamedTuple):
    """What a ``record_*`` call did: the row as it now stands, and whether it was news."""

    record: dict[str, Any]
    new: bool
    event_id: int | None = None


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


def number_key(number: str) -> str:
    """How the store keys a number: its E.164 form, or the text as given when it is none."""
    return normalize(number) or number


def overlay(current: dict[str, Any], **given: Any) -> dict[str, Any]:
    """Each column's new value where the webhook gave one, else what is stored (Twilio's
    callbacks repeat some fields and leave others out)."""
    return {column: value if value is not None and value != "" else current.get(column)
            for column, value in given.items()}


def upsert(cur: sqlite3.Cursor, table: str, values: Mapping[str, Any]) -> None:
    cols = list(values)
    updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c != "sid")
    cur.execute(
        f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT(sid) DO UPDATE SET {updates}",
        [values[c] for c in cols],
    )


def queue_mail(cur: sqlite3.Cursor, key: str, to_addr: str, subject: str, body: str) -> None:
    """Queue one mail in the transaction of the event it tells about (a key is queued once)."""
    cur.execute(
        "INSERT OR IGNORE INTO mail_outbox(key, to_addr, subject, body, created_at) VALUES (?,?,?,?,?)",
        (key, to_addr, subject, body, now_iso()),
    )


def _record(row: Mapping[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    """A stored row as the schema's record: its columns, with ``from``/``to`` read from the
    columns that SQL cannot call by those names."""
    out = {k: row.get(k) for k in columns}
    out["from"] = row.get("from_number")
    out["to"] = row.get("to_number")
    return out


def call_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return _record(row, CALLS)


def message_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return _record(row, MESSAGES)


def recording_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in RECORDINGS}
