"""The session's durable journal: every outcome and the queue's state, written as they happen.

One small interface (:class:`Journal`) so a team's PostgreSQL engine can stand beside the
embedded one later. :class:`SQLiteJournal` keeps its own tables, with their own schema version,
in the routing store's file by default (``twilio-widget.sqlite3`` in the working directory): an
analyst's work sits in one file. Each write is its own committed transaction with
``synchronous=FULL``: once a call returns, a killed kernel or a power cut loses nothing of it.

The journal keeps outcomes in a *stored form* (the row label as JSON text, instants as integer
nanoseconds, UTC); a team's service receives and keeps them in the same form
(:func:`stored_outcome`, :func:`stored_problem`, :func:`outcomes_of_stored`). For a phone
connected to a team's service the journal is also the outbox of what the service has not
acknowledged yet (``session_team_outbox``, see ``team_journal.py``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from .outcomes import OUTCOME_COLUMNS, outcomes_frame

if TYPE_CHECKING:
    from ..team_client import TeamClient

#: The file the journal uses unless told otherwise: the routing store's (routing/settings.py).
DEFAULT_PATH = "twilio-widget.sqlite3"
#: 2 added the outbox of outcomes a team's service has not acknowledged yet.
SCHEMA_VERSION = 2
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
CREATE TABLE IF NOT EXISTS session_team_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, outcome_id TEXT NOT NULL UNIQUE,
    outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS session_team_outbox_by_target ON session_team_outbox (target, seq);
"""

#: How each outcome column is stored and sent: text, a whole number, or an instant in integer
#: nanoseconds since the epoch (UTC; never through a float, which would round it).
STORED_KINDS: dict[str, str] = {column: "time" if dtype.startswith("datetime64") else "int" if dtype == "Int64"
                                else "text" for column, dtype in OUTCOME_COLUMNS.items()}
#: Columns a stored outcome cannot leave empty (NOT NULL in every table that keeps outcomes).
STORED_REQUIRED = ("queue", "key", "outcome", "recorded_at")
#: The longest text a stored outcome may carry: a note, or any other column.
MAX_NOTE = 10_000
MAX_TEXT = 1_000
_INT_RANGE = {"int": (0, 2**31 - 1), "time": (-(2**63) + 1, 2**63 - 1)}


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


def stored_outcome(row: Mapping[str, Any]) -> dict[str, Any]:
    """An outcome row (as the session records it) in the stored form, every column present."""
    values: dict[str, Any] = {}
    for column, kind in STORED_KINDS.items():
        value = row.get(column)
        if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            values[column] = None
        elif column == "key":
            values[column] = encode_key(value)
        else:
            values[column] = _ns(value) if kind == "time" else int(value) if kind == "int" else str(value)
    return values


def stored_problem(row: Any) -> str | None:
    """What is wrong with an outcome in the stored form (``column: problem``), or None."""
    if not isinstance(row, Mapping):
        return "an outcome must be an object of its columns"
    for column in row:
        if column not in STORED_KINDS:
            return f"{column}: not a column of an outcome ({', '.join(STORED_KINDS)})"
    for column in STORED_REQUIRED:
        if row.get(column) in (None, ""):
            return f"{column}: missing"
    for column, value in row.items():
        if value is not None and (why := _value_problem(column, STORED_KINDS[column], value)):
            return f"{column}: {why}"
    return None


def _value_problem(column: str, kind: str, value: Any) -> str | None:
    if kind == "text":
        if not isinstance(value, str):
            return f"expected text or null, not {type(value).__name__}"
        limit = MAX_NOTE if column == "note" else MAX_TEXT
        if len(value) > limit:
            return f"{len(value)} characters; at most {limit}"
        return "holds a NUL character" if "\x00" in value else None
    low, high = _INT_RANGE[kind]
    if isinstance(value, bool) or not isinstance(value, int):
        unit = "nanoseconds since the epoch" if kind == "time" else "a whole number"
        return f"expected {unit} or null, not {type(value).__name__}"
    return None if low <= value <= high else f"{value} is out of range"


def outcomes_of_stored(rows: Iterable[Sequence[Any]], columns: Sequence[str] = tuple(OUTCOME_COLUMNS)) -> pd.DataFrame:
    """Stored rows (sequences in the order of ``columns``) as the typed outcomes frame."""
    frame = pd.DataFrame(list(rows), columns=list(columns), dtype=object)  # no float detour for ns times
    frame["key"] = [decode_key(k) for k in frame["key"]]
    for column, kind in STORED_KINDS.items():
        if kind == "time" and column in frame:  # whole nanoseconds, never via float
            frame[column] = pd.to_datetime(pd.array(frame[column], dtype="Int64"), utc=True)
    return outcomes_frame(frame)


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
            elif found[0] > SCHEMA_VERSION:
                raise ValueError(f"journal: {self.path} holds session schema version {found[0]}, "
                                 f"this twilio-widget reads version {SCHEMA_VERSION}")
            elif found[0] < SCHEMA_VERSION:  # each version only added tables, created above
                self._db.execute("UPDATE session_schema SET version = ?", (SCHEMA_VERSION,))

    # -- writing --------------------------------------------------------------------------

    def append_outcome(self, row: Mapping[str, Any], lead: Mapping[str, Any], *, send_to: str | None = None) -> None:
        """``send_to``: also put the outcome in the outbox of that team service, in the same
        transaction, under an id of its own (the service stores each id once)."""
        values = stored_outcome(row)
        with self._lock, self._transaction():
            self._db.execute(f"INSERT INTO session_outcomes ({', '.join(values)}) "
                             f"VALUES ({', '.join('?' * len(values))})", list(values.values()))
            self._write_lead(row["queue"], row["key"], lead)
            if send_to is not None:
                self._queue_for(send_to, values)

    # -- the outbox of a team's service ------------------------------------------------------

    def _queue_for(self, target: str, values: Mapping[str, Any]) -> None:
        """An outcome (stored form) into ``target``'s outbox under an id of its own (the service
        stores each id once); in the caller's transaction."""
        sent = {k: v for k, v in values.items() if k != "agent"}  # the service knows who sends
        self._db.execute("INSERT INTO session_team_outbox (target, outcome_id, outcome) VALUES (?, ?, ?)",
                         (target, uuid.uuid4().hex, json.dumps(sent)))

    def last_outcome_id(self) -> int:
        """Where the journal's outcomes stand now (for :meth:`queue_since`)."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(id), 0) FROM session_outcomes").fetchone()[0])

    def queue_since(self, target: str, queue: str, after_id: int) -> int:
        """Put the outcomes of ``queue`` recorded since :meth:`last_outcome_id` was ``after_id``
        into ``target``'s outbox, in one transaction; how many (see ``TeamJournal.send_earlier``)."""
        columns = list(STORED_KINDS)
        with self._lock, self._transaction():
            rows = self._db.execute(f"SELECT {', '.join(columns)} FROM session_outcomes WHERE queue = ? AND id > ? "
                                    "ORDER BY id", (queue, int(after_id))).fetchall()
            for row in rows:
                self._queue_for(target, dict(zip(columns, row, strict=True)))
        return len(rows)

    def unsent(self, target: str, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """The oldest outcomes waiting for ``target``: (seq, the outcome with its ``outcome_id``)."""
        with self._lock:
            rows = self._db.execute("SELECT seq, outcome_id, outcome FROM session_team_outbox WHERE target = ? "
                                    "ORDER BY seq LIMIT ?", (target, int(limit))).fetchall()
        return [(seq, {"outcome_id": outcome_id, **json.loads(outcome)}) for seq, outcome_id, outcome in rows]

    def mark_sent(self, target: str, seqs: Iterable[int]) -> None:
        wanted = [int(seq) for seq in seqs]
        with self._lock, self._transaction():
            self._db.execute(f"DELETE FROM session_team_outbox WHERE target = ? AND seq IN "
                             f"({', '.join('?' * len(wanted))})", (target, *wanted))

    def unsent_count(self, target: str) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM session_team_outbox WHERE target = ?",
                                        (target,)).fetchone()[0])

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
        return outcomes_of_stored(rows)

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


def open_journal(journal: Journal | str | Path | None,
                 team: Callable[[], TeamClient | None] = lambda: None) -> Journal:
    """A journal from the ``journal=`` option: one given, a path, or the default file. With the
    phone connected to a team's service now (``team()``: its connection), a file's outcomes go
    to that service too."""
    if journal is None or isinstance(journal, (str, Path)):
        local = SQLiteJournal(DEFAULT_PATH if journal is None else journal)
        if team() is None:
            return local
        from .team_journal import TeamJournal

        return TeamJournal(local, team)
    missing = [m for m in ("append_outcome", "save_lead", "save_queue", "load_queue", "outcomes")
               if not callable(getattr(journal, m, None))]
    if missing:
        raise TypeError(f"journal: expected a path or a Journal, got {type(journal).__name__} "
                        f"(missing {', '.join(missing)})")
    return journal
