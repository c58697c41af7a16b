"""Call quality in the browser, with the real Voice SDK in JupyterLab against the signalling
stand-in of test_voice_in_lab: a warning the SDK raises shows as a chip and reaches Python with
the call, the SDK's preflight test runs from a cell and its report comes back to Python, and a
tab back from the background registers afresh."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .driving import settles_to
from .lab import run_python
from .test_voice_in_lab import (
    ANSWERER,
    FakeSignalling,
    _wait_for,
    loopback_only,
    open_phone,
    voice_notebook,  # noqa: F401 - the fixture the tests use
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("voice_notebook")]

HIDDEN_SECONDS = 31  # keepalive.ts HIDDEN_MS, and a second
# The page as the browser shows it when the user switches tabs (headless Chromium never hides it).
SHOW_PAGE = """(state) => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


class TwoDeviceSignalling(FakeSignalling):
    """The stand-in, also for the preflight test's own Device, which opens a second socket; and
    an unregister answered as Twilio does (``offline``)."""

    def __init__(self, page) -> None:
        self.test_socket = None
        self.test_received: list[dict] = []
        super().__init__(page)

    def __call__(self, ws) -> None:
        if self.socket is None:
            return super().__call__(ws)
        self.test_socket = ws
        ws.on_message(lambda message: self.on_test_message(ws, message))

    def on_message(self, ws, message: str) -> None:
        if message.strip() and json.loads(message)["type"] == "register":
            msg = json.loads(message)
            if not msg["payload"]["media"]["audio"]:
                self.received.append(msg)
                self.send("offline", {})
                return
        super().on_message(ws, message)

    def on_test_message(self, ws, message: str) -> None:
        if not message.strip():
            return
        msg = json.loads(message)
        self.test_received.append(msg)
        if msg["type"] == "listen":
            self.send_test("connected", {"region": "us1", "edge": "ashburn", "home": "us1",
                                         "token": {"identity": "preflight", "ttl": 3600}})
        elif msg["type"] == "register":
            self.send_test("ready" if msg["payload"]["media"]["audio"] else "offline", {})

    def send_test(self, kind: str, payload: dict) -> None:
        self.test_socket.send(json.dumps({"type": kind, "payload": payload}))

    def pump(self) -> None:
        super().pump()
        if self.test_socket:
            self.test_socket.send("\n")

    def test_invite(self) -> dict | None:
        return next((m for m in self.test_received if m["type"] == "invite"), None)


def registered(page, lab):
    twilio = TwoDeviceSignalling(page)
    panel, kernel = open_phone(page, lab)
    settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)
    return twilio, panel, kernel


def test_a_warning_shows_as_a_chip_and_reaches_python_with_the_call(page, lab, artifacts):
    twilio, panel, kernel = registered(page, lab)
    try:
        panel.locator("[data-testid=call-button]").click()
        _, callsid = twilio.invited()
        twilio.answer(callsid)
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call", timeout=15_000)
        expect(panel.get_by_role("meter", name="Microphone level")).to_be_visible()

        # The far end stops sending: no bytes arrive, and the SDK says so (after its first 5 s).
        page.evaluate("() => window.__farEnd.getSenders().forEach((s) => s.replaceTrack(null))")
        chip = panel.locator("[data-testid=quality-warning][data-warning=low-bytes-received]")
        _wait_for(twilio, lambda: True if chip.count() else None, timeout=30)
        expect(chip).to_contain_text("No audio is arriving from the other side")
        panel.screenshot(path=str(artifacts / "voice-quality-warning.png"))

        panel.locator("[data-testid=callbar-hangup]").click()
        settles_to(kernel, "phone.call['status'], 'low-bytes-received' in phone.call['quality']['seen']",
                   ("completed", True), pump=twilio.pump)
        settles_to(kernel, "'low-bytes-received' in phone.call_quality()['warnings'].iloc[0]", True, pump=twilio.pump)
        expect(chip).to_have_count(0)
    finally:
        kernel.stop_channels()


def test_preflight_runs_from_a_cell_and_its_report_returns_to_python(page, lab, artifacts):
    twilio, panel, kernel = registered(page, lab)
    try:
        run_python(kernel, "run = phone.preflight()")
        invite = _wait_for(twilio, twilio.test_invite, timeout=20)
        callsid = invite["payload"]["callsid"]
        answer = page.evaluate(ANSWERER, loopback_only(invite["payload"]["sdp"]))
        twilio.send_test("answer", {"callsid": callsid, "sdp": loopback_only(answer)})
        status = panel.locator("[data-testid=preflight-status]")
        expect(status).to_contain_text("Testing the connection", timeout=15_000)
        for _ in range(40):  # four seconds of media: the test's samples
            twilio.pump()
        twilio.send_test("hangup", {"callsid": callsid})
        settles_to(kernel, "run.status", "completed", timeout=20, pump=twilio.pump)
        settles_to(kernel, "run.report['verdict'] in {'good', 'fair', 'poor'}, run.report['mos'] is not None",
                   (True, True), pump=twilio.pump)
        settles_to(kernel, "len(run.frame()), str(run.frame()['mos'].dtype)", (1, "Float64"), pump=twilio.pump)
        expect(status).to_contain_text("Connection test:")
        panel.screenshot(path=str(artifacts / "voice-preflight.png"))
    finally:
        kernel.stop_channels()


def test_a_tab_back_from_the_background_registers_afresh(page, lab):
    twilio, panel, kernel = registered(page, lab)
    try:
        page.evaluate(SHOW_PAGE, "hidden")
        for _ in range(HIDDEN_SECONDS * 10):
            twilio.pump()
        # Hidden, nothing unregisters (the SDK renews its registration by itself meanwhile).
        assert [m for m in twilio.all("register") if not m["payload"]["media"]["audio"]] == []
        before = len(twilio.all("register"))
        page.evaluate(SHOW_PAGE, "visible")
        presence = _wait_for(twilio, lambda: [m["payload"]["media"]["audio"] for m in twilio.all("register")[before:]]
                             if len(twilio.all("register")) >= before + 2 else None)
        assert presence[:2] == [False, True]  # unregistered, then registered again
        settles_to(kernel, "phone.device.get('status')", "registered", pump=twilio.pump)
        expect(panel.locator("[data-testid=mode-banner]")).to_be_hidden()
    finally:
        kernel.stop_channels()
