"""What worked: the session's outcomes as typed frames and ready plots.

Every frame is a plain pandas DataFrame with fixed columns and dtypes, empty or not; the plots
draw those frames with matplotlib (imported only when a plot is asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .rules_link import local_times


@dataclass
class Activity:
    """Connect rate by hour of the lead's day, by caller ID and by outcome; talk time per day;
    attempts it took to reach each lead; connect rate by agent (one for an analyst's own
    outcomes, each analyst's for a team's)."""

    by_hour: pd.DataFrame
    by_caller_id: pd.DataFrame
    by_outcome: pd.DataFrame
    talk_time: pd.DataFrame
    attempts_to_connect: pd.DataFrame
    by_agent: pd.DataFrame

    @classmethod
    def of(cls, outcomes: pd.DataFrame, connected: list[str]) -> Activity:
        calls = outcomes[outcomes["call_sid"].fillna("") != ""].copy()  # outcomes without a call are no dial
        calls["connected"] = calls["outcome"].isin(connected)
        calls["local_hour"] = local_times(calls["number"], calls["started_at"]).dt.hour.astype("Int64")
        return cls(by_hour=_rates(calls, "local_hour", pd.RangeIndex(24, name="local_hour")),
                   by_caller_id=_rates(calls, "caller_id"),
                   by_outcome=_outcome_counts(outcomes),
                   talk_time=_talk_time(calls),
                   attempts_to_connect=_attempts_to_connect(calls),
                   by_agent=_rates(calls, "agent"))

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"by_hour": self.by_hour, "by_caller_id": self.by_caller_id, "by_outcome": self.by_outcome,
                "talk_time": self.talk_time, "attempts_to_connect": self.attempts_to_connect,
                "by_agent": self.by_agent}

    def plot(self, figsize: tuple[float, float] = (12, 7)) -> Any:
        """One matplotlib figure with the six views; returns the Figure (a notebook shows it once)."""
        from matplotlib import pyplot  # through pyplot, so Jupyter's inline backend draws the figure

        figure, axes = pyplot.subplots(2, 3, figsize=figsize, layout="constrained")
        pyplot.close(figure)  # shown as the cell's value, not a second time as an open figure
        axes = axes.ravel()
        _bars(axes[0], self.by_hour["connect_rate"], "Connect rate by the lead's local hour", "hour", rate=True)
        _bars(axes[1], self.by_caller_id["connect_rate"], "Connect rate by caller ID", "caller ID", rate=True)
        _bars(axes[2], self.by_outcome["calls"], "Outcomes", "outcome", horizontal=True)
        _bars(axes[3], self.talk_time["talk_minutes"], "Talk time per day", "day (UTC)", unit="minutes")
        _bars(axes[4], self.attempts_to_connect["leads"], "Attempts to connect", "attempts", unit="leads")
        _bars(axes[5], self.by_agent["connect_rate"], "Connect rate by agent", "agent", rate=True)
        return figure


def _rates(calls: pd.DataFrame, by: str, index: pd.Index | None = None) -> pd.DataFrame:
    grouped = calls.groupby(by, sort=True)["connected"]
    frame = pd.DataFrame({"calls": grouped.size(), "connects": grouped.sum()})
    if index is not None:
        frame = frame.reindex(index, fill_value=0)
    frame = frame.astype("Int64")
    frame["connect_rate"] = (frame["connects"] / frame["calls"].where(frame["calls"] > 0)).astype("Float64")
    frame.index.name = by
    return frame


def _outcome_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    counts = outcomes.groupby("outcome", sort=False).size().sort_values(ascending=False)
    return pd.DataFrame({"calls": counts.astype("Int64"),
                         "share": (counts / max(len(outcomes), 1)).astype("Float64")}).rename_axis("outcome")


def _talk_time(calls: pd.DataFrame) -> pd.DataFrame:
    day = calls["started_at"].dt.floor("D").rename("day")
    seconds = calls["duration"].fillna(0).groupby(day).sum()
    return pd.DataFrame({"talk_minutes": (seconds / 60).astype("Float64"),
                         "calls": calls.groupby(day).size().astype("Int64")}).rename_axis("day")


def _attempts_to_connect(calls: pd.DataFrame) -> pd.DataFrame:
    first = calls[calls["connected"]].groupby("key", sort=False)["attempt"].min()
    counts = first.value_counts().sort_index()
    return pd.DataFrame({"leads": counts.astype("Int64")}).rename_axis("attempts")


def _bars(ax: Any, series: pd.Series, title: str, xlabel: str, *, rate: bool = False, unit: str = "calls",
          horizontal: bool = False) -> None:
    values = series.astype("float64").fillna(0)
    labels = [str(i.date()) if hasattr(i, "date") else str(i) for i in values.index]
    (ax.barh if horizontal else ax.bar)(labels, values.to_numpy())
    ax.set_title(title)
    if horizontal:
        ax.set_ylabel(xlabel)
    else:
        ax.set_xlabel(xlabel)
        ax.set_ylabel("connect rate" if rate else unit)
        if len(labels) > 12:  # 24 hours: every third labelled, so they stay legible
            ax.set_xticks(range(0, len(labels), 3), labels[::3])
        ax.tick_params(axis="x", labelrotation=45 if 6 < len(labels) <= 12 else 0)
    if rate:
        ax.set_ylim(0, 1)
