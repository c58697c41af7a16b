"""Browser calling with the real Voice SDK in JupyterLab, against a stand-in for Twilio's
signalling socket (Playwright answers the SDK's WebSocket messages the way Twilio does).

Media never leaves loopback: the stand-in keeps only 127.0.0.1 candidates in the SDP it
relays, and the far end of the call is a second peer connection in the same page.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import jwt
import nbformat
import pytest
from playwright.sync_api import expect

from .driving import open_notebook, python_value, run_command, settles_to
from .lab import kernel_for, run_python

pytestmark = pytest.mark.e2e

SECRET = "Zx" * 16  # a made-up API key secret: the kernel signs tokens with it
TWILIO_SOCKET = re.compile(r"^wss://[^/]*twilio\.com/")
NOTEBOOK_NAME = "voice.ipynb"

SETUP = f"""
import pandas as pd
from twilio_widget import SandboxBackend, TwilioPhone
from twilio_widget.config import Caller, PhoneConfig

config = PhoneConfig(
    account_sid="AC" + "a1" * 16, api_key_sid="SK" + "b2" * 16, api_key_secret={SECRET!r},
    app_sid="AP" + "c3" * 16,
    callers=[Caller(user_id="analyst", caller_id="+15005550006", client_mail="analyst@example.com")],
)
leads = pd.DataFrame({{"name": ["Ada Lovelace", "Alan Turing"],
                       "mobile": ["(415) 555-0100", "415.555.0101"]}})
# History comes from the sandbox; calls go through the browser's Voice SDK Device.
phone = TwilioPhone(leads, ["mobile"], name="name", config=config, mode="twilio", backend=SandboxBackend())
phone
"""

# The far end of a call: a second peer connection in the same page, with the fake microphone.
# Both scripts wait for ICE gathering, since the stand-in relays whole SDPs (no trickle).
_FAR_END = """
  const pc = new RTCPeerConnection();
  window.__farEnd = pc;
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
"""
_GATHERED = """
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && done());
    setTimeout(done, 3000);
  });
  return pc.localDescription.sdp;
"""
ANSWERER = ("async (offer) => {" + _FAR_END
            + """  await pc.setRemoteDescription({ type: "offer", sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());""" + _GATHERED + "}")
CALLER = ("async () => {" + _FAR_END + "  await pc.setLocalDescription(await pc.createOffer());" + _GATHERED + "}")




def loopback_only(sdp: str) -> str:
    """Keep the SDP's loopback ICE candidates only, so no packet goes past 127.0.0.1."""
    lines = sdp.replace("\r\n", "\n").split("\n")
    kept = [line for line in lines if not line.startswith("a=candidate:") or " 127.0.0.1 " in line]
    return "\r\n".join(kept)


class FakeSignalling:
    """Twilio's signalling server, as far as the SDK's register and invite go."""

    HEARTBEAT_SECONDS = 5  # the SDK reconnects after 15 s without a message, as with Twilio

    def __init__(self, page, *, refuse_token: bool = False) -> None:
        self.page = page
        self.refuse_token = refuse_token
        self.received: list[dict] = []
        self.socket = None
        self.closed: list = []  # sockets the page closed
        self.last_sent = time.monotonic()
        page.context.route_web_socket(TWILIO_SOCKET, self)

    def __call__(self, ws) -> None:
        self.socket = ws
        ws.on_message(lambda message: self.on_message(ws, message))
        ws.on_close(lambda *_: self.closed.append(ws))

    def pump(self) -> None:
        """Let Playwright deliver the SDK's messages (the stand-in runs inside its calls) and
        keep the socket alive with Twilio's heartbeat, a bare newline."""
        self.page.wait_for_timeout(100)
        if self.socket and time.monotonic() - self.last_sent > self.HEARTBEAT_SECONDS:
            self.socket.send("\n")
            self.last_sent = time.monotonic()

    def on_message(self, ws, message: str) -> None:
        if not message.strip():
            return  # the SDK answering a heartbeat
        msg = json.loads(message)
        self.received.append(msg)
        if msg["type"] == "listen":
            if self.refuse_token:
                self.send("error", {"error": {"code": 31204, "message": "JWT is invalid"}})
            else:
                identity = jwt.decode(msg["payload"]["token"], SECRET, algorithms=["HS256"])["grants"]["identity"]
                self.send("connected", {"region": "us1", "edge": "ashburn", "home": "us1",
                                        "token": {"identity": identity, "ttl": 3600}})
        elif msg["type"] == "register":
            self.send("ready", {})

    def send(self, kind: str, payload: dict) -> None:
        self.socket.send(json.dumps({"type": kind, "payload": payload}))
        self.last_sent = time.monotonic()

    def first(self, kind: str) -> dict | None:
        return next((m for m in self.received if m["type"] == kind), None)

    def all(self, kind: str) -> list[dict]:
        return [m for m in self.received if m["type"] == kind]

    def invited(self) -> tuple[dict[str, str], str]:
        """The Device's outgoing invite: its parameters and call SID."""
        invite = _wait_for(self, lambda: self.first("invite"))
        return dict(urllib.parse.parse_qsl(invite["payload"]["twilio"]["params"])), invite["payload"]["callsid"]

    def answer(self, callsid: str) -> None:
        """The far end picks up: its answer goes back to the Device, media over loopback."""
        offer = self.first("invite")["payload"]["sdp"]
        answer = self.page.evaluate(ANSWERER, loopback_only(offer))
        self.send("answer", {"callsid": callsid, "sdp": loopback_only(answer)})


@pytest.fixture
def voice_notebook(lab) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(SETUP.strip())]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, lab.root / NOTEBOOK_NAME)


def open_phone(page, lab):
    panel = open_notebook(page, lab, NOTEBOOK_NAME)
    return panel, kernel_for(lab, NOTEBOOK_NAME)


def test_registers_dials_and_hangs_up(page, lab, voice_notebook, artifacts):
    twilio = FakeSignalling(page)
    panel, kernel = open_phone(page, lab)
    try:
        # The kernel's token registers the Device under the current user's identity.
        settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)
        token = jwt.decode(twilio.first("listen")["payload"]["token"], SECRET, algorithms=["HS256"])
        assert token["grants"]["identity"] == "analyst"
        assert token["grants"]["voice"]["outgoing"]["application_sid"] == "AP" + "c3" * 16
        expect(panel.locator("[data-testid=mode-banner]")).to_be_hidden()

        # Calling sends an invite whose parameters carry the number and the user's caller ID.
        panel.locator("[data-testid=call-button]").click()
        params, callsid = twilio.invited()
        assert params == {"To": "+14155550100", "CallerId": "+15005550006"}

        twilio.send("ringing", {"callsid": callsid})
        expect(panel.locator("[data-testid=call-status]")).to_have_text("Ringing…")
        panel.screenshot(path=str(artifacts / "voice-ringing.png"))

        twilio.answer(callsid)
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call", timeout=15_000)
        settles_to(kernel, "phone.call['status'], phone.call['remote']", ("in-progress", "+14155550100"),
                   pump=twilio.pump)
        panel.screenshot(path=str(artifacts / "voice-in-call.png"))

        panel.locator("[data-testid=callbar-hangup]").click()
        expect(panel.locator("[data-testid=call-status]")).to_have_text("Call ended")
        assert _wait_for(twilio, lambda: twilio.first("hangup"))["payload"]["callsid"] == callsid
        settles_to(kernel, "phone.call['status']", "completed", pump=twilio.pump)
    finally:
        kernel.stop_channels()


def test_a_cell_places_mutes_sends_digits_and_hangs_up_through_the_displayed_panel(page, lab, voice_notebook):
    twilio = FakeSignalling(page)
    panel, kernel = open_phone(page, lab)
    try:
        settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)
        # A cell places the call: it returns at once, and the displayed panel's Device dials.
        assert python_value(kernel, "phone.place_call('+14155550101')['status']") == "connecting"
        params, callsid = twilio.invited()
        assert params == {"To": "+14155550101", "CallerId": "+15005550006"}
        twilio.answer(callsid)
        settles_to(kernel, "phone.call['status'], phone.call['remote']", ("in-progress", "+14155550101"),
                   timeout=15, pump=twilio.pump)

        # Cells control the call as the panel's buttons do; its state comes back to Python.
        run_python(kernel, "phone.mute()")
        settles_to(kernel, "phone.call['muted']", True, pump=twilio.pump)
        expect(panel.get_by_role("button", name="Unmute")).to_be_visible()
        run_python(kernel, "phone.send_digits('1')")
        settles_to(kernel, "phone.call['digits']", "1", pump=twilio.pump)
        run_python(kernel, "phone.hang_up()")
        assert _wait_for(twilio, lambda: twilio.first("hangup"))["payload"]["callsid"] == callsid
        settles_to(kernel, "phone.call['status']", "completed", pump=twilio.pump)
        expect(panel.locator("[data-testid=call-status]")).to_have_text("Call ended")
    finally:
        kernel.stop_channels()


def test_rerunning_the_cell_during_a_call_closes_the_old_device(page, lab, voice_notebook):
    twilio = FakeSignalling(page)
    panel, kernel = open_phone(page, lab)
    try:
        settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)
        first_socket = twilio.socket
        panel.locator("[data-testid=call-button]").click()
        _, callsid = twilio.invited()
        twilio.answer(callsid)
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call", timeout=15_000)

        # The user re-runs the phone's cell mid-call: a new phone replaces the old one.
        run_command(page, "notebook:run-all-cells")
        # The old Device hangs its call up and closes its signalling socket: it can ring no more.
        assert _wait_for(twilio, lambda: twilio.first("hangup"))["payload"]["callsid"] == callsid
        _wait_for(twilio, lambda: True if first_socket in twilio.closed else None)
        # ... and the new phone registers on a socket of its own.
        _wait_for(twilio, lambda: twilio.all("register")[1:] or None)
        settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)
        assert twilio.socket is not first_socket and twilio.socket not in twilio.closed
    finally:
        kernel.stop_channels()


def test_chosen_microphone_stays_chosen(page, lab, voice_notebook):
    twilio = FakeSignalling(page)
    panel, kernel = open_phone(page, lab)
    try:
        settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)
        panel.get_by_role("button", name="Audio settings").click()
        microphone = panel.get_by_role("combobox", name="Microphone")
        options = microphone.locator("option")
        expect(options).not_to_have_count(0)
        assert options.count() >= 2, "Chromium's fake media offers several microphones"
        last = options.last.get_attribute("value")
        microphone.select_option(last)
        settles_to(kernel, "phone.device.get('input')", last, pump=twilio.pump)
        # Any later state change redraws the panel: the choice stays on screen.
        run_python(kernel, "phone.tab = 'history'; phone.next()")
        expect(panel.get_by_role("tab", name="Call history")).to_have_attribute("aria-selected", "true")
        expect(microphone).to_have_value(last)
    finally:
        kernel.stop_channels()


def test_incoming_call_shows_the_caller_and_is_answered_in_the_browser(page, lab, voice_notebook, artifacts):
    twilio = FakeSignalling(page)
    panel, kernel = open_phone(page, lab)
    try:
        settles_to(kernel, "phone.device.get('status')", "registered", timeout=20, pump=twilio.pump)
        # Twilio rings this browser: an invite carrying the caller's offer and parameters.
        callsid = "CA" + "9" * 32
        offer = page.evaluate(CALLER)
        twilio.send("invite", {"callsid": callsid, "sdp": loopback_only(offer),
                               "parameters": {"From": "+14155550101", "CallSid": callsid}})
        expect(panel.locator("[data-testid=incoming-caller]")).to_have_text("Alan Turing", timeout=15_000)
        expect(panel.locator("[data-testid=incoming-card]")).to_contain_text("Alan Turing")
        panel.screenshot(path=str(artifacts / "voice-incoming.png"))

        panel.get_by_role("button", name="Accept call").click()
        answer = _wait_for(twilio, lambda: twilio.first("answer"))
        assert answer["payload"]["callsid"] == callsid
        page.evaluate("sdp => window.__farEnd.setRemoteDescription({ type: 'answer', sdp })",
                      loopback_only(answer["payload"]["sdp"]))
        expect(panel.locator("[data-testid=call-status]")).to_have_text("In call")
        settles_to(kernel, "phone.call['direction'], phone.incoming, phone.row", ("inbound", None, 1),
                   pump=twilio.pump)

        panel.locator("[data-testid=callbar-hangup]").click()
        assert _wait_for(twilio, lambda: twilio.first("hangup"))["payload"]["callsid"] == callsid
        expect(panel.locator("[data-testid=call-status]")).to_have_text("Call ended")
    finally:
        kernel.stop_channels()


def test_refused_token_shows_20101(page, lab, voice_notebook, artifacts):
    twilio = FakeSignalling(page, refuse_token=True)
    panel, kernel = open_phone(page, lab)
    try:
        expect(panel.locator("[data-testid=error-text]")).to_contain_text("20101", timeout=20_000)
        expect(panel.locator(".twp-error-hint")).to_contain_text("token was refused")
        settles_to(kernel, "phone.device['status'], phone.error['code']", ("error", 20101), pump=twilio.pump)
        panel.screenshot(path=str(artifacts / "voice-error.png"))
    finally:
        kernel.stop_channels()


def test_unreachable_twilio_shows_offline(page, lab, voice_notebook, artifacts):
    # No stand-in: the browser cannot resolve Twilio's host, as on a machine without network.
    panel, kernel = open_phone(page, lab)
    try:
        banner = panel.locator("[data-testid=mode-banner]")
        expect(banner).to_contain_text("Offline", timeout=30_000)
        settles_to(kernel, "phone.device['status']", "offline")
        settles_to(kernel, "phone.error['code'] in {31000, 31005, 31009, 53000}", True)
        panel.screenshot(path=str(artifacts / "voice-offline.png"))
    finally:
        kernel.stop_channels()


def _wait_for(twilio: FakeSignalling, probe, timeout: float = 15):
    """Pump the stand-in until ``probe`` returns something."""
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError("the SDK never sent the expected signalling message")
        twilio.pump()
    return found
