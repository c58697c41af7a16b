// Twilio's statuses, their order, the error codes and limits the kernel uses: the same values
// as twilio_widget/vocabulary.py, so the panel and the kernel cannot disagree on what a status
// means. The VOCABULARY literal is JSON that tests/test_vocabulary.py compares with the Python
// module: change it there and run `python scripts/vocabulary_ts.py`, never by hand.

export const VOCABULARY = {
  "call_statuses": [
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled"
  ],
  "call_status_aliases": {
    "initiated": "queued",
    "answered": "in-progress"
  },
  "active_call_statuses": [
    "connecting",
    "in-progress",
    "initiated",
    "queued",
    "reconnecting",
    "ringing"
  ],
  "final_call_statuses": [
    "busy",
    "canceled",
    "completed",
    "failed",
    "no-answer"
  ],
  "call_rank": {
    "queued": 0,
    "initiated": 0,
    "ringing": 1,
    "in-progress": 2,
    "answered": 2,
    "completed": 3,
    "busy": 3,
    "failed": 3,
    "no-answer": 3,
    "canceled": 3
  },
  "dial_call_statuses": [
    "completed",
    "answered",
    "busy",
    "no-answer",
    "failed",
    "canceled"
  ],
  "answered_dial_statuses": [
    "answered",
    "completed"
  ],
  "message_statuses": [
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "receiving",
    "received",
    "read",
    "canceled"
  ],
  "pending_message_statuses": [
    "accepted",
    "queued",
    "scheduled",
    "sending",
    "sent"
  ],
  "sent_message_statuses": [
    "delivered",
    "received",
    "sent"
  ],
  "final_message_statuses": [
    "canceled",
    "delivered",
    "failed",
    "read",
    "received",
    "sent",
    "undelivered"
  ],
  "message_rank": {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "receiving": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "received": 3,
    "canceled": 3,
    "partially_delivered": 3,
    "read": 4
  },
  "opt_out_keywords": [
    "CANCEL",
    "END",
    "OPT OUT",
    "OPTOUT",
    "QUIT",
    "REVOKE",
    "STOP",
    "STOP ALL",
    "STOPALL",
    "UNSUBSCRIBE"
  ],
  "opt_in_keywords": [
    "START",
    "UNSTOP",
    "YES"
  ],
  "recording_statuses": [
    "in-progress",
    "paused",
    "stopped",
    "processing",
    "completed",
    "absent",
    "deleted"
  ],
  "final_recording_statuses": [
    "absent",
    "completed",
    "deleted",
    "stopped"
  ],
  "recording_rank": {
    "in-progress": 0,
    "paused": 0,
    "stopped": 1,
    "processing": 1,
    "completed": 2,
    "absent": 2,
    "failed": 2,
    "deleted": 3
  },
  "call_quality_warnings": [
    "high-rtt",
    "high-jitter",
    "high-packet-loss",
    "high-packets-lost-fraction",
    "low-mos",
    "low-bytes-received",
    "low-bytes-sent",
    "constant-audio-input-level",
    "constant-audio-output-level",
    "ice-connectivity-lost"
  ],
  "voice_edges": [
    "ashburn",
    "ashburn-ix",
    "dublin",
    "frankfurt",
    "frankfurt-ix",
    "london-ix",
    "roaming",
    "san-jose-ix",
    "sao-paulo",
    "singapore",
    "singapore-ix",
    "sydney",
    "tokyo",
    "tokyo-ix",
    "umatilla"
  ],
  "voice_codecs": [
    "opus",
    "pcmu"
  ],
  "preflight_mos": {
    "good": 3.7,
    "fair": 3.1
  },
  "error_codes": {
    "authentication_failed": 20003,
    "not_found": 20404,
    "too_many_requests": 20429,
    "invalid_to_number": 21211,
    "body_required": 21602,
    "opted_out": 21610,
    "body_too_long": 21617
  },
  "limits": {
    "max_body_chars": 1600,
    "segment_chars": 160,
    "concatenated_segment_chars": 153,
    "max_media": 10,
    "max_identity_chars": 121,
    "max_e164_digits": 15
  }
} as const;

export type CallStatus = (typeof VOCABULARY.call_statuses)[number];
export type MessageStatus = (typeof VOCABULARY.message_statuses)[number];

export const ACTIVE_CALL_STATUSES: ReadonlySet<string> = new Set(VOCABULARY.active_call_statuses);
export const FINAL_CALL_STATUSES: ReadonlySet<string> = new Set(VOCABULARY.final_call_statuses);
export const PENDING_MESSAGE_STATUSES: ReadonlySet<string> = new Set(VOCABULARY.pending_message_statuses);
export const ERROR_CODES = VOCABULARY.error_codes;
export const LIMITS = VOCABULARY.limits;
