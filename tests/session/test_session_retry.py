"""Retry rules: after a delay, up to N attempts, inside the hours of the lead's own day."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from twilio_widget.session import RetryRule


@pytest.mark.parametrize(("now", "expected"), [
    # 10:00 in New York + 2 h: 12:00 there, in hours
    ("2026-05-01 14:00", "2026-05-01 16:00"),
    # 19:00 in New York + 2 h = 21:00, after hours: 09:00 the next day there (13:00 UTC, summer time)
    ("2026-05-01 23:00", "2026-05-02 13:00"),
    # 05:00 in New York + 2 h = 07:00, before hours: 09:00 that day
    ("2026-05-01 09:00", "2026-05-01 13:00"),
])
def test_a_retry_waits_the_delay_and_lands_in_the_leads_hours(now, expected):  # 212: New York
    rule = RetryRule(delay=timedelta(hours=2), max_attempts=3, hours=(9, 20))
    assert rule.next_attempt(pd.Timestamp(now, tz="UTC"), "+12125550102") == pd.Timestamp(expected, tz="UTC")


def test_attempts_run_out():
    rule = RetryRule(max_attempts=2)
    assert not rule.exhausted(1)
    assert rule.exhausted(2)


@pytest.mark.parametrize(("options", "field"), [({"delay": -timedelta(1)}, "retry.delay"),
                                                ({"max_attempts": 0}, "retry.max_attempts"),
                                                ({"hours": (20, 9)}, "retry.hours")])
def test_a_bad_rule_is_refused_naming_its_field(options, field):
    with pytest.raises(ValueError, match=field):
        RetryRule(**options)
