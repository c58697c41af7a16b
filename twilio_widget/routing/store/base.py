"""The store's plumbing: one file, two connections, one writer thread, and the events table."""

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
from pathlib import Path
from typing import Any

from .schema import Recorded, create_schema, now_iso, queue_mail, upsert


def writes(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a write method on the store's writer thread and wait for its commit."""

    @functools.wraps(method)
    def wrapper(self: StoreBase, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is self._writer:
            return method(self, *args, **kwargs)
        return self.submit(wrapper.__get__(self), *args, **kwargs).result()

    return wrapper


class StoreBase:
    """The connections and the writer thread every part of the store writes through.

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
        create_schema(self._wconn)
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

    def __enter__(self) -> StoreBase:
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

    @staticmethod
    def _stored(cur: sqlite3.Cursor, table: str, sid: str) -> dict[str, Any]:
        """The row of ``sid`` in ``table`` as it stands ({} when there is none yet)."""
        row = cur.execute(f"SELECT * FROM {table} WHERE sid=?", (sid,)).fetchone()
        return dict(row) if row else {}

    def _store_news(self, cur: sqlite3.Cursor, table: str, kind: str, *, merged: dict[str, Any],
                    record: dict[str, Any], status: str, stored: dict[str, Any] | None,
                    mail: tuple[str, str, str] | None = None) -> Recorded:
        """One webhook's news, in the caller's transaction: its event, the row's new state,
        and the mail telling of it. A retry (its event already there) changes nothing and
        gets the row as ``stored``."""
        sid = merged["sid"]
        event_id = self._event(cur, f"{kind}:{sid}:{status}", kind, sid, {**record, "status": status})
        if event_id is None:
            return Recorded(stored or record, False)
        upsert(cur, table, merged)
        if mail:
            queue_mail(cur, f"{kind}:{sid}", *mail)
        return Recorded(record, True, event_id)

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
