"""Browser calling's kernel side: tokens, the panel's call commands in twilio and bridge mode."""

from __future__ import annotations

import time

import jwt
import pytest
from phone_helpers import RestOnlySandbox, command, device_requests, displayed

from twilio_widget import Event, SandboxBackend, TwilioError, TwilioPhone
from twilio_widget.calls import BrowserCalls
from twilio_widget.config import Caller, ConfigError, PhoneConfig
from twilio_widget.runners import InlineRunner, WorkerRunner
from twilio_widget.voice import bridge_twiml, identity_for, mint_token

ACCOUNT = "AC" + "a1" * 16
API_KEY = "SK" + "b2" * 16
APP = "AP" + "c3" * 16
SECRET = "Zx" * 16  # a made-up 32-character API key secret


@pytest.fixture
def config() -> PhoneConfig:
    return PhoneConfig(
        account_sid=ACCOUNT, api_key_sid=API_KEY, api_key_secret=SECRET, app_sid=APP,
        callers=[Caller(user_id="ada.l", caller_id="+15005550006", client_mail="ada@example.com")],
    )


@pytest.fixture
def browser_phone(leads, sandbox, config):
    phone = TwilioPhone(contacts=leads, fields=["mobile", "office"], name="name", view=["name", "company"],
                        backend=sandbox, config=config, mode="twilio")
    yield phone
    phone.close()


class TestToken:
    def test_grants_identity_and_ttl(self, config):
        before = int(time.time())
        token = mint_token(config, "ada_l", ttl=600)
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        header = jwt.get_unverified_header(token)
        assert header["cty"] == "twilio-fpa;v=1"
        assert claims["iss"] == API_KEY and claims["sub"] == ACCOUNT
        assert claims["grants"]["identity"] == "ada_l"
        assert claims["grants"]["voice"] == {"incoming": {"allow": True},
                                             "outgoing": {"application_sid": APP}}
        assert before + 600 <= claims["exp"] <= int(time.time()) + 600

    def test_missing_settings_are_named(self):
        with pytest.raises(ConfigError) as err:
            mint_token(PhoneConfig(account_sid=ACCOUNT), "ada")
        assert "api_key_sid" in str(err.value) and "app_sid" in str(err.value)
        assert SECRET not in str(err.value)

    def test_ttl_and_identity_are_checked(self, config):
        with pytest.raises(ConfigError, match="ttl"):
            mint_token(config, "ada", ttl=10)
        with pytest.raises(ConfigError, match="identity"):
            mint_token(config, "ada lovelace")
        assert identity_for("ada.l") == "ada_l"
        assert identity_for("") == "twilio_widget"

    def test_panel_gets_a_token_for_the_current_user(self, browser_phone):
        response = command(browser_phone, "cmd_token")
        assert response["ok"] and response["identity"] == "ada_l" and response["ttl"] == 3600
        assert jwt.decode(response["token"], SECRET, algorithms=["HS256"])["grants"]["identity"] == "ada_l"

    def test_secret_never_reaches_widget_state(self, browser_phone):
        command(browser_phone, "cmd_token")
        state = repr(browser_phone.get_state()) + repr(browser_phone) + repr(browser_phone.config)
        assert SECRET not in state

    def test_token_failure_comes_back_as_a_payload(self, leads, sandbox):
        phone = TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, mode="twilio",
                            config=PhoneConfig(account_sid=ACCOUNT), caller_id="+15005550006")
        response = command(phone, "cmd_token")
        assert not response["ok"] and "app_sid" in response["error"]["message"]


class TestBrowserCalls:
    def test_call_button_gets_the_number_and_the_users_caller_id(self, browser_phone, sandbox, monkeypatch):
        sent = displayed(browser_phone, monkeypatch)
        before = len(sandbox.calls())
        response = command(browser_phone, "cmd_call")
        assert response["ok"] and response["call"]["status"] == "connecting"
        assert device_requests(sent) == [("dial", {"To": "+14155550100", "CallerId": "+15005550006"})]
        assert len(sandbox.calls()) == before  # the browser dials, not the kernel

    def test_the_device_dials_the_pad_never_the_old_selection(self, browser_phone, monkeypatch):
        sent = displayed(browser_phone, monkeypatch)
        browser_phone.dialpad = "+1415555010"  # the selection was +14155550100
        response = command(browser_phone, "cmd_call")
        assert not response["ok"] and "too short" in response["error"]["message"] and device_requests(sent) == []
        browser_phone.dialpad = "+1 212 555 0199"
        command(browser_phone, "cmd_call")
        assert device_requests(sent) == [("dial", {"To": "+12125550199", "CallerId": "+15005550006"})]

    def test_bad_number_never_reaches_the_device(self, browser_phone):
        response = command(browser_phone, "cmd_call", number="555")
        assert not response["ok"] and "number" in response["error"]["message"]

    def test_incoming_call_matches_the_contact_and_accepting_selects_it(self, browser_phone):
        seen = []
        browser_phone.on_incoming(seen.append)
        command(browser_phone, "cmd_incoming", sid="CA1", **{"from": "+12125550199"})
        assert browser_phone.incoming["contact"]["name"] == "Grace Hopper"
        assert seen[0]["from"] == "+12125550199"
        command(browser_phone, "cmd_call_event", sid="CA1", status="in-progress", direction="inbound",
                remote="+12125550199")  # the Device answered
        assert command(browser_phone, "cmd_accept", sid="CA1")["ok"]
        assert browser_phone.call["direction"] == "inbound" and browser_phone.call["started_at"]
        assert browser_phone.incoming is None and browser_phone.current == 103

    def test_caller_giving_up_clears_the_ring(self, browser_phone):
        command(browser_phone, "cmd_incoming", sid="CA1", **{"from": "client:bob"})
        assert browser_phone.incoming["contact"] is None and browser_phone.incoming["from"] == "client:bob"
        command(browser_phone, "cmd_incoming_ended", sid="CA1")
        assert browser_phone.incoming is None

    def test_python_cannot_answer_for_the_browser(self, browser_phone):
        command(browser_phone, "cmd_incoming", sid="CA1", **{"from": "+12125550199"})
        with pytest.raises(Exception, match="Accept button"):
            browser_phone.accept()

    def test_ended_call_refreshes_history(self, browser_phone, sandbox):
        command(browser_phone, "cmd_call_event", sid="CA1", status="connecting", direction="outbound",
                remote="+14155550100")
        sandbox.dial("+14155550100")
        stale = len(browser_phone.history)
        command(browser_phone, "cmd_call_event", sid="CA1", status="completed")
        assert len(browser_phone.history) == stale + 1
        assert browser_phone.call["status"] == "canceled"  # never answered: the Device's hang-up cancelled it


class TestBridge:
    def test_twiml_dials_the_lead_with_the_caller_id(self):
        twiml = bridge_twiml("+14155550100", "+15005550006")
        assert '<Dial callerId="+15005550006" timeout="30"><Number>+14155550100</Number></Dial>' in twiml

    def test_bridge_rings_the_users_phone_then_the_lead(self, leads, sandbox, config):
        phone = TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, config=config,
                            mode="bridge", bridge_to="+1 202 555 0143")
        command(phone, "cmd_call")
        mine = sandbox.calls().iloc[0]
        assert mine["to"] == "+12025550143" and mine["from"] == "+15005550006"
        assert phone.call["remote"] == "+14155550100"
        assert (phone.call["status"], phone.call["leg"]) == ("ringing", "you")
        sandbox.advance(sandbox.ring_seconds)  # the user picks up; Twilio dials the lead
        [lead] = sandbox.child_calls(mine["sid"])
        assert lead["to"] == "+14155550100" and lead["from"] == "+15005550006"
        assert (phone.call["status"], phone.call["leg"]) == ("ringing", "lead")
        sandbox.advance(sandbox.ring_seconds)
        assert phone.call["status"] == "in-progress"
        command(phone, "cmd_hang_up")
        assert phone.call["status"] == "completed"
        assert sandbox.call_status(lead["sid"])["status"] == "completed"
        phone.close()

    def test_a_busy_lead_shows_busy_not_the_users_leg(self, leads, sandbox, config):
        sandbox.script_outcome("+14155550100", "busy")
        phone = TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, config=config,
                            mode="bridge", bridge_to="+1 202 555 0143")
        command(phone, "cmd_call")
        sandbox.advance(sandbox.ring_seconds * 2 + 1)  # user answers, lead is busy, Twilio hangs up
        assert phone.call["status"] == "busy" and phone.call["end_reason"] == "busy"
        assert sandbox.calls("+12025550143")["status"].iloc[0] == "completed"
        phone.close()

    def test_bridge_needs_the_users_phone(self, leads, sandbox):
        with pytest.raises(ValueError, match="bridge_to"):
            TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, mode="bridge")


class TestNoMicrophone:
    """Where the page cannot use a microphone (VS Code outputs, some webviews), the panel offers
    bridge mode from the kernel's configuration, and one click switches to it."""

    REFUSED = {"message": "Permission denied", "code": 31401}

    def test_a_refused_microphone_offers_the_users_phone_and_the_switch_works(self, leads, sandbox, config):
        phone = TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, config=config, mode="twilio",
                            bridge_to="+1 202 555 0143")
        command(phone, "cmd_device_event", status="registered")
        assert "bridge_offer" not in phone.device
        command(phone, "cmd_device_event", error=self.REFUSED)
        assert phone.device["bridge_offer"] == {"number": "+12025550143", "display": "(202) 555-0143"}
        assert phone.error["code"] == 31401
        assert command(phone, "cmd_use_bridge") == {"ok": True, "mode": "bridge"}
        assert phone.mode == "bridge" and phone.device == {"status": "off"}
        command(phone, "cmd_call")  # rings the user's own phone, on the sandbox
        assert sandbox.calls().iloc[0]["to"] == "+12025550143"
        assert (phone.call["status"], phone.call["leg"]) == ("ringing", "you")
        phone.close()

    def test_other_device_errors_offer_nothing(self, browser_phone):
        command(browser_phone, "cmd_device_event", status="offline", error={"message": "gone", "code": 31005})
        assert "bridge_offer" not in browser_phone.device

    def test_without_a_number_to_ring_the_offer_says_how_and_the_switch_is_refused(self, browser_phone):
        command(browser_phone, "cmd_device_event", error={"message": "No microphone", "code": 31402})
        assert browser_phone.device["bridge_offer"] == {"number": "", "display": ""}
        answer = command(browser_phone, "cmd_use_bridge")
        assert not answer["ok"] and "bridge_to" in answer["error"]["message"]
        assert browser_phone.mode == "twilio"


def test_browser_call_state_gets_the_display_format(browser_phone):
    command(browser_phone, "cmd_call_event", sid="CA1", status="ringing", direction="outbound", remote="+14155550100")
    assert browser_phone.call["remote_display"] == "(415) 555-0100"


class TestPollingWithoutRoutingService:
    def test_twilio_backend_panels_poll_and_sandbox_ones_do_not(self, browser_phone):
        assert browser_phone.live_events is True  # the sandbox pushes its events

    def test_poll_catches_up_on_new_messages_and_delivery(self, leads, config):
        rest_only = RestOnlySandbox(numbers=["+14155550100"])  # a REST-only account, to the panel
        phone = TwilioPhone(leads, ["mobile"], backend=rest_only, config=config, mode="twilio", runner=WorkerRunner())
        assert phone.live_events is False
        rest_only.inbound_message("+14155550100", "Anyone there?")
        rest_only.advance(1)
        sent = phone.send_message("Yes!")
        rest_only.advance(rest_only.delivery_seconds)
        assert phone.thread[-1]["status"] == "queued"  # nothing pushed it
        assert phone.cmd_poll({}) == {"ok": True}  # answered at once; the work runs behind
        phone.wait_until_idle()
        assert [m["body"] for m in phone.thread[-2:]] == ["Anyone there?", "Yes!"]
        assert phone.thread[-1] == {**phone.thread[-1], "sid": sent["sid"], "status": "delivered"}
        phone.close()


def test_a_new_browser_phone_closes_the_older_one_of_the_same_identity(leads, sandbox, config):
    first = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio")
    second = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio")
    assert first.comm is None and second.comm is not None  # the first panel's Device goes with it
    other_user = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio", user="bob")
    assert second.comm is not None
    second.close()
    other_user.close()


def test_call_controls_of_a_bridged_call_are_on_the_users_phone(leads, sandbox, config):
    phone = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="bridge", bridge_to="+12025550143")
    phone.cmd_call({})
    sandbox.advance(sandbox.ring_seconds)
    response = phone.cmd_mute({"muted": True})
    assert not response["ok"] and "your own phone" in response["error"]["message"]
    phone.close()


def test_history_for_a_selection_that_moved_on_is_dropped(leads):
    class SlowSandbox(SandboxBackend):
        """Answers for one number only after the user has already picked another."""

        def calls(self, number=None, **window):
            answer = super().calls(number, **window)
            if number == "+14155550101":
                phone.selected_number = "+12125550199"  # its own history loads meanwhile
            return answer

    phone = TwilioPhone(leads, ["mobile", "office"], backend=SlowSandbox(numbers=["+14155550101", "+12125550199"]))
    phone.selected_number = "+14155550101"
    assert phone.selected_number == "+12125550199"
    assert phone.history and {row["number"] for row in phone.history} == {"+12125550199"}
    phone.close()


def test_browser_call_takes_only_the_end_of_the_lead_leg_from_callbacks(browser_phone):
    command(browser_phone, "cmd_call_event", sid="CAdevice", status="in-progress", direction="outbound",
            remote="+14155550100")
    leg = {"sid": "CAlead", "parent_call_sid": "CAdevice", "from": "+15005550006", "to": "+14155550100"}
    browser_phone._on_event(Event("call", {**leg, "status": "ringing"}))  # a late callback
    assert browser_phone.call["status"] == "in-progress"
    command(browser_phone, "cmd_call_event", sid="CAdevice", status="completed")  # the Device saw only a hang-up
    browser_phone._on_event(Event("call", {**leg, "status": "busy", "duration": 0}))
    assert browser_phone.call["status"] == "busy" and browser_phone.call["end_reason"] == "busy"


def test_a_browser_call_keeps_how_the_leads_leg_ended_when_the_kernel_knew_first(browser_phone):
    command(browser_phone, "cmd_call_event", sid="CAdevice", status="in-progress", direction="outbound",
            remote="+14155550100")
    leg = {"sid": "CAlead", "parent_call_sid": "CAdevice", "from": "+15005550006", "to": "+14155550100"}
    browser_phone._on_event(Event("call", {**leg, "status": "no-answer", "duration": 0}))
    command(browser_phone, "cmd_call_event", sid="CAdevice", status="completed")  # then the Device hangs up
    assert browser_phone.call["status"] == "no-answer" and browser_phone.call["end_reason"] == "no-answer"


class TestSendingFromThePanelOnATwilioAccount:
    @pytest.fixture
    def account_phone(self, leads, sandbox, config):
        # The worker thread a Twilio account's phone asks it from.
        phone = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio", runner=WorkerRunner())
        phone.wait_until_idle()
        yield phone
        phone.close()

    def test_the_message_shows_at_once_then_becomes_the_real_one(self, account_phone, sandbox):
        response = command(account_phone, "cmd_send_message", body="On my way")
        assert response["ok"] and response["message"]["status"] == "sending"
        account_phone.wait_until_idle()
        last = account_phone.thread[-1]
        assert last["body"] == "On my way" and last["sid"].startswith("SM") and last["status"] == "queued"
        assert not [r for r in account_phone.thread if r["sid"].startswith("pending-")]
        assert sandbox.messages("+14155550100")["body"].iloc[0] == "On my way"

    def test_a_refused_message_stays_visible_as_failed(self, account_phone, sandbox):
        sandbox.inbound_message("+14155550100", "STOP")  # Twilio refuses the next text: 21610
        account_phone.wait_until_idle()
        response = command(account_phone, "cmd_send_message", body="Hello?")
        assert response["ok"] and response["message"]["status"] == "sending"
        account_phone.wait_until_idle()
        assert account_phone.thread[-1] == {**account_phone.thread[-1], "body": "Hello?", "status": "failed",
                                            "error_code": 21610}
        assert account_phone.error["code"] == 21610


def test_the_users_hang_up_ends_the_leads_leg_in_the_sandbox(leads, sandbox, config):
    phone = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="bridge", bridge_to="+12025550143")
    command(phone, "cmd_call")
    mine = phone.call["sid"]
    sandbox.advance(sandbox.ring_seconds * 2)
    [lead] = sandbox.child_calls(mine)
    assert lead["status"] == "in-progress"
    sandbox.caller_hangs_up(mine)  # the user puts their own phone down
    sandbox.advance(0)
    assert sandbox.call_status(lead["sid"])["status"] == "completed"
    assert phone.call["status"] == "completed"
    phone.close()


def test_closing_a_phone_with_queued_work_is_quiet(leads, sandbox, config, caplog):
    phone = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio", runner=WorkerRunner())
    for _ in range(20):
        phone.cmd_refresh({})
    phone.close()
    assert "background work failed" not in caplog.text


def test_a_new_phone_that_fails_leaves_the_older_one_alone(leads, sandbox, config):
    first = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio")
    with pytest.raises(TypeError, match="bogus"):
        TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio", bogus=1)
    assert first.comm is not None
    first.close()


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_phone_that_fails_before_its_backend_exists_cleans_up_quietly(leads):
    import gc

    with pytest.raises(Exception, match="nope"):
        TwilioPhone(leads, fields=["nope"])
    gc.collect()


class TestLocalMessagesSurviveRefreshes:
    def test_sending_and_failed_rows_stay_through_a_refresh(self, leads, sandbox, config):
        phone = TwilioPhone(leads, ["mobile"], backend=sandbox, config=config, mode="twilio", runner=InlineRunner())
        sandbox.inbound_message("+14155550100", "STOP")  # Twilio refuses the next text: 21610
        response = command(phone, "cmd_send_message", body="Still there?")
        assert response["error"]["code"] == 21610  # answered at once: the runner ran the send in place
        phone.refresh()
        phone.poll()
        assert phone.thread[-1]["body"] == "Still there?" and phone.thread[-1]["status"] == "failed"
        phone.next()
        phone.previous()
        phone.wait_until_idle()
        assert phone.thread[-1]["status"] == "failed"  # back on the number, still shown
        phone.close()


class TestCallControlFromACell:
    """In twilio mode a cell does what the panel does: the kernel asks the displayed panel's
    Device (``twp:device``), returns at once, and the call follows the panel's reports."""

    def test_place_call_asks_the_panels_device_to_dial_and_returns_at_once(self, browser_phone, sandbox,
                                                                           monkeypatch):
        sent = displayed(browser_phone, monkeypatch)
        before = len(sandbox.calls())
        call = browser_phone.place_call("+1 415 555 0101")
        assert device_requests(sent) == [("dial", {"To": "+14155550101", "CallerId": "+15005550006"})]
        assert call == browser_phone.call
        assert call["status"] == "connecting" and call["remote"] == "+14155550101" and call["direction"] == "outbound"
        assert len(sandbox.calls()) == before  # the browser dials, not the kernel

    def test_the_call_follows_the_panels_reports(self, browser_phone, monkeypatch):
        displayed(browser_phone, monkeypatch)
        browser_phone.place_call("+14155550101")
        command(browser_phone, "cmd_call_event", sid="pending", status="connecting", direction="outbound",
                remote="+14155550101")
        command(browser_phone, "cmd_call_event", sid="CA1", status="ringing")
        assert browser_phone.call["sid"] == "CA1" and browser_phone.call["status"] == "ringing"
        command(browser_phone, "cmd_call_event", sid="CA1", status="in-progress")
        assert browser_phone.call["started_at"] and browser_phone.call["remote_display"] == "(415) 555-0101"
        command(browser_phone, "cmd_call_event", sid="CA1", muted=True)
        command(browser_phone, "cmd_call_event", sid="CA1", digits="1")
        assert (browser_phone.call["muted"], browser_phone.call["digits"]) == (True, "1")
        command(browser_phone, "cmd_call_event", sid="CA1", status="completed")
        assert browser_phone.call["status"] == "completed" and browser_phone.call["duration"] == 0

    def test_hang_up_mute_and_digits_are_asked_of_the_panels_device(self, browser_phone, monkeypatch):
        sent = displayed(browser_phone, monkeypatch)
        browser_phone.place_call()
        command(browser_phone, "cmd_call_event", sid="CA1", status="in-progress")
        browser_phone.mute()
        browser_phone.send_digits("1#")
        browser_phone.hang_up()
        assert device_requests(sent)[1:] == [("mute", {"muted": True}), ("digits", {"digits": "1#"}),
                                             ("hang_up", {})]
        assert browser_phone.call["status"] == "in-progress"  # until the panel reports what the Device did

    def test_controls_need_a_call_in_progress(self, browser_phone, monkeypatch):
        sent = displayed(browser_phone, monkeypatch)
        with pytest.raises(TwilioError, match="no call in progress to mute"):
            browser_phone.mute()
        assert browser_phone.hang_up() == {} and device_requests(sent) == []

    def test_without_a_displayed_panel_the_cell_is_told_so(self, browser_phone):
        with pytest.raises(TwilioError, match=r"No panel is displayed: show `phone` in a cell first"):
            browser_phone.place_call()
        assert browser_phone.call == {}
        response = command(browser_phone, "cmd_call")
        assert not response["ok"] and "No panel is displayed" in response["error"]["message"]

    def test_a_panel_whose_device_is_not_ready_is_named(self, browser_phone, monkeypatch):
        displayed(browser_phone, monkeypatch, status="offline")
        with pytest.raises(TwilioError, match=r"not ready \(offline\)"):
            browser_phone.place_call()

    def test_a_dial_the_panel_never_answers_fails_the_call(self, browser_phone, monkeypatch):
        displayed(browser_phone, monkeypatch)
        monkeypatch.setattr(BrowserCalls, "SILENCE_SECONDS", 0.05)
        browser_phone.place_call()
        deadline = time.monotonic() + 5
        while browser_phone.call["status"] == "connecting" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert browser_phone.call["status"] == "failed"
        assert "did not dial" in browser_phone.error["message"]


def test_a_browser_call_shows_machine_detections_verdict_from_the_service(browser_phone):
    command(browser_phone, "cmd_call_event", sid="CAdevice", status="in-progress", direction="outbound",
            remote="+14155550100")
    leg = {"sid": "CAlead", "parent_call_sid": "CAdevice", "from": "+15005550006", "to": "+14155550100"}
    browser_phone._on_event(Event("call", {**leg, "status": "in-progress", "answered_by": "machine_end_beep"}))
    assert browser_phone.call["answered_by"] == "machine_end_beep" and browser_phone.call["status"] == "in-progress"
    assert browser_phone._calls.current._lead_sid() == "CAlead"  # where the voicemail drop goes
