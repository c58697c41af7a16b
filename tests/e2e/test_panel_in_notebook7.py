"""The demo notebook in Jupyter Notebook 7: the panel renders, and clicks reach Python."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .driving import open_notebook, settles_to
from .lab import kernel_for, run_python
from .test_panel_in_lab import demo_clicks_reach_python

pytestmark = pytest.mark.e2e


def test_demo_panel_round_trip_in_notebook7(page, notebook7, artifacts):
    panel = open_notebook(page, notebook7, "demo.ipynb")
    expect(panel.locator("[data-testid=mode-banner]")).to_contain_text("Sandbox")
    kernel = kernel_for(notebook7, "demo.ipynb")
    try:
        demo_clicks_reach_python(panel, kernel)
        panel.get_by_role("tab", name="Messages").click()
        settles_to(kernel, "phone.tab", "messages")
        run_python(kernel, "phone.tab = 'history'")
        expect(panel.get_by_role("tab", name="Call history")).to_have_attribute("aria-selected", "true")
        panel.screenshot(path=str(artifacts / "panel-notebook7.png"))
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "notebook7-page.png"))
    finally:
        kernel.stop_channels()
