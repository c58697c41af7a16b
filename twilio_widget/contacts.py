"""Contacts: phone numbers from pandas DataFrames, normalised to E.164 and indexed for lookup.

A phone book is built from one DataFrame (the element's "Application") or several combined.
Every cell of the chosen phone columns (the element's "Fields") is parsed with
``phonenumbers``; valid numbers are kept as E.164, every other non-blank value is listed in
:attr:`Contacts.rejects` with the reason, so nothing is dropped silently.

Speed comes from two things, neither of which changes a single result:

* the common North American shapes ("(415) 555-0100", "+1 415.555.0100", ...) are parsed
  with numpy over whole columns, and their validity is read from a table compiled from
  phonenumbers' own metadata (see "North American fast path" below), so it agrees with
  ``phonenumbers.is_valid_number`` exactly;
* everything else goes through phonenumbers once per *distinct* value (lead lists repeat
  their odd values too).

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
from functools import cache, lru_cache
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


def _fast_input(column: pd.Series, values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the numpy path reads, and which cells: their str() must be _as_text's text.

    Strings and integers qualify as they are. Integral floats (a phone column once pandas
    met a blank in a CSV) are read as the integers they hold, as _as_text reads them:
    str(1415555010.0) has eleven digits, but the cell means the ten-digit 1415555010.
    Other objects are left to _as_text.
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


def _parse_columns(df: pd.DataFrame, fields: list, region: str):
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
        readable, candidates = _fast_input(column, values, present)
        decided = np.zeros(len(values), dtype=bool)
        for start in range(0, len(values), _CHUNK):
            stop = min(start + _CHUNK, len(values))
            decided[start:stop], codes[start:stop, j] = _nanp_parse(
                readable[start:stop], region, candidates[start:stop]
            )
        unassigned.append(np.flatnonzero(decided & (codes[:, j] == 0)) * len(fields) + j)
        slow = np.flatnonzero(present & ~decided)
        slow_rows.append(slow * len(fields) + j)  # cell numbers: row * fields + field
        slow_values.append(values[slow])
    cells = np.concatenate(slow_rows)
    value_ids, uniques = pd.factorize(np.concatenate(slow_values), use_na_sentinel=False)
    checked = [(0, None) if t is None else _check_cached(t, region) for t in map(_as_text, uniques)]
    unique_codes = np.fromiter((c for c, _ in checked), dtype=np.int64, count=len(checked))
    codes.ravel()[cells] = unique_codes[value_ids]
    bad_ids = np.array([i for i, (_, why) in enumerate(checked) if why is not None], dtype=np.int64)
    bad = np.isin(value_ids, bad_ids)
    rejected = np.concatenate([*unassigned, cells[bad]])
    reasons = [NOT_ASSIGNED] * (len(rejected) - int(bad.sum()))
    reasons += [checked[i][1] for i in value_ids[bad].tolist()]
    return codes, rejected // len(fields), rejected % len(fields), reasons


# --------------------------------------------------------------------------------------
# North American fast path
#
# Most numbers in a lead list are North American (+1) numbers in a handful of shapes. For
# those, parsing is just "take the digits", and validity depends on the ten national
# digits alone. phonenumbers decides validity with regular expressions from its metadata;
# here those expressions are expanded into sequences of digit sets and compiled into one
# table indexed by the first six digits (area code and exchange), holding a three-valued
# answer: valid for every last-four, invalid for every last-four, or "it depends". Numbers
# in the last group, and every value of another shape, go through phonenumbers itself, so
# the fast path never decides anything phonenumbers would decide differently.
# --------------------------------------------------------------------------------------

try:  # Python 3.11+ keeps the regex parser here; older versions in sre_parse.
    import re._constants as _sre_c
    import re._parser as _sre_p
except ImportError:  # pragma: no cover
    import sre_constants as _sre_c
    import sre_parse as _sre_p

_CHUNK = 32768  # cells per numpy pass: bounds the (chunk x width) temporaries to a few MB
_WIDTH = 24  # longest text the fast path reads; longer ones take the phonenumbers path
_ALL_DIGITS = 0x3FF  # digit sets are bit masks, bit d for digit d
_NO, _MAYBE, _YES = 0, 1, 2  # three-valued logic: AND is min, OR is max
_NANP_LENGTH = 10


class _Unsupported(Exception):
    """A metadata expression the expander does not model; the fast path steps aside."""


def _digit_set(items: list) -> int:
    mask, negate = 0, False
    for op, arg in items:
        if op is _sre_c.NEGATE:
            negate = True
        elif op is _sre_c.LITERAL:
            mask |= 1 << (arg - 48) if 48 <= arg <= 57 else 0
        elif op is _sre_c.RANGE:
            for char in range(max(arg[0], 48), min(arg[1], 57) + 1):
                mask |= 1 << (char - 48)
        elif op is _sre_c.CATEGORY and arg is _sre_c.CATEGORY_DIGIT:
            mask |= _ALL_DIGITS
        else:
            raise _Unsupported(op)
    return _ALL_DIGITS & ~mask if negate else mask


def _sequences(items: Iterable, limit: int) -> set[tuple[int, ...]]:
    """Every way the parsed expression can match a digit string, up to ``limit`` digits."""
    seqs: set[tuple[int, ...]] = {()}
    for op, arg in items:
        step = _node_sequences(op, arg, limit)
        seqs = {a + b for a in seqs for b in step if len(a) + len(b) <= limit}
    return seqs


def _node_sequences(op, arg, limit: int) -> set[tuple[int, ...]]:
    if op is _sre_c.LITERAL:
        return {(1 << (arg - 48),)} if 48 <= arg <= 57 else set()
    if op is _sre_c.NOT_LITERAL:
        return {(_ALL_DIGITS & ~(1 << (arg - 48)) if 48 <= arg <= 57 else _ALL_DIGITS,)}
    if op is _sre_c.ANY:
        return {(_ALL_DIGITS,)}
    if op is _sre_c.IN:
        mask = _digit_set(arg)
        return {(mask,)} if mask else set()
    if op is _sre_c.BRANCH:
        return set().union(*(_sequences(alt, limit) for alt in arg[1]))
    if op is _sre_c.SUBPATTERN:
        return _sequences(arg[-1], limit)
    if op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
        low, high, sub = arg
        high = limit if high is _sre_c.MAXREPEAT else min(high, limit)
        once, out, current = _sequences(sub, limit), set(), {()}
        for count in range(high + 1):
            if count >= low:
                out |= current
            current = {a + b for a in current for b in once if len(a) + len(b) <= limit}
        return out
    # Anchors, lookarounds, atomic groups, backreferences: not modelled.
    raise _Unsupported(op)


def _prefix_table(seqs: Iterable[tuple[int, ...]], total: int | None) -> np.ndarray:
    """Three-valued table over the 10**6 six-digit prefixes.

    ``total`` = 10: full matches of exactly ten digits; None: prefix matches (re.match).
    A prefix is _YES when one sequence accepts it with any digits after, _MAYBE when a
    sequence accepts it only for some continuations.
    """
    yes = np.zeros((10,) * 6, dtype=bool)
    maybe = np.zeros((10,) * 6, dtype=bool)
    for seq in seqs:
        if total is not None and len(seq) != total:
            continue
        head = seq[:6] + (_ALL_DIGITS,) * (6 - len(seq[:6]))
        tail = seq[6:]
        where = np.ix_(*[np.flatnonzero([(mask >> d) & 1 for d in range(10)]) for mask in head])
        if all(mask == _ALL_DIGITS for mask in tail):
            yes[where] = True
        else:
            maybe[where] = True
    table = maybe.view(np.int8)  # _MAYBE == True == 1
    table[yes] = _YES
    return table.reshape(-1)


def _desc_table(desc) -> np.ndarray | None:
    """phonenumbers' _is_number_matching_desc for ten-digit national numbers (None: never)."""
    pattern = getattr(desc, "national_number_pattern", None)
    lengths = getattr(desc, "possible_length", ()) or ()
    if not pattern or (lengths and _NANP_LENGTH not in lengths):
        return None
    seqs = _sequences(_sre_p.parse(pattern), _NANP_LENGTH)
    if not any(len(seq) == _NANP_LENGTH for seq in seqs):
        return None
    return _prefix_table(seqs, _NANP_LENGTH)


def _type_table(metadata) -> np.ndarray:
    """phonenumbers' _number_type_helper(...) != UNKNOWN: general AND any number type."""
    kinds = ["premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
             "uan", "voicemail", "fixed_line"]
    if not metadata.same_mobile_and_fixed_line_pattern:
        kinds.append("mobile")
    general = _desc_table(metadata.general_desc)
    any_type = np.zeros(10**6, dtype=np.int8)
    if general is None:
        return any_type
    for kind in kinds:
        table = _desc_table(getattr(metadata, kind))
        if table is not None:
            np.maximum(any_type, table, out=any_type)
    return np.minimum(general, any_type, out=any_type)


def _if_then_else(cond: np.ndarray, then: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Three-valued if: a _MAYBE condition decides nothing unless both branches agree."""
    agree = np.where(then == other, then, _MAYBE)
    return np.where(cond == _YES, then, np.where(cond == _NO, other, agree)).astype(np.int8)


@lru_cache(maxsize=1)
def _nanp_validity() -> np.ndarray | None:
    """is_valid_number for +1 numbers by six-digit prefix, or None if not modelled.

    Mirrors region_code_for_number + is_valid_number_for_region: regions are tried in
    phonenumbers' order; one whose leading digits match decides alone, one without
    leading digits claims the number only if the number is valid there.
    """
    try:
        result = np.zeros(10**6, dtype=np.int8)
        for region in reversed(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]):
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
            valid_here = _type_table(metadata)
            if metadata.leading_digits is not None:
                leading = _prefix_table(_sequences(_sre_p.parse(metadata.leading_digits), 10), None)
                result = _if_then_else(leading, valid_here, result)
            else:
                result = np.maximum(result, valid_here)
        return result
    except (_Unsupported, re.error, AttributeError, KeyError):
        return None


@cache
def _nanp_national_ok(region: str) -> bool:
    """Whether phonenumbers reads bare 10 and 1+10 digit strings in ``region`` as +1 numbers.

    True when the region is North American with national prefix "1" and no transform
    rule (7-digit local rewriting), and its international prefix cannot start those digits.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return bool(
        metadata is not None
        and metadata.country_code == 1
        and metadata.national_prefix_for_parsing == "1"
        and metadata.national_prefix_transform_rule is None
        and metadata.international_prefix == "011"
        and max(metadata.general_desc.possible_length or (0,)) == _NANP_LENGTH
    )


@lru_cache(maxsize=1)
def _nanp_formats_ok() -> bool:
    """Whether format_number lays every +1 number with area code [2-9] out as (NPA) NXX-XXXX.

    Checked against the metadata the layout was read from; any change turns it off.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("US")
    national = [(f.pattern, f.format, list(f.leading_digits_pattern), f.national_prefix_formatting_rule)
                for f in metadata.number_format]
    international = [(f.pattern, f.format, list(f.leading_digits_pattern)) for f in metadata.intl_number_format]
    seven = r"(\d{3})(\d{4})"
    return (
        [n[:2] for n in national] == [(seven, r"\1-\2"), (seven, r"\1-\2"), (r"(\d{3})(\d{3})(\d{4})", r"(\1) \2-\3")]
        and national[2][2] == ["[2-9]"] and all(n[3] is None for n in national)
        and international == [(seven, r"\1-\2", ["310"]), (r"(\d{3})(\d{3})(\d{4})", r"\1-\2-\3", ["[2-9]"])]
    )


_POW10 = 10 ** np.arange(10, dtype=np.int64)
_CHAR = {c: ord(c) for c in "0+ ()-."}


def _nanp_parse(values: np.ndarray, region: str, candidates: np.ndarray):
    """Parse the +1 numbers among ``values`` with numpy: (decided mask, codes; 0 = invalid).

    ``values`` is an object or integer array; ``candidates`` marks the cells whose str()
    is the text phonenumbers would see.
    Accepted shapes: digits with the separators " ()-." and an optional "+" before the
    first digit or separator; ten digits ([2-9] first), or "1" and ten digits; with "+"
    only the latter. Anything else, and prefixes whose validity depends on the last four
    digits, stay undecided.
    """
    validity = _nanp_validity()
    decided = np.zeros(len(values), dtype=bool)
    codes = np.zeros(len(values), dtype=np.int64)
    if validity is None or not candidates.any():
        return decided, codes
    # Fixed-width UCS-4 array, one row of code points per value, NUL-padded.
    text = values.astype(f"U{_WIDTH}")
    chars = text.view(np.uint32).reshape(len(values), _WIDTH)
    length = np.strings.str_len(text)
    # Longer texts were truncated; a NUL inside a text is not a separator phonenumbers knows.
    candidate = candidates & (length < _WIDTH)
    is_pad = np.arange(_WIDTH) >= length[:, None]
    is_digit = (chars >= ord("0")) & (chars <= ord("9"))
    is_plus = chars == _CHAR["+"]
    is_space = chars == _CHAR[" "]
    allowed = is_digit | is_plus | is_space | is_pad
    for sep in "()-.":
        allowed |= chars == _CHAR[sep]
    candidate &= allowed.all(axis=1)
    plus_count = is_plus.sum(axis=1)
    has_plus = plus_count == 1
    # "+" only after leading spaces: phonenumbers reads a number from its first "+" or digit.
    first = np.argmax(~is_space, axis=1)
    candidate &= (plus_count == 0) | (has_plus & is_plus[np.arange(len(values)), first])
    digit_count = is_digit.sum(axis=1)
    national_ok = _nanp_national_ok(region)
    nsn = np.zeros(len(values), dtype=np.int64)
    for count, allowed_here in ((10, ~has_plus & national_ok), (11, has_plus | national_ok)):
        rows = np.flatnonzero(candidate & (digit_count == count) & allowed_here)
        # The rows' digits, in order, side by side: exactly ``count`` per row.
        digits = (chars[rows][is_digit[rows]].reshape(len(rows), count) - ord("0")).astype(np.int64)
        if count == 11:  # "1" + ten digits; any other leading digit is not a +1 number
            rows, digits = rows[digits[:, 0] == 1], digits[digits[:, 0] == 1, 1:]
        nsn[rows] = digits @ _POW10[9::-1]
    candidate &= nsn // 10**9 >= 2  # area codes start with 2-9 (0 also marks "not read")
    verdict = validity[np.where(candidate, nsn // 10**4, 0)]
    decided = candidate & (verdict != _MAYBE)
    codes = np.where(decided & (verdict == _YES), nsn + 10**10, 0)
    return decided, codes


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
        if _nanp_formats_ok() and len(digits) == 11 and digits[0] == "1" and digits[1] in "23456789":
            return self._format_nanp(digits[1:])
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

    def format_many(self, codes: np.ndarray) -> np.ndarray:
        """Display text for an array of codes (object array; None where the code is 0)."""
        out = np.full(len(codes), None, dtype=object)
        nanp = np.zeros(len(codes), dtype=bool)
        template = self._nanp_template()
        if template is not None:
            nanp = (codes >= 12 * 10**9) & (codes < 2 * 10**10)
            where = np.flatnonzero(nanp)
            for start in range(0, len(where), _CHUNK):
                rows = where[start:start + _CHUNK]
                out[rows] = _layout(codes[rows] - 10**10, template).astype(object)
        rest = np.flatnonzero(~nanp & (codes != 0))
        uniques, inverse = np.unique(codes[rest], return_inverse=True)
        out[rest] = np.array([self.format(c) for c in uniques.tolist()], dtype=object)[inverse]
        return out

    def _nanp_template(self) -> str | None:
        """The layout of +1 numbers with area code [2-9] ("#" = a digit), if fixed."""
        if self.kind == "e164":
            return "+1##########"
        if self.kind == "regex" or not _nanp_formats_ok():
            return None
        if self.kind == "international" or self.country_code != 1:
            return "+1 ###-###-####"
        return "(###) ###-####"

    def _format_nanp(self, nsn: str) -> str:
        """format_number's result for a +1 number, without a parse (see _nanp_formats_ok)."""
        domestic = self.country_code == 1
        if self.kind == "regex" and domestic:
            shown = self._apply_pattern(nsn)
            if shown is not None:
                return shown
        if self.kind == "international" or not domestic:
            return f"+1 {nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
        return f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}"

    def _apply_pattern(self, nsn: str) -> str | None:
        match = self.pattern.fullmatch(nsn)
        if match is None:
            return None
        if self.template is not None:
            return match.expand(self.template)
        groups = [g for g in match.groups() if g]
        return " ".join(groups) if groups else None


def _layout(nsn: np.ndarray, template: str) -> np.ndarray:
    """Ten-digit numbers laid out in ``template`` ("#" = next digit), built as code points."""
    digits = (nsn[:, None] // _POW10[9::-1]) % 10
    chars = np.empty((len(nsn), len(template)), dtype=np.uint32)
    chars[:] = np.array([ord(c) for c in template], dtype=np.uint32)
    chars[:, [i for i, c in enumerate(template) if c == "#"]] = digits + ord("0")
    return chars.view(f"U{len(template)}").ravel()


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
        if not isinstance(df.columns.get_loc(column), int):
            raise ValueError(f"{option}: the DataFrame has more than one column named {column!r}")
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

    def __init__(self, parts: Sequence[_Part], *, region: str, display: Any = "national", combined: bool = False):
        if not parts:
            raise ValueError("parts: a phone book needs at least one source")
        if len(parts) > 1 and not combined:
            raise ValueError("parts: several sources make a combined book (use Contacts.combine)")
        self._parts = list(parts)
        self._region = region
        self._display = _Display(display, region)
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
        codes, reject_rows, reject_fields, reasons = _parse_columns(df, fields, region)
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
        self._index = _NumberIndex(np.concatenate(numbers), np.concatenate(cells))
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
        # Column by column: selecting frame[view] first would copy every row of the view.
        return {str(col): _json_safe(part.frame[col].iat[row]) for col in part.view}

    def name_of(self, key: Hashable) -> str:
        """A human label: the ``name`` column's value, else the key itself."""
        part, row = self._part_of(key)
        if part.name is not None:
            value = _json_safe(part.frame[part.name].iat[row])
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
        text = _as_text(number)
        if text is None:
            return 0
        return _check_cached(text, self._region)[0]

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
            formatter = self._display if display else _Display("e164", self._region)
            columns[field] = pd.Series(formatter.format_many(codes), dtype=object)
        return pd.DataFrame({k: v.to_numpy() for k, v in columns.items()}, index=self.keys, dtype=object)

    def __repr__(self) -> str:
        sources = "" if not self._combined else f", {len(self._parts)} sources"
        return (
            f"<Contacts: {len(self):,} contacts{sources}, fields {self.fields!r}, "
            f"{self._index.size:,} numbers, {sum(len(p.rejects) for p in self._parts):,} rejects>"
        )


class _NumberIndex:
    """Which cells hold each number: E.164 codes to cells (position * fields + field).

    Numbers below 2**35 (every +1 number, most others) are packed with their cell into one
    int64, ``code << 28 | cell``: a plain sort (much faster than an argsort) orders both,
    and a number's cells sit together in row order. Longer numbers, and every number of a
    book with 2**28 cells or more, are kept apart, sorted by number, then cell.
    """

    SHIFT = 28
    LIMIT = 1 << 35  # codes below this fit beside a cell number in 63 bits
    MASK = (1 << SHIFT) - 1

    def __init__(self, numbers: np.ndarray, cells: np.ndarray):
        self.size = len(numbers)
        self.packs = not len(cells) or int(cells.max()) <= self.MASK
        packable = (numbers < self.LIMIT) if self.packs else np.zeros(len(numbers), dtype=bool)
        self._packed = np.sort((numbers[packable] << self.SHIFT) | cells[packable])
        rest_numbers, rest_cells = numbers[~packable], cells[~packable]
        order = np.lexsort((rest_cells, rest_numbers))
        self._numbers, self._cells = rest_numbers[order], rest_cells[order]

    def cells(self, code: int) -> list[int]:
        """The cells holding ``code``, in order ([] if none)."""
        # .item() gives Python ints: comparing numpy scalars costs a ufunc call each.
        if code < self.LIMIT and self.packs:
            packed, shift = self._packed, self.SHIFT
            lo = int(packed.searchsorted(code << shift))
            if lo == len(packed) or packed.item(lo) >> shift != code:
                return []
            if lo + 1 == len(packed) or packed.item(lo + 1) >> shift != code:
                return [packed.item(lo) & self.MASK]
            hi = int(packed.searchsorted((code + 1) << shift))
            return (packed[lo:hi] & self.MASK).tolist()
        lo = int(self._numbers.searchsorted(code))
        hi = int(self._numbers.searchsorted(code, "right"))
        return self._cells[lo:hi].tolist()


def _rejects_frame(df, fields, rows, field_nos, reasons) -> pd.DataFrame:
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
