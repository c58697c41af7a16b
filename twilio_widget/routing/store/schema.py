"""The store's tables, and the rows they hold turned into the records the schemas name.

Every webhook that carries news becomes one row in ``events`` keyed by what Twilio repeats
when it retries (``call:<CallSid>:<status>``, ``message:<MessageSid>:<status>`` ...), so a
retry finds its key taken and changes nothing. ``calls``, ``messages`` and ``recordings``
keep the latest state of each; ``opt_outs`` block sends; ``outbox`` holds messages that
failed to send and ``mail_outbox`` mail the SMTP server has not taken yet.

The schema grows by migrations: ``MIGRATIONS[n]`` takes a store from version n-1 to n, in
SQLite's words; PostgreSQL gets the same statements with its own types (:func:`postgres_sql`).
A new table (the calling session's journal, say) is a new migration, never an edit of an old
one: a store opened by a newer package is brought up to date, one version after the other.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from ...contacts import normalize
from ...frames import CALLS, MESSAGES, RECORDINGS

_V1 = """
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


#: A mail is claimed by the worker that sends it, until then: no two workers send one mail.
_V2 = """
ALTER TABLE mail_outbox ADD COLUMN claimed_until TEXT;
"""

#: The team's calling-session outcomes (``store/outcomes.py``): the session's outcomes frame, one
#: row per outcome an analyst's journal sent; ``agent`` is the user whose token sent it. A journal
#: that sends again (no answer came back) finds its (agent, outcome_id) taken and stores nothing.
#: Instants are integer nanoseconds (UTC), as the session's journal keeps them.
_V3 = """
CREATE TABLE IF NOT EXISTS team_outcomes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, agent TEXT NOT NULL, outcome_id TEXT NOT NULL,
  queue TEXT NOT NULL, call_sid TEXT, key TEXT NOT NULL, number TEXT, field TEXT, outcome TEXT NOT NULL,
  note TEXT, caller_id TEXT, started_at BIGINT, duration BIGINT, attempt BIGINT, overrides TEXT,
  callback_at BIGINT, recorded_at BIGINT NOT NULL, stored_at TEXT NOT NULL,
  UNIQUE (agent, outcome_id)
);
CREATE INDEX IF NOT EXISTS team_outcomes_by_agent ON team_outcomes(agent, id);
CREATE INDEX IF NOT EXISTS team_outcomes_by_time ON team_outcomes(recorded_at);
"""

#: Version n's statements, in SQLite's words. Append; never change one that shipped.
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3}
SCHEMA_VERSION = max(MIGRATIONS)
#: Serialises the migrations of workers starting together on one PostgreSQL database.
_MIGRATION_LOCK = 7_007_001


def postgres_sql(statements: str) -> str:
    """SQLite's DDL in PostgreSQL's words. PostgreSQL has no ``rowid``: the tables that are read
    newest first with ``rowid`` as the tie-break get an identity column of that name."""
    return (
        statements.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        .replace(" REAL", " DOUBLE PRECISION")
        .replace("sid TEXT PRIMARY KEY,", "sid TEXT PRIMARY KEY, rowid BIGINT GENERATED ALWAYS AS IDENTITY,")
    )


def migrate_sqlite(conn: sqlite3.Connection) -> None:
    """Bring a SQLite store up to ``SCHEMA_VERSION`` (each step in its own transaction)."""
    _migrate(conn.execute, "BEGIN IMMEDIATE", lambda statements: statements)


def migrate_postgres(cur: Any) -> None:
    """Bring a PostgreSQL store up to ``SCHEMA_VERSION``; workers starting together take turns."""
    cur.execute("SELECT pg_advisory_lock(?)", (_MIGRATION_LOCK,))
    try:
        _migrate(cur.execute, "BEGIN", postgres_sql)
    finally:
        cur.execute("SELECT pg_advisory_unlock(?)", (_MIGRATION_LOCK,))


def _migrate(execute: Callable[..., Any], begin: str, dialect: Callable[[str], str]) -> None:
    execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    for version in sorted(MIGRATIONS):
        execute(begin)
        try:
            if _version(execute) < version:
                for statement in _statements(dialect(MIGRATIONS[version])):
                    execute(statement)
                _set_version(execute, version)
            execute("COMMIT")
        except BaseException:
            execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _version(execute: Callable[..., Any]) -> int:
    row = execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row["value"]) if row else 0


def _set_version(execute: Callable[..., Any], version: int) -> None:
    execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(version),))


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


#: One event, keyed by what Twilio repeats when it retries: no row (and no id) when the key is taken.
INSERT_EVENT = ("INSERT INTO events(key, kind, sid, record, created_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT(key) DO NOTHING RETURNING id")
#: One event known to be news (its record held, its key looked for): a key found taken fails.
INSERT_NEW_EVENT = "INSERT INTO events(key, kind, sid, record, created_at) VALUES (?,?,?,?,?) RETURNING id"


@functools.lru_cache(maxsize=64)
def upsert_sql(table: str, cols: tuple[str, ...], source: str = "") -> str:
    """A record's row, inserted or replaced column by column (the statement of :func:`upsert`);
    the rows come from ``source`` (a query of those columns) when given, else from one row of values."""
    updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c != "sid")
    rows = source or f"VALUES ({', '.join('?' * len(cols))})"
    return f"INSERT INTO {table}({', '.join(cols)}) {rows} ON CONFLICT(sid) DO UPDATE SET {updates}"


def upsert(cur: Any, table: str, values: Mapping[str, Any]) -> None:
    cur.execute(upsert_sql(table, tuple(values)), list(values.values()))


def queue_mail(cur: Any, key: str, to_addr: str, subject: str, body: str) -> None:
    """Queue one mail in the transaction of the event it tells about (a key is queued once)."""
    cur.execute(
        "INSERT INTO mail_outbox(key, to_addr, subject, body, created_at) VALUES (?,?,?,?,?)"
        " ON CONFLICT(key) DO NOTHING",
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
