"""The calling rules at the panel, in a real JupyterLab: a lead outside its calling hours and one on
the do-not-call list are refused with the reason shown; a deliberate override calls anyway and is
recorded with the call; the call shows its recording decision; one click leaves the voicemail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .driving import open_notebook, python_value, settles_to
from .lab import kernel_for, run_python

pytestmark = pytest.mark.e2e

# Denver's calling hours are closed every day (so "now" is outside them whenever the test runs),
# Alan's mobile is on the do-not-call list, recording is on and a voicemail message is set.
SET_RULES = """
from twilio_widget.config.hours import CallingHours
phone.rules.hours = CallingHours.parse({"default": "0:00-24:00", "US-CO": "closed"})
phone.rules.block(["+14155550101"], source="asked on the phone")
phone.config = phone.config.replace(rules={**phone.config.rules.to_data_model(), "recording": {"enabled": True},
                                           "voicemail_drop_url": "https://example.com/drop.mp3"})
phone.tab = "numpad"
phone.dialpad = "+13035550100"
"""
WHY = "They asked me to call back today"


def test_each_rule_at_the_panel(page, lab, artifacts):
    panel = open_notebook(page, lab, "demo.ipynb")
    kernel = kernel_for(lab, "demo.ipynb")
    try:
        run_python(kernel, SET_RULES)
        call = panel.get_by_role("button", name="Call", exact=True)
        problem = panel.locator("[data-testid=dial-problem]")
        expect(problem).to_contain_text("in Denver")  # outside its calling hours
        expect(call).to_be_disabled()

        run_python(kernel, "phone.dialpad = '+14155550101'")
        expect(problem).to_have_text("on the do-not-call list (asked on the phone)")
        expect(call).to_be_disabled()
        panel.screenshot(path=str(artifacts / "rules-refused.png"))

        panel.get_by_role("textbox", name="Reason to call anyway").fill(WHY)
        panel.get_by_role("button", name="Call anyway").click()
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call", timeout=10_000)
        # San Francisco: every party must consent, so the lead heard the announcement first.
        note = panel.get_by_role("note", name="Recording: Recorded, announced first")
        expect(note).to_be_visible()
        expect(note).to_have_attribute("title", re.compile("California Penal Code"))
        panel.screenshot(path=str(artifacts / "rules-overridden-call.png"))
        assert python_value(kernel, "phone.call['override'], phone.call['overridden']") == (
            WHY, "on the do-not-call list (asked on the phone)")

        panel.get_by_role("button", name="Leave voicemail").click()
        settles_to(kernel, "phone.call.get('voicemail_dropped')", True)
        assert python_value(kernel, "phone.sandbox.voicemail_drops[-1]['url']") == "https://example.com/drop.mp3"
        assert python_value(kernel, "phone.sandbox.announcements[-1]['call_sid'] == phone.call['sid']") is True
        # The lead's leg hangs up after the message; the recording is kept with the call and its decision.
        settles_to(kernel, "phone.recordings().query('number == \"+14155550101\"')[['consent', 'announced']]"
                   ".values.tolist()", [["all-party", True]], timeout=20)
    finally:
        kernel.stop_channels()
