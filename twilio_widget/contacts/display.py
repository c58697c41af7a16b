"""Display formats: how the panel shows a number (a named format or the element's expression)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from .nanp import CHUNK, POW10, nanp_formats_ok

#: The element's default ``regular_expression``; it means "show numbers as people write
#: them in the region", i.e. the national format.
DEFAULT_REGULAR_EXPRESSION = r"\.*$"

#: Named display formats, and the phonenumbers format each one maps to.
DISPLAY_FORMATS = {
    "e164": PhoneNumberFormat.E164,
    "international": PhoneNumberFormat.INTERNATIONAL,
    "national": PhoneNumberFormat.NATIONAL,
}


class Display:
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
        if nanp_formats_ok() and len(digits) == 11 and digits[0] == "1" and digits[1] in "23456789":
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
            for start in range(0, len(where), CHUNK):
                rows = where[start:start + CHUNK]
                out[rows] = _layout(codes[rows] - 10**10, template).astype(object)
        rest = np.flatnonzero(~nanp & (codes != 0))
        uniques, inverse = np.unique(codes[rest], return_inverse=True)
        out[rest] = np.array([self.format(c) for c in uniques.tolist()], dtype=object)[inverse]
        return out

    def _nanp_template(self) -> str | None:
        """The layout of +1 numbers with area code [2-9] ("#" = a digit), if fixed."""
        if self.kind == "e164":
            return "+1##########"
        if self.kind == "regex" or not nanp_formats_ok():
            return None
        if self.kind == "international" or self.country_code != 1:
            return "+1 ###-###-####"
        return "(###) ###-####"

    def _format_nanp(self, nsn: str) -> str:
        """format_number's result for a +1 number, without a parse (see nanp_formats_ok)."""
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
    digits = (nsn[:, None] // POW10[9::-1]) % 10
    chars = np.empty((len(nsn), len(template)), dtype=np.uint32)
    chars[:] = np.array([ord(c) for c in template], dtype=np.uint32)
    chars[:, [i for i, c in enumerate(template) if c == "#"]] = digits + ord("0")
    return chars.view(f"U{len(template)}").ravel()
