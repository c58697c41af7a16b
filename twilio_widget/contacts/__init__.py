"""Contacts: phone numbers from pandas DataFrames, normalised to E.164 and indexed for lookup.

A phone book is built from one DataFrame (the element's "Application") or several combined.
Every cell of the chosen phone columns (the element's "Fields") is parsed with
``phonenumbers``; valid numbers are kept as E.164, every other non-blank value is listed in
:attr:`Contacts.rejects` with the reason, so nothing is dropped silently.

Speed comes from two things, neither of which changes a single result:

* the common North American shapes ("(415) 555-0100", "+1 415.555.0100", ...) are parsed
  with numpy over whole columns, and their validity is read from a table compiled from
  phonenumbers' own metadata (see ``nanp.py``), so it agrees with
  ``phonenumbers.is_valid_number`` exactly;
* everything else goes through phonenumbers once per *distinct* value (lead lists repeat
  their odd values too).

Numbers are stored as int64 (the E.164 digits), so a million rows with two phone columns
cost 16 MB, and the lookup index is a sorted array searched with ``numpy.searchsorted``.

The modules, by concern: ``parsing`` (one value: the reference parser), ``nanp`` (the North
American fast path), ``columns`` (whole phone columns), ``display`` (display formats),
``index`` (the number index) and ``book`` (:class:`Contacts`).
"""

from .book import Contacts
from .display import DEFAULT_REGULAR_EXPRESSION, DISPLAY_FORMATS
from .parsing import InvalidNumber, normalize, parse_number

__all__ = [
    "Contacts",
    "InvalidNumber",
    "normalize",
    "parse_number",
    "DISPLAY_FORMATS",
    "DEFAULT_REGULAR_EXPRESSION",
]
