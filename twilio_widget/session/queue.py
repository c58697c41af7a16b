"""The dial queue over a DataFrame of leads: who to call next, and what each lead's state is.

Everything that grows with the frame is a NumPy array of one value a lead (attempts, last
called, when it may be called next, call-back, closed, its place in the order), so ordering,
filtering and eligibility are whole-array operations: a million leads cost milliseconds a step.
The calling rules are asked (``can_call``) only for the few leads at the head of the line.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..contacts import Contacts
from .outcomes import Outcome
from .retry import RetryRule

NAT = np.iinfo(np.int64).min  # "no time" in the int64 nanosecond arrays
#: How many leads at the head of the line the calling rules are asked about at once.
BATCH = 256


def ns(moment: Any) -> int:
    """A moment as UTC nanoseconds (NAT for none)."""
    if moment is None or moment is pd.NaT:
        return NAT
    stamp = pd.Timestamp(moment)
    return int((stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).value)


def stamp(value: int) -> pd.Timestamp | None:
    return None if value == NAT else pd.Timestamp(value, tz="UTC")


class LeadQueue:
    """The leads of a frame in calling order, with each lead's state.

    ``order`` names the column(s) to call by (``ascending`` as in ``sort_values``; the frame's
    own order when None). Rows without a valid number in ``fields`` are left out (``rejected``).
    """

    def __init__(self, leads: pd.DataFrame, fields: Any, *, order: Any = None, ascending: Any = True,
                 name: Hashable | None = None, view: Any = None, region: str = "US",
                 retry: RetryRule | None = None) -> None:
        self.book = Contacts.from_dataframe(leads, fields, name=name, view=view, region=region)
        self.retry = retry or RetryRule()
        self.codes, self.field_no = self.book.first_numbers()
        size = len(self.codes)
        self.rank = np.empty(size, dtype=np.int64)
        self.rank[calling_order(leads, order, ascending)] = np.arange(size, dtype=np.int64)
        self.next_rank = size  # a skipped lead goes to the back of the line
        self.attempts = np.zeros(size, dtype=np.int64)
        self.last_called = np.full(size, NAT, dtype=np.int64)
        self.next_at = np.full(size, NAT, dtype=np.int64)  # retry or call-back time
        self.callback = np.zeros(size, dtype=bool)
        self.closed = np.zeros(size, dtype=bool)  # nothing more to do (done, blocked, out of attempts)
        self.callable = self.codes != 0

    def __len__(self) -> int:
        return int(self.callable.sum())

    @property
    def rejected(self) -> pd.DataFrame:
        """The leads left out, and why (no valid number in the fields)."""
        return self.book.rejects

    # -- one lead ---------------------------------------------------------------------------

    def key(self, position: int) -> Hashable:
        return self.book.key_at(position)

    def position(self, key: Hashable) -> int:
        return self.book.position(key)

    def number(self, position: int) -> str:
        return f"+{self.codes[position]}"

    def field(self, position: int) -> str:
        return str(self.book.fields[self.field_no[position]])

    def lead_state(self, position: int) -> dict[str, Any]:
        """The lead's state as the journal keeps it (times as UTC nanoseconds or None)."""
        def time(v: int) -> int | None:
            return None if v == NAT else int(v)

        return {"attempts": int(self.attempts[position]), "last_called": time(self.last_called[position]),
                "next_at": time(self.next_at[position]), "callback": bool(self.callback[position]),
                "closed": bool(self.closed[position]), "rank": int(self.rank[position])}

    # -- what happened to a lead ------------------------------------------------------------

    def called(self, position: int, at: pd.Timestamp) -> int:
        """A call was placed to the lead; returns its attempt number."""
        self.attempts[position] += 1
        self.last_called[position] = ns(at)
        return int(self.attempts[position])

    def settle(self, position: int, outcome: Outcome, at: pd.Timestamp, callback_at: pd.Timestamp | None) -> None:
        """What ``outcome`` means for the lead: retry later, done, call back, or never again."""
        self.callback[position] = False
        self.next_at[position] = NAT
        if outcome.then == "callback":
            self.callback[position] = True
            self.next_at[position] = ns(callback_at)
        elif outcome.then == "retry" and not self.retry.exhausted(int(self.attempts[position])):
            self.next_at[position] = ns(self.retry.next_attempt(at, self.number(position)))
        else:  # done, blocked, or out of attempts
            self.closed[position] = True

    def skip(self, position: int) -> None:
        """Not now: the lead goes to the back of the line."""
        self.rank[position] = self.next_rank
        self.next_rank += 1

    def restore(self, leads: pd.DataFrame, next_rank: int) -> None:
        """Take back the states a journal kept (leads no longer in the frame are ignored)."""
        if leads.empty:
            return
        found = self.book.keys.get_indexer(pd.Index(leads["key"].tolist(), tupleize_cols=False))
        rows, at = leads[found >= 0], found[found >= 0]
        self.attempts[at] = rows["attempts"].to_numpy(dtype=np.int64)
        self.last_called[at] = rows["last_called"].fillna(NAT).to_numpy(dtype=np.int64)
        self.next_at[at] = rows["next_at"].fillna(NAT).to_numpy(dtype=np.int64)
        self.callback[at] = rows["callback"].to_numpy(dtype=np.int64).astype(bool)
        self.closed[at] = rows["closed"].to_numpy(dtype=np.int64).astype(bool)
        self.rank[at] = rows["rank"].to_numpy(dtype=np.int64)
        self.next_rank = max(self.next_rank, int(next_rank))

    # -- the line -----------------------------------------------------------------------------

    def due_callbacks(self, now: int) -> np.ndarray:
        """Call-backs that are due, the earliest first."""
        due = np.flatnonzero(self.callable & ~self.closed & self.callback & (self.next_at <= now))
        return due[np.argsort(self.next_at[due], kind="stable")]

    def waiting(self, now: int) -> np.ndarray:
        """Leads that may be called now (not closed, no retry or call-back pending), unsorted."""
        return np.flatnonzero(self.callable & ~self.closed & ~self.callback & (self.next_at <= now))

    def line(self, now: int) -> Any:
        """Positions in calling order, in batches: due call-backs first, then the order's leads."""
        callbacks = self.due_callbacks(now)
        for start in range(0, len(callbacks), BATCH):
            yield callbacks[start:start + BATCH]
        waiting = self.waiting(now)
        ranks = self.rank[waiting]
        head = min(len(waiting), 4 * BATCH)
        if head < len(waiting):  # most lines are long: sort only their head, the rest if ever needed
            first = np.argpartition(ranks, head - 1)[:head]
            first = first[np.argsort(ranks[first], kind="stable")]
            yield from _batches(waiting[first])
            rest = np.setdiff1d(np.arange(len(waiting)), first, assume_unique=True)
            yield from _batches(waiting[rest[np.argsort(ranks[rest], kind="stable")]])
        else:
            yield from _batches(waiting[np.argsort(ranks, kind="stable")])

    def pick(self, now: pd.Timestamp, rules: Any, count: int = 1, exclude: Sequence[int] = ()) -> list[int]:
        """The next ``count`` leads the calling rules allow now, in calling order."""
        picked: list[int] = []
        for batch in self.line(ns(now)):
            batch = batch[~np.isin(batch, exclude)]
            if not len(batch):
                continue
            numbers = pd.Series([f"+{c}" for c in self.codes[batch].tolist()], index=batch)
            allowed = rules.can_call(numbers, at=now)["allowed"].to_numpy(dtype=bool)
            picked.extend(batch[allowed][: count - len(picked)].tolist())
            if len(picked) >= count:
                break
        return picked

    def next_due(self, now: pd.Timestamp) -> pd.Timestamp | None:
        """When the next retry or call-back falls due, if none is now."""
        pending = self.callable & ~self.closed & (self.next_at > ns(now))
        return stamp(int(self.next_at[pending].min())) if pending.any() else None

    def counts(self) -> dict[str, int]:
        """Leads in the queue, worked (called, skipped for good or closed), and still open."""
        live = self.callable
        worked = live & ((self.attempts > 0) | self.closed | self.callback)
        return {"total": int(live.sum()), "worked": int(worked.sum()), "open": int((live & ~self.closed).sum())}


def _batches(positions: np.ndarray) -> Any:
    for start in range(0, len(positions), BATCH):
        yield positions[start:start + BATCH]


def calling_order(leads: pd.DataFrame, order: Any, ascending: Any) -> np.ndarray:
    """Row positions in calling order: by the ``order`` columns (a stable sort), else as they are."""
    if order is None:
        return np.arange(len(leads))
    columns = [order] if isinstance(order, str) or not isinstance(order, Sequence) else list(order)
    missing = [c for c in columns if c not in leads.columns]
    if missing:
        raise ValueError(f"order: no column {missing[0]!r} in the leads (columns: {list(leads.columns)})")
    keys = leads[columns].reset_index(drop=True)  # only the order's columns are copied
    return keys.sort_values(columns, ascending=ascending, kind="stable", na_position="last").index.to_numpy()
