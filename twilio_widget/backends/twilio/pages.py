"""History pages: which list each kind of record comes from, how a page is decoded, and one
scope's records fetched page by page into a typed frame.

List pages are fetched as raw JSON with ``PageSize=1000`` (the API's maximum, which
twilio-python does not cap) and turned into one typed frame per query, without building a
``CallInstance`` per record: 100 requests for 100,000 calls instead of 2,000, and several
times faster end to end. With msgspec installed, pages are decoded into structs of just the
schema's fields (faster again); otherwise with ``json``. (Fetching the next page on a thread
while decoding one was tried and measured slower: the reader thread convoys behind the GIL.)
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ... import frames
from ...vocabulary import FINAL_CALL_STATUSES, FINAL_MESSAGE_STATUSES, FINAL_RECORDING_STATUSES
from ..base import TwilioError
from .inputs import day_floor, iso
from .rest import RestApi

__all__ = ["CALLS", "EVENT_KIND", "MAX_PAGE_SIZE", "MESSAGES", "PageProgress", "RECORDINGS",
           "Resource", "fetch_scope", "page_decoder", "page_size"]

#: The API's largest page (twilio-python passes any page_size through uncapped).
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Resource:
    kind: str  # frames kind
    path: str  # under /2010-04-01/Accounts/{sid}/, or on its host
    key: str  # list key in the page JSON
    filter_param: str  # server-side time filter ("StartTime" -> StartTime>, StartTime<)
    filter_column: str  # the frame column that filter acts on
    final: frozenset[str]  # states after which a cached record is not re-fetched by id
    item_path: str  # one record, formatted with sid
    id_column: str = "sid"
    state_column: str = "status"
    #: (api, resource, scope, since, until, limit, show) -> (typed frame, truncated); the 2010
    #: API's lists when None.
    fetch: Callable[..., tuple[pd.DataFrame, bool]] | None = None
    #: One record's JSON -> a schema record (the 2010 API's JSON already is one).
    flatten: Callable[[Any], dict[str, Any]] | None = None
    host: str = "api"  # "api" (api.twilio.com, under the account) or "insights"

    def records(self, api: RestApi, scope: str | None, since: pd.Timestamp | None,
                until: pd.Timestamp | None, limit: int | None,
                show: bool | None) -> tuple[pd.DataFrame, bool]:
        """One scope's records, typed; also whether ``limit`` cut them short."""
        return (self.fetch or fetch_scope)(api, self, scope, since, until, limit, show)

    def item_url(self, api: RestApi, sid: str) -> str:
        path = self.item_path.format(sid=sid)
        return api.insights_url(path) if self.host == "insights" else api.url_for(path)

    def record(self, payload: Any) -> dict[str, Any]:
        return self.flatten(payload) if self.flatten is not None else payload


CALLS = Resource("calls", "Calls.json", "calls", "StartTime", "start_time",
                 FINAL_CALL_STATUSES, "Calls/{sid}.json")
MESSAGES = Resource("messages", "Messages.json", "messages", "DateSent", "date_sent",
                    FINAL_MESSAGE_STATUSES, "Messages/{sid}.json")
RECORDINGS = Resource("recordings", "Recordings.json", "recordings", "DateCreated",
                      "date_created", FINAL_RECORDING_STATUSES, "Recordings/{sid}.json")
#: The Event kind for a record of each frame kind whose status changed.
EVENT_KIND: dict[str, Any] = {"calls": "call", "messages": "message", "recordings": "call"}


def page_size(limit: int | None) -> int:
    """The PageSize for a query of at most ``limit`` records."""
    return MAX_PAGE_SIZE if limit is None else max(1, min(MAX_PAGE_SIZE, limit))


class PageProgress:
    """A tqdm bar (``tqdm.auto``: a widget in Jupyter) for a fetch that runs past its first page;
    none when ``show`` is False. Use as a context manager; ``page(n, more=...)`` after each page."""

    def __init__(self, desc: str, total: int | None, show: bool | None) -> None:
        self.desc, self.total, self.show = desc, total, show
        self.count = 0
        self.bar: Any = None

    def __enter__(self) -> PageProgress:
        return self

    def page(self, n: int, *, more: bool) -> None:
        """``n`` records came; ``more`` when another page follows."""
        self.count += n
        if self.bar is None and more and self.show is not False:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit=" records", leave=False)
            self.bar.update(self.count)
        elif self.bar is not None:
            self.bar.update(n)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


def _pages(api: RestApi, res: Resource, params: dict[str, Any], limit: int | None,
           show: bool | None) -> dict[str, list]:
    """Fetch all pages of one list query, each decoded from raw JSON as it arrives;
    returns the schema's columns as lists."""
    decode = page_decoder(res)
    columns: dict[str, list] = {name: [] for name in _page_columns(res)}
    url, query = api.url_for(res.path), {**params, "PageSize": page_size(limit)}
    count = 0
    with PageProgress(f"Twilio {res.kind}", limit, show) as progress:
        while True:
            text = api.send("GET", url, params=query, what="Unable to fetch page")
            page, next_uri = _without_gc(decode, text)
            n = len(page[0]) if page else 0
            if limit is not None and count + n > limit:
                page = [col[: limit - count] for col in page]
                n = limit - count
            for values, col in zip(columns.values(), page, strict=True):
                values.extend(col)
            count += n
            more = bool(next_uri) and (limit is None or count < limit)
            progress.page(n, more=more)
            if not more:
                break
            url, query = api.base_url + next_uri, None
    return columns

def fetch_scope(api: RestApi, res: Resource, scope: str | None, since: pd.Timestamp | None,
                until: pd.Timestamp | None, limit: int | None,
                show: bool | None) -> tuple[pd.DataFrame, bool]:
    """One scope's records from Twilio, typed; also whether ``limit`` cut it short."""
    params: dict[str, Any] = {}
    if since is not None:
        params[f"{res.filter_param}>"] = iso(day_floor(since))
    if until is not None:
        # Twilio filters by whole days; the exact bound is applied afterwards.
        params[f"{res.filter_param}<"] = iso(until.ceil("D").to_pydatetime())
    queries: list[dict[str, Any]]
    if scope is None:
        queries = [params]
    elif res.kind == "recordings":
        queries = [{**params, "CallSid": scope}]
    else:
        queries = [{**params, "To": scope}, {**params, "From": scope}]
    parts = []
    truncated = False
    for query in queries:
        columns = _pages(api, res, query, limit, show)
        n = len(columns["sid"])
        truncated = truncated or (limit is not None and n >= limit)
        parts.append(_typed(api, res, columns))
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    frame = frame.drop_duplicates("sid", keep="first")
    return frame, truncated

def _typed(api: RestApi, res: Resource, columns: dict[str, list]) -> pd.DataFrame:
    if res.kind == "recordings":
        uris = columns.pop("uri")
        base = api.base_url
        columns["media_url"] = [
            m if m else (base + u[: -len(".json")] if isinstance(u, str) and u.endswith(".json")
                         else None)
            for m, u in zip(columns["media_url"], uris, strict=True)
        ]
    if not columns["sid"]:
        return frames.empty(res.kind)
    return frames.coerce(pd.DataFrame(columns), res.kind)

def _without_gc(fn: Callable[[str], Any], text: str) -> Any:
    """Run ``fn(text)`` with the cyclic GC paused: decoding a page makes thousands of
    objects that all survive, so collections during it are pure cost (about 25%)."""
    if not gc.isenabled():
        return fn(text)
    gc.disable()
    try:
        return fn(text)
    finally:
        gc.enable()


def _page_columns(res: Resource) -> tuple[str, ...]:
    extra = ("uri",) if res.kind == "recordings" else ()
    return tuple(frames.SCHEMAS[res.kind]) + extra


_DECODERS: dict[str, Callable[[str], tuple[list[Any], str | None]]] = {}


def page_decoder(res: Resource) -> Callable[[str], tuple[list[Any], str | None]]:
    """text -> (one sequence per column of :func:`_page_columns`, next_page_uri).

    With msgspec installed, pages are decoded into structs holding only the schema's
    fields (several times faster than json.loads on Twilio's wide records); otherwise the
    standard library's json."""
    if res.kind in _DECODERS:
        return _DECODERS[res.kind]
    names = _page_columns(res)

    def plain(text: str) -> tuple[list[Any], str | None]:
        try:
            payload = json.loads(text)
        except ValueError:
            raise TwilioError("Unable to fetch page: Twilio answered with unreadable JSON") \
                from None
        records = payload.get(res.key)
        if records is None:
            records = next((v for v in payload.values() if isinstance(v, list)), [])
        return [[r.get(name) for r in records] for name in names], payload.get("next_page_uri")

    decoder = plain
    try:
        import msgspec
    except ImportError:
        msgspec = None
    if msgspec is not None:
        fields = [(f"f{i}", Any, None) for i in range(len(names))]
        record = msgspec.defstruct(f"{res.kind}_record", fields,
                                   rename={f"f{i}": name for i, name in enumerate(names)})
        page = msgspec.defstruct(f"{res.kind}_page", [(res.key, list[record] | None, None),
                                                      ("next_page_uri", str | None, None)])
        typed = msgspec.json.Decoder(page)
        astuple = msgspec.structs.astuple

        def fast(text: str) -> tuple[list[Any], str | None]:
            try:
                payload = typed.decode(text)
            except msgspec.DecodeError:
                return plain(text)
            records = getattr(payload, res.key)
            if records is None:
                return plain(text)
            if not records:
                return [[] for _ in names], payload.next_page_uri
            return [list(col) for col in zip(*map(astuple, records), strict=True)], \
                payload.next_page_uri

        decoder = fast
    _DECODERS[res.kind] = decoder
    return decoder
