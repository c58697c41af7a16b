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
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .changes import News
from .schema import INSERT_NEW_EVENT, migrate_postgres, migrate_sqlite, upsert, upsert_sql

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
#: Rows to write, by table and columns (:meth:`~.changes.Plan.rows_to_write`).
RowGroups = Mapping[tuple[str, tuple[str, ...]], Sequence[Mapping[str, Any]]]
#: New events' ids by key, to read once the transaction's next statement is sent.
EventIds = Callable[[], dict[str, int]]


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
    def start(self, cur: Cursor) -> None:
        """Open a writing transaction (on PostgreSQL, sent with the first statement in it)."""
        ...

    def writer(self) -> Cursor:
        """A cursor on a connection of the writer's own (a new one after ``drop_writer``)."""
        ...

    def drop_writer(self) -> None: ...
    def query(self, sql: str, args: Iterable[Any] = ()) -> list[Mapping[str, Any]]: ...
    def lock(self, cur: Cursor, keys: Sequence[str], *, wait: bool) -> set[str]:
        """The records of ``keys`` (``<table>:<sid>``) held against writers in other processes until
        the transaction ends: all of them when ``wait``, else those nobody else holds now."""
        ...

    def rows(self, cur: Cursor, table: str, sids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The rows of these sids that exist, by sid."""
        ...

    def read_for_changes(self, cur: Cursor, keys: Sequence[str], *, wait: bool, wanted: Mapping[str, Sequence[str]],
                         events: Sequence[str]) -> tuple[set[str], dict[tuple[str, str], dict[str, Any]], set[str]]:
        """What a batch of status changes needs, in this order: the records of ``keys`` held
        (:meth:`lock`), then the rows of the ``wanted`` sids by table, and which of the event keys
        ``events`` are stored (read after the locks are taken, so as their holders left them)."""
        ...

    def write_changes(self, cur: Cursor, news: Sequence[News],
                      rows: RowGroups) -> EventIds:
        """The new events and the rows (by table and columns, each inserted or replaced column by
        column); what it returns gives each event's id once the transaction's next statement (its
        COMMIT) is sent. An event whose key is stored fails the transaction: with its record held,
        only a writer that ignores the locks could have stored it."""
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

    def start(self, cur: Cursor) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def drop_writer(self) -> None:
        """A file does not go away: the writer keeps its connection."""

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[Mapping[str, Any]]:
        with self._rlock:
            return self._rconn.execute(sql, tuple(args)).fetchall()

    def lock(self, cur: Cursor, keys: Sequence[str], *, wait: bool) -> set[str]:
        """BEGIN IMMEDIATE already made this the only writer of the file."""
        return set(keys)

    def rows(self, cur: Cursor, table: str, sids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = cur.execute(f"SELECT * FROM {table} WHERE sid IN (SELECT value FROM json_each(?))",
                            (json.dumps(list(sids)),)).fetchall()
        return {row["sid"]: dict(row) for row in found}

    def read_for_changes(self, cur: Cursor, keys: Sequence[str], *, wait: bool, wanted: Mapping[str, Sequence[str]],
                         events: Sequence[str]) -> tuple[set[str], dict[tuple[str, str], dict[str, Any]], set[str]]:
        rows = {(table, sid): row for table, sids in wanted.items() for sid, row in self.rows(cur, table, sids).items()}
        found = cur.execute("SELECT key FROM events WHERE key IN (SELECT value FROM json_each(?))",
                            (json.dumps(list(events)),)).fetchall()
        return self.lock(cur, keys, wait=wait), rows, {row["key"] for row in found}

    def write_changes(self, cur: Cursor, news: Sequence[News],
                      rows: RowGroups) -> EventIds:
        """A statement each, at once: in-process, a statement costs no round trip."""
        ids = {}
        for e in news:
            ids[e.key] = int(cur.execute(INSERT_NEW_EVENT, (e.key, e.kind, e.sid, e.event_json, e.created_at))
                             .fetchone()["id"])
        for (table, _), values in rows.items():
            for one in values:
                upsert(cur, table, one)
        return lambda: ids

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
    """A psycopg cursor that takes the store's ``?`` placeholders, and sends a statement whose
    answer nobody reads with the next one that needs its own (:meth:`execute_later`)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._later: list[Later] = []

    def execute(self, sql: str, args: Iterable[Any] = ()) -> PostgresCursor:
        if not self._later:
            self._cursor.execute(to_psycopg(sql), tuple(args))
            return self
        later, self._later = self._later, []
        conn = self._cursor.connection
        with conn.pipeline():
            for statement in later:
                statement.send(conn)
            self._cursor.execute(to_psycopg(sql), tuple(args))
        return self

    def execute_later(self, sql: str, args: Iterable[Any] = ()) -> Later:
        """Send this with the next statement, in one round trip (its rows: :meth:`Later.rows`, once
        sent); a failure of this one fails that one, as any failure in a transaction fails what
        follows."""
        statement = Later(sql, tuple(args))
        self._later.append(statement)
        return statement

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def pipeline(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
        """The statements sent together and run in order (one round trip); each one's rows. A
        failure fails them all, as any failure in a transaction does."""
        later, self._later = self._later, []
        conn = self._cursor.connection
        cursors = [conn.cursor() for _ in statements]
        with conn.pipeline():
            for statement in later:
                statement.send(conn)
            for cursor, (sql, args) in zip(cursors, statements, strict=True):
                cursor.execute(to_psycopg(sql), tuple(args))
        return [cursor.fetchall() if cursor.description is not None else [] for cursor in cursors]


class Later:
    """A statement sent with the next one (:meth:`PostgresCursor.execute_later`)."""

    __slots__ = ("sql", "args", "_cursor")

    def __init__(self, sql: str, args: tuple[Any, ...]) -> None:
        self.sql, self.args = sql, args
        self._cursor: Any = None

    def send(self, conn: Any) -> None:
        self._cursor = conn.cursor()
        self._cursor.execute(to_psycopg(self.sql), self.args)

    def rows(self) -> list[Any]:
        if self._cursor is None:
            raise RuntimeError("store: a statement's rows read before it was sent")
        return self._cursor.fetchall()


@functools.lru_cache(maxsize=256)
def to_psycopg(sql: str) -> str:
    """The store's SQL with psycopg's placeholders (no statement of the store holds a literal
    ``?`` or ``%``)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresEngine:
    #: Reads run on a small pool; the writer has a connection of its own.
    POOL_SIZE = 4
    CONNECT_SECONDS = 5.0

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.url = url
        # Plans made for the values at hand: psycopg prepares a statement run often, and PostgreSQL's
        # generic plan of one first run on a near-empty table scans it whole ever after.
        given = conninfo_to_dict(url).get("options") or ""
        self._connect_args = {"autocommit": True, "row_factory": dict_row, "connect_timeout": 5,
                              "options": f"{given} -c plan_cache_mode=force_custom_plan".strip()}
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

    def start(self, cur: Cursor) -> None:
        cur.execute_later("BEGIN")  # type: ignore[attr-defined]

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

    def lock(self, cur: Cursor, keys: Sequence[str], *, wait: bool) -> set[str]:
        """Every writer of a record holds a transaction-scoped advisory lock on its key, whether
        its row exists yet or not: so two statuses of one call at two workers take turns, and the
        second reads the row as the first committed it. A transaction of many writes never waits
        (it takes the keys it can, in one statement), only one of a single write does; so no two
        transactions each hold what the other waits for, and no deadlock costs a second."""
        results = cur.pipeline(_locking(keys, wait))  # type: ignore[attr-defined]
        return {row["k"] for row in results[0]} if not wait else set(keys)

    def rows(self, cur: Cursor, table: str, sids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = cur.execute(_rows_sql(table), (list(sids),)).fetchall()
        return {row["sid"]: row for row in found}

    def read_for_changes(self, cur: Cursor, keys: Sequence[str], *, wait: bool, wanted: Mapping[str, Sequence[str]],
                         events: Sequence[str]) -> tuple[set[str], dict[tuple[str, str], dict[str, Any]], set[str]]:
        """One round trip: the statements go together in psycopg's pipeline mode, and run in order
        (each read takes its snapshot after the locks are held). Rows of records not held are read
        too, and left unused."""
        locking = _locking(keys, wait)
        tables = list(wanted)
        results = cur.pipeline([*locking, *((_rows_sql(t), (list(wanted[t]),)) for t in tables),  # type: ignore[attr-defined]
                                ("SELECT key FROM events WHERE key = ANY(?::text[])", (list(events),))])
        held = {row["k"] for row in results[0]} if not wait else set(keys)
        reads = results[len(locking):]
        rows = {(t, row["sid"]): row for t, found in zip(tables, reads, strict=False) for row in found}
        return held, rows, {row["key"] for row in reads[-1]}

    def write_changes(self, cur: Cursor, news: Sequence[News],
                      rows: RowGroups) -> EventIds:
        """A statement for the events and one a table for the rows, each of them one JSON array
        read as the table's own row type, sent with the transaction's next statement (its COMMIT:
        one round trip for the writes and the commit)."""
        events = [{"key": e.key, "kind": e.kind, "sid": e.sid, "record": e.event_json, "created_at": e.created_at}
                  for e in news]
        inserted = cur.execute_later(_INSERT_EVENTS, (json.dumps(events),))  # type: ignore[attr-defined]
        for (table, cols), values in rows.items():
            cur.execute_later(_write_rows_sql(table, cols), (json.dumps(list(values), default=str),))  # type: ignore[attr-defined]
        return lambda: {row["key"]: int(row["id"]) for row in inserted.rows()}

    def unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.OperationalError | StoreUnavailable)

    def close(self) -> None:
        self._pool.close()
        self.drop_writer()

    def __str__(self) -> str:
        return redacted(self.url)


def _locking(keys: Sequence[str], wait: bool) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements that lock these records: one that takes those it can (its rows: the keys
    held), or one a key that waits for each, in one order (so two waiters never deadlock)."""
    if not wait:
        return [(_TRY_LOCKS, (list(keys),))]
    return [("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,)) for key in sorted(keys)]


def _rows_sql(table: str) -> str:
    return f"SELECT * FROM {table} WHERE sid = ANY(?::text[])"


_TRY_LOCKS = "SELECT k FROM unnest(?::text[]) AS k WHERE pg_try_advisory_xact_lock(hashtextextended(k, 0))"
_INSERT_EVENTS = ("INSERT INTO events(key, kind, sid, record, created_at)"
                  " SELECT key, kind, sid, record, created_at FROM json_populate_recordset(NULL::events, ?::json)"
                  " RETURNING id, key")


@functools.lru_cache(maxsize=64)
def _write_rows_sql(table: str, cols: tuple[str, ...]) -> str:
    rows = f"SELECT {', '.join(cols)} FROM json_populate_recordset(NULL::{table}, ?::json)"
    return upsert_sql(table, cols, source=rows)


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
