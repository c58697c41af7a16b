"""The team API's calling-session outcomes: each analyst's journal sends its outcomes here, and a
team lead's notebook reads the team's back (``TeamClient.outcomes``).

    POST /api/outcomes  {"outcomes": [outcome, ...]}  -> {"stored": n, "known": m}
    GET  /api/outcomes?agent=&queue=&since=&after=    -> {"columns": [...], "rows": [[...]], "next": id | null}

An outcome is the session journal's stored form (``session/journal.py``) with an
``outcome_id`` of the journal's making; it is stored as the outcome of the user whose token
sent it, and a field ``agent`` in the body is refused: nobody records outcomes in another's
name. An (agent, outcome_id) pair is stored once, so a journal that sends again after a lost
answer counts nothing twice ("known"). A user reads their own outcomes; a team lead
(``RoutingSettings.team_leads``) reads everyone's, or one agent's with ``agent=``. Rows come in
pages of at most ``PAGE_ROWS``, in the order they were stored; ``next`` is the ``after`` of
the next page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..session.journal import stored_problem
from .settings import CallerRoute, RoutingSettings
from .store import Store
from .store.outcomes import OUTCOME_COLUMNS
from .team import error, json_body

API_OUTCOMES = "/api/outcomes"
#: What one request may carry: outcomes, and bytes (500 long notes fit).
MAX_OUTCOMES = 500
MAX_BODY_BYTES = 8 * 1024 * 1024
PAGE_ROWS = 5000
MAX_OUTCOME_ID = 64

Endpoint = Callable[[Request, CallerRoute], Awaitable[Response]]
Guard = Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]


class OutcomesApi:
    def __init__(self, settings: RoutingSettings, store: Store) -> None:
        self.settings, self.store = settings, store

    def routes(self, authenticated: Guard) -> list[Route]:
        return [Route(API_OUTCOMES, authenticated(self.store_outcomes), methods=["POST"]),
                Route(API_OUTCOMES, authenticated(self.read_outcomes), methods=["GET"])]

    async def store_outcomes(self, request: Request, caller: CallerRoute) -> Response:
        body = await json_body(request, MAX_BODY_BYTES, advice="send fewer outcomes at a time")
        if isinstance(body, Response):
            return body
        outcomes = body.get("outcomes") if isinstance(body, dict) else None
        if not isinstance(outcomes, list) or not outcomes:
            return error(400, 'body: expected {"outcomes": [outcome, ...]} with at least one outcome')
        if len(outcomes) > MAX_OUTCOMES:
            return error(400, f"outcomes: {len(outcomes)} in one request; at most {MAX_OUTCOMES}")
        for index, outcome in enumerate(outcomes):
            if problem := posted_problem(outcome):
                return error(400, f"outcomes[{index}].{problem}")
        new = await run_in_threadpool(self.store.team_outcomes_add, caller.identity, outcomes)
        return JSONResponse({"stored": new, "known": len(outcomes) - new})

    async def read_outcomes(self, request: Request, caller: CallerRoute) -> Response:
        query = request.query_params
        agent = query.get("agent") or None
        if caller.identity not in self.settings.team_leads:
            if agent not in (None, caller.identity):
                return error(403, f"agent: {agent[:40]!r} is another user; only a team lead reads their outcomes")
            agent = caller.identity
        after = query.get("after") or "0"
        if not after.isdigit():
            return error(400, f"after: {after[:20]!r} is not an id")
        since = query.get("since")
        since_ns = _nanoseconds(since) if since else None
        if since and since_ns is None:
            return error(400, f"since: {since[:40]!r} is not an ISO 8601 time")
        rows, following = await run_in_threadpool(self.store.team_outcomes, agent=agent, since=since_ns,
                                                  queue=query.get("queue") or None, after=int(after), limit=PAGE_ROWS)
        return JSONResponse({"columns": list(OUTCOME_COLUMNS), "rows": rows, "next": following})


def posted_problem(outcome: Any) -> str | None:
    """What is wrong with one posted outcome (``column: problem``), or None."""
    if not isinstance(outcome, dict):
        return "an outcome must be an object of its columns"
    if "agent" in outcome:
        return "agent: set by the service from the token; leave it out"
    outcome_id = outcome.get("outcome_id")
    if not isinstance(outcome_id, str) or not 0 < len(outcome_id) <= MAX_OUTCOME_ID or "\x00" in outcome_id:
        return f"outcome_id: expected the journal's id, text of 1 to {MAX_OUTCOME_ID} characters"
    return stored_problem({k: v for k, v in outcome.items() if k != "outcome_id"})


def _nanoseconds(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
