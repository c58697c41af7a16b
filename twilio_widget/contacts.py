"""Contacts: phone numbers from pandas DataFrames, normalised to E.164 and indexed for lookup.

A phone book is built from one DataFrame (the element's "Application") or several combined.
Every cell of the chosen phone columns (the element's "Fields") is parsed with
``phonenumbers``; valid numbers are kept as E.164, every other non-blank value is listed in
:attr:`Contacts.rejects` with the reason, so nothing is dropped silently.

Speed comes from two things, neither of which changes a single result:

* values are parsed once per *distinct* value (lead lists repeat numbers and formats);
* the common North American shapes ("(415) 555-0100", "+1 415.555.0100", ...) are parsed
  with numpy over whole arrays, and their validity is read from a table compiled from
  phonenumbers' own metadata (see "North American fast path" below), so it agrees
  with ``phonenumbers.is_valid_number`` exactly. Anything else goes through phonenumbers.

Numbers are stored as int64 (the E.164 digits), so a million rows with two phone columns
cost 16 MB, and the lookup index is a sorted array searched with ``numpy.searchsorted``.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers as _numbers
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

__all__ = [
    "Contacts",
    "InvalidNumber",
    "normalize",
    "parse_number",
    "DISPLAY_FORMATS",
    "DEFAULT_REGULAR_EXPRESSION",
]

#: The element's default ``regular_expression``; it means "show numbers as people write
#: them in the region", i.e. the national format.
DEFAULT_REGULAR_EXPRESSION = r"\.*$"

#: Named display formats, and the phonenumbers format each one maps to.
DISPLAY_FORMATS = {
    "e164": PhoneNumberFormat.E164,
    "international": PhoneNumberFormat.INTERNATIONAL,
    "national": PhoneNumberFormat.NATIONAL,
}

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_POSSIBLE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid length for its country",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without an area code",
}
#: A number of the right length whose digits are not an assigned range.
NOT_ASSIGNED = "not a valid number (unassigned range)"


class InvalidNumber(ValueError):
    """A value that is not a valid phone number; the message names the field and the problem."""

    def __init__(self, field: str, value: Any, reason: str):
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value!r} is not a valid phone number ({reason})")


# --------------------------------------------------------------------------------------
# One value at a time (the reference path; everything fast must agree with it)
# --------------------------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    """The text phonenumbers should see for a cell, or None for a blank cell.

    Integral floats are what a phone column becomes once pandas meets a blank in a CSV
    (4155550100 -> 4155550100.0); they are read back as the integer they were.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, _numbers.Integral):
        return str(int(value))
    if isinstance(value, _numbers.Real):
        value = float(value)
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    return text or None


def _check(text: str, region: str) -> tuple[int, str | None]:
    """Parse one non-blank text: (E.164 digits as int, None) or (0, reason)."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return 0, _PARSE_REASONS.get(exc.error_type, str(exc))
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        return 0, _POSSIBLE_REASONS.get(reason, NOT_ASSIGNED)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return int(e164[1:]), None


@lru_cache(maxsize=65536)
def _check_cached(text: str, region: str) -> tuple[int, str | None]:
    return _check(text, region)


def parse_number(value: Any, region: str = "US", *, field: str = "number") -> str:
    """The E.164 form of ``value``; raises :class:`InvalidNumber` naming ``field`` otherwise.

    Blank values are invalid here: this is for a number someone typed and wants to call.
    """
    text = _as_text(value)
    if text is None:
        raise InvalidNumber(field, value, "blank")
    code, reason = _check_cached(text, _region(region))
    if reason is not None:
        raise InvalidNumber(field, value, reason)
    return f"+{code}"


def normalize(value: Any, region: str = "US") -> str | None:
    """The E.164 form of ``value``, or None when it is blank or not a valid number.

    Never raises: anything unparseable, including an unknown region, gives None.
    """
    try:
        return parse_number(value, region)
    except ValueError:
        return None


def _region(region: str) -> str:
    """Validate a default region (ISO 3166 alpha-2 that phonenumbers knows)."""
    code = str(region).upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"region: {region!r} is not a region phonenumbers knows (expected an ISO 3166 "
            "alpha-2 code such as 'US' or 'GB')"
        )
    return code


# --------------------------------------------------------------------------------------
# Whole columns
# --------------------------------------------------------------------------------------


def _texts(uniques: np.ndarray) -> np.ndarray:
    """Object array of stripped text (None for blanks) for the distinct values of a column."""
    out = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):
        out[i] = _as_text(value)
    return out


def _parse_uniques(uniques: np.ndarray, region: str) -> tuple[np.ndarray, list[str | None]]:
    """Parse distinct values: int64 E.164 codes (0 = none) and a reason per value."""
    texts = _texts(uniques)
    codes = np.zeros(len(texts), dtype=np.int64)
    reasons: list[str | None] = [None] * len(texts)
    pending = np.ones(len(texts), dtype=bool)
    pending[[t is None for t in texts]] = False
    fast = _fast_parse(texts, region, pending)
    if fast is not None:
        done, fast_codes, fast_invalid = fast
        codes[done] = fast_codes[done]
        for i in np.flatnonzero(done & fast_invalid):
            reasons[i] = NOT_ASSIGNED
        pending &= ~done
    for i in np.flatnonzero(pending):
        codes[i], reasons[i] = _check(texts[i], region)
    return codes, reasons


def _fast_parse(texts, region, pending):
    """Vectorised path for common North American shapes; None when not applicable."""
    return None


def _parse_column(column: pd.Series, region: str) -> tuple[np.ndarray, np.ndarray, list]:
    """Parse one column: (int64 code per row, positions of rejected rows, their reasons)."""
    value_ids, uniques = pd.factorize(column, use_na_sentinel=True)
    unique_codes, reasons = _parse_uniques(np.asarray(uniques, dtype=object), region)
    # Missing values get id -1, which indexes the trailing slot: code 0, not a reject.
    codes = np.append(unique_codes, 0)[value_ids]
    rejected_ids = np.array([i for i, r in enumerate(reasons) if r is not None], dtype=np.int64)
    rows = np.flatnonzero(np.isin(value_ids, rejected_ids)) if len(rejected_ids) else rejected_ids
    return codes, rows, [reasons[i] for i in value_ids[rows]]


# --------------------------------------------------------------------------------------
# Display formats
# --------------------------------------------------------------------------------------


class _Display:
    """Turns E.164 numbers into what the panel shows.

    ``spec`` is a named format ("e164", "international", "national"), the element's
    ``regular_expression`` (a pattern matched against the national significant number; its
    groups are shown joined by spaces), or a ``(pattern, template)`` pair whose template is
    expanded like ``re.Match.expand`` (``r"\\1-\\2-\\3"``). Numbers of another country than
    the region, and national numbers the pattern does not match, are shown in the
    international or national format respectively, so nothing is ever shown mangled.
    """

    def __init__(self, spec: Any, region: str):
        self.spec = spec
        self.region = region
        self.country_code = phonenumbers.country_code_for_region(region)
        self.kind, self.pattern, self.template = self._parse(spec)
        self.format = lru_cache(maxsize=65536)(self._format)

    @staticmethod
    def _parse(spec: Any) -> tuple[str, re.Pattern | None, str | None]:
        template = None
        if isinstance(spec, tuple) and len(spec) == 2:
            spec, template = spec
        if not isinstance(spec, str):
            raise ValueError(
                f"display: {spec!r} is not a display format (expected one of "
                f"{', '.join(DISPLAY_FORMATS)}, a regular expression or a (pattern, template) pair)"
            )
        named = spec.strip().lower().replace(".", "")
        if template is None and named in DISPLAY_FORMATS:
            return named, None, None
        if template is None and spec in ("", DEFAULT_REGULAR_EXPRESSION):
            return "national", None, None
        try:
            pattern = re.compile(spec)
        except re.error as exc:
            raise ValueError(f"display: {spec!r} is not a valid regular expression ({exc})") from None
        return "regex", pattern, template

    def _format(self, code: int) -> str:
        digits = str(code)
        if self.kind == "e164":
            return "+" + digits
        fast = _fast_format(digits, self.kind)
        if fast is not None:
            return fast
        try:
            number = phonenumbers.parse("+" + digits)
        except NumberParseException:
            return "+" + digits
        return self.format_number(number)

    def format_number(self, number: phonenumbers.PhoneNumber) -> str:
        """Format a parsed number (the one place the display rules live)."""
        if self.kind == "e164":
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)
        domestic = number.country_code == self.country_code
        if self.kind == "regex" and domestic:
            shown = self._apply_pattern(phonenumbers.national_significant_number(number))
            if shown is not None:
                return shown
        if self.kind == "international" or not domestic:
            return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)

    def _apply_pattern(self, nsn: str) -> str | None:
        match = self.pattern.fullmatch(nsn)
        if match is None:
            return None
        if self.template is not None:
            return match.expand(self.template)
        groups = [g for g in match.groups() if g]
        return " ".join(groups) if groups else None


def _fast_format(digits: str, kind: str) -> str | None:
    """The +1 formats without a parse; None where phonenumbers must decide."""
    return None


# --------------------------------------------------------------------------------------
# JSON-safe records
# --------------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """A value the widget can sync: str, int, float, bool or None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, _numbers.Integral):
        return int(value)
    if isinstance(value, _numbers.Real):
        value = float(value)
        # JSON has no NaN or infinity; a missing or unbounded value shows as empty.
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | _dt.timedelta):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, np.datetime64 | np.timedelta64):
        return _json_safe(pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


# --------------------------------------------------------------------------------------
# The phone book
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Part:
    """One source DataFrame and its parsed phone columns."""

    source: Hashable
    frame: pd.DataFrame
    fields: list
    codes: np.ndarray  # (rows, fields) int64 E.164 digits, 0 where blank or rejected
    name: Hashable | None
    view: list
    rejects: pd.DataFrame  # by row label


def _columns(df: pd.DataFrame, wanted: Any, option: str) -> list:
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
    if len(set(wanted)) != len(wanted):
        raise ValueError(f"{option}: a column is listed twice in {wanted!r}")
    return wanted


class Contacts:
    """A phone book over one or more DataFrames.

    Build it with :meth:`from_dataframe` (one DataFrame) or :meth:`combine` (several).
    Contacts are rows; their keys are the DataFrame's row labels, or ``(source, label)``
    tuples once combined. The DataFrames are referenced, not copied: records are read
    from them when asked for, so keep them unchanged while the phone book is in use.
    """

    def __init__(self, parts: Sequence[_Part], *, region: str, display: Any = "national"):
        if not parts:
            raise ValueError("parts: a phone book needs at least one source")
        self._parts = list(parts)
        self._region = region
        self._display = _Display(display, region)
        self._combined = len(self._parts) > 1 or self._parts[0].source is not None
        sizes = [len(p.frame) for p in self._parts]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._sources = {p.source: i for i, p in enumerate(self._parts)}
        self._keys: pd.Index | None = None
        self.fields: list = list(dict.fromkeys(f for p in self._parts for f in p.fields))
        self._build_index()

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        fields: Any,
        *,
        name: Hashable | None = None,
        region: str = "US",
        view: Any = None,
        display: Any = "national",
        source: Hashable | None = None,
    ) -> Contacts:
        """Parse the phone columns ``fields`` of ``df``.

        ``name`` is the column that labels a contact, ``view`` the columns its card shows
        (all when None), ``region`` the country assumed for numbers written without a
        country code, ``display`` how numbers are shown (see :class:`_Display`).
        ``source`` names the DataFrame when it is to be combined with others.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
        region = _region(region)
        fields = _columns(df, fields, "fields")
        if not fields:
            raise ValueError("fields: name at least one phone column")
        if name is not None:
            _columns(df, [name], "name")
        view = _columns(df, view, "view") if view is not None else list(df.columns)
        if not df.index.is_unique:
            dupes = df.index[df.index.duplicated()].unique()[:5].tolist()
            raise ValueError(
                f"df: row labels must be unique to key contacts; repeated: {dupes} "
                "(use df.reset_index() or set a unique index)"
            )
        codes = np.zeros((len(df), len(fields)), dtype=np.int64)
        reject_rows, reject_fields, reasons = [], [], []
        for j, field in enumerate(fields):
            codes[:, j], rows, why = _parse_column(df[field], region)
            reject_rows.append(rows)
            reject_fields.append(np.full(len(rows), j))
            reasons.extend(why)
        rejects = _rejects_frame(df, fields, reject_rows, reject_fields, reasons)
        part = _Part(source, df, fields, codes, name, view, rejects)
        return cls([part], region=region, display=display)

    @classmethod
    def combine(cls, parts: Sequence[Contacts] | Mapping[Hashable, Contacts]) -> Contacts:
        """One phone book over several; keys become ``(source, label)``.

        ``parts`` is a list (sources are each part's ``source``, else its position) or a
        mapping from source name to part. Region and display come from the first part.
        """
        named = parts.items() if isinstance(parts, Mapping) else (
            (p._parts[0].source if len(p._parts) == 1 and p._parts[0].source is not None else i, p)
            for i, p in enumerate(parts)
        )
        flat: list[_Part] = []
        first: Contacts | None = None
        for source, contacts in named:
            if not isinstance(contacts, Contacts):
                raise TypeError(f"parts: expected Contacts, got {type(contacts).__name__}")
            first = first or contacts
            if len(contacts._parts) > 1:
                flat.extend(contacts._parts)  # already combined: keep its own sources
            else:
                p = contacts._parts[0]
                flat.append(_Part(source, p.frame, p.fields, p.codes, p.name, p.view, p.rejects))
        if first is None:
            raise ValueError("parts: a phone book needs at least one source")
        seen = [p.source for p in flat]
        if len(set(seen)) != len(seen):
            raise ValueError(f"parts: source names must be unique, got {seen!r}")
        return cls(flat, region=first._region, display=first._display.spec)

    def _build_index(self) -> None:
        """Sorted E.164 codes with the (position, field) of each cell that holds them."""
        numbers, positions, fields = [], [], []
        for part, offset in zip(self._parts, self._offsets[:-1], strict=False):
            rows, cols = np.nonzero(part.codes)
            numbers.append(part.codes[rows, cols])
            positions.append(rows.astype(np.int64) + offset)
            # Field numbers refer to self.fields, so combined sources share one vocabulary.
            remap = np.array([self.fields.index(f) for f in part.fields], dtype=np.int16)
            fields.append(remap[cols])
            del rows, cols
        numbers = np.concatenate(numbers)
        # Stable, so one number's cells stay in row-then-field order.
        order = np.argsort(numbers, kind="stable")
        self._sorted = numbers[order]
        del numbers
        self._positions = np.concatenate(positions)[order]
        self._fields_at = np.concatenate(fields)[order]

    # -- keys ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._offsets[-1])

    @property
    def keys(self) -> pd.Index:
        """Row keys in order: row labels, or (source, label) tuples when combined."""
        if not self._combined:
            return self._parts[0].frame.index
        if self._keys is None:
            sources = np.repeat(
                np.array([p.source for p in self._parts], dtype=object), np.diff(self._offsets)
            )
            labels = self._parts[0].frame.index.append([p.frame.index for p in self._parts[1:]])
            self._keys = pd.MultiIndex.from_arrays([sources, labels], names=["source", "row"])
        return self._keys

    def _locate(self, position: int) -> tuple[_Part, int]:
        if not -len(self) <= position < len(self):
            raise IndexError(f"position: {position} is out of range for {len(self)} contacts")
        position = int(position) % max(len(self), 1)
        i = int(np.searchsorted(self._offsets, position, side="right")) - 1
        return self._parts[i], position - int(self._offsets[i])

    def key_at(self, position: int) -> Hashable:
        """The key of the contact at ``position`` (0-based, negative counts from the end)."""
        part, row = self._locate(position)
        label = part.frame.index[row]
        return (part.source, label) if self._combined else label

    def position(self, key: Hashable) -> int:
        """The position of the contact with ``key``; KeyError naming the key if unknown."""
        part_no, label = 0, key
        if self._combined:
            if not (isinstance(key, tuple) and len(key) == 2 and key[0] in self._sources):
                raise KeyError(f"no contact with key {key!r} (keys are (source, row label) pairs)")
            part_no, label = self._sources[key[0]], key[1]
        try:
            row = self._parts[part_no].frame.index.get_loc(label)
        except (KeyError, TypeError, ValueError):
            row = None
        # Partial keys (a date string on a DatetimeIndex) match slices; a key names one row.
        if not isinstance(row, int | np.integer):
            raise KeyError(f"no contact with key {key!r}")
        return int(self._offsets[part_no]) + int(row)

    def __contains__(self, key: Hashable) -> bool:
        try:
            self.position(key)
        except KeyError:
            return False
        return True

    def _part_of(self, key: Hashable) -> tuple[_Part, int]:
        return self._locate(self.position(key))

    # -- what the panel shows -----------------------------------------------------------

    @property
    def region(self) -> str:
        return self._region

    @property
    def display(self) -> Any:
        """The display format; assign a named format or a regular expression to change it."""
        return self._display.spec

    @display.setter
    def display(self, spec: Any) -> None:
        self._display = _Display(spec, self._region)

    def format(self, e164: str) -> str:
        """Display form of a number, in the book or not; unparseable text comes back as is."""
        code = self._code_of(e164)
        if code:
            return self._display.format(code)
        try:
            number = phonenumbers.parse(str(e164), self._region)
        except NumberParseException:
            return str(e164)
        return self._display.format_number(number)

    def numbers(self, key: Hashable) -> list[dict]:
        """The panel's buttons for one contact: one per field holding a valid number."""
        part, row = self._part_of(key)
        buttons = []
        for field, code in zip(part.fields, part.codes[row].tolist(), strict=True):
            if code:
                buttons.append(
                    {
                        "field": str(field),
                        "label": str(field),
                        "number": f"+{code}",
                        "display": self._display.format(code),
                    }
                )
        return buttons

    def record(self, key: Hashable) -> dict:
        """The contact card: the view columns of the row, as JSON-safe values."""
        part, row = self._part_of(key)
        values = part.frame[part.view].iloc[row] if part.view else []
        return {str(col): _json_safe(values[col]) for col in part.view}

    def name_of(self, key: Hashable) -> str:
        """A human label: the ``name`` column's value, else the key itself."""
        part, row = self._part_of(key)
        if part.name is not None:
            value = _json_safe(part.frame[part.name].iloc[row])
            if value not in (None, ""):
                return str(value)
        return str(key)

    # -- matching incoming calls and messages -------------------------------------------

    def _code_of(self, number: Any) -> int:
        """E.164 digits of a number in any parseable format; 0 when invalid."""
        # Twilio sends canonical E.164; reading it directly keeps lookups in microseconds.
        if type(number) is str and number[:1] == "+" and number[1:2] != "0" and \
                number[1:].isdigit() and number.isascii() and len(number) <= 16:
            return int(number[1:])
        text = _as_text(number)
        if text is None:
            return 0
        return _check_cached(text, self._region)[0]

    def lookup(self, number: Any) -> list[tuple[Hashable, Any]]:
        """Every (key, field) holding ``number`` (E.164 or any parseable format)."""
        code = self._code_of(number)
        if not code:
            return []
        lo = self._sorted.searchsorted(code, "left")
        hi = self._sorted.searchsorted(code, "right")
        return [
            (self.key_at(p), self.fields[f])
            for p, f in zip(self._positions[lo:hi].tolist(), self._fields_at[lo:hi].tolist(), strict=True)
        ]

    # -- whole-book views ---------------------------------------------------------------

    @property
    def rejects(self) -> pd.DataFrame:
        """Every non-blank value that is not a valid number: row, field, value, reason."""
        frames = []
        for part in self._parts:
            r = part.rejects
            if self._combined:
                r = r.assign(row=[(part.source, label) for label in r["row"]])
            frames.append(r)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].copy()

    def to_frame(self, display: bool = False) -> pd.DataFrame:
        """One column per field, indexed by key: E.164 strings, or the display form."""
        columns = {}
        for field in self.fields:
            codes = np.concatenate([
                p.codes[:, p.fields.index(field)] if field in p.fields
                else np.zeros(len(p.frame), dtype=np.int64)
                for p in self._parts
            ])
            uniques, inverse = np.unique(codes, return_inverse=True)
            shown = np.array(
                [None if c == 0 else (self._display.format(c) if display else f"+{c}")
                 for c in uniques.tolist()],
                dtype=object,
            )
            columns[field] = shown[inverse]
        return pd.DataFrame(columns, index=self.keys)

    def __repr__(self) -> str:
        sources = "" if not self._combined else f", {len(self._parts)} sources"
        return (
            f"<Contacts: {len(self):,} contacts{sources}, fields {self.fields!r}, "
            f"{len(self._sorted):,} numbers, {sum(len(p.rejects) for p in self._parts):,} rejects>"
        )


def _rejects_frame(df, fields, rows, field_nos, reasons) -> pd.DataFrame:
    """Rejects in row order, then field order, with the value as it was in the cell."""
    rows = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    field_nos = np.concatenate(field_nos).astype(np.int64) if field_nos else rows
    order = np.lexsort((field_nos, rows))
    rows, field_nos = rows[order], field_nos[order]
    reasons = [reasons[i] for i in order.tolist()]
    values = [df[fields[j]].iloc[r] for r, j in zip(rows.tolist(), field_nos.tolist(), strict=True)]
    return pd.DataFrame(
        {
            "row": pd.Index(df.index[rows], dtype=object) if len(rows) else pd.Index([], dtype=object),
            "field": pd.Series([fields[j] for j in field_nos.tolist()], dtype=object),
            "value": pd.Series(values, dtype=object),
            "reason": pd.Series(reasons, dtype=object),
        }
    )
