"""The phone book: contacts over one or more DataFrames, their cards, and lookups by number."""

from __future__ import annotations

import datetime as _dt
import math
import numbers as _numbers
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException

from .columns import named_columns, parse_columns, rejects_frame
from .display import Display
from .index import NumberIndex
from .parsing import as_text, check_cached, check_region


def json_safe(value: Any) -> Any:
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
        return json_safe(pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


@dataclass(eq=False)
class _Part:
    """One source DataFrame and its parsed phone columns."""

    labels = None  # row labels as Python objects, made on first use (see _labels)

    source: Hashable
    frame: pd.DataFrame
    fields: list
    codes: np.ndarray  # (rows, fields) int64 E.164 digits, 0 where blank or rejected
    name: Hashable | None
    view: list
    rejects: pd.DataFrame  # by row label


def _labels(part: _Part) -> Sequence:
    """Row labels indexable in O(1) without pandas' per-call overhead.

    A RangeIndex becomes a range (no memory); other indexes an object array, so labels come
    back as the Python objects pandas would give (Timestamps, not raw int64).
    """
    if part.labels is None:
        index = part.frame.index
        if isinstance(index, pd.RangeIndex):
            part.labels = range(index.start, index.stop, index.step)
        else:
            part.labels = index.to_numpy(dtype=object)
    return part.labels


class Contacts:
    """A phone book over one or more DataFrames.

    Build it with :meth:`from_dataframe` (one DataFrame) or :meth:`combine` (several).
    Contacts are rows; their keys are the DataFrame's row labels, or ``(source, label)``
    tuples once combined. The DataFrames are referenced, not copied: records are read
    from them when asked for, so keep them unchanged while the phone book is in use.
    """

    def __init__(self, parts: Sequence[_Part], *, region: str, display: Any = "national", combined: bool = False):
        if not parts:
            raise ValueError("parts: a phone book needs at least one source")
        if len(parts) > 1 and not combined:
            raise ValueError("parts: several sources make a combined book (use Contacts.combine)")
        self._parts = list(parts)
        self._region = region
        self._display = Display(display, region)
        # Combined books key contacts by (source, label), even when there is one source.
        self._combined = combined
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
        country code, ``display`` how numbers are shown (see :class:`Display`).
        ``source`` names the DataFrame when it is to be combined with others.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
        region = check_region(region)
        fields = named_columns(df, fields, "fields")
        if not fields:
            raise ValueError("fields: name at least one phone column")
        if name is not None:
            named_columns(df, [name], "name")
        view = named_columns(df, view, "view") if view is not None else list(df.columns)
        if not df.index.is_unique:
            dupes = df.index[df.index.duplicated()].unique()[:5].tolist()
            raise ValueError(
                f"df: row labels must be unique to key contacts; repeated: {dupes} "
                "(use df.reset_index() or set a unique index)"
            )
        codes, reject_rows, reject_fields, reasons = parse_columns(df, fields, region)
        rejects = rejects_frame(df, fields, reject_rows, reject_fields, reasons)
        part = _Part(source, df, fields, codes, name, view, rejects)
        return cls([part], region=region, display=display)

    @classmethod
    def combine(cls, parts: Sequence[Contacts] | Mapping[Hashable, Contacts]) -> Contacts:
        """One phone book over several; keys become ``(source, label)``.

        ``parts`` is a list (sources are each part's ``source``, else its position) or a
        mapping from source name to part. Region and display come from the first part.
        """
        named = parts.items() if isinstance(parts, Mapping) else (
            (i if p.source is None else p.source, p)
            for i, p in enumerate(parts)
        )
        flat: list[_Part] = []
        first: Contacts | None = None
        for source, contacts in named:
            if not isinstance(contacts, Contacts):
                raise TypeError(f"parts: expected Contacts, got {type(contacts).__name__}")
            first = first or contacts
            if contacts._combined:
                flat.extend(contacts._parts)  # already combined: keep its own sources
            else:
                p = contacts._parts[0]
                flat.append(_Part(source, p.frame, p.fields, p.codes, p.name, p.view, p.rejects))
        if first is None:
            raise ValueError("parts: a phone book needs at least one source")
        seen = [p.source for p in flat]
        if len(set(seen)) != len(seen):
            raise ValueError(f"parts: source names must be unique, got {seen!r}")
        return cls(flat, region=first._region, display=first._display.spec, combined=True)

    def _build_index(self) -> None:
        """Index every number by cell: position * len(fields) + field number."""
        numbers, cells = [], []
        width = len(self.fields)
        for part, offset in zip(self._parts, self._offsets[:-1], strict=False):
            flat = part.codes.ravel()
            found = np.flatnonzero(flat)
            numbers.append(flat[found])
            if part.fields == self.fields and offset == 0:
                cells.append(found)  # the flat index already is row * width + field
                continue
            rows, cols = np.divmod(found, len(part.fields))
            # Field numbers refer to self.fields, so combined sources share one vocabulary.
            remap = np.array([self.fields.index(f) for f in part.fields], dtype=np.int64)
            cells.append((rows + offset) * width + remap[cols])
        self._index = NumberIndex(np.concatenate(numbers), np.concatenate(cells))
        self._labels = _labels(self._parts[0]) if not self._combined else None

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
        size = int(self._offsets[-1])
        if not -size <= position < size:
            raise IndexError(f"position: {position} is out of range for {size} contacts")
        position = int(position) % size
        if not self._combined:
            return self._parts[0], position
        i = int(self._offsets.searchsorted(position, side="right")) - 1
        return self._parts[i], position - int(self._offsets[i])

    def key_at(self, position: int) -> Hashable:
        """The key of the contact at ``position`` (0-based, negative counts from the end)."""
        part, row = self._locate(position)
        label = _labels(part)[row]
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
    def source(self) -> Hashable | None:
        """The name given to this book's DataFrame (None when combined or unnamed)."""
        return None if self._combined else self._parts[0].source

    @property
    def region(self) -> str:
        return self._region

    @property
    def display(self) -> Any:
        """The display format; assign a named format or a regular expression to change it."""
        return self._display.spec

    @display.setter
    def display(self, spec: Any) -> None:
        self._display = Display(spec, self._region)

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

    def first_numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """Each contact's first valid number, for all contacts at once: (E.164 digits, 0 for none;
        the field's position in ``fields``, -1 for none)."""
        codes, fields = [], []
        for part in self._parts:
            present = part.codes != 0
            first = np.where(present.any(axis=1), present.argmax(axis=1), -1)
            codes.append(np.where(first >= 0, part.codes[np.arange(len(first)), np.maximum(first, 0)], 0))
            remap = np.array([self.fields.index(f) for f in part.fields] + [-1], dtype=np.int64)
            fields.append(remap[first])  # a row with none picks the appended -1
        return np.concatenate(codes), np.concatenate(fields)

    def record(self, key: Hashable) -> dict:
        """The contact card: the view columns of the row, as JSON-safe values."""
        part, row = self._part_of(key)
        # Column by column: selecting frame[view] first would copy every row of the view.
        return {str(col): json_safe(part.frame[col].iat[row]) for col in part.view}

    def name_of(self, key: Hashable) -> str:
        """A human label: the ``name`` column's value, else the key itself."""
        part, row = self._part_of(key)
        if part.name is not None:
            value = json_safe(part.frame[part.name].iat[row])
            if value not in (None, ""):
                return str(value)
        return str(key)

    # -- matching incoming calls and messages -------------------------------------------

    def _code_of(self, number: Any) -> int:
        """E.164 digits of a number in any parseable format; 0 when invalid."""
        # Twilio sends canonical E.164; reading it directly keeps lookups in microseconds.
        if type(number) is str and number[1:].isdigit() and number[0] == "+" and number[1] != "0" \
                and number.isascii() and len(number) <= 16:
            return int(number[1:])
        text = as_text(number)
        if text is None:
            return 0
        return check_cached(text, self._region)[0]

    def lookup(self, number: Any) -> list[tuple[Hashable, Any]]:
        """Every (key, field) holding ``number`` (E.164 or any parseable format)."""
        code = self._code_of(number)
        cells = self._index.cells(code) if code else []
        if not cells:
            return []
        width, fields = len(self.fields), self.fields
        if self._combined:
            return [(self.key_at(c // width), fields[c % width]) for c in cells]
        labels = self._labels
        return [(labels[c // width], fields[c % width]) for c in cells]

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
            formatter = self._display if display else Display("e164", self._region)
            columns[field] = pd.Series(formatter.format_many(codes), dtype=object)
        return pd.DataFrame({k: v.to_numpy() for k, v in columns.items()}, index=self.keys, dtype=object)

    def __repr__(self) -> str:
        sources = "" if not self._combined else f", {len(self._parts)} sources"
        return (
            f"<Contacts: {len(self):,} contacts{sources}, fields {self.fields!r}, "
            f"{self._index.size:,} numbers, {sum(len(p.rejects) for p in self._parts):,} rejects>"
        )
