"""A calling session in a real JupyterLab: three leads worked through on the panel (call, outcome
and note, skip, call-back), then the outcomes read back from Python."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .driving import open_notebook, python_value, settles_to
from .lab import kernel_for, run_python

pytestmark = pytest.mark.e2e

START_SESSION = """
import pathlib, tempfile
session = phone.queue(leads.loc[[101, 102, 105]], fields=["mobile"], lead_name="name", view=["name", "company"],
                      journal=pathlib.Path(tempfile.mkdtemp()) / "session.sqlite3")
"""


def test_three_leads_worked_through_on_the_panel(page, lab, artifacts):
    panel = open_notebook(page, lab, "demo.ipynb")
    kernel = kernel_for(lab, "demo.ipynb")
    try:
        run_python(kernel, START_SESSION)
        view = panel.get_by_role("region", name="Calling session")
        lead = view.locator("[data-testid=session-lead-name]")
        expect(lead).to_have_text("Ada Lovelace")
        expect(view.locator("[data-testid=session-progress]")).to_have_text("1 of 3")
        expect(view.locator("[data-testid=session-next]")).to_contain_text("Alan Turing")

        # Ada: call, hang up, pick the outcome, write a note, save.
        view.get_by_role("button", name="Call lead").click()
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call", timeout=10_000)
        panel.locator("[data-testid=callbar-hangup]").click()
        outcome = view.get_by_role("radiogroup", name="Outcome")
        expect(outcome.get_by_role("radio", name="Connected")).to_be_checked()  # the call's suggestion
        outcome.get_by_role("radio", name="Meeting booked").check()
        view.get_by_role("textbox", name="Note").fill("Demo on Tuesday")
        panel.screenshot(path=str(artifacts / "session-outcome.png"))
        view.get_by_role("button", name="Save outcome").click()

        # Alan: not now (to the back of the line).
        expect(lead).to_have_text("Alan Turing")
        expect(view.locator("[data-testid=session-progress]")).to_have_text("2 of 3")
        view.get_by_role("button", name="Skip lead").click()

        # Linus (503: Portland, Pacific time): a call-back on his own clock.
        expect(lead).to_have_text("Linus Pauling")
        view.get_by_label("Call back at (lead's time)").fill("2030-01-02T10:30")
        view.get_by_role("button", name="Book call-back").click()

        # Alan again, whose line is busy: the outcome suggested is busy.
        expect(lead).to_have_text("Alan Turing")
        run_python(kernel, "phone.sandbox.script_outcome('+14155550101', 'busy')")
        view.get_by_role("button", name="Call lead").click()
        expect(outcome.get_by_role("radio", name="Busy")).to_be_checked(timeout=10_000)
        view.get_by_role("button", name="Save outcome").click()
        expect(view.locator("[data-testid=session-state]")).to_have_text("No lead to call now")
        panel.screenshot(path=str(artifacts / "session-done.png"))

        settles_to(kernel, "len(phone.outcomes)", 3)
        assert python_value(kernel, "phone.outcomes[['key', 'outcome', 'note']].values.tolist()") == [
            [101, "meeting booked", "Demo on Tuesday"], [105, "call back", ""], [102, "busy", ""]]
        assert python_value(kernel, "str(phone.outcomes['callback_at'].iloc[1])") == "2030-01-02 18:30:00+00:00"
        assert python_value(kernel, "phone.outcomes['call_sid'].str.startswith('CA').tolist()") == [True, False, True]
    finally:
        kernel.stop_channels()
