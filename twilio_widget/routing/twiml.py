"""The call flows, as TwiML built with twilio's own builders (never by string concatenation).

Outgoing (the panel's Device, via the TwiML App's Voice URL)::

    <Dial callerId=USER_NUMBER answerOnBridge><Number statusCallback=/status/call>TO</Number></Dial>

    recorded (rules.recording, as rules/consent.py decides for TO):
      <Dial ... record=record-from-answer-dual recordingStatusCallback=/status/recording>
    announced first (every party must consent): <Number url=/voice/recording-notice>, which
      the lead hears on answering: <Say>ANNOUNCEMENT</Say> (or <Play> of its URL)
    answering-machine detection (rules.answering_machine_detection):
      <Number machineDetection=DetectMessageEnd amdStatusCallback=/status/amd>

Incoming (to a user's Twilio number), each step decided by the previous Dial's
``DialCallStatus``::

    /voice/incoming                 <Dial timeout=ring action=/voice/incoming/after-client>
                                      <Client>USER</Client></Dial>
    /voice/incoming/after-client    completed|answered -> <Hangup/>
                                    otherwise -> <Dial timeout=sip action=/voice/incoming/after-sip>
                                      <Sip>sip:USER@SIP_DOMAIN</Sip></Dial>
                                    (no usable SIP domain: straight to voicemail)
    /voice/incoming/after-sip       completed|answered -> <Hangup/>
                                    otherwise -> voicemail
    voicemail                       <Play>VOICE_MAIL_URL</Play> (or <Say>)
                                    <Record maxLength playBeep
                                      recordingStatusCallback=/status/recording/> <Hangup/>

Functions raise :class:`BadParams` for requests that are malformed (the server answers 400);
a request that is well formed but cannot be served (an invalid number typed in the panel,
a number nobody owns) gets TwiML that says so and hangs up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ..contacts import normalize as normalize_number
from ..rules.consent import decide_recording
from ..vocabulary import ANSWERED_DIAL_STATUSES, DIAL_CALL_STATUSES
from ..voice import LeadCallbacks, dial_lead
from .settings import CallerRoute, RoutingSettings

# Route paths, relative to the public URL.
VOICE_OUTGOING = "/voice/outgoing"
VOICE_INCOMING = "/voice/incoming"
VOICE_AFTER_CLIENT = "/voice/incoming/after-client"
VOICE_AFTER_SIP = "/voice/incoming/after-sip"
VOICE_AFTER_RECORD = "/voice/voicemail/after-record"
VOICE_RECORDING_NOTICE = "/voice/recording-notice"
STATUS_CALL = "/status/call"
STATUS_RECORDING = "/status/recording"
STATUS_MESSAGE = "/status/message"
STATUS_AMD = "/status/amd"
SMS_INCOMING = "/sms/incoming"

CALL_STATUS_EVENTS = "initiated ringing answered completed"
MAX_PARAM_CHARS = 2048


class BadParams(ValueError):
    """A webhook request whose parameters are missing or malformed (answered with 400)."""


@dataclass(frozen=True)
class Outcome:
    """The TwiML to answer with, and what the flow decided (for logs and tests)."""

    twiml: VoiceResponse | MessagingResponse
    step: str
    caller: CallerRoute | None = None
    target: str | None = None

    def __str__(self) -> str:
        return str(self.twiml)


def require(params: Mapping[str, str], name: str, *, max_chars: int = MAX_PARAM_CHARS) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        raise BadParams(f"{name}: missing")
    if len(value) > max_chars:
        raise BadParams(f"{name}: longer than {max_chars} characters")
    return value


def _preflight(caller: CallerRoute) -> Outcome:
    """The SDK's preflight test dials with no number: some media for it to measure, then the end."""
    response = VoiceResponse()
    response.say("Testing your connection.")
    response.pause(length=PREFLIGHT_SECONDS)
    response.hangup()
    return Outcome(response, "preflight", caller)


def _say_and_hang_up(text: str, step: str, caller: CallerRoute | None = None) -> Outcome:
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return Outcome(response, step, caller)


def refused(reason: str) -> Outcome:
    """What the user hears when the calling rules refuse the number they dialled."""
    return _say_and_hang_up(f"This call is not allowed: {reason}. Goodbye.", "refused-by-rules")


# --- outgoing ------------------------------------------------------------------------------


def client_identity(from_: str | None) -> str | None:
    """``client:alice`` -> ``alice``; anything else -> None."""
    if from_ and from_.startswith("client:"):
        return from_[len("client:") :].strip() or None
    return None


def outgoing_target(settings: RoutingSettings, to: str) -> tuple[str, str] | None:
    """Classify and normalise what the panel asked to dial: ("number"|"client"|"sip", value).

    Phone numbers must be valid (E.164 out); ``client:<id>`` only for configured users;
    ``sip:`` only on the configured SIP domain (never an arbitrary SIP host: toll fraud).
    """
    if to.startswith("client:"):
        identity = to[len("client:") :].strip()
        return ("client", identity) if identity in settings.callers else None
    if to.lower().startswith("sip:"):
        domain = settings.usable_sip_domain
        host = to[4:].rpartition("@")[2].split(";")[0].split(":")[0].lower()
        user = to[4:].rpartition("@")[0]
        return ("sip", to) if domain and user and host == domain.lower() else None
    number = normalize_number(to, settings.default_region)
    return ("number", number) if number else None


#: How long the panel's preflight test call lasts: the SDK samples once a second and raises no
#: warning in a call's first 5 s, and the test ends when Twilio hangs up.
PREFLIGHT_SECONDS = 10


def outgoing(settings: RoutingSettings, params: Mapping[str, str]) -> Outcome:
    """TwiML for a call the panel's Device places (the TwiML App's Voice URL)."""
    require(params, "CallSid")
    identity = client_identity(params.get("From"))
    caller = settings.caller_for_identity(identity) if identity else None
    if caller is not None and not (params.get("To") or "").strip():
        return _preflight(caller)
    to = require(params, "To", max_chars=256)
    asked = (params.get("CallerId") or "").strip()
    known = settings.caller_ids()
    if caller is not None:
        caller_id = normalize_number(caller.caller_id, settings.default_region) or caller.caller_id
        owned = {caller_id, *(normalize_number(n, settings.default_region) for n in caller.numbers)}
        if asked and normalize_number(asked, settings.default_region) not in owned:
            return _say_and_hang_up("This caller ID is not assigned to you. Goodbye.", "refused-caller-id", caller)
        caller_id = normalize_number(asked, settings.default_region) if asked else caller_id  # local caller ID
    elif asked and (normalize_number(asked, settings.default_region) in known or not known):
        caller_id = normalize_number(asked, settings.default_region) or ""
    else:
        caller_id = ""
    if not caller_id:
        return _say_and_hang_up("No caller ID is configured for this user. Goodbye.", "no-caller-id")

    target = outgoing_target(settings, to)
    if target is None:
        return _say_and_hang_up("The number you dialed is not a valid phone number. Goodbye.", "invalid-number", caller)
    kind, value = target
    response = VoiceResponse()
    callback = {
        "status_callback": settings.url(STATUS_CALL),
        "status_callback_event": CALL_STATUS_EVENTS,
        "status_callback_method": "POST",
    }
    if kind == "number":
        dial_lead(response, value, caller_id=caller_id, recording=decide_recording(settings.rules.recording, value),
                  detect_machine=settings.rules.answering_machine_detection,
                  callbacks=lead_callbacks(settings.public_url), number_options=callback, answer_on_bridge=True)
        return Outcome(response, f"dial-{kind}", caller, value)
    dial = response.dial(caller_id=caller_id, answer_on_bridge=True)
    if kind == "client":
        dial.client(value, **callback)
    else:
        dial.sip(value, **callback)
    return Outcome(response, f"dial-{kind}", caller, value)


def lead_callbacks(public_url: str) -> LeadCallbacks:
    """The service's URLs for a call to a lead: the announcement, the recording's and AMD's callbacks."""
    return LeadCallbacks(public_url + VOICE_RECORDING_NOTICE, public_url + STATUS_RECORDING, public_url + STATUS_AMD)


def recording_notice(settings: RoutingSettings, params: Mapping[str, str]) -> Outcome:
    """What the lead hears on answering a call that is recorded where every party must consent
    (the <Number url> whisper, before the user is connected): the announcement."""
    require(params, "CallSid")
    announcement = settings.rules.recording.announcement
    response = VoiceResponse()
    if settings.rules.recording.announcement_is_url:
        response.play(announcement)
    else:
        response.say(announcement)
    return Outcome(response, "recording-notice")


# --- incoming ------------------------------------------------------------------------------


def incoming_caller(settings: RoutingSettings, params: Mapping[str, str]) -> CallerRoute | None:
    return settings.caller_for_number(params.get("To") or params.get("Called"))


def incoming(settings: RoutingSettings, params: Mapping[str, str]) -> Outcome:
    """First step of a call to a user's number: ring their browser client."""
    require(params, "CallSid")
    require(params, "To", max_chars=256)
    caller = incoming_caller(settings, params)
    if caller is None:
        return _say_and_hang_up("This number is not assigned to anyone. Goodbye.", "unassigned")
    response = VoiceResponse()
    dial = response.dial(timeout=settings.ring_seconds, action=settings.url(VOICE_AFTER_CLIENT), method="POST")
    dial.client(caller.identity)
    return Outcome(response, "ring-client", caller, f"client:{caller.identity}")


def dial_call_status(params: Mapping[str, str]) -> str:
    status = require(params, "DialCallStatus", max_chars=32)
    if status not in DIAL_CALL_STATUSES:
        raise BadParams(f"DialCallStatus: {status!r} is not one of {', '.join(DIAL_CALL_STATUSES)}")
    return status


def _dial_result(settings: RoutingSettings, params: Mapping[str, str]) -> tuple[CallerRoute | None, Outcome | None]:
    """Who the call is for, and the hang-up when the last Dial was answered (else None)."""
    require(params, "CallSid")
    status = dial_call_status(params)
    caller = incoming_caller(settings, params)
    if status not in ANSWERED_DIAL_STATUSES:
        return caller, None
    response = VoiceResponse()
    response.hangup()
    return caller, Outcome(response, "answered", caller)


def after_client(settings: RoutingSettings, params: Mapping[str, str]) -> Outcome:
    """The browser did or did not answer: hang up, or forward to SIP, or voicemail."""
    caller, answered = _dial_result(settings, params)
    if answered:
        return answered
    sip = settings.sip_uri(caller) if caller else None
    if sip is None:
        return voicemail(settings, caller)
    response = VoiceResponse()
    dial = response.dial(timeout=settings.sip_seconds, action=settings.url(VOICE_AFTER_SIP), method="POST")
    dial.sip(sip)
    return Outcome(response, "ring-sip", caller, sip)


def after_sip(settings: RoutingSettings, params: Mapping[str, str]) -> Outcome:
    """The SIP phone did or did not answer: hang up, or voicemail."""
    caller, answered = _dial_result(settings, params)
    return answered or voicemail(settings, caller)


def voicemail(settings: RoutingSettings, caller: CallerRoute | None = None) -> Outcome:
    """Play the element's Voice Mail URL (or say a greeting), record after a beep, hang up."""
    response = VoiceResponse()
    url = settings.usable_voice_mail_url
    if url:
        response.play(url)
    else:
        response.say(settings.voicemail_greeting)
    response.record(
        max_length=settings.voicemail_max_seconds,
        play_beep=True,
        action=settings.url(VOICE_AFTER_RECORD),
        method="POST",
        recording_status_callback=settings.url(STATUS_RECORDING),
        recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
    )
    response.hangup()
    return Outcome(response, "voicemail", caller)


def after_record() -> Outcome:
    """Twilio asks the <Record> action what next: nothing, hang up."""
    response = VoiceResponse()
    response.hangup()
    return Outcome(response, "hangup")


def empty_messaging() -> MessagingResponse:
    """The answer to an inbound SMS: no automatic reply (Twilio answers STOP/START itself)."""
    return MessagingResponse()
