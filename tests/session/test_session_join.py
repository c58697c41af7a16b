"""The outcomes back on the leads frame: one vectorised join, the same as a per-row loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twilio_widget.session import join_outcomes, outcomes_frame

NOW = pd.Timestamp("2026-05-10", tz="UTC")


def outcome(key, outcome, minutes, attempt, callback=None, note=""):
    started = pd.Timestamp("2026-05-01", tz="UTC") + pd.Timedelta(minutes=minutes)
    return {"call_sid": f"CA{minutes}", "key": key, "number": "+14155550100", "field": "mobile", "outcome": outcome,
            "note": note, "agent": "ada", "caller_id": "+15005550006", "started_at": started, "duration": 30,
            "attempt": attempt, "overrides": "", "callback_at": callback, "queue": "default", "recorded_at": started}


def test_the_latest_outcome_attempts_last_called_and_next_callback_join_on_the_row_labels(call_leads):
    outcomes = outcomes_frame([
        outcome(11, "no answer", 0, 1),
        outcome(11, "call back", 60, 2, callback=pd.Timestamp("2026-05-12", tz="UTC"), note="Tuesday"),
        outcome(12, "call back", 5, 1, callback=pd.Timestamp("2026-05-02", tz="UTC")),  # already past
        outcome(13, "meeting booked", 10, 1),
    ])
    joined = join_outcomes(call_leads, outcomes, now=NOW)
    assert joined.index.equals(call_leads.index) and list(joined.columns[:4]) == list(call_leads.columns)
    assert joined["last_outcome"].tolist()[:3] == ["call back", "call back", "meeting booked"]
    assert joined["last_note"].loc[11] == "Tuesday"
    assert joined["attempts"].tolist() == [2, 1, 1, 0, 0, 0]
    assert joined["last_called"].loc[11] == pd.Timestamp("2026-05-01 01:00", tz="UTC")
    assert joined["next_callback"].loc[11] == pd.Timestamp("2026-05-12", tz="UTC")
    assert pd.isna(joined["next_callback"].loc[12])
    assert str(joined["attempts"].dtype) == "Int64" and str(joined["last_outcome"].dtype) == "string"


def test_an_existing_column_is_not_overwritten(call_leads):
    with pytest.raises(ValueError, match="leads: already has column 'attempts'"):
        join_outcomes(call_leads.assign(attempts=0), outcomes_frame([]))


def test_no_outcomes_join_as_empty_columns(call_leads):
    joined = join_outcomes(call_leads, outcomes_frame([]), now=NOW)
    assert joined["attempts"].tolist() == [0] * 6 and joined["last_outcome"].isna().all()


def per_row(leads, outcomes, now):
    """The baseline: for each lead, scan its outcomes in a loop."""
    by_key = {}
    for row in outcomes.itertuples(index=False):
        by_key.setdefault(row.key, []).append(row)
    result = []
    for key in leads.index:
        rows = by_key.get(key, [])
        last = rows[-1] if rows else None
        callback = last.callback_at if last is not None and not pd.isna(last.callback_at) \
            and last.callback_at > now else pd.NaT
        result.append((last.outcome if last else None, max((r.attempt for r in rows), default=0),
                       max((r.started_at for r in rows), default=pd.NaT), callback))
    return result


def test_the_join_agrees_with_a_per_row_loop():
    rng = np.random.default_rng(5)
    leads = pd.DataFrame({"mobile": ["+14155550100"] * 300}, index=pd.Index(rng.permutation(1000)[:300]))
    keys = rng.choice(leads.index.to_numpy(), 500)
    rows = [outcome(int(k), str(rng.choice(["no answer", "busy", "call back"])), i, int(rng.integers(1, 4)),
                    callback=pd.Timestamp("2026-05-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(1, 20))))
            for i, k in enumerate(keys)]
    outcomes = outcomes_frame(rows)
    joined = join_outcomes(leads, outcomes, now=NOW)
    expected = per_row(leads, outcomes, NOW)
    got = list(zip(joined["last_outcome"].astype(object).where(joined["last_outcome"].notna(), None),
                   joined["attempts"].tolist(), joined["last_called"], joined["next_callback"], strict=True))
    for (eo, ea, el, ec), (go, ga, gl, gc) in zip(expected, got, strict=True):
        assert (eo, ea) == (go, ga)
        assert (pd.isna(el) and pd.isna(gl)) or el == gl
        assert (pd.isna(ec) and pd.isna(gc)) or ec == gc
