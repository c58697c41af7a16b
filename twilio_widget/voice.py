"""Browser calling's kernel side: access tokens for the Voice SDK, the account set-up it
needs (an API key and a TwiML App), and the inline TwiML of bridge mode.

The API key secret never leaves the kernel: the browser only ever gets a signed,
short-lived token whose grants name the TwiML App and allow incoming calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from twilio.twiml.voice_response import VoiceResponse

from .backends.base import TwilioError
from .checks import identity_problem
from .config import ConfigError, PhoneConfig
from .rules.consent import RecordingDecision

#: What a user id may not keep in its identity (checks.identity_problem holds the rule).
_NOT_IN_IDENTITY = re.compile(r"[^A-Za-z0-9_]")
DEFAULT_IDENTITY = "twilio_widget"
MIN_TTL, MAX_TTL = 60, 24 * 3600
#: How long the panel's tokens last; the panel renews them before they expire.
PANEL_TOKEN_TTL = 3600


def identity_for(user_id: str | None) -> str:
    """The client identity a user registers under (``client:<identity>`` in TwiML)."""
    if not user_id:
        return DEFAULT_IDENTITY
    identity = _NOT_IN_IDENTITY.sub("_", str(user_id))
    problem = identity_problem(identity)
    if problem:
        raise ConfigError("user_id", f"{user_id!r} cannot be a Voice identity: {problem}")
    return identity


def mint_token(config: PhoneConfig, identity: str, *, ttl: int = 3600) -> str:
    """A signed Voice access token for ``identity``: outgoing calls through the element's
    TwiML App (App SID), incoming calls allowed."""
    missing = [name for name, value in (
        ("account_sid", config.account_sid), ("api_key_sid", config.api_key_sid),
        ("api_key_secret", config.api_key_secret), ("app_sid", config.app_sid)) if not value]
    if missing:
        raise ConfigError([(name, "is needed for browser calling; phone.setup() can create "
                            "the API key and TwiML App") for name in missing])
    problem = identity_problem(identity)
    if problem:
        raise ConfigError("identity", problem)
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ConfigError("ttl", f"must be between {MIN_TTL} and {MAX_TTL} seconds, not {ttl}")
    token = AccessToken(config.account_sid, config.api_key_sid, config.api_key_secret,
                        identity=identity, ttl=ttl)
    token.add_grant(VoiceGrant(outgoing_application_sid=config.app_sid, incoming_allow=True))
    return token.to_jwt()


def panel_token(config: PhoneConfig, identity: str) -> dict[str, Any]:
    """What the panel's Device registers with: a token for ``identity``, how long it lasts (the
    panel renews it on a schedule of its own), and the edges and codecs it connects with."""
    token = mint_token(config, identity, ttl=PANEL_TOKEN_TTL)
    return {"token": token, "identity": identity, "ttl": PANEL_TOKEN_TTL,
            "options": {"edge": list(config.edge), "codecs": list(config.codecs)}}


#: Answering-machine detection that waits for the greeting's end (Twilio's MachineDetection value).
MACHINE_DETECTION = "DetectMessageEnd"
#: How a call to a lead is recorded: both parties, on two channels, from the lead's answer.
DIAL_RECORD = "record-from-answer-dual"


@dataclass(frozen=True)
class LeadCallbacks:
    """Where Twilio asks and tells about a call to a lead: the routing service's URLs (empty
    without a service, see ``routing.twiml.lead_callbacks``)."""

    announcement: str = ""  # TwiML the lead hears on answering, before the user (the <Number url> whisper)
    recording: str = ""  # the recording's status callback
    amd: str = ""  # answering-machine detection's verdict


def dial_lead(response: VoiceResponse, lead: str, *, caller_id: str, recording: RecordingDecision | None = None,
              detect_machine: bool = False, callbacks: LeadCallbacks = LeadCallbacks(),
              number_options: dict[str, Any] | None = None, **dial_options: Any) -> None:
    """The <Dial> of a lead, in both modes (the routing service's outgoing TwiML and bridge mode's):
    recorded from the lead's answer when the consent decision says so, the announcement played to
    the lead on answering, and answering-machine detection that waits for the greeting's end."""
    record: dict[str, Any] = {}
    if recording is not None and recording.record:
        record["record"] = DIAL_RECORD
        if callbacks.recording:
            record.update(recording_status_callback=callbacks.recording, recording_status_callback_method="POST",
                          recording_status_callback_event="completed absent")
    number = dict(number_options or {})
    if recording is not None and recording.record and recording.announce:
        if not callbacks.announcement:
            raise ValueError("recording: the announcement needs the routing service's URL")
        number.update(url=callbacks.announcement, method="POST")
    if detect_machine:
        number["machine_detection"] = MACHINE_DETECTION
        if callbacks.amd:
            number.update(amd_status_callback=callbacks.amd, amd_status_callback_method="POST")
    response.dial(caller_id=caller_id, **dial_options, **record).number(lead, **number)


def bridge_twiml(lead: str, caller_id: str, *, timeout: int = 30, detect_machine: bool = False,
                 recording: RecordingDecision | None = None, callbacks: LeadCallbacks = LeadCallbacks()) -> str:
    """What the user's own phone hears once they pick up: the lead, dialled with the
    caller ID of the user (built with twilio's builder, never by string pasting).
    ``detect_machine`` asks Twilio to tell a machine's greeting on the lead's leg and wait for
    its end (``DetectMessageEnd``), so a voicemail drop lands after the beep; the verdict comes
    back as the leg's ``answered_by``. ``recording`` is the call's consent decision."""
    response = VoiceResponse()
    response.say("Connecting your call.")
    dial_lead(response, lead, caller_id=caller_id, recording=recording, detect_machine=detect_machine,
              callbacks=callbacks, timeout=timeout)
    return str(response)


def voicemail_drop_twiml(message_url: str) -> str:
    """What the lead's voicemail hears on a voicemail drop: the recorded message, then the end."""
    response = VoiceResponse()
    response.play(message_url)
    response.hangup()
    return str(response)


@dataclass
class SetupStep:
    what: str
    status: str  # "ok", "created", "missing", "mismatch", "failed"
    detail: str = ""
    sid: str = ""


#: How a new API key's secret is shown: Twilio hands it out once, at creation, never again.
NEW_SECRET_NOTICE = """

The new API key's secret, shown this once (Twilio will not show it again):
    TWILIO_API_SECRET={secret}
Store it now where your environment is set (with TWILIO_API_KEY={sid}), then clear this
output. Until the kernel stops, this phone already uses it (phone.config.api_key_secret)."""


@dataclass
class SetupReport:
    """What browser calling needs on the account, and what :func:`setup` did about it.

    A new API key's secret is shown on the report's first notebook display and nowhere
    else: not in ``str()``/``repr()`` (which end up in logs), nor on a second display.
    """

    steps: list[SetupStep] = field(default_factory=list)
    config: PhoneConfig | None = None
    _unshown_secret: str = field(default="", repr=False, compare=False)

    @property
    def ready(self) -> bool:
        return all(step.status in ("ok", "created") for step in self.steps)

    def __str__(self) -> str:
        lines = [f"{'ready' if self.ready else 'not ready'} for browser calling"]
        lines += [f"  {s.what}: {s.status}{f' ({s.sid})' if s.sid else ''}{f' - {s.detail}' if s.detail else ''}"
                  for s in self.steps]
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython's display hook
        secret, self._unshown_secret = self._unshown_secret, ""  # once: a later display has none
        notice = NEW_SECRET_NOTICE.format(secret=secret, sid=self.config.api_key_sid) if secret else ""
        p.text(str(self) + notice)


def setup(client: Any, config: PhoneConfig, *, create: bool = False, voice_url: str | None = None,
          friendly_name: str = "twilio-widget") -> SetupReport:
    """Check (and with ``create=True``, create) the API key and TwiML App browser calling uses.

    Nothing is created unless asked. ``voice_url`` is where the TwiML App sends outgoing calls
    (the routing service's ``/voice/outgoing``); an existing App pointing elsewhere is reported.
    The returned report's ``config`` carries any new SIDs and the new key's secret, in the
    kernel; the secret is shown once, on the report's display, for the user to store.
    """
    account = client.api.v2010.accounts(config.account_sid)
    report = SetupReport(config=config)
    report.steps.append(_api_key_step(account, config, create, friendly_name, report))
    report.steps.append(_app_step(account, report.config, create, voice_url, friendly_name, report))
    return report


def _api_key_step(account, config, create, friendly_name, report) -> SetupStep:
    if config.api_key_sid:
        try:
            key = account.keys(config.api_key_sid).fetch()
        except TwilioRestException as exc:
            return SetupStep("API key", "failed", _rest_problem(exc), config.api_key_sid)
        detail = "" if config.api_key_secret else "its secret is not configured (TWILIO_API_SECRET)"
        return SetupStep("API key", "ok" if not detail else "missing", detail, key.sid)
    if not create:
        return SetupStep("API key", "missing", "run phone.setup(create=True) to create one")
    try:
        key = account.new_keys.create(friendly_name=friendly_name)
    except TwilioRestException as exc:
        return SetupStep("API key", "failed", _rest_problem(exc))
    report.config = report.config.replace(api_key_sid=key.sid, api_key_secret=key.secret)
    report._unshown_secret = key.secret
    return SetupStep("API key", "created", "store its secret as TWILIO_API_SECRET (shown once, on this "
                     "report's display)", key.sid)


def _app_step(account, config, create, voice_url, friendly_name, report) -> SetupStep:
    if config.app_sid:
        try:
            app = account.applications(config.app_sid).fetch()
        except TwilioRestException as exc:
            return SetupStep("TwiML App", "failed", _rest_problem(exc), config.app_sid)
        if voice_url and app.voice_url != voice_url:
            return SetupStep("TwiML App", "mismatch",
                             f"its Voice URL is {app.voice_url or 'empty'}, expected {voice_url}", app.sid)
        return SetupStep("TwiML App", "ok", f"Voice URL {app.voice_url or 'empty'}", app.sid)
    if not create:
        return SetupStep("TwiML App", "missing", "run phone.setup(create=True, voice_url=...) to create one")
    if not voice_url:
        return SetupStep("TwiML App", "missing", "voice_url: needed to create the App (the routing service's "
                         "/voice/outgoing)")
    try:
        app = account.applications.create(friendly_name=friendly_name, voice_url=voice_url, voice_method="POST")
    except TwilioRestException as exc:
        return SetupStep("TwiML App", "failed", _rest_problem(exc))
    report.config = report.config.replace(app_sid=app.sid)
    return SetupStep("TwiML App", "created", f"Voice URL {voice_url}", app.sid)


def _rest_problem(exc: TwilioRestException) -> str:
    return str(TwilioError(exc.msg, code=exc.code, status=exc.status))
