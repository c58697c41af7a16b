"""The marimo demo (notebooks/demo_marimo.py) served by `marimo run`: the panel renders through
`mo.ui.anywidget`, and field buttons, tabs, the contact arrows, a sandbox call and a message all
reach Python. marimo has no kernel client to ask, so Python's side is read from the demo's own
"What Python sees" cell, re-run with its button: a cell reading the phone object in the app's
kernel."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from .test_panel_in_lab import call_connects

pytestmark = pytest.mark.e2e


def python_sees(page) -> dict:
    """Re-run the read-back cell and parse what it printed."""
    output = page.locator("pre", has_text='"selected_number"')
    before = output.inner_text() if output.count() else None
    page.get_by_role("button", name="Read Python state").click()
    deadline = time.monotonic() + 10
    while output.count() == 0 or output.inner_text() == before:
        if time.monotonic() > deadline:
            break  # unchanged state prints the same text: read it as it is
        page.wait_for_timeout(100)
    return json.loads(output.inner_text())


def python_settles(page, key: str, expected, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := python_sees(page).get(key)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"Python sees {key}={seen!r}, expected {expected!r}")
        page.wait_for_timeout(200)


def test_marimo_panel_round_trip(page, marimo_demo, artifacts):
    page.goto(marimo_demo.url)
    panel = page.locator(".twp-root")
    expect(panel).to_be_visible(timeout=60_000)
    expect(panel.locator("[data-testid=mode-banner]")).to_contain_text("Sandbox")
    expect(panel.locator("[data-testid=contact-name]")).to_have_text("Ada Lovelace")
    assert python_sees(page)["selected_number"] == "+14155550100"

    # A field button and the tabs: the panel writes the traits, Python reads them.
    panel.locator(".twp-field-button", has_text="office").click()
    expect(panel.locator("[data-testid=selected-number]")).to_contain_text("20 7946 0018")
    python_settles(page, "selected_number", "+442079460018")
    for tab, name in (("Call history", "history"), ("Messages", "messages"), ("Numpad", "numpad")):
        panel.get_by_role("tab", name=tab).click()
        python_settles(page, "tab", name)

    # The contact arrows are commands on the custom-message channel; the kernel answers.
    panel.get_by_role("button", name="Next contact").click()
    expect(panel.locator("[data-testid=contact-name]")).to_have_text("Alan Turing")
    python_settles(page, "contact", 102)
    python_settles(page, "selected_number", "+14155550101")

    # A sandbox call placed from the panel connects, and Python sees it.
    panel.locator("[data-testid=call-button]").click()
    call_connects(panel)
    python_settles(page, "call_status", "in-progress")
    page.screenshot(path=str(artifacts / "marimo-page.png"))
    panel.locator("[data-testid=callbar-hangup]").click()
    expect(panel.locator("[data-testid=call-status]")).to_have_text("Call ended")
    python_settles(page, "call_status", "completed")

    # A message sent from the panel is delivered, and Python holds it.
    panel.get_by_role("tab", name="Messages").click()
    panel.get_by_label("Message text").fill("Hello from marimo")
    panel.get_by_role("button", name="Send message").click()
    expect(panel.locator(".twp-message").last).to_have_attribute("data-status", "delivered", timeout=10_000)
    python_settles(page, "last_message", "Hello from marimo")
