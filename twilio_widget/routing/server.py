"""The webhook service: a Starlette ASGI app Twilio asks what to do with calls and messages.

Every request goes through the same gate, in this order:

1. body larger than ``max_body_bytes``              -> 413
2. body that is not a readable urlencoded form        -> 400
3. ``X-Twilio-Signature`` missing or not matching      -> 403 (nothing stored, nothing emitted)
   the signature is computed over ``public_url + route path + query`` -- the URL Twilio
   used -- never over the Host header or scheme the service sees behind a proxy or tunnel.
4. missing or malformed parameters                    -> 400 with the reason
5. the flow: events are committed to the store *before* the 200 is sent; news (not a
   Twilio retry) is then emitted to the hub; mail goes out after the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from .. import vocabulary
from ..backends.base import Event, EventHub
from ..checks import url_problem
from ..vocabulary import CALL_RANK, MESSAGE_RANK, OPTED_OUT, RECORDING_RANK
from . import twiml
from .mail import Mailer, MailRetry, deliver_pending, sms_mail, voicemail_mail
from .settings import RoutingSettings
from .store import Store

try:  # newer twilio: the signature algorithm can be named in a header (HMAC-SHA256)
    from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, get_signature_algorithm
except ImportError:  # pragma: no cover - older twilio signs with HMAC-SHA1 only
    SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"

    def get_signature_algorithm(header: str | None) -> str | None:  # type: ignore[misc]
        return None


log = logging.getLogger(__name__)

FORM_TYPE = "application/x-www-form-urlencoded"
XML_TYPE = "application/xml"
MAX_FIELDS = 256
MAX_SMS_BODY = 10_000


class Problem(Exception):
    """An HTTP error with a reason the caller may see (never a secret)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Context:
    settings: RoutingSettings
    store: Store
    hub: EventHub | None
    mailer: Mailer | None
    validator: RequestValidator = field(repr=False, default=None)  # type: ignore[assignment]

    async def write(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A store write, awaited without blocking the loop; returns once committed."""
        return await asyncio.wrap_future(self.store.submit(method, *args, **kwargs))

    def emit(self, event: Event) -> None:
        if self.hub is None:
            return
        try:
            self.hub.emit(event)
        except Exception:  # a listener's failure must not fail Twilio's request
            log.exception("event listener failed on %s", event.kind)


# --- request gate --------------------------------------------------------------------------


async def _read_form(request: Request, limit: int) -> ImmutableMultiDict:
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise Problem(400, "Content-Length: not a number")
        if int(length) > limit:
            raise Problem(413, f"body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Problem(413, f"body larger than {limit} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and content_type != FORM_TYPE:
        raise Problem(400, f"Content-Type: expected {FORM_TYPE}")
    try:
        text = bytes(body).decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            encoding="utf-8",
            errors="strict",
        )
    except UnicodeDecodeError:
        raise Problem(400, "body: not valid UTF-8") from None
    except ValueError as exc:
        raise Problem(400, f"body: not a readable form ({exc})") from None
    return ImmutableMultiDict(pairs)


def signed_url(settings: RoutingSettings, path: str, query: str) -> str:
    """The URL Twilio signed: the configured public URL, the route, the raw query."""
    return settings.url(path) + (f"?{query}" if query else "")


def _matches_as_is(
    validator: RequestValidator, url: str, form: ImmutableMultiDict, signature: str, algorithm: str | None
) -> bool:
    """One HMAC over the URL exactly as configured: the common case. ``validate`` (which
    also tries the URL with and without its default port) decides everything else."""
    try:
        expected = validator.compute_signature(url, form, algorithm)
    except ValueError:  # an algorithm this twilio does not know
        return False
    return hmac.compare_digest(expected.encode(), signature.encode())


def _verify(ctx: Context, request: Request, path: str, form: ImmutableMultiDict) -> None:
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise Problem(403, "missing Twilio signature")
    query = request.scope.get("query_string", b"").decode("latin-1")
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    url = signed_url(ctx.settings, path, query)
    if not (
        _matches_as_is(ctx.validator, url, form, signature, algorithm)
        or ctx.validator.validate(url, form, signature, algorithm)
    ):
        raise Problem(403, "invalid Twilio signature")
    account = form.get("AccountSid")
    if ctx.settings.account_sid and account and account != ctx.settings.account_sid:
        raise Problem(403, "request for another account")


Handler = Callable[[Context, Mapping[str, str]], Awaitable[Response]]


def _webhook(ctx: Context, path: str, handler: Handler) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            form = await _read_form(request, ctx.settings.max_body_bytes)
            _verify(ctx, request, path, form)
            return await handler(ctx, form)
        except Problem as problem:
            if problem.status == 403:
                log.warning("refused %s: %s", path, problem.reason)
            return PlainTextResponse(problem.reason, status_code=problem.status)
        except twiml.BadParams as exc:
            return PlainTextResponse(f"bad request: {exc}", status_code=400)

    return Route(path, endpoint, methods=["POST"], name=path.strip("/").replace("/", "-"))


def _xml(document: Any, background: BackgroundTask | None = None) -> Response:
    return Response(str(document), media_type=XML_TYPE, background=background)


def _empty_ok(background: BackgroundTask | None = None) -> Response:
    return _xml(twiml.empty_messaging(), background)


def _int(params: Mapping[str, str], name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise twiml.BadParams(f"{name}: {raw[:40]!r} is not an integer")
    return int(raw)


def _float(params: Mapping[str, str], name: str) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise twiml.BadParams(f"{name}: {raw[:40]!r} is not a number") from None


def _one_of(
    params: Mapping[str, str],
    name: str,
    allowed: Mapping[str, Any] | set[str],
    *,
    fallback: str | None = None,
) -> str:
    value = (params.get(name) or (params.get(fallback) if fallback else "") or "").strip()
    if not value:
        raise twiml.BadParams(f"{name}: missing")
    if value not in allowed:
        raise twiml.BadParams(f"{name}: {value[:40]!r} is not a known status")
    return value


def _mail_task(ctx: Context) -> BackgroundTask | None:
    if ctx.mailer is None:
        return None
    return BackgroundTask(deliver_pending, ctx.store, ctx.mailer)


# --- voice ---------------------------------------------------------------------------------


async def voice_outgoing(ctx: Context, params: Mapping[str, str]) -> Response:
    return _xml(twiml.outgoing(ctx.settings, params))


async def voice_incoming(ctx: Context, params: Mapping[str, str]) -> Response:
    outcome = twiml.incoming(ctx.settings, params)
    if outcome.caller is not None:
        sid = params["CallSid"].strip()
        status = (params.get("CallStatus") or "ringing").strip()
        if status not in CALL_RANK:
            raise twiml.BadParams(f"CallStatus: {status[:40]!r} is not a known status")
        done = await ctx.write(
            ctx.store.record_call_status,
            sid,
            status,
            direction=params.get("Direction") or "inbound",
            from_=params.get("From"),
            to=params.get("To"),
            user_id=outcome.caller.identity,
            timestamp=params.get("Timestamp"),
            kind="incoming_call",
        )
        if done.new:
            ctx.emit(Event("incoming_call", {**done.record, "user_id": outcome.caller.identity}))
    return _xml(outcome)


async def voice_after_client(ctx: Context, params: Mapping[str, str]) -> Response:
    return _xml(twiml.after_client(ctx.settings, params))


async def voice_after_sip(ctx: Context, params: Mapping[str, str]) -> Response:
    return _xml(twiml.after_sip(ctx.settings, params))


async def voice_after_record(ctx: Context, params: Mapping[str, str]) -> Response:
    twiml.require(params, "CallSid")
    return _xml(twiml.after_record())


# --- status callbacks ----------------------------------------------------------------------


async def status_call(ctx: Context, params: Mapping[str, str]) -> Response:
    sid = twiml.require(params, "CallSid", max_chars=64)
    status = _one_of(params, "CallStatus", CALL_RANK)
    duration = _int(params, "CallDuration")
    if duration is None:
        duration = _int(params, "Duration")
    done = await ctx.write(
        ctx.store.record_call_status,
        sid,
        status,
        direction=params.get("Direction") or None,
        from_=params.get("From") or None,
        to=params.get("To") or None,
        duration=duration,
        timestamp=params.get("Timestamp"),
        answered_by=params.get("AnsweredBy") or None,
        parent_call_sid=params.get("ParentCallSid") or None,
    )
    if done.new:
        ctx.emit(Event("call", done.record))
    return _empty_ok()


async def status_recording(ctx: Context, params: Mapping[str, str]) -> Response:
    sid = twiml.require(params, "RecordingSid", max_chars=64)
    status = _one_of(params, "RecordingStatus", RECORDING_RANK)
    call_sid = twiml.require(params, "CallSid", max_chars=64)
    url = (params.get("RecordingUrl") or "").strip() or None
    if status == "completed" and not url:
        raise twiml.BadParams("RecordingUrl: missing for a completed recording")
    if url and (why := url_problem(url)):
        raise twiml.BadParams(f"RecordingUrl: {why}")
    duration = _int(params, "RecordingDuration")
    mail = None
    if status == "completed" and ctx.settings.smtp is not None:
        call = ctx.store.call(call_sid) or {}
        user = ctx.store.call_user(call_sid)
        caller = (ctx.settings.caller_for_identity(user) if user else None) or ctx.settings.caller_for_number(
            call.get("to")
        )
        if caller is not None and caller.client_mail:
            mail = voicemail_mail(
                caller,
                from_=call.get("from"),
                recording_url=url or "",
                duration=duration,
                call_sid=call_sid,
            )
        else:
            log.info("voicemail %s: no client_mail for call %s", sid, call_sid)
    done = await ctx.write(
        ctx.store.record_recording,
        sid,
        status,
        call_sid=call_sid,
        url=url,
        duration=duration,
        channels=_int(params, "RecordingChannels"),
        source=params.get("RecordingSource") or None,
        start_time=params.get("RecordingStartTime"),
        mail=mail,
    )
    return _empty_ok(_mail_task(ctx) if done.new and mail else None)


async def status_message(ctx: Context, params: Mapping[str, str]) -> Response:
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    if not sid:
        raise twiml.BadParams("MessageSid: missing")
    status = _one_of(params, "MessageStatus", MESSAGE_RANK, fallback="SmsStatus")
    error_code = _int(params, "ErrorCode")
    to = params.get("To") or None
    known = ctx.store.message(sid)
    done = await ctx.write(
        ctx.store.record_message,
        sid,
        status,
        direction=None if known else "outbound-api",
        from_=params.get("From") or None,
        to=to,
        error_code=error_code,
        error_message=params.get("ErrorMessage") or None,
        num_segments=_int(params, "NumSegments"),
        price=_float(params, "Price"),
        price_unit=params.get("PriceUnit") or None,
    )
    if error_code == OPTED_OUT and to:  # Twilio refused: the recipient had sent STOP
        await ctx.write(ctx.store.opt_out, to, keyword=str(OPTED_OUT), message_sid=sid)
    if done.new:
        ctx.emit(Event("message", done.record))
    return _empty_ok()


# --- messaging -----------------------------------------------------------------------------


def opt_keyword(params: Mapping[str, str]) -> str | None:
    """ "STOP" or "START" when the message opts out or back in, else None."""
    kind = (params.get("OptOutType") or "").strip().upper()
    if kind in ("STOP", "START"):
        return kind
    return {"out": "STOP", "in": "START"}.get(vocabulary.opt_keyword(params.get("Body")))


async def sms_incoming(ctx: Context, params: Mapping[str, str]) -> Response:
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    if not sid:
        raise twiml.BadParams("MessageSid: missing")
    from_ = twiml.require(params, "From", max_chars=256)
    to = twiml.require(params, "To", max_chars=256)
    body = params.get("Body") or ""
    if len(body) > MAX_SMS_BODY:
        raise twiml.BadParams(f"Body: longer than {MAX_SMS_BODY} characters")
    num_media = _int(params, "NumMedia") or 0
    if not 0 <= num_media <= 10:
        raise twiml.BadParams(f"NumMedia: {num_media} is not between 0 and 10")
    media = [params[f"MediaUrl{i}"] for i in range(num_media) if params.get(f"MediaUrl{i}")]
    status = (params.get("SmsStatus") or params.get("MessageStatus") or "received").strip()
    if status not in MESSAGE_RANK:
        raise twiml.BadParams(f"SmsStatus: {status[:40]!r} is not a known status")
    caller = ctx.settings.caller_for_number(to)
    mail = None
    if caller is not None and caller.client_mail and ctx.settings.smtp is not None:
        mail = sms_mail(caller, from_=from_, body=body, num_media=num_media, media=media)
    done = await ctx.write(
        ctx.store.record_message,
        sid,
        status,
        direction="inbound",
        from_=from_,
        to=to,
        body=body,
        num_segments=_int(params, "NumSegments"),
        num_media=num_media,
        media=media,
        mail=mail,
    )
    keyword = opt_keyword(params)
    if keyword == "STOP":
        await ctx.write(
            ctx.store.opt_out, from_, keyword=(params.get("Body") or "STOP").strip().upper()[:20], message_sid=sid
        )
    elif keyword == "START":
        await ctx.write(
            ctx.store.opt_in, from_, keyword=(params.get("Body") or "START").strip().upper()[:20], message_sid=sid
        )
    if done.new:
        ctx.emit(Event("message", done.record))
    return _xml(twiml.empty_messaging(), _mail_task(ctx) if done.new and mail else None)


# --- the app -------------------------------------------------------------------------------

ROUTES: dict[str, Handler] = {
    twiml.VOICE_OUTGOING: voice_outgoing,
    twiml.VOICE_INCOMING: voice_incoming,
    twiml.VOICE_AFTER_CLIENT: voice_after_client,
    twiml.VOICE_AFTER_SIP: voice_after_sip,
    twiml.VOICE_AFTER_RECORD: voice_after_record,
    twiml.STATUS_CALL: status_call,
    twiml.STATUS_RECORDING: status_recording,
    twiml.STATUS_MESSAGE: status_message,
    twiml.SMS_INCOMING: sms_incoming,
}


def create_app(
    settings: RoutingSettings,
    store: Store | None = None,
    hub: EventHub | None = None,
    *,
    mailer: Mailer | None = None,
) -> Starlette:
    """The ASGI app. ``store`` defaults to one at ``settings.store_path`` (closed with the app);
    ``mailer`` defaults to one for ``settings.smtp`` when that is set."""
    own_store = store is None
    if store is None:
        store = Store(settings.store_path, durability=settings.durability)
    if mailer is None and settings.smtp is not None:
        mailer = Mailer(settings.smtp)
    ctx = Context(settings, store, hub, mailer, RequestValidator(settings.auth_token))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What the SMTP server refused (before a restart, or while it was down) goes out again.
        retry = MailRetry(store, mailer, settings.mail_retry_seconds) if mailer is not None else None
        if retry is not None:
            retry.start()
        try:
            yield
        finally:
            if retry is not None:
                retry.stop()
            if own_store:
                store.close()

    routes = [_webhook(ctx, path, handler) for path, handler in ROUTES.items()]
    routes.append(Route("/healthz", health, methods=["GET"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.hub = hub
    app.state.mailer = mailer
    return app


# --- running it in the notebook ------------------------------------------------------------


@dataclass
class ServerHandle:
    """A service running in a background thread: its local URL, its store, a way to stop it."""

    host: str
    port: int
    public_url: str
    store: Store
    app: Starlette = field(repr=False)
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    settings: RoutingSettings,
    host: str = "127.0.0.1",
    port: int = 0,
    hub: EventHub | None = None,
    *,
    store: Store | None = None,
    mailer: Mailer | None = None,
    startup_timeout: float = 15.0,
) -> ServerHandle:
    """Run the service with uvicorn in a daemon thread (the kernel keeps serving the panel).

    ``port=0`` picks a free port; the handle's ``url``/``port`` say which.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"routing service cannot listen on {host}:{port}: {exc.strerror}") from None
    own_store = store is None  # then the app opens it and closes it when it shuts down
    app = create_app(settings, store, hub, mailer=mailer)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="twilio-widget-routing")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            if own_store:
                app.state.store.close()
            raise RuntimeError(f"routing service did not start on {host}:{port}")
        time.sleep(0.02)
    bound = sock.getsockname()[1]
    return ServerHandle(host, int(bound), settings.public_url, app.state.store, app, server, thread)
