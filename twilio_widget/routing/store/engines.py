"""The two databases the store runs on, behind the one face the store's parts write through.

- :class:`SqliteEngine`: one file, WAL; embedded, the default (a notebook, one service).
- :class:`PostgresEngine`: a PostgreSQL server (psycopg 3, reads through a psycopg_pool pool);
  a team's service, several workers in several processes on one database.

The store's SQL is written once, in the subset both speak (``?`` placeholders, ``ON CONFLICT``,
``RETURNING``, savepoints); the PostgreSQL cursor turns ``?`` into psycopg's ``%s``. What
differs is said here: how to connect, how a transaction that writes starts, how one record
is locked against another process (SQLite has one writer; PostgreSQL takes an advisory lock
per record for the transaction) and which failures mean "the database is out of reach".
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .schema import INSERT_EVENT, migrate_postgres, migrate_sqlite, upsert, upsert_sql

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class RecordBusy(Exception):
    """Another process holds the record: the write waits for a transaction of its own."""


class StoreUnavailable(Exception):
    """The database cannot be reached (a restart, the network): nothing of the write is stored,
    and the service answers 503 so that Twilio asks again."""


class Cursor(Protocol):
    rowcount: int

    def execute(self, sql: str, args: Iterable[Any] = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Engine(Protocol):
    #: The statement that opens a writing transaction.
    begin: str

    def writer(self) -> Cursor:
        """A cursor on a connection of the writer's own (a new one after ``drop_writer``)."""
        ...

    def drop_writer(self) -> None: ...
    def query(self, sql: str, args: Iterable[Any] = ()) -> list[Mapping[str, Any]]: ...
    def held_row(self, cur: Cursor, table: str, sid: str, *, wait: bool) -> dict[str, Any]: ...
    def event_with_row(self, cur: Cursor, event: Sequence[Any], table: str, values: Mapping[str, Any]) -> int | None:
        """The event (:data:`~.schema.INSERT_EVENT`'s values) and, only when it is news, the record's
        new row; the event's id, or None for a retry (then nothing changed)."""
        ...

    def unavailable(self, exc: BaseException) -> bool: ...
    def close(self) -> None: ...


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith(POSTGRES_SCHEMES)


def open_engine(target: str | Path, *, durability: str = "FULL") -> Engine:
    """The engine for a PostgreSQL URL, or else for a SQLite file at ``target``."""
    if is_postgres(target):
        return PostgresEngine(str(target))
    return SqliteEngine(target, durability=durability)


class SqliteEngine:
    begin = "BEGIN IMMEDIATE"

    def __init__(self, path: str | Path, *, durability: str = "FULL") -> None:
        if str(path) == ":memory:" or not str(path):
            raise ValueError("path: the store needs a file (it is shared by two connections)")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.durability = durability.upper()
        self._wconn: sqlite3.Connection | None = None
        migrate_sqlite(self._writer_connection())
        self._rconn = self._connect()
        self._rlock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.durability}")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _writer_connection(self) -> sqlite3.Connection:
        if self._wconn is None:
            self._wconn = self._connect()
        return self._wconn

    def writer(self) -> Cursor:
        return self._writer_connection().cursor()

    def drop_writer(self) -> None:
        """A file does not go away: the writer keeps its connection."""

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[Mapping[str, Any]]:
        with self._rlock:
            return self._rconn.execute(sql, tuple(args)).fetchall()

    def held_row(self, cur: Cursor, table: str, sid: str, *, wait: bool) -> dict[str, Any]:
        """The row as it stands; BEGIN IMMEDIATE already made this the only writer of the file."""
        row = cur.execute(f"SELECT * FROM {table} WHERE sid=?", (sid,)).fetchone()
        return dict(row) if row else {}

    def event_with_row(self, cur: Cursor, event: Sequence[Any], table: str, values: Mapping[str, Any]) -> int | None:
        """Two statements: in-process, a statement costs no round trip."""
        row = cur.execute(INSERT_EVENT, event).fetchone()
        if row is None:
            return None
        upsert(cur, table, values)
        return int(row["id"])

    def unavailable(self, exc: BaseException) -> bool:
        return False

    def close(self) -> None:
        with self._rlock:
            self._rconn.close()
        if self._wconn is not None:
            self._wconn.close()

    def __str__(self) -> str:
        return str(self.path)


class PostgresCursor:
    """A psycopg cursor that takes the store's ``?`` placeholders."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, args: Iterable[Any] = ()) -> PostgresCursor:
        self._cursor.execute(to_psycopg(sql), tuple(args))
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


@functools.lru_cache(maxsize=256)
def to_psycopg(sql: str) -> str:
    """The store's SQL with psycopg's placeholders (no statement of the store holds a literal
    ``?`` or ``%``)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresEngine:
    begin = "BEGIN"
    #: Reads run on a small pool; the writer has a connection of its own.
    POOL_SIZE = 4
    CONNECT_SECONDS = 5.0

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.url = url
        self._connect_args = {"autocommit": True, "row_factory": dict_row, "connect_timeout": 5}
        self._wconn: Any = None
        try:
            with psycopg.connect(url, **self._connect_args) as conn:
                migrate_postgres(PostgresCursor(conn.cursor()))
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"database: cannot connect ({_first_line(exc)})") from None
        self._pool = ConnectionPool(url, min_size=1, max_size=self.POOL_SIZE, kwargs=self._connect_args,
                                    timeout=self.CONNECT_SECONDS, open=True, name="twilio-widget-store")

    def writer(self) -> Cursor:
        if self._wconn is None or self._wconn.closed:
            try:
                self._wconn = self._psycopg.connect(self.url, **self._connect_args)
            except self._psycopg.OperationalError as exc:
                raise StoreUnavailable(f"database: cannot connect ({_first_line(exc)})") from None
        return PostgresCursor(self._wconn.cursor())

    def drop_writer(self) -> None:
        if self._wconn is not None:
            self._wconn.close()
            self._wconn = None

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[Mapping[str, Any]]:
        from psycopg_pool import PoolTimeout

        for attempt in (1, 2):  # a connection broken by a restart is dropped by the pool: once more
            try:
                with self._pool.connection() as conn:
                    return conn.execute(to_psycopg(sql), tuple(args)).fetchall()
            except (self._psycopg.OperationalError, PoolTimeout) as exc:
                if attempt == 2 or isinstance(exc, PoolTimeout):
                    raise StoreUnavailable(f"database: {_first_line(exc)}") from None
        raise AssertionError("unreachable")

    def held_row(self, cur: Cursor, table: str, sid: str, *, wait: bool) -> dict[str, Any]:
        """The row, locked until this transaction ends: another worker's write of the same record
        waits, so statuses arriving at two workers at once still never move a record backwards.
        ``FOR UPDATE`` reads the row as the writer it waited for left it, in one round trip. A
        record not stored yet has no row to lock: its first writers take turns on an advisory
        lock of its key, then lock the row one of them may have stored meanwhile.

        A transaction of many writes never waits (``wait=False``: :class:`RecordBusy` when the
        record is taken), only one of a single write does; so no two transactions can each hold
        what the other waits for, and no deadlock costs a second of waiting."""
        row = self._row_for_update(cur, table, sid, wait)
        if row is None:
            key = f"{table}:{sid}"
            if wait:
                cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))
            elif not cur.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0)) AS held",
                                 (key,)).fetchone()["held"]:
                raise RecordBusy(key)
            row = self._row_for_update(cur, table, sid, wait)
        return dict(row) if row else {}

    def _row_for_update(self, cur: Cursor, table: str, sid: str, wait: bool) -> Any:
        try:
            return cur.execute(f"SELECT * FROM {table} WHERE sid=? FOR UPDATE{'' if wait else ' NOWAIT'}",
                               (sid,)).fetchone()
        except self._psycopg.errors.LockNotAvailable:
            raise RecordBusy(f"{table}:{sid}") from None

    def event_with_row(self, cur: Cursor, event: Sequence[Any], table: str, values: Mapping[str, Any]) -> int | None:
        """One statement, one round trip: the row's upsert updates only when the event was inserted
        (a retry's event is there, and so is its record's row)."""
        row = cur.execute(_event_with_row_sql(table, tuple(values)), (*event, *values.values())).fetchone()
        return int(row["id"]) if row else None

    def unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.OperationalError | StoreUnavailable)

    def close(self) -> None:
        self._pool.close()
        self.drop_writer()

    def __str__(self) -> str:
        return redacted(self.url)


@functools.lru_cache(maxsize=64)
def _event_with_row_sql(table: str, cols: tuple[str, ...]) -> str:
    return (f"WITH event AS ({INSERT_EVENT}) {upsert_sql(table, cols)} WHERE EXISTS (SELECT 1 FROM event)"
            " RETURNING (SELECT id FROM event) AS id")


def redacted(url: str) -> str:
    """A database URL without its password, for logs and reprs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
