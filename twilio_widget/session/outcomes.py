"""What a call can come to: the outcome vocabulary (configurable, with the defaults below), what
each outcome does to the lead, and the typed outcomes frame.

The defaults live here and only here: the panel receives the session's vocabulary as data in
the ``session`` trait, so a vocabulary a user configures is the one the panel offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd

#: What an outcome does to the lead: call again later (by the retry rule), nothing more (done),
#: call back at the time given, or never again (do not call: the calling rules block the number).
Then = Literal["retry", "done", "callback", "block"]
THENS = ("retry", "done", "callback", "block")


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    then: Then
    connected: bool = False  # the lead (a person) was reached: counts for the connect rate

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"outcomes: an outcome's name must be a non-empty string, not {self.name!r}")
        if self.then not in THENS:
            raise ValueError(f"outcomes: {self.name!r} has then={self.then!r}; expected one of {', '.join(THENS)}")


DEFAULT_OUTCOMES: tuple[Outcome, ...] = (
    Outcome("connected", "Connected", "done", connected=True),
    Outcome("no answer", "No answer", "retry"),
    Outcome("busy", "Busy", "retry"),
    Outcome("voicemail", "Voicemail", "retry"),
    Outcome("left voicemail", "Left voicemail", "retry"),
    Outcome("wrong number", "Wrong number", "done"),
    Outcome("do not call", "Do not call", "block", connected=True),
    Outcome("meeting booked", "Meeting booked", "done", connected=True),
    Outcome("call back", "Call back", "callback", connected=True),
)

#: The outcome a finished call suggests, by the call's final status (the user may pick another).
SUGGESTED_BY_STATUS = {"completed": "connected", "busy": "busy", "no-answer": "no answer",
                       "failed": "wrong number", "canceled": "no answer"}
#: Twilio's answered_by values that mean a machine took the call.
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")


class Vocabulary:
    """The outcomes a session offers, by name."""

    def __init__(self, outcomes: Iterable[Outcome | Mapping[str, Any]] | None = None) -> None:
        items = [o if isinstance(o, Outcome) else Outcome(**o) for o in (outcomes or DEFAULT_OUTCOMES)]
        self.by_name = {o.name: o for o in items}
        if len(self.by_name) != len(items):
            raise ValueError("outcomes: names must be unique")
        if not self.by_name:
            raise ValueError("outcomes: give at least one outcome")

    def __getitem__(self, name: str) -> Outcome:
        try:
            return self.by_name[name]
        except KeyError:
            raise ValueError(f"outcome: {name!r} is not one of {', '.join(map(repr, self.by_name))}") from None

    def suggest(self, status: str, answered_by: str | None = None) -> str:
        """The outcome to offer first for a call that ended with ``status`` ("" when none fits)."""
        if status == "completed" and answered_by in MACHINE and "voicemail" in self.by_name:
            return "voicemail"
        name = SUGGESTED_BY_STATUS.get(status, "")
        return name if name in self.by_name else ""

    def connected_names(self) -> list[str]:
        return [o.name for o in self.by_name.values() if o.connected]

    def choices(self) -> list[dict[str, Any]]:
        """The vocabulary as the panel shows it."""
        return [{"name": o.name, "label": o.label, "callback": o.then == "callback"} for o in self.by_name.values()]

    def as_records(self) -> list[dict[str, Any]]:
        return [asdict(o) for o in self.by_name.values()]


# -- the outcomes frame ---------------------------------------------------------------------

#: Column -> dtype of ``phone.outcomes`` (DESIGN.md, "The outcomes frame"), empty frames included.
OUTCOME_COLUMNS: dict[str, str] = {
    "call_sid": "string",
    "key": "object",  # the lead's row label, as the leads frame has it
    "number": "string",
    "field": "string",
    "outcome": "string",
    "note": "string",
    "agent": "string",
    "caller_id": "string",
    "started_at": "datetime64[ns, UTC]",
    "duration": "Int64",
    "attempt": "Int64",
    "overrides": "string",  # the calling-rule overrides taken for the call ("" for none)
    "callback_at": "datetime64[ns, UTC]",
    "queue": "string",
    "recorded_at": "datetime64[ns, UTC]",
}


def outcomes_frame(rows: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Rows (or a frame of them) with the outcome columns and dtypes, oldest first."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=list(OUTCOME_COLUMNS))
    frame = frame.reindex(columns=list(OUTCOME_COLUMNS))
    typed = {}
    for column, dtype in OUTCOME_COLUMNS.items():
        values = frame[column]
        if dtype.startswith("datetime64"):
            typed[column] = pd.to_datetime(values, utc=True).astype(dtype)
        elif dtype == "object":
            typed[column] = values.astype(object)
        else:
            typed[column] = values.astype(dtype)
    return pd.DataFrame(typed).reset_index(drop=True)
