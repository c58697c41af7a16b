"""The lead queue: order, rejected rows, skips, call-backs first, the calling rules as a filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from session_helpers import RecordingRules

from twilio_widget.session import DEFAULT_OUTCOMES, LeadQueue, RetryRule
from twilio_widget.session.rules_link import ALLOW_EVERYTHING

NOW = pd.Timestamp("2026-05-01 15:00", tz="UTC")
OUTCOME = {o.name: o for o in DEFAULT_OUTCOMES}


def names(queue, positions):
    return [queue.book.name_of(queue.key(p)) for p in positions]


def test_the_queue_calls_by_the_order_columns_and_leaves_out_rows_without_a_number(call_leads):
    queue = LeadQueue(call_leads, ["mobile"], order="score", ascending=False, name="name")
    assert names(queue, queue.pick(NOW, ALLOW_EVERYTHING, count=10)) == ["Alan", "Katherine", "Grace", "Ada", "Edsger"]
    assert len(queue) == 5
    assert queue.rejected["row"].tolist() == [16]


def test_without_an_order_the_frame_order_is_kept_and_several_columns_sort_in_turn(call_leads):
    plain = LeadQueue(call_leads, "mobile", name="name")
    assert names(plain, plain.pick(NOW, ALLOW_EVERYTHING, count=2)) == ["Ada", "Alan"]
    queue = LeadQueue(call_leads, "mobile", name="name", order=["stage", "score"], ascending=[False, True])
    assert names(queue, queue.pick(NOW, ALLOW_EVERYTHING, count=3)) == ["Edsger", "Ada", "Grace"]


def test_an_unknown_order_column_is_refused_by_name(call_leads):
    with pytest.raises(ValueError, match="order: no column 'priority'"):
        LeadQueue(call_leads, "mobile", order="priority")


def test_a_skipped_lead_goes_to_the_back_of_the_line(call_leads):
    queue = LeadQueue(call_leads, "mobile", name="name")
    queue.skip(queue.position(11))
    assert names(queue, queue.pick(NOW, ALLOW_EVERYTHING, count=5)) == ["Alan", "Grace", "Katherine", "Edsger", "Ada"]


def test_due_call_backs_come_first_the_earliest_first_and_early_ones_wait(call_leads):
    queue = LeadQueue(call_leads, "mobile", name="name")
    for key, hours in ((14, -1), (13, -2), (12, 3)):  # two due (an hour and two ago), one ahead
        queue.settle(queue.position(key), OUTCOME["call back"], NOW, NOW + pd.Timedelta(hours=hours))
    assert names(queue, queue.pick(NOW, ALLOW_EVERYTHING, count=5)) == ["Grace", "Katherine", "Ada", "Edsger"]
    assert queue.next_due(NOW) == NOW + pd.Timedelta(hours=3)


def test_the_calling_rules_filter_the_line_and_are_asked_with_e164_numbers(call_leads):
    rules = RecordingRules(forbidden={"+14155550101"})
    queue = LeadQueue(call_leads, "mobile", name="name")
    assert names(queue, queue.pick(NOW, rules, count=2)) == ["Ada", "Grace"]
    assert rules.asked[0].tolist()[:2] == ["+14155550100", "+14155550101"]


def test_closed_and_retrying_leads_leave_the_line_until_due(call_leads):
    queue = LeadQueue(call_leads, "mobile", name="name", retry=RetryRule(delay=pd.Timedelta(hours=1), hours=(0, 24)))
    ada, alan = queue.position(11), queue.position(12)
    queue.called(ada, NOW)
    queue.settle(ada, OUTCOME["meeting booked"], NOW, None)
    queue.called(alan, NOW)
    queue.settle(alan, OUTCOME["no answer"], NOW, None)
    assert names(queue, queue.pick(NOW, ALLOW_EVERYTHING, count=1)) == ["Grace"]
    later = NOW + pd.Timedelta(hours=1)
    assert "Alan" in names(queue, queue.pick(later, ALLOW_EVERYTHING, count=5))
    assert "Ada" not in names(queue, queue.pick(later, ALLOW_EVERYTHING, count=5))
    assert queue.counts() == {"total": 5, "worked": 2, "open": 4}


def test_a_long_line_gives_the_same_order_as_a_full_sort():
    rng = np.random.default_rng(3)
    size = 5000
    leads = pd.DataFrame({"mobile": [f"+1415{rng.integers(2, 9)}55{i:04d}" for i in range(size)],
                          "score": rng.integers(0, 50, size)})
    queue = LeadQueue(leads, "mobile", order="score")
    expected = leads.sort_values("score", kind="stable").index[:1500].tolist()
    picked = queue.pick(NOW, ALLOW_EVERYTHING, count=1500)  # past the sorted head of 1,024
    assert [queue.key(p) for p in picked] == expected
