"""North American fast path.

Most numbers in a lead list are North American (+1) numbers in a handful of shapes. For
those, parsing is just "take the digits", and validity depends on the ten national
digits alone. phonenumbers decides validity with regular expressions from its metadata;
here those expressions are expanded into sequences of digit sets and compiled into one
table indexed by the first six digits (area code and exchange), holding a three-valued
answer: valid for every last-four, invalid for every last-four, or "it depends". Numbers
in the last group, and every value of another shape, go through phonenumbers itself, so
the fast path never decides anything phonenumbers would decide differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

import numpy as np
import phonenumbers

try:  # Python 3.11+ keeps the regex parser here; older versions in sre_parse.
    import re._constants as _sre_c
    import re._parser as _sre_p
except ImportError:  # pragma: no cover
    import sre_constants as _sre_c
    import sre_parse as _sre_p

CHUNK = 32768  # cells per numpy pass: bounds the (chunk x width) temporaries to a few MB
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
def nanp_validity() -> np.ndarray | None:
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
def nanp_formats_ok() -> bool:
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


POW10 = 10 ** np.arange(10, dtype=np.int64)
_CHAR = {c: ord(c) for c in "0+ ()-."}


def nanp_parse(values: np.ndarray, region: str, candidates: np.ndarray):
    """Parse the +1 numbers among ``values`` with numpy: (decided mask, codes; 0 = invalid).

    ``values`` is an object or integer array; ``candidates`` marks the cells whose str()
    is the text phonenumbers would see.
    Accepted shapes: digits with the separators " ()-." and an optional "+" before the
    first digit or separator; ten digits ([2-9] first), or "1" and ten digits; with "+"
    only the latter. Anything else, and prefixes whose validity depends on the last four
    digits, stay undecided.
    """
    validity = nanp_validity()
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
        nsn[rows] = digits @ POW10[9::-1]
    candidate &= nsn // 10**9 >= 2  # area codes start with 2-9 (0 also marks "not read")
    verdict = validity[np.where(candidate, nsn // 10**4, 0)]
    decided = candidate & (verdict != _MAYBE)
    codes = np.where(decided & (verdict == _YES), nsn + 10**10, 0)
    return decided, codes
