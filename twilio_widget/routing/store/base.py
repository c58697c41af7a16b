"""The store's plumbing: the engine's connections, one writer thread, and the events table."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .changes import StatusChange, lock_key, store_changes
from .engines import Cursor, RecordBusy, StoreUnavailable, open_engine
from .schema import INSERT_EVENT, Recorded, now_iso

log = logging.getLogger(__name__)


class LoopWaiter:
    """A write awaited on an event loop (the service's requests). The writer settles all of a
    batch's waiters of one loop with one call into that loop, not one wake-up per write."""

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future = loop.create_future()

    def running(self) -> bool:
        return False

    def set_running_or_notify_cancel(self) -> bool:
        return not self.future.cancelled()

    def done(self) -> bool:
        return self.future.done()


#: A write waiting for the writer (a thread's future, or a loop's waiter), and what became of it.
Waiter = Future | LoopWaiter
#: What the writer runs: a status write's change, or a call of any other write method.
Work = Callable[[], Any] | StatusChange
Job = tuple[Waiter, Work]
Outcome = tuple[Waiter, Any, BaseException | None]


def writes(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a write method on the store's writer thread and wait for its commit."""

    @functools.wraps(method)
    def wrapper(self: StoreBase, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is self._writer:
            return method(self, *args, **kwargs)
        return self.submit(wrapper.__get__(self), *args, **kwargs).result()

    return wrapper


def status_write(build: Callable[..., StatusChange]) -> Callable[..., Recorded]:
    """A write of a record's status: ``build`` says what changes, in the caller's thread; the
    writer stores it with the others waiting (see :class:`~.changes.Plan`), and the call returns
    what became of it once committed. ``submit``/``submit_async`` of the method queue its change."""

    @functools.wraps(build)
    def wrapper(self: StoreBase, *args: Any, **kwargs: Any) -> Recorded:
        if threading.current_thread() is self._writer:
            raise RuntimeError("a status write waits for the writer: it cannot run on the writer thread")
        return self.submit(wrapper.__get__(self), *args, **kwargs).result()

    wrapper.build = build  # type: ignore[attr-defined]
    return wrapper


class StoreBase:
    """The connections and the writer thread every part of the store writes through.

    ``target`` is a SQLite file (the default engine) or a ``postgresql://`` URL (see
    ``engines``). Writes go through one writer thread that commits whatever is waiting in
    one transaction (group commit: one fsync for many webhooks; each write in its own
    savepoint, so one failing write does not undo the others). A write method returns only
    once its transaction is committed. Reads use other connections (WAL, or PostgreSQL's
    pool). ``submit`` queues a write and returns a future, for the ASGI app to await.
    Several processes may share a PostgreSQL store: what must hold across them (one event
    per retry, no record moving backwards) is held by the database's constraints and locks.
    """

    MAX_BATCH = 512
    #: While writes come from several requests at once (the last batch had more than one, or more
    #: came while it was being committed, under BUSY_SECONDS ago), a batch waits GATHER_SECONDS
    #: for others to join it: a transaction's fixed cost (its round trips, its fsync, the writer's
    #: and the loop's wake-ups) is then shared by more writes, at the price of that wait (a fifth
    #: of the 50 ms a webhook's answer is allowed at p99; on SQLite, whose transactions cost less,
    #: it raised the fixed 500/s p99 from 9 to 16 ms for no CPU measured). A lone write, or one
    #: caller writing one write after the other, never waits.
    BUSY_SECONDS = 0.005
    GATHER_SECONDS = 0.010

    def __init__(self, target: str | Path, *, durability: str = "FULL") -> None:
        self._engine = open_engine(target, durability=durability)
        self.path = str(self._engine)
        self._wcur: Cursor | None = None
        self._waits = False  # whether this transaction waits for records other workers hold
        self._committed_at = 0.0  # time.monotonic() when the last batch ended
        self._concurrent = False  # whether writes came from several callers at once then
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._closed = False
        self._writer = threading.Thread(
            target=self._write_loop, daemon=True, name=f"twilio-widget-store:{Path(self.path).name}"
        )
        self._writer.start()

    # --- plumbing ------------------------------------------------------------------------

    def _write_loop(self) -> None:
        self._connect_writer()
        again: list[Job] = []  # status changes whose records another worker held: tried once more
        stop = False
        while not stop:
            batch, stop = self._next_batch(block=not again)
            if stop and batch is None:
                return
            if again and not batch:  # nothing new to go with them: wait for their records
                self._write_busy(again)
                again = []
                continue
            done, busy = self._commit([*again, *batch])
            self._committed_at = time.monotonic()
            self._concurrent = len(again) + len(batch) > 1 or not self._jobs.empty()
            _settle(done)
            tried = {id(waiter) for waiter, _ in again}
            self._write_busy([job for job in busy if id(job[0]) in tried or not isinstance(job[1], StatusChange)])
            again = [job for job in busy if id(job[0]) not in tried and isinstance(job[1], StatusChange)]
        self._write_busy(again)

    def _connect_writer(self) -> None:
        """The writer's connection, opened as the store opens rather than by its first write: a
        fresh worker's first webhooks do not wait for a connection to be made. A database out of
        reach now is tried again by the first write (which then answers 503 if it still is)."""
        try:
            self._wcur = self._engine.writer()
        except StoreUnavailable as exc:
            log.warning("store: %s; the writer connects at its first write", str(exc).splitlines()[0])

    def _next_batch(self, *, block: bool) -> tuple[list[Job] | None, bool]:
        """The jobs waiting now (at least one when ``block``), and whether the store is closing;
        None for the jobs when it closes with none."""
        batch: list[Job] = []
        if block:
            job = self._jobs.get()
            if job is None:
                return None, True
            batch.append(job)
            if self._concurrent and time.monotonic() - self._committed_at < self.BUSY_SECONDS:
                self._gather()
        while len(batch) < self.MAX_BATCH:
            try:
                nxt = self._jobs.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                return batch, True
            batch.append(nxt)
        return batch, False

    def _gather(self) -> None:
        """Let other writes join the batch begun (see GATHER_SECONDS)."""
        time.sleep(self.GATHER_SECONDS)

    def _commit(self, batch: list[Job], *, waits: bool = False) -> tuple[list[Outcome], list[Job]]:
        """The batch in one transaction: what became of its jobs, and the jobs whose records
        another worker held (see :meth:`_run_batch`). When it fails as a whole, each job alone,
        so that a deadlock with another worker costs a retry, not the batch. When the database is
        out of reach every job fails with :class:`StoreUnavailable` and the writer reconnects for
        the next batch."""
        try:
            return self._run_batch(batch, waits=waits)
        except Exception as exc:  # BEGIN or COMMIT failed: nothing of the batch is stored
            self._abandon_transaction()
            if self._engine.unavailable(exc):
                return self._unavailable(batch, exc), []
            if len(batch) == 1:
                return [(future, None, exc) for future, _ in batch], []
            log.info("store: a batch of %d failed as a whole (%s); each job alone", len(batch), exc)
            done: list[Outcome] = []
            for job in batch:  # alone, a job waits for its record: none is handed back
                done += self._commit([job])[0]
            return done, []

    def _write_busy(self, busy: list[Job]) -> None:
        """Jobs whose records other workers held (a status change goes with the next batch first,
        when there is one: the other worker has mostly committed by then): the status changes
        together in a transaction that waits for them (it takes its records in one order and holds
        nothing else, so two such never wait for each other), any other write alone."""
        if changes := [job for job in busy if isinstance(job[1], StatusChange)]:
            _settle(self._commit(changes, waits=True)[0])
        for job in busy:
            if not isinstance(job[1], StatusChange):
                _settle(self._commit([job])[0])

    def _abandon_transaction(self) -> None:
        with contextlib.suppress(Exception):
            if self._wcur is not None:
                self._wcur.execute("ROLLBACK")

    def _unavailable(self, batch: list[Job], exc: BaseException) -> list[Outcome]:
        self._wcur = None
        self._engine.drop_writer()
        error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(f"database: {exc}")
        log.warning("store: %s; %d write(s) refused", str(error).splitlines()[0], len(batch))
        return [(future, None, error) for future, _ in batch]

    def _run_batch(self, batch: list[Job], *, waits: bool = False) -> tuple[list[Outcome], list[Job]]:
        """Run the jobs in one transaction (the status changes together, then each other write in
        a savepoint); results once committed. A transaction of several jobs never waits for a
        record another worker holds (unless ``waits``): the jobs that found theirs held are handed
        back, for :meth:`_write_busy`. The changes: :func:`~.changes.store_changes`."""
        if self._wcur is None:
            self._wcur = self._engine.writer()
        cur = self._wcur
        live = [job for job in batch if job[0].running() or job[0].set_running_or_notify_cancel()]
        if not live:
            return [], []
        alone = len(live) == 1
        self._waits = waits or alone
        changes = [job for job in live if isinstance(job[1], StatusChange)]
        others = [job for job in live if not isinstance(job[1], StatusChange)]
        self._engine.start(cur)
        stored, busy = store_changes(self._engine, cur, changes, wait=self._waits) if changes else (list, [])
        done: list[Outcome] = []
        for future, call in others:
            if alone:  # its own transaction: no savepoint needed (two round trips fewer)
                try:
                    done.append((future, call(), None))
                except Exception as exc:
                    cur.execute("ROLLBACK")
                    return [(future, None, exc)], []
                continue
            cur.execute("SAVEPOINT job")
            try:
                result = call()
            except RecordBusy:
                cur.execute("ROLLBACK TO job")
                cur.execute("RELEASE job")
                busy.append((future, call))
            except Exception as exc:
                cur.execute("ROLLBACK TO job")
                cur.execute("RELEASE job")
                done.append((future, None, exc))
            else:  # kept, not released: a savepoint of that name again hides it (one round trip fewer)
                done.append((future, result, None))
        cur.execute("COMMIT")
        return [*stored(), *done], busy

    def submit(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Queue a write (a bound write method of this store); the future resolves once it
        is committed."""
        if self._closed:
            raise RuntimeError("store is closed")
        future: Future = Future()
        self._jobs.put((future, _work(method, args, kwargs)))
        return future

    def submit_async(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future:
        """Queue a write from a coroutine: the returned future (of the running loop) resolves
        once the write is committed."""
        if self._closed:
            raise RuntimeError("store is closed")
        waiter = LoopWaiter(asyncio.get_running_loop())
        self._jobs.put((waiter, _work(method, args, kwargs)))
        return waiter.future

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        if threading.current_thread() is not self._writer or self._wcur is None:
            raise RuntimeError("store writes run on the writer thread (use a write method)")
        yield self._wcur

    def _held(self, cur: Cursor, table: str, sid: str) -> dict[str, Any]:
        """The row of ``sid`` in ``table`` as it stands ({} when there is none yet), held against
        writers in other processes until the transaction ends (waited for only in a transaction
        of one write; else :class:`RecordBusy`)."""
        key = lock_key(table, sid)
        if key not in self._engine.lock(cur, [key], wait=self._waits):
            raise RecordBusy(key)
        return self._engine.rows(cur, table, [sid]).get(sid, {})

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[Mapping[str, Any]]:
        return self._engine.query(sql, args)

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
                _settle([(job[0], None, RuntimeError("store is closed"))])
        self._engine.close()

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r})"

    @staticmethod
    def _event(cur: Cursor, key: str, kind: str, sid: str | None, record: Mapping[str, Any]) -> int | None:
        """The event's id, or None when its key was stored before (a retry)."""
        row = cur.execute(INSERT_EVENT, _event_row(key, kind, sid, record)).fetchone()
        return int(row["id"]) if row else None

    # --- events (the widget polls these) -------------------------------------------------

    def events_since(self, after_id: int = 0, *, limit: int = 500) -> list[dict[str, Any]]:
        """Events with id > ``after_id``, oldest first: {id, kind, sid, record, created_at}.

        kinds: call, incoming_call, message, recording, opt_out, opt_in.
        """
        rows = self._query("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (int(after_id), int(limit)))
        return [_event_of(r) for r in rows]

    def events_by_id(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """The events of these ids that exist, oldest first (an event stream re-reads the ids it
        skipped: on PostgreSQL a lower id may commit after a higher one)."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return []
        rows = self._query(f"SELECT * FROM events WHERE id IN ({','.join('?' * len(wanted))}) ORDER BY id", wanted)
        return [_event_of(r) for r in rows]

    def last_event_id(self) -> int:
        rows = self._query("SELECT COALESCE(MAX(id), 0) AS m FROM events")
        return int(rows[0]["m"])

    def count_events(self, kind: str | None = None) -> int:
        if kind:
            return int(self._query("SELECT COUNT(*) AS n FROM events WHERE kind=?", (kind,))[0]["n"])
        return int(self._query("SELECT COUNT(*) AS n FROM events")[0]["n"])


def _work(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Work:
    """What the writer runs for a call of a write method: a status write's change (built here, in
    the caller's thread), or the call itself."""
    build = getattr(method, "build", None)
    if build is not None:
        return build(method.__self__, *args, **kwargs)
    return functools.partial(method, *args, **kwargs)


def _event_row(key: str, kind: str, sid: str | None, record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of :data:`~.schema.INSERT_EVENT`."""
    return (key, kind, sid, json.dumps(dict(record), default=str), now_iso())


def _settle(done: list[Outcome]) -> None:
    """Hand each write its result or error: a thread's future at once, a loop's waiters in one
    call per loop."""
    on_loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, Any, BaseException | None]]] = {}
    for waiter, result, error in done:
        if isinstance(waiter, LoopWaiter):
            on_loops.setdefault(waiter.loop, []).append((waiter.future, result, error))
        elif not waiter.done():
            if error is None:
                waiter.set_result(result)
            else:
                waiter.set_exception(error)
    for loop, settled in on_loops.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_settle_on_loop, settled)


def _settle_on_loop(settled: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    for future, result, error in settled:
        if future.done():  # cancelled meanwhile
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _event_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "sid": row["sid"],
        "record": json.loads(row["record"]),
        "created_at": row["created_at"],
    }
