"""Calling within the rules: the lead's time zone and local time, calling hours, do-not-call, caller ID."""

from .zones import local_times, zone_names, zone_sets

__all__ = ["local_times", "zone_names", "zone_sets"]
