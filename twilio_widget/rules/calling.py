"""CallingRules: may this number be called (or texted) now, and if not, why not and when.

One object a phone, built from its configuration (``phone.rules``); the panel's call button,
``place_call``, ``send_message``, the routing service and the calling queue all ask it. It
answers for a whole column at once (:meth:`CallingRules.can_call`) and for one number
(:meth:`CallingRules.refusal`), by the same code.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config.hours import CallingHours
from .dnc import DEFAULT_PATH, DoNotCall
from .enforce import do_not_call_reason
from .hours import judge, window_table
from .places import place_codes, place_table
from .zones import NO_ZONE, _zone_codes, as_utc, distinct, local_wall_clock, zone_set_codes, zone_table

if TYPE_CHECKING:
    from ..config import PhoneConfig

#: The sandbox's calling hours when none are configured: all day, every day.
SANDBOX_HOURS = CallingHours({("", ""): (0, 24 * 60)})

#: The columns of :meth:`CallingRules.can_call`, in order.
VERDICT_COLUMNS = ("allowed", "reason", "local_time", "next_allowed")


@dataclass
class CallingRules:
    """Calling hours (by region and weekday, in the lead's local time) and the do-not-call list."""

    hours: CallingHours
    do_not_call: DoNotCall
    #: What "now" is: the wall clock, or the sandbox's (virtual in tests and scripts).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _scratch: str = ""  # a folder of the phone's own, removed on close (the sandbox's list)

    @classmethod
    def from_config(cls, config: PhoneConfig, *, region: str = "US", path: str | Path | None = None) -> CallingRules:
        """The rules a phone's configuration sets; the list lives at ``path`` (default: the
        configuration's ``rules.do_not_call_path``, else the routing store's file)."""
        where = path or config.rules.do_not_call_path or DEFAULT_PATH
        return cls(config.rules.calling_hours, DoNotCall(where, region=region))

    @classmethod
    def for_phone(cls, config: PhoneConfig, *, region: str, simulator: Any = None) -> CallingRules:
        """A phone's rules. On the sandbox (a ``simulator``) "now" is the sandbox's clock; calling
        hours apply only when the configuration sets some (its numbers are fictional, and a demo
        must work at any hour of the day); and the list lives in a file of its own that goes with
        the phone unless the configuration names one: a demo never edits the real list."""
        if simulator is None:
            return cls.from_config(config, region=region)
        folder = "" if config.rules.do_not_call_path else tempfile.mkdtemp(prefix="twilio-widget-rules-")
        rules = cls.from_config(config, region=region, path=Path(folder) / DEFAULT_PATH if folder else None)
        rules.clock, rules._scratch = simulator.now, folder
        if not config.rules.calling_hours.windows:
            rules.hours = SANDBOX_HOURS
        return rules

    # -- the list -------------------------------------------------------------------------------

    def block(self, numbers: Any, *, source: str) -> int:
        """Put numbers on the do-not-call list; how many were new."""
        return self.do_not_call.block(numbers, source=source)

    def unblock(self, numbers: Any) -> int:
        """Take numbers off the do-not-call list (lifting a STOP opt-out too); how many were on it."""
        return self.do_not_call.unblock(numbers)

    def is_blocked(self, number: str) -> bool:
        return self.do_not_call.is_blocked(number)

    def load(self, data: pd.DataFrame | str | Path, *, column: str = "number", source: str | None = None) -> int:
        """Block the numbers of a DataFrame's or CSV file's ``column``."""
        return self.do_not_call.load(data, column=column, source=source)

    def blocked(self) -> pd.DataFrame:
        """The do-not-call list: number, source, since."""
        return self.do_not_call.frame()

    # -- verdicts -------------------------------------------------------------------------------

    def can_call(self, numbers: pd.Series, at: pd.Timestamp | pd.Series | None = None) -> pd.DataFrame:
        """For each E.164 number: ``allowed`` (bool), ``reason`` ("" when allowed), ``local_time``
        (naive, in the number's zone) and ``next_allowed`` (UTC; NaT when allowed now or never).

        ``at`` is one instant for every row or a column aligned on ``numbers`` (default now; a
        naive time is UTC). The index is ``numbers``' own.
        """
        if not isinstance(numbers, pd.Series):
            raise TypeError(f"numbers: expected a pandas Series of E.164 numbers, got {type(numbers).__name__}")
        utc = as_utc(self.clock() if at is None else at, numbers.index)
        if isinstance(utc, pd.Series) and utc.isna().any():
            raise ValueError(f"at: {int(utc.isna().sum())} row(s) have no instant (NaT)")
        set_codes = zone_set_codes(numbers)
        allowed, reason, next_allowed = self._hours(numbers, set_codes, utc)
        self._apply_do_not_call(numbers, allowed, reason, next_allowed)
        frame = pd.DataFrame({
            "allowed": allowed,
            "reason": pd.array(reason, dtype="string"),
            "local_time": local_wall_clock(utc, _zone_codes(set_codes)),
            "next_allowed": pd.DatetimeIndex(next_allowed.view("datetime64[ns]")).tz_localize("UTC"),
        }, index=numbers.index)
        return frame

    def refusal(self, number: str, at: pd.Timestamp | None = None) -> str:
        """Why ``number`` (E.164) may not be called now, "" when it may."""
        return str(self.can_call(pd.Series([number]), at)["reason"].iloc[0])

    def verdict(self, number: str, at: pd.Timestamp | None = None) -> dict[str, Any]:
        """One number's row of :meth:`can_call` as a dict."""
        return self.can_call(pd.Series([number]), at).iloc[0].to_dict()

    #: How far ahead, and how finely, :meth:`next_change` looks for a window that closes.
    CHANGE_HORIZON = pd.Timedelta(days=8)
    CHANGE_STEP = pd.Timedelta(minutes=15)

    def next_change(self, number: str, at: pd.Timestamp | None = None) -> pd.Timestamp | None:
        """When the clock next changes whether ``number`` may be called: its window opens (the
        next allowed instant) or closes (found to the minute within ``CHANGE_HORIZON``, looked
        for every ``CHANGE_STEP``). None when nothing the clock does changes it (the list, a
        window open all week, a number of no known zone)."""
        now = as_utc(self.clock() if at is None else at, pd.RangeIndex(1))
        verdict = self.verdict(number, now)
        if not verdict["allowed"]:
            opens = verdict["next_allowed"]
            return None if pd.isna(opens) or self.do_not_call.source(number) is not None else opens
        coarse = self._first_closed(number, now.floor("min") + self.CHANGE_STEP, self.CHANGE_HORIZON, self.CHANGE_STEP)
        if coarse is None:
            return None
        minute = pd.Timedelta(minutes=1)  # the first closed minute after the last open probe, up to ``coarse``
        return self._first_closed(number, coarse - self.CHANGE_STEP + minute, self.CHANGE_STEP, minute)

    def _first_closed(self, number: str, start: pd.Timestamp, span: pd.Timedelta,
                      step: pd.Timedelta) -> pd.Timestamp | None:
        """The first of the instants ``start``, ``start + step`` ... within ``span`` at which the
        number's calling hours are closed (the list aside), None when none is."""
        instants = pd.Series(pd.date_range(start, start + span, freq=step, inclusive="left"))
        numbers = pd.Series([number] * len(instants), dtype=object)
        allowed = self._hours(numbers, zone_set_codes(numbers), instants)[0]
        closed = np.flatnonzero(~allowed)
        return instants.iloc[closed[0]] if len(closed) else None

    def _window_rows(self, numbers: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row, its row of the window table; and the table (starts, ends)."""
        if not self.hours.regions:  # every number has the same windows: no need to know regions
            starts, ends = window_table(self.hours, ())
            return np.zeros(len(numbers), dtype=np.int32), starts, ends
        names = place_table()[0]
        starts, ends = window_table(self.hours, names)
        codes = place_codes(numbers)
        return np.where(codes == NO_ZONE, len(names), codes).astype(np.int32), starts, ends

    def _hours(self, numbers: pd.Series, set_codes: np.ndarray,
               utc: pd.Timestamp | pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, starts, ends = self._window_rows(numbers)
        if isinstance(utc, pd.Timestamp):  # one instant: judge each distinct (zone set, window row) once
            keys = (set_codes.astype(np.int64) + 1) * (len(starts) + 1) + rows
            unique = distinct(keys, (len(zone_table().sets) + 1) * (len(starts) + 1))
            inverse = np.zeros(unique[-1] + 1 if len(unique) else 0, dtype=np.int64)
            inverse[unique] = np.arange(len(unique))
            inverse = inverse[keys]
            cases_sets = (unique // (len(starts) + 1) - 1).astype(np.int32)
            cases_rows = (unique % (len(starts) + 1)).astype(np.int32)
            instants = np.full(len(unique), utc.value, dtype=np.int64)
            verdicts = judge(cases_sets, cases_rows, instants, starts, ends)
            return verdicts.allowed[inverse], verdicts.reason[inverse], verdicts.next_allowed[inverse]
        instants = utc.to_numpy(dtype="datetime64[ns]").view(np.int64)
        verdicts = judge(set_codes, rows, instants, starts, ends)
        return verdicts.allowed, verdicts.reason, verdicts.next_allowed

    def _apply_do_not_call(self, numbers: pd.Series, allowed: np.ndarray, reason: np.ndarray,
                           next_allowed: np.ndarray) -> None:
        sources = self._listed_among(numbers)
        on_list = np.flatnonzero(numbers.isin(sources.index).to_numpy()) if len(sources) else []
        if not len(on_list):
            return
        allowed[on_list] = False
        next_allowed[on_list] = np.iinfo(np.int64).min
        found = sources.reindex(numbers.iloc[on_list].to_numpy(dtype=object)).to_numpy()
        reason[on_list] = [do_not_call_reason(source) for source in found]

    def _listed_among(self, numbers: pd.Series) -> pd.Series:
        """Source by number, of those on the list: asked number by number for a few (the pad's
        check on each key press), read whole for a column."""
        if len(numbers) <= 64:
            found = {n: self.do_not_call.source(n) for n in numbers.dropna().unique() if isinstance(n, str)}
            return pd.Series({n: s for n, s in found.items() if s is not None}, dtype=object)
        listed = self.do_not_call.frame()
        return pd.Series(listed["source"].to_numpy(dtype=object), index=listed["number"].to_numpy(dtype=object))

    def close(self) -> None:
        self.do_not_call.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
