"""Calling within the rules: the lead's time zone and local time, calling hours, do-not-call, caller ID.

    zones.py     the IANA zone(s) and local time of each number (phonenumbers' metadata)
    places.py    the region of each number: country, or North American state or province
    hours.py     calling hours in the lead's local time: allowed, why not, next allowed
    dnc.py       the do-not-call list on disk (with the routing service's STOP opt-outs)
    calling.py   CallingRules: the rules of one phone, asked by everything that calls or texts
"""

from .calling import VERDICT_COLUMNS, CallingRules
from .dnc import DoNotCall
from .places import regions
from .zones import local_times, zone_names, zone_sets

__all__ = ["VERDICT_COLUMNS", "CallingRules", "DoNotCall", "local_times", "regions", "zone_names", "zone_sets"]
