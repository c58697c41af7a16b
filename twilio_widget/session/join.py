"""The outcomes back on the analyst's own leads frame, in one vectorised step."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .outcomes import OUTCOME_COLUMNS

#: The columns ``join_outcomes`` adds, with their dtypes.
JOINED_COLUMNS = {"last_outcome": "string", "last_note": "string", "attempts": "Int64",
                  "last_called": "datetime64[ns, UTC]", "next_callback": "datetime64[ns, UTC]"}


def summarise(outcomes: pd.DataFrame, now: Any = None) -> pd.DataFrame:
    """One row per lead key: its latest outcome and note, its attempts, when it was last called,
    and the call-back still ahead of it (NaT when none)."""
    missing = set(OUTCOME_COLUMNS) - set(outcomes.columns) - {"overrides", "queue", "recorded_at"}
    if missing:
        raise ValueError(f"outcomes: not an outcomes frame (missing {', '.join(sorted(missing))})")
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now).tz_convert("UTC")
    if outcomes.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in JOINED_COLUMNS.items()})
    ordered = outcomes.sort_values("recorded_at", kind="stable") if "recorded_at" in outcomes else outcomes
    by_key = ordered.groupby("key", sort=False)
    latest = by_key.tail(1).set_index("key")
    callback = latest["callback_at"].where(latest["callback_at"] > now)
    return pd.DataFrame({
        "last_outcome": latest["outcome"].astype("string"),
        "last_note": latest["note"].astype("string"),
        "attempts": by_key["attempt"].max().astype("Int64"),
        "last_called": by_key["started_at"].max(),
        "next_callback": callback.astype("datetime64[ns, UTC]"),
    })


def join_outcomes(leads: pd.DataFrame, outcomes: pd.DataFrame, now: Any = None) -> pd.DataFrame:
    """``leads`` with the columns of :func:`summarise` joined on its row labels (attempts 0 where
    a lead was never called). The leads frame is not changed; a column it already has is refused."""
    clash = [c for c in JOINED_COLUMNS if c in leads.columns]
    if clash:
        raise ValueError(f"leads: already has column {clash[0]!r}; rename it before joining the outcomes")
    summary = summarise(outcomes, now).reindex(leads.index)
    summary["attempts"] = summary["attempts"].fillna(0)
    joined = pd.concat([leads, summary.set_axis(leads.index)], axis=1)
    return joined
