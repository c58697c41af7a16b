"""The words and numbers Twilio, the kernel and the panel share: statuses, their order,
the error codes this package raises or reacts to, and Twilio's limits.

One place for them, so the widget, the backends and the routing service cannot disagree
on what "over" or "still sending" means. The panel reads the same values from
``js/src/vocabulary.ts``; :data:`VOCABULARY` is what that file holds, and a test keeps the
two equal (``python scripts/vocabulary_ts.py`` rewrites the TypeScript from this module).
"""

from __future__ import annotations

from typing import Any

# --------------------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------------------

#: The calls schema's status vocabulary (Twilio's Call resource), in lifecycle order.
CALL_STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled")
#: Words Twilio's status callbacks use for states the schema names otherwise.
CALL_STATUS_ALIASES = {"initiated": "queued", "answered": "in-progress"}
#: Calls that are still going (a Twilio status, or the Voice SDK's "connecting"/"reconnecting").
ACTIVE_CALL_STATUSES = frozenset({"queued", "initiated", "connecting", "ringing", "in-progress", "reconnecting"})
#: Calls that are over: nothing changes them any more.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
#: How far along a call is: a status never replaces one of a higher rank (callbacks arrive
#: out of order, and a retry may repeat an old one).
CALL_RANK = {
    "queued": 0, "initiated": 0,
    "ringing": 1,
    "in-progress": 2, "answered": 2,
    "completed": 3, "busy": 3, "failed": 3, "no-answer": 3, "canceled": 3,
}


def moves_forward(rank: dict[str, int], old: str | None, new: str) -> bool:
    """Whether status ``new`` may replace ``old`` under ``rank`` (an unknown status ranks first)."""
    return old is None or rank.get(new, 0) >= rank.get(old, 0)


#: What a <Dial> verb reports of the leg it dialled (its action's DialCallStatus).
DIAL_CALL_STATUSES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
#: The DialCallStatus values that mean somebody picked up.
ANSWERED_DIAL_STATUSES = frozenset({"completed", "answered"})

#: Answering-machine detection's verdicts (a call's AnsweredBy).
ANSWERED_BY = ("human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax",
               "unknown")

# --------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------

#: The messages schema's status vocabulary (Twilio's Message resource).
MESSAGE_STATUSES = (
    "accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed",
    "receiving", "received", "read", "canceled",
)
#: Outbound messages still on their way to the handset.
PENDING_MESSAGE_STATUSES = frozenset({"accepted", "scheduled", "queued", "sending", "sent"})
#: Messages that have left for the handset, or arrived from one: their date_sent is known.
SENT_MESSAGE_STATUSES = frozenset({"sent", "delivered", "received"})
#: Messages not worth asking Twilio about again. "sent" counts: many carriers never report
#: delivery, and a later "delivered" still arrives through the status callback.
FINAL_MESSAGE_STATUSES = frozenset({"sent", "delivered", "undelivered", "failed", "received", "read", "canceled"})
#: How far along a message is (as :data:`CALL_RANK` for calls); "read" can follow "delivered".
MESSAGE_RANK = {
    "accepted": 0, "scheduled": 0, "queued": 0, "receiving": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3, "undelivered": 3, "failed": 3, "received": 3, "canceled": 3, "partially_delivered": 3,
    "read": 4,
}
#: Keywords Twilio treats as an opt-out / opt-in when they are the whole message.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                              "OPTOUT", "OPT OUT", "REVOKE"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def opt_keyword(body: str | None) -> str | None:
    """"out", "in" or None: what a whole-message keyword asks for (case and spacing ignored)."""
    word = " ".join((body or "").upper().split()).strip(".!")
    if word in OPT_OUT_KEYWORDS:
        return "out"
    if word in OPT_IN_KEYWORDS:
        return "in"
    return None


# --------------------------------------------------------------------------------------
# Recordings
# --------------------------------------------------------------------------------------

RECORDING_STATUSES = ("in-progress", "paused", "stopped", "processing", "completed", "absent", "deleted")
#: Recordings whose record will not change again.
FINAL_RECORDING_STATUSES = frozenset({"completed", "absent", "deleted", "stopped"})
RECORDING_RANK = {
    "in-progress": 0, "paused": 0,
    "stopped": 1, "processing": 1,
    "completed": 2, "absent": 2, "failed": 2,
    "deleted": 3,
}

#: The edges of Twilio's media path that report to Voice Insights.
INSIGHTS_EDGES = ("carrier_edge", "sip_edge", "sdk_edge", "client_edge")
#: The media directions Voice Insights' metrics can be asked for.
INSIGHTS_DIRECTIONS = ("inbound", "outbound", "both")

# --------------------------------------------------------------------------------------
# Call quality in the browser: the Voice SDK's warnings, its edges and codecs
# --------------------------------------------------------------------------------------

#: The warnings a Voice SDK Call raises (``warning``/``warning-cleared``) while the media is poor.
CALL_QUALITY_WARNINGS = (
    "high-rtt", "high-jitter", "high-packet-loss", "high-packets-lost-fraction", "low-mos",
    "low-bytes-received", "low-bytes-sent", "constant-audio-input-level", "constant-audio-output-level",
    "ice-connectivity-lost",
)
#: Twilio's edge locations a Device may connect through ("roaming": the nearest, by DNS).
VOICE_EDGES = (
    "ashburn", "ashburn-ix", "dublin", "frankfurt", "frankfurt-ix", "london-ix", "roaming", "san-jose-ix",
    "sao-paulo", "singapore", "singapore-ix", "sydney", "tokyo", "tokyo-ix", "umatilla",
)
#: The audio codecs a Device may prefer, best first by default.
VOICE_CODECS = ("opus", "pcmu")
#: Preflight verdicts by the test call's average MOS: at least "good" sounds fine, below "fair"
#: people will notice (Twilio's own bands: over 4.2 excellent, 3.7 to 4.0 good, 3.0 or less degraded).
PREFLIGHT_MOS = {"good": 3.7, "fair": 3.1}

# --------------------------------------------------------------------------------------
# Twilio's error codes this package raises or reacts to
# --------------------------------------------------------------------------------------

AUTHENTICATION_FAILED = 20003
#: The Voice SDK's errors for a page that cannot use a microphone: refused by the user or the
#: frontend (VS Code outputs and other webviews), or none there.
MICROPHONE_UNAVAILABLE = frozenset({31208, 31401, 31402})
NOT_FOUND = 20404
TOO_MANY_REQUESTS = 20429
INVALID_TO_NUMBER = 21211
BODY_REQUIRED = 21602
OPTED_OUT = 21610  # the recipient replied STOP
BODY_TOO_LONG = 21617

# --------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------

#: Most characters Twilio accepts in one message body.
MAX_BODY_CHARS = 1600
#: Characters in one SMS segment, and in each segment of a concatenated message (GSM-7).
SEGMENT_CHARS = 160
CONCATENATED_SEGMENT_CHARS = 153
#: Most media (MMS attachments) one message carries.
MAX_MEDIA = 10
#: Longest Voice SDK client identity.
MAX_IDENTITY_CHARS = 121
#: Most digits of an E.164 number (country code included).
MAX_E164_DIGITS = 15


def _listed(statuses: frozenset[str]) -> list[str]:
    """A set as JSON holds it: a list, sorted, so both languages spell it the same way."""
    return sorted(statuses)


#: Everything above as JSON values: what ``js/src/vocabulary.ts`` exports as ``VOCABULARY``.
VOCABULARY: dict[str, Any] = {
    "call_statuses": list(CALL_STATUSES),
    "call_status_aliases": CALL_STATUS_ALIASES,
    "active_call_statuses": _listed(ACTIVE_CALL_STATUSES),
    "final_call_statuses": _listed(FINAL_CALL_STATUSES),
    "call_rank": CALL_RANK,
    "dial_call_statuses": list(DIAL_CALL_STATUSES),
    "answered_dial_statuses": _listed(ANSWERED_DIAL_STATUSES),
    "message_statuses": list(MESSAGE_STATUSES),
    "pending_message_statuses": _listed(PENDING_MESSAGE_STATUSES),
    "sent_message_statuses": _listed(SENT_MESSAGE_STATUSES),
    "final_message_statuses": _listed(FINAL_MESSAGE_STATUSES),
    "message_rank": MESSAGE_RANK,
    "opt_out_keywords": _listed(OPT_OUT_KEYWORDS),
    "opt_in_keywords": _listed(OPT_IN_KEYWORDS),
    "recording_statuses": list(RECORDING_STATUSES),
    "final_recording_statuses": _listed(FINAL_RECORDING_STATUSES),
    "recording_rank": RECORDING_RANK,
    "call_quality_warnings": list(CALL_QUALITY_WARNINGS),
    "voice_edges": list(VOICE_EDGES),
    "voice_codecs": list(VOICE_CODECS),
    "preflight_mos": PREFLIGHT_MOS,
    "error_codes": {
        "authentication_failed": AUTHENTICATION_FAILED,
        "not_found": NOT_FOUND,
        "too_many_requests": TOO_MANY_REQUESTS,
        "invalid_to_number": INVALID_TO_NUMBER,
        "body_required": BODY_REQUIRED,
        "opted_out": OPTED_OUT,
        "body_too_long": BODY_TOO_LONG,
    },
    "limits": {
        "max_body_chars": MAX_BODY_CHARS,
        "segment_chars": SEGMENT_CHARS,
        "concatenated_segment_chars": CONCATENATED_SEGMENT_CHARS,
        "max_media": MAX_MEDIA,
        "max_identity_chars": MAX_IDENTITY_CHARS,
        "max_e164_digits": MAX_E164_DIGITS,
    },
}
