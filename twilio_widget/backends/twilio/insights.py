"""Voice Insights (insights.twilio.com) as typed frames: call summaries, a call's events and its
media samples.

Insights answers with deep JSON (an object per party, per edge, per media direction). Analysts
want a row per call with the figures that tell whether it sounded bad, so each record is
flattened here into the schemas of :mod:`twilio_widget.frames`: the parties and their
carriers, the edges that saw the call, the worst figure over its edges and directions (most
packet loss and jitter, lowest MOS, longest round trip) and the tags Insights gave it.

Requests go through the account's retrying HTTP layer (``rest``), list pages follow
``meta.next_page_url`` (never off the Insights host: the client would send the account's
credentials along), and summaries share the history cache of :mod:`.backend`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ... import frames
from ...vocabulary import INSIGHTS_EDGES as EDGES
from ..base import TwilioError
from .inputs import iso
from .pages import PageProgress, Resource, page_size
from .rest import RestApi

__all__ = ["CALL_SUMMARIES", "RETENTION", "event_record", "fetch_call_records",
           "fetch_summaries", "metric_record", "summary_record"]

#: How far back Insights keeps call summaries; a query with no start asks for all of it (Insights'
#: own default would be the last 4 hours).
RETENTION = "30d"


def fetch_summaries(api: RestApi, res: Resource, scope: str | None, since: pd.Timestamp | None,
                    until: pd.Timestamp | None, limit: int | None,
                    show: bool | None) -> tuple[pd.DataFrame, bool]:
    """Summaries of the calls with ``scope`` (a number; all calls when None) that started in
    [since, until), typed; also whether ``limit`` cut them short."""
    params: dict[str, Any] = {"StartTime": iso(since) if since is not None else RETENTION,
                              "ProcessingState": "all", "SortBy": "start_time"}
    if until is not None:
        params["EndTime"] = iso(until)
    queries = [params] if scope is None else [{**params, "To": scope}, {**params, "From": scope}]
    parts, truncated = [], False
    for query in queries:
        raw = walk_pages(api, api.insights_url(res.path), query, res.key, limit, show, res.kind)
        truncated = truncated or (limit is not None and len(raw) >= limit)
        parts.append(frames.from_records(map(summary_record, raw), res.kind))
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return frame.drop_duplicates(res.id_column, keep="first"), truncated


def fetch_call_records(api: RestApi, kind: str, call_sid: str, params: Mapping[str, Any],
                       show: bool | None) -> pd.DataFrame:
    """One call's events or metrics (``kind`` "call_events" or "call_metrics"), oldest first."""
    key, flatten = ("events", event_record) if kind == "call_events" else ("metrics", metric_record)
    path = f"/v1/Voice/{call_sid}/{key.capitalize()}"
    raw = walk_pages(api, api.insights_url(path), dict(params), key, None, show, kind)
    return frames.in_time_order(frames.from_records(map(flatten, raw), kind), kind)


def walk_pages(api: RestApi, url: str, params: dict[str, Any], key: str, limit: int | None,
               show: bool | None, desc: str) -> list[dict[str, Any]]:
    """Every record of an Insights list, page by page (at most ``limit``)."""
    records: list[dict[str, Any]] = []
    query: dict[str, Any] | None = {**params, "PageSize": page_size(limit)}
    host = urlsplit(url).netloc
    with PageProgress(f"Twilio {desc}", limit, show) as progress:
        while True:
            payload = api.json("GET", url, params=query, what=f"Unable to fetch {desc}")
            page = payload.get(key) or []
            if limit is not None:
                page = page[: limit - len(records)]
            records.extend(page)
            next_url = (payload.get("meta") or {}).get("next_page_url")
            more = bool(next_url) and (limit is None or len(records) < limit)
            progress.page(len(page), more=more)
            if not more:
                return records
            if urlsplit(next_url).netloc != host:
                raise TwilioError(f"Unable to fetch {desc}: the next page is on another host")
            url, query = next_url, None


def summary_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A call_summaries-schema record from Insights' Call Summary JSON."""
    caller, callee = _obj(raw.get("from")), _obj(raw.get("to"))
    properties = _obj(raw.get("properties"))
    edges = [name for name in EDGES if raw.get(name)]
    sides = [side for name in edges for side in _media_sides(_obj(raw[name]).get("metrics"))]
    edge_properties = [_obj(_obj(raw[name]).get("properties")) for name in edges]
    return {
        "call_sid": raw.get("call_sid"),
        "direction": properties.get("direction"),
        "call_type": raw.get("call_type"),
        "call_state": raw.get("call_state"),
        "answered_by": raw.get("answered_by"),
        "processing_state": raw.get("processing_state"),
        "created_time": raw.get("created_time"),
        "start_time": raw.get("start_time"),
        "end_time": raw.get("end_time"),
        "duration": raw.get("duration"),
        "connect_duration": raw.get("connect_duration"),
        "from": caller.get("caller"),
        "to": callee.get("callee"),
        "from_carrier": caller.get("carrier"),
        "to_carrier": callee.get("carrier"),
        "from_country_code": caller.get("country_code"),
        "to_country_code": callee.get("country_code"),
        "from_connection": caller.get("connection"),
        "to_connection": callee.get("connection"),
        "edges": ",".join(edges) or None,
        "edge_location": _first(p.get("edge_location") for p in edge_properties),
        "media_region": _first(p.get("media_region") for p in edge_properties),
        "codec": _first(side.get("codec_name") for side in sides),
        "packet_loss_pct": _worst(max, (side.get("packets_loss_percentage") for side in sides)),
        "jitter_avg": _worst(max, (_stat(side.get("jitter"), "avg") for side in sides)),
        "jitter_max": _worst(max, (_stat(side.get("jitter"), "max") for side in sides)),
        "mos": _worst(min, (_stat(side.get("mos"), "min") for side in sides)),
        "rtt_ms": _worst(max, (_stat(side.get("rtt"), "max") for side in sides)),
        "pdd_ms": properties.get("pdd_ms"),
        "disconnected_by": properties.get("disconnected_by"),
        "last_sip_response": properties.get("last_sip_response_num"),
        "verified_caller": _obj(_obj(raw.get("trust")).get("verified_caller")).get("verified"),
        "tags": ",".join(sorted(str(t) for t in raw.get("tags") or ())) or None,
    }


def event_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A call_events-schema record from one Insights event."""
    edge = raw.get("edge")
    detail = _obj(raw.get(edge)) if edge in EDGES else {}
    return {
        "timestamp": raw.get("timestamp"),
        "call_sid": raw.get("call_sid"),
        "edge": edge,
        "group": raw.get("group"),
        "level": raw.get("level"),
        "name": raw.get("name"),
        "error_code": _obj(detail.get("error")).get("code"),
        "details": json.dumps(detail, sort_keys=True) if detail else None,
    }


def metric_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A call_metrics-schema record from one Insights metric sample (its interval's figures)."""
    edge = raw.get("edge")
    interval = _obj(_obj(raw.get(edge)).get("interval")) if edge in EDGES else {}
    return {
        "timestamp": raw.get("timestamp"),
        "call_sid": raw.get("call_sid"),
        "edge": edge,
        "direction": raw.get("direction"),
        "codec": interval.get("codec_name"),
        "packets_received": interval.get("packets_received"),
        "packets_sent": interval.get("packets_sent"),
        "packets_lost": interval.get("packets_lost"),
        "packet_loss_pct": interval.get("packets_loss_percentage"),
        "jitter": _stat(interval.get("jitter"), "value"),
        "mos": _stat(interval.get("mos"), "value"),
        "rtt_ms": _stat(interval.get("rtt"), "value"),
        "audio_in": _stat(interval.get("audio_in"), "value"),
        "audio_out": _stat(interval.get("audio_out"), "value"),
    }


CALL_SUMMARIES = Resource("call_summaries", "/v1/Voice/Summaries", "call_summaries", "StartTime",
                          "start_time", frozenset({"complete"}), "/v1/Voice/{sid}/Summary",
                          id_column="call_sid", state_column="processing_state",
                          fetch=fetch_summaries, flatten=summary_record, host="insights")


# ---- reading Insights' nested JSON ----------------------------------------------------------


def _obj(value: Any) -> Mapping[str, Any]:
    """``value`` when it is an object, else an empty one (Insights writes null or {} alike)."""
    return value if isinstance(value, Mapping) else {}


def _media_sides(metrics: Any) -> list[Mapping[str, Any]]:
    """An edge's per-direction media figures (inbound, outbound) that are present."""
    return [side for side in (_obj(_obj(metrics).get(d)) for d in ("inbound", "outbound")) if side]


def _stat(value: Any, preferred: str) -> Any:
    """A figure Insights writes either bare or as {min, max, avg, value}: the preferred one,
    else whichever it gave."""
    if not isinstance(value, Mapping):
        return value
    return next((value[k] for k in (preferred, "value", "avg", "max", "min") if value.get(k) is not None),
                None)


def _number(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _worst(pick: Any, values: Iterable[Any]) -> float | None:
    numbers = [n for n in map(_number, values) if n is not None]
    return pick(numbers) if numbers else None


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v), None)

