"""Call quality in browser calls, the kernel's side: the summary the panel reports kept with the
call and in ``phone.call_quality()``, the preflight test asked of the panel and judged here,
a lapsed registration offered bridge mode, and the Device's edges and codecs."""

from __future__ import annotations

import pandas as pd
import pytest
from phone_helpers import command, device_requests, displayed

from twilio_widget import TwilioPhone, frames
from twilio_widget.config import Caller, ConfigError, PhoneConfig
from twilio_widget.quality import verdict

ACCOUNT, API_KEY, APP, SECRET = "AC" + "a1" * 16, "SK" + "b2" * 16, "AP" + "c3" * 16, "Zx" * 16
QUALITY = {"warnings": ["high-rtt"], "seen": ["high-rtt", "low-mos"], "samples": 12, "mos": 3.1, "rtt": 420.0,
           "jitter": 31.5, "packet_loss": 0.04}


def make_config(**options) -> PhoneConfig:
    return PhoneConfig(account_sid=ACCOUNT, api_key_sid=API_KEY, api_key_secret=SECRET, app_sid=APP,
                       callers=[Caller(user_id="ada", caller_id="+15005550006")], **options)


@pytest.fixture
def browser_phone(leads, sandbox):
    phone = TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, config=make_config(), mode="twilio",
                        bridge_to="+1 202 555 0143")
    yield phone
    phone.close()


def report(run_id: str, **changes) -> dict:
    return {"id": run_id, "status": "completed", "edge": "ashburn", "call_sid": "CA9", "mos": 4.3, "mos_min": 4.1,
            "rtt": 80.5, "jitter": 2.1, "call_quality": "excellent", "warnings": [], "error": None, **changes}


class TestCallQuality:
    def test_the_summary_travels_with_the_call_and_is_kept_once_it_ends(self, browser_phone, monkeypatch):
        displayed(browser_phone, monkeypatch)
        command(browser_phone, "cmd_call")
        command(browser_phone, "cmd_call_event", sid="CA1", status="in-progress")
        assert command(browser_phone, "cmd_call_event", sid="CA1", quality=QUALITY)["ok"]
        assert browser_phone.call["quality"] == QUALITY
        assert browser_phone.call_quality().empty  # kept once the call is over
        command(browser_phone, "cmd_call_event", sid="CA1", status="completed", quality={**QUALITY, "warnings": []})
        frame = browser_phone.call_quality()
        assert frame.to_dict("records")[0] | {"started_at": None} == {
            "call_sid": "CA1", "direction": "outbound", "remote": "+14155550100", "status": "completed",
            "started_at": None, "duration": frame["duration"][0], "samples": 12, "mos": 3.1, "rtt_ms": 420.0,
            "jitter": 31.5, "packet_loss": 0.04, "warnings": "high-rtt,low-mos"}
        command(browser_phone, "cmd_dismiss_call")
        assert len(browser_phone.call_quality()) == 1  # dismissing does not log it twice

    def test_the_frame_has_fixed_dtypes_empty_or_not(self, browser_phone):
        empty = browser_phone.call_quality()
        assert dict(empty.dtypes.astype(str)) == {c: str(pd.Series([], dtype=t).dtype)
                                                  for c, t in frames.CALL_QUALITY.items()}

    def test_a_report_with_an_unknown_field_is_refused_by_name(self, browser_phone, monkeypatch):
        displayed(browser_phone, monkeypatch)
        response = command(browser_phone, "cmd_call_event", sid="CA1", loudness=3)
        assert not response["ok"] and "loudness" in response["error"]["message"]


class TestPreflight:
    def test_asks_the_panel_and_fills_in_when_it_reports(self, browser_phone, monkeypatch):
        sent = displayed(browser_phone, monkeypatch)
        run = browser_phone.preflight()
        assert device_requests(sent) == [("preflight", {"id": run.id})]
        assert (run.status, run.report, run.done) == ("requested", None, False)
        assert run.frame().empty and list(run.frame().columns) == list(frames.PREFLIGHT)
        assert "fills in" in repr(run)
        answer = command(browser_phone, "cmd_preflight_report", **report(run.id))
        assert answer == {"ok": True, "verdict": "good", "advice": "Calls through ashburn should sound fine (MOS 4.3)."}
        assert run.done and run.report["verdict"] == "good" and run.report["edge"] == "ashburn"
        row = run.frame().iloc[0]
        assert (row["verdict"], row["mos"], row["rtt_ms"], row["edge"]) == ("good", 4.3, 80.5, "ashburn")
        assert row["advice"] == answer["advice"]
        assert str(run.frame()["finished_at"].dtype) == frames.UTC_TIME
        assert browser_phone.last_preflight is run

    def test_the_panels_button_takes_the_same_path(self, browser_phone, monkeypatch):
        sent = displayed(browser_phone, monkeypatch)
        answer = command(browser_phone, "cmd_preflight")
        assert answer["ok"] and device_requests(sent) == [("preflight", {"id": answer["id"]})]
        assert browser_phone.last_preflight.id == answer["id"]

    def test_needs_a_panel_in_twilio_mode(self, browser_phone, leads, sandbox):
        with pytest.raises(Exception, match="No panel is displayed"):
            browser_phone.preflight()
        phone = TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox)
        with pytest.raises(Exception, match="mode=\"twilio\""):
            phone.preflight()
        phone.close()

    def test_a_report_for_no_run_or_malformed_is_refused(self, browser_phone, monkeypatch):
        displayed(browser_phone, monkeypatch)
        assert not command(browser_phone, "cmd_preflight_report", **report("nope"))["ok"]
        run = browser_phone.preflight()
        bad = command(browser_phone, "cmd_preflight_report", **{**report(run.id), "status": "maybe"})
        assert not bad["ok"] and "status" in bad["error"]["message"] and not run.done

    @pytest.mark.parametrize(("changes", "expected"), [
        ({}, "good"),
        ({"mos": 3.9, "warnings": ["high-jitter"]}, "fair"),
        ({"mos": 3.4}, "fair"),
        ({"mos": 2.6}, "poor"),
        ({"mos": None}, "fair"),
        ({"status": "failed", "mos": None, "error": {"message": "WebSocket timeout", "code": 31000}}, "failed"),
    ])
    def test_verdicts(self, changes, expected):
        shown, advice = verdict(report("r", **changes))
        assert shown == expected and advice
        if expected == "failed":
            assert "WebSocket timeout" in advice and "bridge" in advice
        if "high-jitter" in changes.get("warnings", []):
            assert "choppy" in advice


class TestLapsedRegistration:
    def test_offers_bridge_mode_while_stale_and_withdraws_it_once_registered(self, browser_phone):
        command(browser_phone, "cmd_device_event", status="registered")
        command(browser_phone, "cmd_device_event", status="stale")
        assert browser_phone.device["bridge_offer"]["number"] == "+12025550143"
        command(browser_phone, "cmd_device_event", status="registered")
        assert "bridge_offer" not in browser_phone.device


class TestEdgesAndCodecs:
    def test_the_token_carries_them_to_the_panel(self, leads, sandbox):
        phone = TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, mode="twilio",
                            config=make_config(edge=["dublin", "roaming"], codecs=["pcmu"]))
        answer = command(phone, "cmd_token")
        assert answer["options"] == {"edge": ["dublin", "roaming"], "codecs": ["pcmu"]}
        assert answer["ttl"] == 3600
        phone.close()

    def test_defaults_and_one_edge_as_a_string(self):
        assert (make_config().edge, make_config().codecs) == ([], ["opus", "pcmu"])
        assert make_config(edge="frankfurt").edge == ["frankfurt"]

    @pytest.mark.parametrize(("options", "field", "problem"), [
        ({"edge": "mars"}, "edge[0]", "'mars' is not one of"),
        ({"edge": ["dublin", "dublin"]}, "edge[1]", "listed twice"),
        ({"edge": 5}, "edge", "expected a name or a list of names"),
        ({"codecs": ["g722"]}, "codecs[0]", "'g722' is not one of opus, pcmu"),
        ({"codecs": []}, "codecs", "name at least one"),
    ])
    def test_bad_ones_are_named(self, options, field, problem):
        with pytest.raises(ConfigError) as raised:
            make_config(**options)
        assert any(name == field and problem in why for name, why in raised.value.problems), raised.value.problems

    def test_the_data_model_carries_them_only_when_set(self):
        assert "edge" not in make_config().to_data_model() and "codecs" not in make_config().to_data_model()
        model = make_config(edge=["sydney"], codecs=["pcmu", "opus"]).to_data_model()
        assert (model["edge"], model["codecs"]) == (["sydney"], ["pcmu", "opus"])
        back = PhoneConfig.from_data_model({**model, "auth_token": ""})
        assert (back.edge, back.codecs) == (["sydney"], ["pcmu", "opus"])
