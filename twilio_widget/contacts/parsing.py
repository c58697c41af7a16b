"""One value at a time: a cell or a typed number to E.164, or the reason it is not one.

This is the reference path: the fast paths of whole columns must agree with it exactly.
"""

from __future__ import annotations

import math
import numbers as _numbers
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

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
        super().__init__(f"{field}: {self.problem}")

    @property
    def problem(self) -> str:
        """The message without the field's name (for callers that name the field their way)."""
        return f"{self.value!r} is not a valid phone number ({self.reason})"


def as_text(value: Any) -> str | None:
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
def check_cached(text: str, region: str) -> tuple[int, str | None]:
    """:func:`_check`, remembered: lead lists and webhooks repeat the same numbers."""
    return _check(text, region)


def parse_number(value: Any, region: str = "US", *, field: str = "number") -> str:
    """The E.164 form of ``value``; raises :class:`InvalidNumber` naming ``field`` otherwise.

    Blank values are invalid here: this is for a number someone typed and wants to call.
    """
    text = as_text(value)
    if text is None:
        raise InvalidNumber(field, value, "blank")
    code, reason = check_cached(text, check_region(region))
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


def check_region(region: str) -> str:
    """Validate a default region (ISO 3166 alpha-2 that phonenumbers knows)."""
    code = str(region).upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"region: {region!r} is not a region phonenumbers knows (expected an ISO 3166 "
            "alpha-2 code such as 'US' or 'GB')"
        )
    return code
