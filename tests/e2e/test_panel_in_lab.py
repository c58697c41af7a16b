"""The demo notebook in a real JupyterLab: click, type and call on the panel, read Python back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .driving import NOTEBOOK, open_notebook, python_value, run_command, settles_to
from .lab import kernel_for, run_python

pytestmark = pytest.mark.e2e


def luminance(css_colour: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def contrast(background: str, text: str) -> float:
    """WCAG contrast ratio of ``text`` (its alpha blended over ``background``) on ``background``."""
    def channels(css_colour: str) -> list[float]:
        values = [float(v) for v in re.findall(r"[\d.]+", css_colour)]
        return values[:3] + [values[3] if len(values) > 3 else 1.0]

    def relative(rgb: list[float]) -> float:
        linear = [(c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    *back, _ = channels(background)
    *fore, alpha = channels(text)
    blended = [alpha * f + (1 - alpha) * b for f, b in zip(fore, back, strict=True)]
    lighter, darker = sorted((relative(back), relative(blended)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def use_theme(page, theme: str, *, light: bool) -> None:
    run_command(page, "apputils:change-theme", {"theme": theme})
    expect(page.locator(f"body[data-jp-theme-light='{str(light).lower()}']")).to_have_count(1)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)


def call_connects(panel) -> None:
    """A sandbox call just placed rings, then is in call with a running timer."""
    status = panel.locator("[data-testid=call-status]")
    expect(status).to_have_text("Ringing…")
    expect(status).to_have_text("In call", timeout=10_000)
    expect(panel.locator("[data-testid=call-timer]")).to_have_text(re.compile(r"0:0[1-9]"))


def call_ends(panel, kernel, hang_up) -> None:
    """``hang_up`` ends the call, on the panel and in Python."""
    hang_up.click()
    expect(panel.locator("[data-testid=call-status]")).to_have_text("Call ended")
    settles_to(kernel, "phone.call['status']", "completed")


def text_is_delivered(panel, kernel, body: str, number: str) -> None:
    """Compose ``body`` on the open thread and send it: delivered on the panel and in Python."""
    panel.get_by_label("Message text").fill(body)
    panel.get_by_role("button", name="Send message").click()
    last = panel.locator(".twp-message").last
    expect(last).to_contain_text(body)
    expect(last).to_have_attribute("data-status", "delivered", timeout=10_000)
    settles_to(kernel, f"phone.messages({number!r})['body'].iloc[0]", body)


def demo_clicks_reach_python(panel, kernel) -> None:
    """The first steps on the demo's panel, in any frontend: it shows what the notebook set,
    and a contact arrow, a field button and a tab reach Python."""
    # The notebook's later cells already moved the panel: Python drives the panel.
    expect(panel.locator("[data-testid=contact-name]")).to_have_text("Grace Hopper")
    expect(panel.get_by_role("tab", name="Call history")).to_have_attribute("aria-selected", "true")

    # A field button selects its number, and Python sees it.
    panel.get_by_role("button", name="Next contact").click()
    expect(panel.locator("[data-testid=contact-name]")).to_have_text("Katherine Johnson")
    panel.locator(".twp-field-button", has_text="office").click()
    expect(panel.locator("[data-testid=selected-number]")).to_have_text("(757) 555-0110")
    settles_to(kernel, "phone.selected_number", "+17575550110")

    # Tabs from the panel reach Python.
    panel.get_by_role("tab", name="Numpad").click()
    settles_to(kernel, "phone.tab", "numpad")


def test_demo_notebook_panel_round_trip(page, lab, artifacts):
    panel = open_notebook(page, lab, "demo.ipynb")
    expect(panel.locator("[data-testid=mode-banner]")).to_contain_text("Sandbox")
    kernel = kernel_for(lab, "demo.ipynb")
    try:
        demo_clicks_reach_python(panel, kernel)

        # Digits typed on the keyboard reach the numpad; the typed number becomes the selection.
        markdown_cells = page.locator(f"{NOTEBOOK} .jp-MarkdownCell").count()
        panel.focus()
        page.keyboard.press("Backspace")
        for _ in range(len("+17575550110")):
            page.keyboard.press("Backspace")
        page.keyboard.type("4155550101")
        expect(panel.locator("[data-testid=dialpad]")).to_have_text("4155550101")
        expect(panel.locator("[data-testid=contact-name]")).to_have_text("Alan Turing")
        settles_to(kernel, "phone.selected_number, phone.current", ("+14155550101", 102))
        # ... and did not reach the notebook's shortcuts (digits would turn cells into headings).
        assert page.locator(f"{NOTEBOOK} .jp-MarkdownCell").count() == markdown_cells

        # Python drives the panel.
        run_python(kernel, "phone.selected_number = '+14155550100'")
        expect(panel.locator("[data-testid=selected-number]")).to_have_text("(415) 555-0100")
        expect(panel.locator("[data-testid=contact-name]")).to_have_text("Ada Lovelace")

        # A sandbox call: ringing, in progress with a running timer, hang-up, completed.
        panel.locator("[data-testid=call-button]").click()
        call_connects(panel)
        panel.screenshot(path=str(artifacts / "panel-in-call.png"))
        call_ends(panel, kernel, panel.locator("[data-testid=callbar-hangup]"))
        panel.get_by_role("tab", name="Call history").click()
        newest = panel.locator(".twp-history-row").first
        expect(newest).to_have_attribute("data-status", "completed")
        sid = python_value(kernel, "phone.calls('+14155550100')['sid'].iloc[0]")
        expect(newest).to_have_attribute("data-sid", sid)

        # A sandbox message: sent from the panel, delivered, visible in Python.
        panel.get_by_role("tab", name="Messages").click()
        text_is_delivered(panel, kernel, "Hello from the browser test", "+14155550100")
        settles_to(kernel, "phone.thread[-1]['body'], phone.thread[-1]['status']",
                   ("Hello from the browser test", "delivered"))

        # An incoming call shows the caller's card over any tab; accepting selects them.
        run_python(kernel, "phone.sandbox.incoming_call('+12025550143')")
        expect(panel.locator("[data-testid=incoming-caller]")).to_have_text("Katherine Johnson")
        expect(panel.locator("[data-testid=incoming-card]")).to_contain_text("Orbital Mechanics")
        panel.screenshot(path=str(artifacts / "panel-incoming.png"))
        panel.get_by_role("button", name="Accept call").click()
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call")
        settles_to(kernel, "phone.current", 104)
        panel.locator("[data-testid=callbar-hangup]").click()
        expect(panel.locator("[data-testid=call-status]")).to_have_text("Call ended")

        # The other look: one button with a pop-up list of the numbers.
        run_python(kernel, "phone.interpretation = 'default'")
        panel.locator("[data-testid=default-button]").click()
        panel.locator(".twp-popup-item", has_text="office").click()
        settles_to(kernel, "phone.selected_number", "+17575550110")
        run_python(kernel, "phone.interpretation = 'panel'; phone.tab = 'history'")
        expect(panel.locator(".twp-history")).to_be_visible()
        page.locator(NOTEBOOK).screenshot(path=str(artifacts / "demo-notebook.png"))
        panel.screenshot(path=str(artifacts / "panel.png"))

        # Readable in JupyterLab's dark theme: the panel takes the theme's colours.
        use_theme(page, "JupyterLab Dark", light=False)
        background, text = panel.evaluate(
            "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]")
        assert luminance(background) < 0.2 < 0.6 < luminance(text), (background, text)
        panel.screenshot(path=str(artifacts / "panel-dark.png"))
        # Back to the light theme: Lab keeps the choice in the session's settings for later tests.
        use_theme(page, "JupyterLab Light", light=True)
    finally:
        kernel.stop_channels()


def caller_card_stays_until_hang_up(panel, kernel, switch_views) -> None:
    """Katherine Johnson calls in and is answered: her card (the view's columns) stays on the
    panel through ``switch_views`` and a move to the next lead, and goes with the hang-up."""
    run_python(kernel, "phone.sandbox.incoming_call('+12025550143')")
    expect(panel.locator("[data-testid=incoming-card]")).to_contain_text("Orbital Mechanics")
    panel.get_by_role("button", name="Accept call").click()
    expect(panel.locator("[data-testid=call-status]")).to_have_text("In call")
    card = panel.locator("[data-testid=call-card]")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Orbital Mechanics")
    switch_views(card)
    run_python(kernel, "phone.next()")  # the user moves on to the next lead during the call
    settles_to(kernel, "phone.current", 105)
    expect(card).to_be_visible()
    expect(card).to_contain_text("Orbital Mechanics")
    panel.locator("[data-testid=callbar-hangup]").click()
    expect(panel.locator("[data-testid=call-status]")).to_have_text("Call ended")
    expect(card).to_be_hidden()


def test_caller_card_stays_through_an_accepted_call(page, lab, artifacts):
    panel = open_notebook(page, lab, "demo.ipynb")
    kernel = kernel_for(lab, "demo.ipynb")
    try:
        def every_tab(card) -> None:
            for tab in ("Messages", "Numpad", "Call history"):
                panel.get_by_role("tab", name=tab).click()
                expect(card).to_be_visible()
            panel.screenshot(path=str(artifacts / "panel-caller-card.png"))

        caller_card_stays_until_hang_up(panel, kernel, every_tab)

        def every_tab_from_python(card) -> None:
            for tab in ("messages", "numpad", "history"):
                run_python(kernel, f"phone.tab = {tab!r}")
                settles_to(kernel, "phone.tab", tab)
                expect(card).to_be_visible()
            panel.screenshot(path=str(artifacts / "default-caller-card.png"))

        run_python(kernel, "phone.interpretation = 'default'")
        caller_card_stays_until_hang_up(panel, kernel, every_tab_from_python)
    finally:
        kernel.stop_channels()


def test_default_look_calls_texts_and_answers(page, lab, artifacts):
    panel = open_notebook(page, lab, "demo.ipynb")
    kernel = kernel_for(lab, "demo.ipynb")
    try:
        run_python(kernel, "phone.interpretation = 'default'; phone.select(101)")
        expect(panel.locator("[data-testid=default-button]")).to_contain_text("(415) 555-0100")
        panel.locator("[data-testid=default-button]").click()
        panel.screenshot(path=str(artifacts / "default-popup.png"))
        panel.locator(".twp-popup-item", has_text="mobile").click()
        status = panel.locator("[data-testid=call-status]")

        # A call from the look's own button, with the contact's card, mute and hang-up.
        panel.get_by_role("button", name="Call (415) 555-0100").click()
        call_connects(panel)
        expect(panel.get_by_role("button", name="Mute")).to_be_visible()
        expect(panel.locator("[data-testid=call-card]")).to_contain_text("Analytical Engines")
        panel.screenshot(path=str(artifacts / "default-in-call.png"))
        call_ends(panel, kernel, panel.get_by_role("button", name="Hang up"))

        # A text from it: composed, sent, delivered, and in Python's messages.
        panel.get_by_role("button", name="Text (415) 555-0100").click()
        text_is_delivered(panel, kernel, "Hello from the default look", "+14155550100")

        # An incoming call answered there, with the caller's card, and hung up.
        run_python(kernel, "phone.sandbox.incoming_call('+14155550101')")
        expect(panel.locator("[data-testid=incoming-caller]")).to_have_text("Alan Turing")
        panel.get_by_role("button", name="Accept call").click()
        expect(status).to_have_text("In call")
        expect(panel.locator("[data-testid=call-card]")).to_contain_text("Bletchley Labs")
        call_ends(panel, kernel, panel.get_by_role("button", name="Hang up"))
        panel.screenshot(path=str(artifacts / "default-after-calls.png"))

        # Readable in JupyterLab's dark theme: the look's controls, thread and call bar are dark,
        # with text at WCAG AA contrast or better.
        use_theme(page, "JupyterLab Dark", light=False)
        for part in ("[data-testid=default-button]", "[data-testid=default-text]", ".twp-messages", ".twp-callbar"):
            background, text = panel.locator(part).evaluate(
                "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]")
            assert luminance(background) < 0.3 and contrast(background, text) >= 4.5, (part, background, text)
        panel.screenshot(path=str(artifacts / "default-dark.png"))
        use_theme(page, "JupyterLab Light", light=True)
    finally:
        kernel.stop_channels()
