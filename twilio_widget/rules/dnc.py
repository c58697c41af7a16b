"""The do-not-call list, kept on disk: numbers no one may call or text.

One list with two kinds of entry, in the routing store's SQLite file by default:

- numbers put on it by hand, from a CSV or a DataFrame, or by a "do not call" outcome
  (table ``do_not_call``, with their source);
- numbers that replied STOP, which the routing service already records as opt-outs
  (table ``opt_outs`` of routing/store): they are on the list as they are, source "STOP reply",
  without a copy that could disagree. Unblocking such a number lifts its opt-out, as START does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..contacts import normalize
from ..routing.store.schema import migrate_sqlite, now_iso

DEFAULT_PATH = "twilio-widget.sqlite3"
STOP_REPLY = "STOP reply"

_DDL = """
CREATE TABLE IF NOT EXISTS do_not_call (
  number TEXT PRIMARY KEY, source TEXT NOT NULL, since TEXT NOT NULL
);
"""
_LISTED = """
SELECT number, source, since FROM do_not_call
UNION ALL
SELECT number, ?, since FROM opt_outs WHERE number NOT IN (SELECT number FROM do_not_call)
"""


class DoNotCall:
    """The do-not-call list in the SQLite file at ``path`` (shared with the routing store)."""

    def __init__(self, path: str | Path = DEFAULT_PATH, *, region: str = "US") -> None:
        self.path = Path(path)
        self.region = region
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        migrate_sqlite(self._conn)  # the opt-outs live in the routing store's tables
        self._conn.executescript(_DDL)

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction, one writer at a time in this process (the routing store may write beside it)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _numbers(self, numbers: str | Iterable[str] | pd.Series, field: str) -> list[str]:
        values = [numbers] if isinstance(numbers, str) else list(numbers)
        found = []
        for i, value in enumerate(values):
            number = normalize(str(value), self.region)
            if not number:
                raise ValueError(f"{field}[{i}]: {value!r} is not a phone number")
            found.append(number)
        return found

    def block(self, numbers: str | Iterable[str] | pd.Series, *, source: str) -> int:
        """Put numbers on the list (a number already on it keeps its first source); how many were new."""
        if not isinstance(source, str) or not source.strip():
            raise ValueError("source: say where the numbers come from (e.g. 'customer request', 'outcome')")
        rows = [(n, source.strip(), now_iso()) for n in dict.fromkeys(self._numbers(numbers, "numbers"))]
        with self._writing() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO do_not_call(number, source, since) VALUES (?,?,?)", rows)
            return conn.total_changes - before

    def unblock(self, numbers: str | Iterable[str] | pd.Series) -> int:
        """Take numbers off the list (an opt-out by STOP is lifted too); how many were on it."""
        wanted = [(n,) for n in dict.fromkeys(self._numbers(numbers, "numbers"))]
        removed = 0
        with self._writing() as conn:
            for row in wanted:
                listed = conn.execute("DELETE FROM do_not_call WHERE number=?", row).rowcount
                opted_out = conn.execute("DELETE FROM opt_outs WHERE number=?", row).rowcount
                removed += bool(listed or opted_out)
        return removed

    def is_blocked(self, number: str) -> bool:
        n = normalize(str(number), self.region)
        with self._lock:
            found = self._conn.execute(
                "SELECT 1 FROM do_not_call WHERE number=? UNION ALL SELECT 1 FROM opt_outs WHERE number=?", (n, n)
            ).fetchone()
        return found is not None

    def source(self, number: str) -> str | None:
        """Why ``number`` is on the list (its source), None when it is not."""
        n = normalize(str(number), self.region)
        with self._lock:
            row = self._conn.execute(f"SELECT source FROM ({_LISTED}) WHERE number=?", (STOP_REPLY, n)).fetchone()
        return row[0] if row else None

    def frame(self) -> pd.DataFrame:
        """The whole list: number, source, since (datetime64 UTC), oldest first."""
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM ({_LISTED}) ORDER BY since, number", (STOP_REPLY,)).fetchall()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=["number", "source", "since"])
        frame = frame.astype({"number": "string", "source": "string"})
        frame["since"] = pd.to_datetime(frame["since"], utc=True, format="ISO8601")
        return frame

    def sources_of(self, numbers: pd.Series) -> pd.Series:
        """For a column of E.164 numbers, the source of those on the list, <NA> for the others."""
        listed = self.frame()
        by_number = pd.Series(listed["source"].to_numpy(), index=listed["number"].to_numpy())
        return numbers.map(by_number).astype("string")

    def load(self, data: pd.DataFrame | str | Path, *, column: str = "number", source: str | None = None) -> int:
        """Block every number of a DataFrame's (or CSV file's) ``column``; ``source`` defaults to the file's name."""
        if not isinstance(data, pd.DataFrame):
            source = source or f"file {Path(data).name}"
            data = pd.read_csv(data, dtype=str)
        if column not in data.columns:
            raise ValueError(f"column: {column!r} is not a column of the list (columns: {', '.join(map(str, data))})")
        values = data[column].dropna().astype(str).str.strip()
        return self.block(values[values != ""], source=source or "list")

    def close(self) -> None:
        self._conn.close()
