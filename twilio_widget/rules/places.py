"""The region of each number: its country (ISO 3166-1, "GB"), or in North America its state or
province (ISO 3166-2, "US-CO", "CA-ON") by area code. Calling hours and caller ID are
configured by these codes.

Countries come from phonenumbers' calling codes, North American states and provinces from its
geocoder's description of each area code; the table is built once, on first use, and matched
with the same longest-prefix lookup as the time zones.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import geocoder
from phonenumbers.tzdata import TIMEZONE_DATA

from .zones import NO_ZONE, PrefixKeys, longest_prefix, prefix_keys

# The geocoder names most area codes by state or province, some by a city and its postal code.
_SUBDIVISIONS = {
    "US": {
        "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
        "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID",
        "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
        "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
        "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
        "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
        "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
        "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
        "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "Washington D.C.": "DC",
        "Washington DC": "DC", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    },
    "CA": {
        "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
        "Newfoundland and Labrador": "NL", "Nova Scotia": "NS", "Ontario": "ON", "Prince Edward Island": "PE",
        "Quebec": "QC", "Saskatchewan": "SK", "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
    },
}


def subdivision(country: str, description: str) -> str:
    """'US-CO' from ('US', 'Colorado') or ('US', 'Lakewood, CO'); the country alone when unknown."""
    names = _SUBDIVISIONS.get(country, {})
    if description in names:
        return f"{country}-{names[description]}"
    code = description.rsplit(", ", 1)[-1]
    return f"{country}-{code}" if code in names.values() else country


def _area_code_region(area_code: str) -> str:
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(area_code + "2345678"))
    country = phonenumbers.region_code_for_number(number) or "US"
    return subdivision(country, geocoder.description_for_valid_number(number, "en"))


@cache
def place_table() -> tuple[tuple[str, ...], PrefixKeys]:
    """(region codes, prefix keys): countries by calling code, North America by area code."""
    regions: dict[str, int] = {}
    entries: dict[str, int] = {}
    for code, countries in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        main = countries[0]
        if main != "001":  # non-geographic (satellite, international services)
            entries[str(code)] = regions.setdefault(main, len(regions))
    for prefix in TIMEZONE_DATA:
        if len(prefix) == 4 and prefix.startswith("1"):
            region = _area_code_region(prefix[1:])
            entries[prefix] = regions.setdefault(region, len(regions))
    return tuple(regions), prefix_keys(entries)


def place_codes(numbers: pd.Series) -> np.ndarray:
    """Per row, the index of its region in `place_table()[0]`, -1 when unknown."""
    return longest_prefix(numbers, place_table()[1])


def regions(numbers: pd.Series) -> pd.Series:
    """The region code of each E.164 number ("US-CO", "CA-ON", "GB"), <NA> where none is known."""
    names = place_table()[0]
    codes = place_codes(numbers)
    values = pd.Categorical.from_codes(np.where(codes == NO_ZONE, -1, codes),
                                       dtype=pd.CategoricalDtype(pd.Index(names, dtype="string")))
    return pd.Series(values, index=numbers.index, name="region")


def country_of(region: str) -> str:
    return region.split("-", 1)[0]
