"""Fixtures for the browser tests: one JupyterLab and one Notebook 7 server per session, a
fresh offline page per test."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from .lab import CHROMIUM_ARGS, REPO, find_chromium, start_marimo, start_server

DEMO = REPO / "notebooks" / "demo.ipynb"
MARIMO_DEMO = REPO / "notebooks" / "demo_marimo.py"
ARTIFACTS = Path(__file__).parent / "artifacts"
LOOPBACK = ("127.0.0.1", "localhost")


def _require(condition: bool, reason: str) -> None:
    # In CI these tests must run: a missing browser is a failure there, a skip elsewhere.
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the browser tests)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    _require(path is not None, "no Chromium found: `make test` installs Debian's chromium as root")
    return path


@pytest.fixture(scope="session")
def lab(tmp_path_factory, chromium_path):
    server = start_server("lab", tmp_path_factory.mktemp("lab"), [DEMO])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory, chromium_path):
    server = start_server("notebook", tmp_path_factory.mktemp("notebook7"), [DEMO])
    yield server
    server.stop()


@pytest.fixture
def marimo_demo(tmp_path, chromium_path):
    """The marimo demo, served fresh for each test (its phone lives in the app's kernel)."""
    _require(importlib.util.find_spec("marimo") is not None, "marimo is not installed: `make install` installs it")
    app = start_marimo(MARIMO_DEMO, tmp_path / "marimo")
    yield app
    app.stop()


@pytest.fixture(scope="session")
def browser(chromium_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  permissions=["microphone"])

    def only_loopback(route):
        host = route.request.url.split("/")[2].split(":")[0]
        if host in LOOPBACK:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _kernels_shut_down_after_each_test(request):
    # Kernels outlive the page: each test starts from a server with none running.
    yield
    for name in ("lab", "notebook7"):
        if name in request.fixturenames:
            request.getfixturevalue(name).shutdown_sessions()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
