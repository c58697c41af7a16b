"""Voice Insights without Twilio: a summary, events and 10-second media samples for each call the
sandbox has ended, in the frames the REST backend returns.

Each call's quality is drawn from a generator seeded by its SID, so the same call always sounded
the same: most calls sound good, a few carry the tags Insights would give them (jitter, packet
loss, latency), and their samples agree with the summary."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from ... import frames
from ...checks import choice_problem
from ...vocabulary import FINAL_CALL_STATUSES, INSIGHTS_DIRECTIONS, INSIGHTS_EDGES, NOT_FOUND
from ..base import InputError, TwilioError
from .records import involves, window
from .state import SandboxState

__all__ = ["CallQuality"]

#: Insights' call_state for each final call status.
CALL_STATE = {"completed": "completed", "busy": "busy", "failed": "fail", "no-answer": "noanswer",
              "canceled": "canceled"}
#: Insights publishes a partial summary soon after a call and completes it within half an hour.
COMPLETE_AFTER = timedelta(minutes=30)
CARRIERS = ("AT&T Wireless", "Verizon Wireless", "T-Mobile USA, Inc.")
SAMPLE_SECONDS = 10
#: (tag, share of calls): the conditions Insights tags, and how often the sandbox's calls have them.
TROUBLE = (("high_jitter", 0.08), ("high_packet_loss", 0.06), ("high_latency", 0.05))


class CallQuality(SandboxState):
    """The Backend protocol's call-quality members for the sandbox's calls."""

    def call_summaries(self, number: str | None = None, *, since=None, until=None,
                       limit: int | None = None) -> pd.DataFrame:
        with self._lock:
            ended = [dict(r) for r in self._calls.values()
                     if r["status"] in FINAL_CALL_STATUSES and involves(r, number)]
        rows = [_summary(r, self.now()) for r in ended]
        return window(frames.from_records(rows, "call_summaries"), "call_summaries", since, until, limit)

    def call_summary(self, call_sid: str) -> dict[str, Any]:
        frame = frames.from_records([_summary(self._ended(call_sid), self.now())], "call_summaries")
        return frame.iloc[0].replace({pd.NA: None, pd.NaT: None}).to_dict()

    def call_events(self, call_sid: str, *, edge: str | None = None) -> pd.DataFrame:
        rows = _events(self._ended(call_sid))
        if edge:
            rows = [r for r in rows if r["edge"] == _choice(edge, "edge", INSIGHTS_EDGES)]
        return frames.in_time_order(frames.from_records(rows, "call_events"), "call_events")

    def call_metrics(self, call_sid: str, *, edge: str | None = None,
                     direction: str | None = None) -> pd.DataFrame:
        rows = _metrics(self._ended(call_sid))
        if edge:
            rows = [r for r in rows if r["edge"] == _choice(edge, "edge", INSIGHTS_EDGES)]
        if direction:
            rows = [r for r in rows if r["direction"] == _choice(direction, "direction", INSIGHTS_DIRECTIONS)]
        return frames.in_time_order(frames.from_records(rows, "call_metrics"), "call_metrics")

    def _ended(self, call_sid: str) -> dict[str, Any]:
        """The call's record, once it is over (Insights knows nothing of a call in progress)."""
        record = dict(self._call(call_sid))
        if record["status"] not in FINAL_CALL_STATUSES:
            raise TwilioError(f"The requested resource Summary of call {call_sid} was not found: the call "
                              "is not over yet", code=NOT_FOUND, status=404)
        return record


def _choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    problem = choice_problem(value, allowed)
    if problem:
        raise InputError(field, problem)
    return value


def _quality(record: dict[str, Any]) -> dict[str, Any]:
    """The call's media figures and tags, the same every time for the same SID."""
    rng = random.Random(record["sid"])
    tags = [tag for tag, share in TROUBLE if rng.random() < share]
    return {
        "tags": tags,
        "jitter": rng.uniform(35, 80) if "high_jitter" in tags else rng.uniform(1, 8),
        "loss": rng.uniform(3, 12) if "high_packet_loss" in tags else rng.uniform(0, 0.4),
        "rtt": rng.uniform(400, 900) if "high_latency" in tags else rng.uniform(40, 160),
        "mos": rng.uniform(2.6, 3.5) if tags else rng.uniform(4.1, 4.45),
        "carrier": rng.choice(CARRIERS),
        "pdd_ms": rng.randint(800, 3500),
    }


def _remote(record: dict[str, Any]) -> str:
    return record["from"] if record["direction"] == "inbound" else record["to"]


def _summary(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    q = _quality(record)
    talked = record["status"] == "completed"
    end = record.get("end_time") or record["start_time"]
    inbound = record["direction"] == "inbound"
    return {
        "call_sid": record["sid"], "direction": "inbound" if inbound else "outbound",
        "call_type": "carrier", "call_state": CALL_STATE.get(record["status"], record["status"]),
        "answered_by": record.get("answered_by"),
        "processing_state": "complete" if now - end >= COMPLETE_AFTER else "partial",
        "created_time": record["start_time"], "start_time": record["start_time"], "end_time": end,
        "duration": record.get("duration") or 0, "connect_duration": record.get("duration") if talked else 0,
        "from": record["from"], "to": record["to"],
        "from_carrier": q["carrier"] if inbound else None, "to_carrier": None if inbound else q["carrier"],
        "from_country_code": "US", "to_country_code": "US",
        "edges": "carrier_edge", "edge_location": "ashburn", "media_region": "us1",
        **(_media(q) if talked else {}),
        "pdd_ms": q["pdd_ms"], "disconnected_by": "caller" if talked else None,
        "last_sip_response": 200 if talked else 487, "verified_caller": False,
        "tags": ",".join(sorted(q["tags"])) if talked and q["tags"] else None,
    }


def _media(q: dict[str, Any]) -> dict[str, Any]:
    """The summary's media figures of a call that was answered."""
    return {"codec": "opus", "packet_loss_pct": q["loss"], "jitter_avg": q["jitter"] / 2,
            "jitter_max": q["jitter"], "mos": q["mos"], "rtt_ms": q["rtt"]}


def _events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The call's progress as the carrier edge reports it: it rang unless the line was busy or
    the call failed; it was answered when it completed."""
    start, end = record["start_time"], record.get("end_time") or record["start_time"]
    status = record["status"]
    rang = min(start + timedelta(milliseconds=_quality(record)["pdd_ms"]), end)
    steps = [("initiated", start)]
    if status not in ("busy", "failed"):
        steps.append(("ringing", rang))
    if status == "completed":
        steps.append(("answered", min(rang + timedelta(seconds=1), end)))
    steps.append((status, end))
    return [{"timestamp": at, "call_sid": record["sid"], "edge": "carrier_edge", "group": "call_state",
             "level": "INFO", "name": name, "error_code": None, "details": None} for name, at in steps]


def _metrics(record: dict[str, Any]) -> list[dict[str, Any]]:
    if record["status"] != "completed":
        return []
    q = _quality(record)
    rng = random.Random(f"{record['sid']}/samples")
    samples = max(1, int(record.get("duration") or 0) // SAMPLE_SECONDS)
    rows = []
    for n in range(samples):
        at = record["start_time"] + timedelta(seconds=SAMPLE_SECONDS * (n + 1))
        for direction in ("inbound", "outbound"):
            received = 500 if direction == "inbound" else 0
            lost = round(500 * q["loss"] / 100 * rng.uniform(0.5, 1.5))
            rows.append({
                "timestamp": at, "call_sid": record["sid"], "edge": "carrier_edge", "direction": direction,
                "codec": "opus", "packets_received": received, "packets_sent": 500 - received,
                "packets_lost": lost, "packet_loss_pct": lost / 5, "jitter": q["jitter"] * rng.uniform(0.3, 1.0),
                "mos": None, "rtt_ms": None, "audio_in": None, "audio_out": None,
            })
    return rows
