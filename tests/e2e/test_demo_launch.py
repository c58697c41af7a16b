"""`make demo`'s launcher: the notebook opens with its kernel running, no dialog, no pop-up,
and everything the server writes stays in the demo's own folder."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from .driving import PANEL, run_command
from .lab import REPO

pytestmark = pytest.mark.e2e

LINK = re.compile(r"\[demo\] (http://\S+)")


def launch_demo(home, notebook, log):
    command = [sys.executable, str(REPO / "scripts" / "jupyter_app.py"), "--home", str(home), str(notebook),
               "--no-browser", "--ip=127.0.0.1", "--port=0", "--expose-app-in-browser"]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def wait_for_link(log_path, process, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := LINK.search(log_path.read_text(errors="replace")):
            return found.group(1)
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.2)
    raise AssertionError(f"the launcher printed no link within {timeout} s:\n{log_path.read_text()}")


def test_demo_opens_with_its_kernel_running(page, tmp_path):
    home, notebooks = tmp_path / "demo-home", tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(REPO / "notebooks" / "demo.ipynb", notebooks)
    log_path = tmp_path / "launcher.log"
    with log_path.open("wb") as log:
        process = launch_demo(home, notebooks / "demo.ipynb", log)
        try:
            link = wait_for_link(log_path, process)  # how fast: benchmarks/demo_start_bench.py
            page.goto(link)
            # The kernel was started before the page opened: it shows as idle, and no dialog asks.
            page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext"
                                   "?.session?.kernel?.status === 'idle'", timeout=60_000)
            page.wait_for_timeout(1000)  # a dialog or the news toast would have shown by now
            expect(page.get_by_role("dialog")).to_have_count(0)
            expect(page.locator(".Toastify__toast")).to_have_count(0)
            run_command(page, "notebook:run-all-cells")
            expect(page.locator(PANEL)).to_be_visible()
        finally:
            process.terminate()
            process.wait(timeout=20)
    # What the server wrote (the layout of the page, its settings) went to the demo's folder.
    assert list((home / "workspaces").glob("*.jupyterlab-workspace")), list(home.rglob("*"))
    assert (home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").exists()
