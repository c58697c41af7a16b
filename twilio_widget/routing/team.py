"""The team API: what a notebook connected to a shared routing service asks of it.

A team runs one service (``twilio-widget serve``); each analyst's phone connects to it with
a token of their own (``phone.connect(url, token)``) instead of running a service in its
kernel. Through these routes the phone sends texts with the service's rules (the opt-out
check before sending, StatusCallback on every send, failures kept in the outbox), reads and
retries its outbox, and follows its own user's events as they are stored:

    GET  /api/me                                  -> {"user", "caller_id", "last_event", "lead"}
    POST /api/messages        {"to", "body"}      -> {"message": record}    (from the user's number)
    GET  /api/outbox                              -> {"outbox": [...]}      (the user's own)
    POST /api/outbox/retry                        -> {"sent", "failed", "blocked"}
    GET  /api/events?after=ID                     -> server-sent events, the user's own, after ID
                                                     (from now on without ID)
    POST /api/outcomes, GET /api/outcomes         -> the team's calling-session outcomes
                                                     (``outcomes_api.py``)

Every route wants ``Authorization: Bearer <token>``. A token names its user and is signed
with the service's team secret (:func:`user_token`; ``twilio-widget token USER`` prints one),
so any worker checks it without a table of sessions, and revoking everyone is changing the
secret. The Twilio credentials stay on the server: the kernel holds only its user's token,
and the browser not even that.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..backends.base import TwilioError
from ..contacts import normalize
from ..rules.enforce import CallRefused
from .gate import ClientGone, Problem, headers_of, read_body
from .messaging import missing_value, retry_outbox, send_message
from .settings import CallerRoute, RoutingSettings
from .store import Store, StoreUnavailable
from .twiml import STATUS_MESSAGE

log = logging.getLogger(__name__)

API_ME = "/api/me"
API_MESSAGES = "/api/messages"
API_OUTBOX = "/api/outbox"
API_OUTBOX_RETRY = "/api/outbox/retry"
API_EVENTS = "/api/events"
#: How often an event stream looks for new events, and sends a comment that keeps proxies from closing it.
POLL_SECONDS = 0.1
# A text is at most 1,600 characters; as JSON with escapes, well under this.
MAX_MESSAGE_REQUEST_BYTES = 64 * 1024
KEEPALIVE_SECONDS = 15.0
#: An id skipped by a stream is looked for again this long: on PostgreSQL a lower id can commit
#: after a higher one (and one of a retry that changed nothing never commits at all).
GAP_SECONDS = 10.0
MAX_GAPS = 10_000
#: The event kinds a phone acts on (recordings and opt-outs stay in the store's history).
USER_EVENT_KINDS = ("call", "incoming_call", "message")


def user_token(secret: str, identity: str) -> str:
    """The API token of user ``identity``: the identity and an HMAC of it under the team secret."""
    mac = hmac.new(secret.encode(), identity.encode(), hashlib.sha256).hexdigest()
    return f"{identity}.{mac}"


def token_user(settings: RoutingSettings, token: str) -> CallerRoute | None:
    """The configured user a token was signed for, or None for a forged, stale or unknown one."""
    identity, _, mac = token.rpartition(".")
    if not identity or settings.team_secret is None:
        return None
    if not hmac.compare_digest(user_token(settings.team_secret, identity), token):
        return None
    return settings.caller_for_identity(identity)


def owns(caller: CallerRoute, event: Mapping[str, Any], region: str = "US") -> bool:
    """Whether an event of the store is about ``caller``: a call that rang them, or a call or
    message from or to their number."""
    if event["kind"] not in USER_EVENT_KINDS:
        return False
    record = event["record"]
    if record.get("user_id") == caller.identity:
        return True
    number = normalize(caller.caller_id, region)
    return number is not None and number in (record.get("from"), record.get("to"))


Endpoint = Callable[[Request, CallerRoute], Awaitable[Response]]


class TeamApi:
    """The routes above, over one store and the backend that sends for the whole team."""

    def __init__(self, settings: RoutingSettings, store: Store, backend: Any, rules: Any = None) -> None:
        self.settings, self.store, self._backend = settings, store, backend
        self.rules = rules  # the calling rules: texts to the do-not-call list are refused

    def routes(self) -> list[Route]:
        return [
            Route(API_ME, self._authenticated(self.me), methods=["GET"]),
            Route(API_MESSAGES, self._authenticated(self.send), methods=["POST"]),
            Route(API_OUTBOX, self._authenticated(self.outbox), methods=["GET"]),
            Route(API_OUTBOX_RETRY, self._authenticated(self.retry), methods=["POST"]),
            Route(API_EVENTS, self._authenticated(self.events), methods=["GET"]),
            *self._outcomes_routes(),
        ]

    def _outcomes_routes(self) -> list[Route]:
        from .outcomes_api import OutcomesApi  # it answers with this module's error()

        return OutcomesApi(self.settings, self.store).routes(self._authenticated)

    @property
    def backend(self) -> Any:
        """What sends: given, or the account's REST API from the settings' credentials."""
        if self._backend is None:
            from twilio.rest import Client

            from ..backends.twilio import TwilioBackend

            self._backend = TwilioBackend(Client(self.settings.account_sid, self.settings.auth_token))
        return self._backend

    def _authenticated(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            caller = token_user(self.settings, token.strip()) if scheme.lower() == "bearer" else None
            if caller is None:
                return error(401, "Authorization: a Bearer token of a configured user is needed")
            try:
                return await endpoint(request, caller)
            except StoreUnavailable as exc:
                return error(503, f"store unavailable: {exc}")

        return guarded

    async def me(self, request: Request, caller: CallerRoute) -> Response:
        last = await run_in_threadpool(self.store.last_event_id)
        return JSONResponse({"user": caller.identity, "caller_id": caller.caller_id, "last_event": last,
                             "lead": caller.identity in self.settings.team_leads})

    async def send(self, request: Request, caller: CallerRoute) -> Response:
        args = await json_body(request, MAX_MESSAGE_REQUEST_BYTES)
        if isinstance(args, Response):
            return args
        if not isinstance(args, dict) or not isinstance(args.get("to"), str) or not isinstance(args.get("body"), str):
            return error(400, "body: expected {\"to\": <number>, \"body\": <text>}")
        to = normalize(args["to"], self.settings.default_region)
        if to is None:
            return error(400, f"to: {args['to'][:40]!r} is not a phone number")
        try:
            record = await run_in_threadpool(
                send_message, self.backend, self.store, to, caller.caller_id, args["body"],
                status_callback=self.settings.url(STATUS_MESSAGE), rules=self.rules,
            )
        except TwilioError as exc:
            return error(400, exc.message, exc.code)
        except CallRefused as exc:
            return error(403, str(exc))
        return JSONResponse({"message": jsonable(record)})

    async def outbox(self, request: Request, caller: CallerRoute) -> Response:
        pending = await run_in_threadpool(self.store.outbox_pending, from_=caller.caller_id)
        return JSONResponse({"outbox": pending})

    async def retry(self, request: Request, caller: CallerRoute) -> Response:
        counts = await run_in_threadpool(retry_outbox, self.backend, self.store, from_=caller.caller_id,
                                         status_callback=self.settings.url(STATUS_MESSAGE))
        return JSONResponse(counts)

    async def events(self, request: Request, caller: CallerRoute) -> Response:
        after = request.query_params.get("after") or request.headers.get("last-event-id")
        if after is None:
            after = str(await run_in_threadpool(self.store.last_event_id))
        if not after.isdigit():
            return error(400, f"after: {after[:20]!r} is not an event id")
        return StreamingResponse(self._stream(caller, int(after)), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def _stream(self, caller: CallerRoute, after: int) -> AsyncIterator[str]:
        """The user's events as server-sent events, for as long as the client listens."""
        quiet = 0.0
        gaps: dict[int, float] = {}  # ids skipped -> when first missed
        yield ": connected\n\n"
        while True:
            batch = await run_in_threadpool(self.store.events_since, after)
            batch += await run_in_threadpool(self.store.events_by_id, gaps) if gaps else []
            after = _note_gaps(gaps, after, batch)
            for event in batch:
                if owns(caller, event, self.settings.default_region):
                    data = json.dumps({"kind": event["kind"], "record": event["record"]}, default=str)
                    yield f"id: {event['id']}\ndata: {data}\n\n"
            if batch:
                quiet = 0.0
                continue
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"


def _note_gaps(gaps: dict[int, float], after: int, batch: list[dict[str, Any]]) -> int:
    """Update the skipped ids with what ``batch`` brought; returns the new high-water id."""
    now = time.monotonic()
    seen = {event["id"] for event in batch}
    top = max(seen | {after})
    for missing in set(range(after + 1, top)) - seen:
        gaps.setdefault(missing, now)
    for found in seen & gaps.keys():
        del gaps[found]
    for stale in [i for i, since in gaps.items() if now - since > GAP_SECONDS]:
        del gaps[stale]
    while len(gaps) > MAX_GAPS:
        del gaps[min(gaps)]
    return top


def error(status: int, message: str, code: int | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": code}}, status_code=status)


async def json_body(request: Request, limit: int, advice: str = "") -> Any:
    """The request's JSON, read no further than ``limit`` bytes; an error Response when it is not."""
    try:
        body = await read_body(request.receive, headers_of(request.scope), limit)
    except Problem as problem:
        return error(problem.status, problem.reason + (f"; {advice}" if advice else ""))
    except ClientGone:  # nothing was done: the client sends again
        return Response(status_code=400)
    try:
        return json.loads(body)
    except ValueError:
        return error(400, "body: not JSON")


def jsonable(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with pandas' missing values as None and timestamps as ISO text."""
    return json.loads(json.dumps({k: (None if missing_value(v) else v) for k, v in record.items()}, default=str))
