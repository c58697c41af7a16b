"""The session's durable journal: every outcome and the queue's state, written as they happen.

One small interface (:class:`Journal`) so a team's PostgreSQL engine can stand beside the
embedded one later. :class:`SQLiteJournal` keeps its own tables, with their own schema version,
in the routing store's file by default (``twilio-widget.sqlite3`` in the working directory): an
analyst's work sits in one file. Each write is its own committed transaction with
``synchronous=FULL``: once a call returns, a killed kernel or a power cut loses nothing of it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .outcomes import OUTCOME_COLUMNS, outcomes_frame

#: The file the journal uses unless told otherwise: the routing store's (routing/settings.py).
DEFAULT_PATH = "twilio-widget.sqlite3"
SCHEMA_VERSION = 1
#: What the journal keeps of each lead of a queue it has seen worked.
LEAD_STATE = ("attempts", "last_called", "next_at", "callback", "closed", "rank")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS session_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS session_outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, call_sid TEXT, key TEXT NOT NULL,
    number TEXT, field TEXT, outcome TEXT NOT NULL, note TEXT, agent TEXT, caller_id TEXT,
    started_at INTEGER, duration INTEGER, attempt INTEGER, overrides TEXT, callback_at INTEGER,
    recorded_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS session_outcomes_by_queue ON session_outcomes (queue, id);
CREATE TABLE IF NOT EXISTS session_leads (
    queue TEXT NOT NULL, key TEXT NOT NULL, attempts INTEGER NOT NULL, last_called INTEGER,
    next_at INTEGER, callback INTEGER NOT NULL, closed INTEGER NOT NULL, rank INTEGER NOT NULL,
    PRIMARY KEY (queue, key));
CREATE TABLE IF NOT EXISTS session_queues (
    queue TEXT PRIMARY KEY, current TEXT, paused INTEGER NOT NULL, next_rank INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);
"""


class Journal(Protocol):
    """What a session needs of durable storage."""

    def append_outcome(self, row: Mapping[str, Any], lead: Mapping[str, Any]) -> None:
        """Store an outcome and the lead's new state together (both or neither)."""

    def save_lead(self, queue: str, key: Hashable, lead: Mapping[str, Any]) -> None: ...

    def save_queue(self, queue: str, state: Mapping[str, Any]) -> None: ...

    def load_queue(self, queue: str) -> tuple[dict[str, Any] | None, pd.DataFrame]:
        """The queue's saved state (None if never saved) and its leads' states (key + LEAD_STATE)."""

    def outcomes(self, queue: str | None = None) -> pd.DataFrame: ...

    def close(self) -> None: ...


def encode_key(key: Hashable) -> str:
    """A row label as text that reads back as the same label (ints, strings, floats, tuples of them)."""
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, tuple):
        return json.dumps({"tuple": [encode_key(k) for k in key]})
    if isinstance(key, pd.Timestamp):
        return json.dumps({"timestamp": key.isoformat()})
    try:
        return json.dumps(key)
    except TypeError:
        raise ValueError(f"key: row label {key!r} cannot be journaled (use numbers or strings)") from None


def decode_key(text: str) -> Hashable:
    value = json.loads(text)
    if isinstance(value, dict) and "tuple" in value:
        return tuple(decode_key(k) for k in value["tuple"])
    if isinstance(value, dict) and "timestamp" in value:
        return pd.Timestamp(value["timestamp"])
    return value


def _ns(moment: Any) -> int | None:
    if moment is None or moment is pd.NaT or (isinstance(moment, float) and np.isnan(moment)):
        return None
    return int(pd.Timestamp(moment).tz_convert("UTC").value) if pd.Timestamp(moment).tzinfo else \
        int(pd.Timestamp(moment).tz_localize("UTC").value)


class SQLiteJournal:
    """The journal in an SQLite file (WAL, synchronous=FULL), safe to share between threads."""

    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._lock:
            self._db.executescript(_SCHEMA)
            found = self._db.execute("SELECT version FROM session_schema").fetchone()
            if found is None:
                self._db.execute("INSERT INTO session_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            elif found[0] != SCHEMA_VERSION:
                raise ValueError(f"journal: {self.path} holds session schema version {found[0]}, "
                                 f"this twilio-widget reads version {SCHEMA_VERSION}")

    # -- writing --------------------------------------------------------------------------

    def append_outcome(self, row: Mapping[str, Any], lead: Mapping[str, Any]) -> None:
        values = {column: row.get(column) for column in OUTCOME_COLUMNS}
        values["key"] = encode_key(row["key"])
        for column in ("started_at", "callback_at", "recorded_at"):
            values[column] = _ns(values[column])
        with self._lock, self._transaction():
            self._db.execute(f"INSERT INTO session_outcomes ({', '.join(values)}) "
                             f"VALUES ({', '.join('?' * len(values))})", list(values.values()))
            self._write_lead(row["queue"], row["key"], lead)

    def save_lead(self, queue: str, key: Hashable, lead: Mapping[str, Any]) -> None:
        with self._lock, self._transaction():
            self._write_lead(queue, key, lead)

    def save_queue(self, queue: str, state: Mapping[str, Any]) -> None:
        current = state.get("current")
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO session_queues (queue, current, paused, next_rank, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (queue) DO UPDATE SET current=excluded.current, paused=excluded.paused, "
                "next_rank=excluded.next_rank, updated_at=excluded.updated_at",
                (queue, None if current is None else encode_key(current), int(bool(state.get("paused"))),
                 int(state.get("next_rank", 0)), pd.Timestamp.now(tz="UTC").value))

    def _write_lead(self, queue: str, key: Hashable, lead: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO session_leads (queue, key, attempts, last_called, next_at, callback, closed, rank) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (queue, encode_key(key), int(lead["attempts"]), lead.get("last_called"), lead.get("next_at"),
             int(bool(lead["callback"])), int(bool(lead["closed"])), int(lead["rank"])))

    def _transaction(self):
        return _Transaction(self._db)

    # -- reading --------------------------------------------------------------------------

    def load_queue(self, queue: str) -> tuple[dict[str, Any] | None, pd.DataFrame]:
        with self._lock:
            saved = self._db.execute("SELECT current, paused, next_rank FROM session_queues WHERE queue = ?",
                                     (queue,)).fetchone()
            leads = self._db.execute(f"SELECT key, {', '.join(LEAD_STATE)} FROM session_leads WHERE queue = ?",
                                     (queue,)).fetchall()
        frame = pd.DataFrame(leads, columns=["key", *LEAD_STATE], dtype=object)  # no float detour for ns times
        frame["key"] = [decode_key(k) for k in frame["key"]]
        for column in LEAD_STATE:
            frame[column] = pd.array(frame[column], dtype="Int64")
        if saved is None:
            return None, frame
        current, paused, next_rank = saved
        return {"current": None if current is None else decode_key(current), "paused": bool(paused),
                "next_rank": next_rank}, frame

    def outcomes(self, queue: str | None = None) -> pd.DataFrame:
        columns = ", ".join(OUTCOME_COLUMNS)
        where, args = ("WHERE queue = ?", (queue,)) if queue is not None else ("", ())
        with self._lock:
            rows = self._db.execute(f"SELECT {columns} FROM session_outcomes {where} ORDER BY id", args).fetchall()
        frame = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS), dtype=object)  # no float detour for ns times
        frame["key"] = [decode_key(k) for k in frame["key"]]
        for column in ("started_at", "callback_at", "recorded_at"):  # whole nanoseconds, never via float
            frame[column] = pd.to_datetime(pd.array(frame[column], dtype="Int64"), utc=True)
        return outcomes_frame(frame)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an error): one durable step."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def open_journal(journal: Journal | str | Path | None) -> Journal:
    """A journal from the ``journal=`` option: one given, a path, or the default file."""
    if journal is None:
        return SQLiteJournal(DEFAULT_PATH)
    if isinstance(journal, (str, Path)):
        return SQLiteJournal(journal)
    missing = [m for m in ("append_outcome", "save_lead", "save_queue", "load_queue", "outcomes")
               if not callable(getattr(journal, m, None))]
    if missing:
        raise TypeError(f"journal: expected a path or a Journal, got {type(journal).__name__} "
                        f"(missing {', '.join(missing)})")
    return journal
