"""A record's status from a webhook, and the plan that stores a batch of them in one go.

Most of what the service writes is a status callback: a call, a message or a recording moved
on. :class:`StatusChange` says what one such webhook changes, built in the caller's thread;
the writer decides all the changes waiting at that moment together (:class:`Plan`), over the
rows as they stand, in the order they came: which are news, the events to insert, and one row
per record to write; :func:`store_changes` runs that in the writer's transaction. So a batch
costs the database the same few statements whatever its size (lock the records, read their rows
and the events already there, insert the events, write the rows), where each write in its own
savepoint cost three or more round trips.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ...vocabulary import moves_forward
from .schema import Recorded, now_iso, queue_mail

if TYPE_CHECKING:
    from .engines import Cursor, Engine

#: Whoever waits for a change (the writer's waiters; this module only hands them back).
W = TypeVar("W")


def lock_key(table: str, sid: str) -> str:
    """The name under which every writer of a record locks it, in any process."""
    return f"{table}:{sid}"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """Status ``status`` of the record ``sid`` in ``table``: ``fields(current)`` merged over the row
    as it stands, the status never moving backwards by ``rank``, stored once (its event keyed
    ``<kind>:<sid>:<status>``), with ``mail`` (to, subject, body) queued beside it when news."""

    table: str
    kind: str
    sid: str
    status: str
    rank: Mapping[str, int]
    to_record: Callable[[dict[str, Any]], dict[str, Any]]
    fields: Callable[[dict[str, Any]], dict[str, Any]]
    mail: tuple[str, str, str] | None = None

    @property
    def lock_key(self) -> str:
        return lock_key(self.table, self.sid)

    @property
    def event_key(self) -> str:
        return f"{self.kind}:{self.sid}:{self.status}"


@dataclass(slots=True)
class News:
    """A change that is news: its event's values, and the record the caller gets back."""

    key: str
    kind: str
    sid: str
    record: dict[str, Any]
    event_json: str
    created_at: str


class Plan:
    """Changes decided in order over ``rows`` (``(table, sid)`` to the row as it stands) and the
    event keys already ``stored``: a change sees the rows as the changes before it left them."""

    def __init__(self, rows: dict[tuple[str, str], dict[str, Any]], stored: set[str]) -> None:
        self._rows = rows
        self._keys = set(stored)
        self._writes: dict[tuple[str, str], dict[str, Any]] = {}
        self.news: list[News] = []
        self.mails: list[tuple[str, tuple[str, str, str]]] = []

    def decide(self, change: StatusChange) -> Recorded | News:
        """A retry's :class:`Recorded` (the row as stored), or the change's :class:`News`."""
        place = (change.table, change.sid)
        current = self._rows.get(place, {})
        old = current.get("status")
        kept = change.status if moves_forward(change.rank, old, change.status) else old
        merged = {"sid": change.sid, **change.fields(current), "status": kept}
        record = change.to_record(merged)
        if change.event_key in self._keys:
            return Recorded(change.to_record(current) if current else record, False)
        event = {**record, "status": change.status}
        news = News(change.event_key, change.kind, change.sid, record, json.dumps(event, default=str), now_iso())
        self._keys.add(change.event_key)
        self._rows[place] = {**current, **merged}
        self._writes[place] = {**self._writes.get(place, {}), **merged}
        self.news.append(news)
        if change.mail:
            self.mails.append((f"{change.kind}:{change.sid}", change.mail))
        return news

    def rows_to_write(self) -> dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]]:
        """Each record's new row once (its changes merged in order), by table and columns: a
        statement writes rows of the same columns, so that none is set to NULL by omission."""
        groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        for (table, _), values in self._writes.items():
            groups.setdefault((table, tuple(values)), []).append(values)
        return groups


def store_changes(engine: Engine, cur: Cursor, jobs: list[tuple[W, StatusChange]], *, wait: bool
                  ) -> tuple[Callable[[], list[tuple[W, Any, BaseException | None]]], list[tuple[W, StatusChange]]]:
    """A batch's changes, in the caller's transaction: a few statements whatever their number
    (lock their records, read their rows and the events already stored; insert the new events,
    write the rows), two round trips on PostgreSQL with the transaction's BEGIN and COMMIT.

    Returns what became of each change (a :class:`Recorded`, or the error of a change whose own
    decision failed), to read once the transaction is committed; and the changes whose record
    another process holds (none when ``wait``), handed back untouched."""
    keys = list(dict.fromkeys(change.lock_key for _, change in jobs))
    wanted: dict[str, list[str]] = {}
    for _, change in jobs:
        if change.sid not in wanted.setdefault(change.table, []):
            wanted[change.table].append(change.sid)
    held, rows, stored = engine.read_for_changes(cur, keys, wait=wait, wanted=wanted,
                                                 events=[change.event_key for _, change in jobs])
    busy = [job for job in jobs if job[1].lock_key not in held]
    plan = Plan(rows, stored)
    decided: list[tuple[W, Recorded | News | None, BaseException | None]] = []
    for waiter, change in jobs:
        if change.lock_key not in held:
            continue
        try:
            decided.append((waiter, plan.decide(change), None))
        except Exception as exc:  # this change's own fault (a bug): the others are stored
            decided.append((waiter, None, exc))
    ids = engine.write_changes(cur, plan.news, plan.rows_to_write()) if plan.news else dict
    for key, mail in plan.mails:
        queue_mail(cur, key, *mail)

    def outcomes() -> list[tuple[W, Any, BaseException | None]]:
        new_ids = ids()
        return [(waiter, Recorded(got.record, True, new_ids[got.key]) if isinstance(got, News) else got, error)
                for waiter, got, error in decided]

    return outcomes, busy
