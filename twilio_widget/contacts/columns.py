"""Whole phone columns: every cell the numpy path can read, the rest once per distinct value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .nanp import CHUNK, nanp_parse
from .parsing import NOT_ASSIGNED, as_text, check_cached


def fast_input(column: pd.Series, values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the numpy path reads, and which cells: their str() must be as_text's text.

    Strings and integers qualify as they are. Integral floats (a phone column once pandas
    met a blank in a CSV) are read as the integers they hold, as as_text reads them:
    str(1415555010.0) has eleven digits, but the cell means the ten-digit 1415555010.
    Other objects are left to as_text.
    """
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return values, np.zeros(len(values), dtype=bool)
    if pd.api.types.is_integer_dtype(dtype):
        return values, present
    if pd.api.types.is_float_dtype(dtype):
        floats = column.to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(floats) & (np.floor(floats) == floats) & (np.abs(floats) < 1e15)
        return np.where(integral, floats, 0).astype(np.int64), integral
    if isinstance(dtype, pd.StringDtype) or pd.api.types.infer_dtype(values, skipna=True) == "string":
        return values, present
    if pd.api.types.is_object_dtype(dtype):
        return values, np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
    return values, np.zeros(len(values), dtype=bool)


def parse_columns(df: pd.DataFrame, fields: list, region: str):
    """Parse the phone columns: (codes (rows x fields), reject rows, reject fields, reasons).

    The numpy path reads every cell it can; the rest are parsed by phonenumbers once per
    distinct value across all the columns (lead lists repeat their odd values too).
    """
    codes = np.zeros((len(df), len(fields)), dtype=np.int64)
    slow_rows, slow_values, unassigned = [], [], []
    for j, field in enumerate(fields):
        column = df[field]
        values = column.to_numpy(dtype=object)
        present = ~pd.isna(values)
        readable, candidates = fast_input(column, values, present)
        decided = np.zeros(len(values), dtype=bool)
        for start in range(0, len(values), CHUNK):
            stop = min(start + CHUNK, len(values))
            decided[start:stop], codes[start:stop, j] = nanp_parse(
                readable[start:stop], region, candidates[start:stop]
            )
        unassigned.append(np.flatnonzero(decided & (codes[:, j] == 0)) * len(fields) + j)
        slow = np.flatnonzero(present & ~decided)
        slow_rows.append(slow * len(fields) + j)  # cell numbers: row * fields + field
        slow_values.append(values[slow])
    cells = np.concatenate(slow_rows)
    value_ids, uniques = pd.factorize(np.concatenate(slow_values), use_na_sentinel=False)
    checked = [(0, None) if t is None else check_cached(t, region) for t in map(as_text, uniques)]
    unique_codes = np.fromiter((c for c, _ in checked), dtype=np.int64, count=len(checked))
    codes.ravel()[cells] = unique_codes[value_ids]
    bad_ids = np.array([i for i, (_, why) in enumerate(checked) if why is not None], dtype=np.int64)
    bad = np.isin(value_ids, bad_ids)
    rejected = np.concatenate([*unassigned, cells[bad]])
    reasons = [NOT_ASSIGNED] * (len(rejected) - int(bad.sum()))
    reasons += [checked[i][1] for i in value_ids[bad].tolist()]
    return codes, rejected // len(fields), rejected % len(fields), reasons


def rejects_frame(df, fields, rows, field_nos, reasons) -> pd.DataFrame:
    """Rejects in row order, then field order, with the value as it was in the cell."""
    values = np.empty(len(rows), dtype=object)
    for j, field in enumerate(fields):
        mine = field_nos == j
        values[mine] = df[field].to_numpy(dtype=object)[rows[mine]]
    order = np.lexsort((field_nos, rows))
    return pd.DataFrame(
        {
            "row": pd.Index(df.index.take(rows[order]), dtype=object),
            "field": pd.Series(np.array(fields, dtype=object)[field_nos[order]], dtype=object),
            "value": pd.Series(values[order], dtype=object),
            "reason": pd.Series(np.array(reasons, dtype=object)[order], dtype=object),
        }
    )


def named_columns(df: pd.DataFrame, wanted: Any, option: str) -> list:
    """The columns named by an option, checked to exist (error names option and column)."""
    if wanted is None:
        return []
    if isinstance(wanted, str) or not isinstance(wanted, Iterable):
        wanted = [wanted]
    wanted = list(wanted)
    for column in wanted:
        if column not in df.columns:
            raise ValueError(
                f"{option}: column {column!r} is not in the DataFrame "
                f"(columns: {', '.join(map(str, df.columns))})"
            )
        if not isinstance(df.columns.get_loc(column), int):
            raise ValueError(f"{option}: the DataFrame has more than one column named {column!r}")
    if len(set(wanted)) != len(wanted):
        raise ValueError(f"{option}: a column is listed twice in {wanted!r}")
    return wanted
