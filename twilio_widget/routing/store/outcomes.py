"""The team's calling-session outcomes: what each analyst's journal sends to the team's service.

Rows arrive in the stored form of the session's journal (``session/journal.py``: the row label
as JSON text, instants as integer nanoseconds, UTC), checked by the team API before they get
here. The agent is the user whose token sent them, never a field of the body. One outcome is
stored once: an (agent, outcome_id) pair is unique in the database, so a journal that sends a
batch again after a lost answer, at any worker, changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import StoreBase, writes
from .schema import now_iso

#: The columns of ``team_outcomes`` a reader gets, in the order of the session's outcomes frame
#: (``session.outcomes.OUTCOME_COLUMNS``; a test holds the two equal).
OUTCOME_COLUMNS = ("call_sid", "key", "number", "field", "outcome", "note", "agent", "caller_id", "started_at",
                   "duration", "attempt", "overrides", "callback_at", "queue", "recorded_at")
_WRITTEN = ("agent", "outcome_id", *(c for c in OUTCOME_COLUMNS if c != "agent"), "stored_at")
#: Rows in one INSERT: well under SQLite's limit of bound values, few round trips on PostgreSQL.
_ROWS_PER_STATEMENT = 100


class TeamOutcomeStore(StoreBase):
    """The team's outcomes: stored once each, read by agent, queue and time."""

    @writes
    def team_outcomes_add(self, agent: str, outcomes: Sequence[Mapping[str, Any]]) -> int:
        """Store ``agent``'s outcomes (each with its ``outcome_id``); returns how many were new."""
        stored_at = now_iso()
        new = 0
        with self._tx() as cur:
            for start in range(0, len(outcomes), _ROWS_PER_STATEMENT):
                chunk = outcomes[start:start + _ROWS_PER_STATEMENT]
                row = f"({', '.join('?' * len(_WRITTEN))})"
                values = [value for outcome in chunk for value in _written(agent, outcome, stored_at)]
                new += len(cur.execute(
                    f"INSERT INTO team_outcomes ({', '.join(_WRITTEN)}) VALUES {', '.join([row] * len(chunk))}"
                    " ON CONFLICT (agent, outcome_id) DO NOTHING RETURNING id", values).fetchall())
        return new

    def team_outcomes(self, *, agent: str | None = None, queue: str | None = None, since: int | None = None,
                      after: int = 0, limit: int = 5000) -> tuple[list[list[Any]], int | None]:
        """One page of outcomes, in the order the service stored them: rows of ``OUTCOME_COLUMNS``
        with id > ``after``, of one agent and queue when given, recorded at ``since`` (ns) or later;
        and the id to ask after for the next page (None after the last)."""
        where, args = ["id > ?"], [int(after)]
        for clause, value in (("agent = ?", agent), ("queue = ?", queue), ("recorded_at >= ?", since)):
            if value is not None:
                where.append(clause)
                args.append(value)
        found = self._query(f"SELECT id, {', '.join(OUTCOME_COLUMNS)} FROM team_outcomes"
                            f" WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", [*args, int(limit)])
        rows = [[row[column] for column in OUTCOME_COLUMNS] for row in found]
        return rows, (int(found[-1]["id"]) if len(found) == limit else None)


def _written(agent: str, outcome: Mapping[str, Any], stored_at: str) -> list[Any]:
    given = {**outcome, "agent": agent, "stored_at": stored_at}
    return [given.get(column) for column in _WRITTEN]
