"""A page that cannot use the microphone (VS Code outputs and other webviews refuse it): the
real Voice SDK fails to open it, the panel says so and offers the user's own phone from the
kernel's configuration, and one click switches to bridge mode, whose calls then work on the
sandbox. The refusal is the browser's own NotAllowedError, as such a frontend raises it."""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import expect

from .driving import open_notebook, run_python, settles_to
from .lab import kernel_for
from .test_voice_in_lab import SETUP, FakeSignalling

pytestmark = pytest.mark.e2e

NOTEBOOK_NAME = "no-microphone.ipynb"
# The voice tests' phone, given the user's own phone to ring instead.
WITH_BRIDGE = SETUP.replace('backend=SandboxBackend())', 'backend=SandboxBackend(), bridge_to="+1 202 555 0143")')
REFUSE_MICROPHONE = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


@pytest.fixture
def no_microphone_notebook(lab) -> None:
    assert WITH_BRIDGE != SETUP, "the voice tests' set-up changed: give its phone bridge_to here"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(WITH_BRIDGE.strip())]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, lab.root / NOTEBOOK_NAME)


def test_a_refused_microphone_offers_bridge_mode_and_the_switch_calls(page, lab, no_microphone_notebook, artifacts):
    page.add_init_script(REFUSE_MICROPHONE)
    twilio = FakeSignalling(page)
    panel = open_notebook(page, lab, NOTEBOOK_NAME)
    kernel = kernel_for(lab, NOTEBOOK_NAME)
    try:
        settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)

        # The call cannot open the microphone: the panel says why and offers the user's phone.
        panel.locator("[data-testid=call-button]").click()
        offer = panel.get_by_role("button", name="Call through my phone, (202) 555-0143")
        expect(offer).to_be_visible(timeout=15_000)
        expect(panel.locator("[data-testid=mode-banner]")).to_contain_text("cannot use a microphone")
        settles_to(kernel, "phone.error['code']", 31401, pump=twilio.pump)
        assert twilio.first("invite") is None  # nothing was dialled without a microphone
        panel.screenshot(path=str(artifacts / "no-microphone-offer.png"))

        # One click: bridge mode, and a call rings the user's own phone first, on the sandbox.
        offer.click()
        expect(panel.locator("[data-testid=mode-banner]")).to_contain_text("Bridge mode")
        settles_to(kernel, "phone.mode", "bridge")
        panel.locator("[data-testid=call-button]").click()
        settles_to(kernel, "phone.call['leg'], phone.calls().iloc[0]['to']", ("you", "+12025550143"))
        run_python(kernel, "phone.sandbox.advance(phone.sandbox.ring_seconds * 2)")  # both legs answer
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call", timeout=10_000)
        settles_to(kernel, "phone.call['status'], phone.call['remote']", ("in-progress", "+14155550100"))
    finally:
        kernel.stop_channels()
