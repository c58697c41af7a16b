"""The verdicts for a leads frame: for each row, the number to call and whether it may be now.

A row may hold several numbers (the phone's fields, e.g. mobile and office). The row's answer
is that of its first number, in the fields' order, that may be called now; else of its first
number, with the reason and the next allowed time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .calling import VERDICT_COLUMNS

if TYPE_CHECKING:
    from ..contacts import Contacts
    from .calling import CallingRules

NO_NUMBER = "no valid phone number in the row"


def lead_verdicts(rules: CallingRules, book: Contacts, at: pd.Timestamp | None = None) -> pd.DataFrame:
    """Columns number, field, allowed, reason, local_time, next_allowed; one row per contact."""
    numbers = book.to_frame()
    at = rules.clock() if at is None else at  # one instant for every field
    per_field = {field: rules.can_call(numbers[field].replace("", None), at) for field in numbers.columns}
    chosen = np.full(len(numbers), -1)
    for j, field in enumerate(numbers.columns):  # the first field with a number
        present = (numbers[field] != "").to_numpy() & numbers[field].notna().to_numpy()
        chosen[present & ~(chosen >= 0)] = j
    for j, field in reversed(list(enumerate(numbers.columns))):
        chosen[per_field[field]["allowed"].to_numpy()] = j
    frame = pd.DataFrame(index=numbers.index)
    fields = list(numbers.columns)
    frame["number"] = pd.array([numbers.iat[i, j] if j >= 0 else None for i, j in enumerate(chosen)], dtype="string")
    frame["field"] = pd.array([fields[j] if j >= 0 else None for j in chosen], dtype="string")
    for column in VERDICT_COLUMNS:
        picked = per_field[fields[0]][column]
        for j, field in enumerate(fields[1:], start=1):
            picked = picked.where(chosen != j, per_field[field][column])
        frame[column] = picked
    frame.loc[chosen < 0, "reason"] = NO_NUMBER
    frame.loc[chosen < 0, "allowed"] = False
    return frame
