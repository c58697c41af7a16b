"""Driving a notebook page as a person does, in JupyterLab and Notebook 7 alike.

The frontend's own actions go through its commands by id (`notebook:run-all-cells`), which
are public API; its dialogs are answered by intent (the accept button); our panel's controls
are found by role and accessible name. No step depends on wording a release can change.
"""

from __future__ import annotations

import ast
import time

from playwright.sync_api import expect

from .lab import run_python

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
PANEL = f"{NOTEBOOK} .jp-OutputArea-output .twp-root"

_KERNEL_IDLE = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
    && widget.sessionContext.session.kernel;
  return !!kernel && kernel.status === "idle";
}"""


def accept_dialogs(page) -> None:
    """Whatever dialog the frontend raises (a kernel choice, say), take its default answer."""
    dialog = page.get_by_role("dialog")
    page.add_locator_handler(dialog, lambda found: found.locator(".jp-mod-accept").first.click())


def run_command(page, command: str, args: dict | None = None) -> None:
    page.evaluate("([id, args]) => window.jupyterapp.commands.execute(id, args)", [command, args or {}])


def open_notebook(page, server, notebook: str):
    """Open ``notebook`` with its kernel already running, run all its cells, return the panel."""
    server.start_kernel(notebook)
    accept_dialogs(page)
    page.goto(server.open_url(notebook, reset=True))
    page.wait_for_function(_KERNEL_IDLE, timeout=60_000)
    run_command(page, "notebook:run-all-cells")
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    return panel


def python_value(kernel, expression: str):
    return ast.literal_eval(run_python(kernel, f"print(repr(({expression})))").strip())


def settles_to(kernel, expression: str, expected, timeout: float = 10.0, pump=None) -> None:
    """The panel's changes reach the kernel as comm messages: wait for them to land.

    Until they do, ``expression`` may fail (a trait still None): that counts as not yet.
    ``pump`` replaces the pause between reads where Playwright must keep serving routes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = python_value(kernel, expression)
        except AssertionError as error:  # the kernel raised: the state has not arrived yet
            value = error
        if value == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression} is {value!r}, expected {expected!r}")
        (pump or (lambda: time.sleep(0.1)))()
