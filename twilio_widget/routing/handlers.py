"""What each webhook does once it passed the gate: answer with TwiML, store the news before
the 200, tell the hub, and queue the mail that goes out after the answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.background import BackgroundTask
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from .. import vocabulary
from ..backends.base import Event, EventHub
from ..checks import url_problem
from ..vocabulary import ANSWERED_BY, CALL_RANK, MAX_MEDIA, MESSAGE_RANK, OPTED_OUT, RECORDING_RANK
from . import twiml
from .gate import float_param, int_param, message_sid, one_of
from .mail import Mailer, deliver_pending, sms_mail, voicemail_mail
from .settings import RoutingSettings
from .store import Store

if TYPE_CHECKING:
    from ..rules import CallingRules

log = logging.getLogger(__name__)

XML_TYPE = "application/xml"
#: Longest inbound SMS body stored (Twilio's own limit is far below: this only bounds a forged one).
MAX_SMS_BODY = 10_000


@dataclass
class Context:
    """What every handler works with: the settings, the store, the hub to tell, the mailer."""

    settings: RoutingSettings
    store: Store
    hub: EventHub | None
    mailer: Mailer | None
    validator: RequestValidator = field(repr=False, default=None)  # type: ignore[assignment]
    #: The calling rules for the calls the service connects (None: no rules, as in older set-ups).
    rules: CallingRules | None = None

    async def write(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A store write, awaited without blocking the loop; returns once committed."""
        return await self.store.submit_async(method, *args, **kwargs)

    def emit(self, event: Event) -> None:
        if self.hub is None:
            return
        try:
            self.hub.emit(event)
        except Exception:  # a listener's failure must not fail Twilio's request
            log.exception("event listener failed on %s", event.kind)


Handler = Callable[[Context, Mapping[str, str]], Awaitable[Response]]


def _xml(document: Any, background: BackgroundTask | None = None) -> Response:
    return Response(str(document), media_type=XML_TYPE, background=background)


#: The answer to every status callback, written once (the service's most frequent answer).
_EMPTY_TWIML = str(twiml.empty_messaging())


def _empty_ok(background: BackgroundTask | None = None) -> Response:
    return _xml(_EMPTY_TWIML, background)


def _mail_task(ctx: Context) -> BackgroundTask | None:
    if ctx.mailer is None:
        return None
    return BackgroundTask(deliver_pending, ctx.store, ctx.mailer)


# --- voice ---------------------------------------------------------------------------------


async def voice_outgoing(ctx: Context, params: Mapping[str, str]) -> Response:
    number = twiml.normalize_number((params.get("To") or "").strip(), ctx.settings.default_region)
    reason = ctx.rules.refusal(number) if ctx.rules is not None and number else ""
    return _xml(twiml.refused(reason) if reason else twiml.outgoing(ctx.settings, params))


async def voice_incoming(ctx: Context, params: Mapping[str, str]) -> Response:
    outcome = twiml.incoming(ctx.settings, params)
    if outcome.caller is not None:
        sid = params["CallSid"].strip()
        status = one_of(params, "CallStatus", CALL_RANK, default="ringing")
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


async def voice_recording_notice(ctx: Context, params: Mapping[str, str]) -> Response:
    return _xml(twiml.recording_notice(ctx.settings, params))


async def voice_after_record(ctx: Context, params: Mapping[str, str]) -> Response:
    twiml.require(params, "CallSid")
    return _xml(twiml.after_record())


# --- status callbacks ----------------------------------------------------------------------


async def status_call(ctx: Context, params: Mapping[str, str]) -> Response:
    sid = twiml.require(params, "CallSid", max_chars=64)
    status = one_of(params, "CallStatus", CALL_RANK)
    duration = int_param(params, "CallDuration")
    if duration is None:
        duration = int_param(params, "Duration")
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


async def status_amd(ctx: Context, params: Mapping[str, str]) -> Response:
    """Answering-machine detection's verdict on a lead's leg: stored with the call, then on to the
    phone, whose panel offers the voicemail drop when a machine answered."""
    sid = twiml.require(params, "CallSid", max_chars=64)
    answered_by = one_of(params, "AnsweredBy", set(ANSWERED_BY))
    done = await ctx.write(ctx.store.record_answered_by, sid, answered_by)
    if done.new:
        ctx.emit(Event("call", done.record))
    return _empty_ok()


async def status_recording(ctx: Context, params: Mapping[str, str]) -> Response:
    sid = twiml.require(params, "RecordingSid", max_chars=64)
    status = one_of(params, "RecordingStatus", RECORDING_RANK)
    call_sid = twiml.require(params, "CallSid", max_chars=64)
    url = (params.get("RecordingUrl") or "").strip() or None
    if status == "completed" and not url:
        raise twiml.BadParams("RecordingUrl: missing for a completed recording")
    if url and (why := url_problem(url)):
        raise twiml.BadParams(f"RecordingUrl: {why}")
    duration = int_param(params, "RecordingDuration")
    mail = None
    # A <Dial>'s recording is of a call the user made (recording with consent), not a voicemail.
    voicemail = (params.get("RecordingSource") or "") != "DialVerb"
    if status == "completed" and voicemail and ctx.settings.smtp is not None:
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
        channels=int_param(params, "RecordingChannels"),
        source=params.get("RecordingSource") or None,
        start_time=params.get("RecordingStartTime"),
        mail=mail,
    )
    return _empty_ok(_mail_task(ctx) if done.new and mail else None)


async def status_message(ctx: Context, params: Mapping[str, str]) -> Response:
    sid = message_sid(params)
    status = one_of(params, "MessageStatus", MESSAGE_RANK, fallback="SmsStatus")
    error_code = int_param(params, "ErrorCode")
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
        num_segments=int_param(params, "NumSegments"),
        price=float_param(params, "Price"),
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
    sid = message_sid(params)
    from_ = twiml.require(params, "From", max_chars=256)
    to = twiml.require(params, "To", max_chars=256)
    body = params.get("Body") or ""
    if len(body) > MAX_SMS_BODY:
        raise twiml.BadParams(f"Body: longer than {MAX_SMS_BODY} characters")
    num_media = int_param(params, "NumMedia") or 0
    if not 0 <= num_media <= MAX_MEDIA:
        raise twiml.BadParams(f"NumMedia: {num_media} is not between 0 and {MAX_MEDIA}")
    media = [params[f"MediaUrl{i}"] for i in range(num_media) if params.get(f"MediaUrl{i}")]
    status = one_of(params, "SmsStatus", MESSAGE_RANK, fallback="MessageStatus", default="received")
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
        num_segments=int_param(params, "NumSegments"),
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
    return _empty_ok(_mail_task(ctx) if done.new and mail else None)


ROUTES: dict[str, Handler] = {
    twiml.VOICE_OUTGOING: voice_outgoing,
    twiml.VOICE_INCOMING: voice_incoming,
    twiml.VOICE_AFTER_CLIENT: voice_after_client,
    twiml.VOICE_AFTER_SIP: voice_after_sip,
    twiml.VOICE_AFTER_RECORD: voice_after_record,
    twiml.VOICE_RECORDING_NOTICE: voice_recording_notice,
    twiml.STATUS_CALL: status_call,
    twiml.STATUS_RECORDING: status_recording,
    twiml.STATUS_AMD: status_amd,
    twiml.STATUS_MESSAGE: status_message,
    twiml.SMS_INCOMING: sms_incoming,
}
