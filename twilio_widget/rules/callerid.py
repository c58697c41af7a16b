"""Local caller ID: of the numbers a caller owns, the one a lead is likeliest to answer.

A lead sees the caller's number with its own area code, else one from its state or province
(or country, abroad), else the caller's default caller ID. Ties go to the order the numbers
are listed in the configuration.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .places import country_of, regions


def area_code(number: str) -> str:
    """The North American area code of an E.164 number ("303" for +1303...), "" elsewhere."""
    return number[2:5] if number.startswith("+1") and len(number) == 12 else ""


def choose_caller_id(lead: str, owned: Sequence[str], default: str) -> tuple[str, str]:
    """(the number to call ``lead`` from, why: "area code", "state", "country" or "default")."""
    candidates = [n for n in dict.fromkeys(owned) if n]
    if not candidates or not lead:
        return default, "default"
    code = area_code(lead)
    if code:
        for number in candidates:
            if area_code(number) == code:
                return number, "area code"
    places = regions(pd.Series([lead, *candidates], dtype=object)).astype(object).where(lambda s: s.notna(), "")
    lead_region, owned_regions = places.iloc[0], places.iloc[1:].tolist()
    if lead_region:
        for number, region in zip(candidates, owned_regions, strict=True):
            if region == lead_region and "-" in region:
                return number, "state"
        for number, region in zip(candidates, owned_regions, strict=True):
            if region and country_of(region) == country_of(lead_region):
                return number, "country"
    return default, "default"
