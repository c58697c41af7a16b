"""The shapes of what travels between the kernel and the panel, in one place.

Each TypedDict here has an interface of the same name in ``js/src/types.ts``;
``tests/test_payloads.py`` holds the two to the same keys, so a field added on one side and
forgotten on the other fails a test instead of a user's panel. Times are ISO 8601 strings in
UTC (:func:`iso`); a missing value is None, never NaN or NaT.
"""

# No ``from __future__ import annotations`` here: TypedDict reads NotRequired only from real types.
from typing import Any, Literal, NotRequired, TypedDict

import pandas as pd

from . import frames
from .backends.base import TwilioError

Direction = Literal["inbound", "outbound"]


class NumberButton(TypedDict):
    """One of the current contact's numbers, as a field button."""

    field: str
    label: str
    number: str
    display: str


class ContactCard(TypedDict):
    """A contact as the panel shows it (the ``contact`` trait, and an incoming caller's card)."""

    key: str
    name: str
    fields: dict[str, Any]
    position: int
    count: int
    field: NotRequired[str]  # on a caller's card: the field whose number called


class DialpadCheck(TypedDict):
    """The kernel's verdict on one text of the pad: why it cannot be called ("" when it can)."""

    dialpad: str
    problem: str
    rule: NotRequired[bool]  # the problem is a calling rule's: a call can still be placed with an override


class CallQuality(TypedDict):
    """A browser call's quality: the warnings on now and every one raised, the worst of the
    Device's once-a-second samples (rtt and jitter in ms, packet_loss a fraction)."""

    warnings: list[str]
    seen: list[str]
    samples: int
    mos: float | None
    rtt: float | None
    jitter: float | None
    packet_loss: float | None


class RecordingConsent(TypedDict):
    """Whether a call is recorded and why (rules/consent.py's decision, recorded with the call)."""

    record: bool
    announce: bool  # the lead hears the announcement first
    consent: str  # "all-party", "one-party", or "" when recording is off
    place: str  # the region code whose rule applied ("US-CA", "GB"; "" when unknown)
    reason: str


class CallState(TypedDict, total=False):
    """The ``call`` trait: the call on the panel, or {} when there is none."""

    sid: str
    status: str
    direction: Direction
    remote: str
    remote_display: str
    started_at: str | None
    muted: bool
    digits: str
    end_reason: str | None
    duration: int | None
    leg: Literal["you", "lead"]  # bridge mode: whose phone rings
    caller_id: str  # the number the lead sees (local caller ID)
    caller_id_choice: str  # why that one: "area code", "state", "country" or "default"
    override: str  # why a calling rule was set aside for this call ("" when none was)
    overridden: str  # the rule's reason that was set aside
    answered_by: str  # "machine_end_beep" and the like: answering-machine detection's verdict
    voicemail_dropped: bool  # the recorded message was left on the lead's voicemail
    recording: RecordingConsent  # whether the call is recorded, announced first, and why
    quality: CallQuality  # browser calls: how the call sounded, as the panel's Device measured it


#: The ``incoming`` trait (``from`` is a Python keyword, hence this form).
IncomingCall = TypedDict("IncomingCall", {
    "sid": str,
    "from": str,
    "display": str,
    "contact": ContactCard | None,
})


class HistoryRow(TypedDict):
    sid: str
    direction: Direction
    status: str
    time: str | None
    duration: int | None
    number: str


class ThreadRow(TypedDict):
    sid: str
    direction: Direction
    body: str
    status: str
    time: str | None
    error_code: int | None


class PanelError(TypedDict):
    """The ``error`` trait and every failed command's ``error``: never more than this."""

    message: str
    code: int | None
    more_info: NotRequired[str | None]
    hint: NotRequired[str | None]  # the panel's own advice for a Voice SDK code
    field: NotRequired[str]  # the argument at fault, when the input was


class PreflightReport(TypedDict):
    """``cmd_preflight_report``: the SDK's preflight test, summed up (averages over the test call)."""

    id: str
    status: str  # completed or failed
    edge: str | None
    call_sid: str | None
    mos: float | None
    mos_min: float | None
    rtt: float | None
    jitter: float | None
    call_quality: str | None  # the SDK's band: excellent, great, good, fair, degraded
    warnings: list[str]
    error: PanelError | None


class AudioDevice(TypedDict):
    id: str
    label: str


class BridgeOffer(TypedDict):
    """Calling through the user's own phone, offered where the page cannot use a microphone."""

    number: str  # bridge_to, E.164 ("" when the phone has none: the offer then says how to set it)
    display: str


class DeviceState(TypedDict):
    """The ``device`` trait: the panel's Voice SDK Device as the panel last reported it, and
    the kernel's offer of bridge mode once the Device could not use a microphone."""

    status: str  # off, starting, registering, registered, unregistered, offline, error, destroyed, stale
    identity: NotRequired[str]
    error: NotRequired[PanelError | None]
    inputs: NotRequired[list[AudioDevice]]
    outputs: NotRequired[list[AudioDevice]]
    output_selection: NotRequired[bool]
    input: NotRequired[str]  # the chosen microphone's id
    output: NotRequired[str]  # the chosen speaker's id
    bridge_offer: NotRequired[BridgeOffer]


class DeviceEvent(TypedDict, total=False):
    """``cmd_device_event``: what changed on the panel's Device (merged into ``device``)."""

    status: str
    identity: str
    error: PanelError | None
    inputs: list[AudioDevice]
    outputs: list[AudioDevice]
    output_selection: bool
    input: str
    output: str


class CallEvent(TypedDict):
    """``cmd_call_event``: what the panel's Device did with a call. A report with a
    ``direction`` begins a call (dialled or answered); the others change the current one."""

    sid: str
    status: NotRequired[str]
    direction: NotRequired[Direction]
    remote: NotRequired[str]
    muted: NotRequired[bool]
    digits: NotRequired[str]  # the tones just sent
    quality: NotRequired[CallQuality]


class Request(TypedDict):
    """Panel -> kernel: run a command."""

    type: Literal["twp:request"]
    id: str
    cmd: str
    args: dict[str, Any]


class Response(TypedDict):
    """Kernel -> panel: a command's answer, ``result`` when ``ok``, else ``error``."""

    type: Literal["twp:response"]
    id: str
    ok: bool
    result: NotRequired[dict[str, Any]]
    error: NotRequired[PanelError]


class DeviceRequest(TypedDict):
    """Kernel -> panel: ask the panel's Device to act (a call placed or controlled from a cell)."""

    type: Literal["twp:device"]
    action: Literal["dial", "hang_up", "mute", "digits", "preflight"]
    args: dict[str, Any]


class SessionLead(TypedDict):
    """A lead on the calling session's card: its number, its view columns, its own clock."""

    key: str
    name: str
    number: str
    display: str
    field: str
    fields: dict[str, Any]
    zone: str  # IANA zone of the number ("UTC" where unknown)
    local_time: str | None  # the lead's wall clock now, ISO 8601 without an offset
    attempts: int
    callback_at: str | None  # a call-back booked for the lead (UTC)


class OutcomeChoice(TypedDict):
    """One outcome the session offers (the session's vocabulary, sent as data)."""

    name: str
    label: str
    callback: bool  # asks for a time to call back


class SessionView(TypedDict):
    """The ``session`` trait: the calling session as the panel shows it, bounded whatever the leads."""

    queue: str
    status: Literal["ready", "calling", "outcome", "paused", "done"]
    position: int
    total: int
    open: int
    lead: SessionLead | None
    next: SessionLead | None
    outcomes: list[OutcomeChoice]
    require_outcome: bool
    suggested: str
    autodial: float | None  # seconds of countdown before the next lead is dialled, None for off
    countdown: int  # grows each time a countdown should start
    call_sid: str
    next_due: str | None  # when the next retry or call-back falls due, if none is now


def checked(payload: Any, report: dict[str, Any]) -> Any:
    """``report`` (from the panel) when its keys are all ``payload``'s; a ValueError names the others."""
    unknown = set(report) - set(payload.__annotations__)
    if unknown:
        raise ValueError(f"{payload.__name__}: unknown fields {', '.join(sorted(unknown))}")
    return report


def error_payload(exc: Exception | PanelError) -> PanelError:
    """What the panel shows for ``exc``: Twilio's message, code and link, or the message alone
    (a payload already made, such as the panel's Device reports, is shown as it is)."""
    if isinstance(exc, dict):
        return exc
    if isinstance(exc, TwilioError):
        return exc.as_payload()  # type: ignore[return-value]
    # A KeyError's str() is the repr of its key: show the message itself.
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return {"message": str(message), "code": None, "more_info": None}


def iso(moment: Any) -> str | None:
    """ISO 8601 in UTC for the panel; None for a missing time."""
    if missing_as_none(moment) is None:
        return None
    return frames.utc(moment).isoformat()


def missing_as_none(value: Any) -> Any:
    return None if value is None or value is pd.NA or value is pd.NaT else value
