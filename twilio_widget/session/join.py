"""The outcomes back on the analyst's own leads frame, in one vectorised step.

Both the summary by key and the join come from one pass over the outcomes: each outcome's lead
becomes a number (its position among the keys), and NumPy's ``ufunc.at`` keeps, per lead, the
latest outcome's row, the most attempts and the last call. No per-row Python runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NAT = np.iinfo(np.int64).min
#: The columns ``join_outcomes`` adds, with their dtypes.
JOINED_COLUMNS = {"last_outcome": "string", "last_note": "string", "attempts": "Int64",
                  "last_called": "datetime64[ns, UTC]", "next_callback": "datetime64[ns, UTC]"}
_NEEDED = ("key", "outcome", "note", "attempt", "started_at", "callback_at")


def summarise(outcomes: pd.DataFrame, now: Any = None) -> pd.DataFrame:
    """One row per lead key: its latest outcome and note, its attempts, when it was last called,
    and the call-back still ahead of it (NaT when none)."""
    ordered = _chronological(outcomes)
    codes, keys = pd.factorize(ordered["key"].to_numpy(), use_na_sentinel=False)
    columns = _per_lead(ordered, codes, np.ones(len(codes), dtype=bool), len(keys), _now(now))
    return pd.DataFrame(columns, index=pd.Index(keys, tupleize_cols=False))


def join_outcomes(leads: pd.DataFrame, outcomes: pd.DataFrame, now: Any = None) -> pd.DataFrame:
    """``leads`` with the columns of :func:`summarise` joined on its row labels (attempts 0 where
    a lead was never called). The leads frame is not changed; a column it already has is refused."""
    clash = [c for c in JOINED_COLUMNS if c in leads.columns]
    if clash:
        raise ValueError(f"leads: already has column {clash[0]!r}; rename it before joining the outcomes")
    ordered = _chronological(outcomes)
    keys = pd.Index(ordered["key"].to_numpy(), tupleize_cols=False).infer_objects()  # ints as ints: a fast lookup
    positions = leads.index.get_indexer(keys)
    known = positions >= 0  # outcomes of leads that are not in this frame are left out
    columns = _per_lead(ordered, positions, known, len(leads), _now(now))
    return leads.assign(**{name: pd.Series(values, index=leads.index) for name, values in columns.items()})


def _chronological(outcomes: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _NEEDED if c not in outcomes.columns]
    if missing:
        raise ValueError(f"outcomes: not an outcomes frame (no column {missing[0]!r})")
    if "recorded_at" in outcomes and not outcomes["recorded_at"].is_monotonic_increasing:
        return outcomes.sort_values("recorded_at", kind="stable")
    return outcomes


def _now(now: Any) -> int:
    moment = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return int((moment.tz_localize("UTC") if moment.tzinfo is None else moment).value)


def _per_lead(outcomes: pd.DataFrame, codes: np.ndarray, known: np.ndarray, size: int, now: int) -> dict[str, Any]:
    """The joined columns for ``size`` leads, from the outcomes whose lead is ``codes`` (0..size-1)
    where ``known``."""
    rows = np.flatnonzero(known)
    codes = codes[rows]
    latest = np.full(size, -1, dtype=np.int64)
    np.maximum.at(latest, codes, rows)  # the last outcome row of each lead
    attempts = np.zeros(size, dtype=np.int64)
    np.maximum.at(attempts, codes, outcomes["attempt"].fillna(0).to_numpy(dtype=np.int64)[rows])
    called = np.full(size, NAT, dtype=np.int64)
    np.maximum.at(called, codes, _ns(outcomes["started_at"])[rows])
    callback = np.full(size, NAT, dtype=np.int64)
    has = latest >= 0
    callback[has] = _ns(outcomes["callback_at"])[latest[has]]
    callback[callback <= now] = NAT  # only call-backs still ahead
    return {"last_outcome": _take(outcomes["outcome"], latest), "last_note": _take(outcomes["note"], latest),
            "attempts": pd.array(attempts, dtype="Int64"), "last_called": _utc(called), "next_callback": _utc(callback)}


def _take(column: pd.Series, rows: np.ndarray) -> Any:
    """``column``'s values at ``rows`` as strings, missing where a row is -1."""
    return column.astype("string").array.take(rows, allow_fill=True)


def _ns(column: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a datetime column, NAT where missing."""
    return pd.to_datetime(column, utc=True).astype("datetime64[ns, UTC]").array.asi8.copy()


def _utc(nanoseconds: np.ndarray) -> Any:
    return pd.DatetimeIndex(nanoseconds.view("datetime64[ns]")).tz_localize("UTC").array
