"""The panel's state and commands, exercised without a kernel (commands called directly)."""

from __future__ import annotations

import gc
import json

import pandas as pd
import pytest
import traitlets
from phone_helpers import command

from twilio_widget import SandboxBackend, TwilioPhone, frames
from twilio_widget.config import PhoneConfig


class TestSelection:
    def test_first_contact_and_number_are_selected(self, phone):
        assert phone.contact["name"] == "Ada Lovelace"
        assert [n["field"] for n in phone.numbers] == ["mobile", "office"]
        assert phone.selected_number == "+14155550100"
        assert phone.selected_display == "(415) 555-0100"
        assert phone.dialpad == "+14155550100"

    def test_blank_fields_give_no_button(self, phone):
        phone.select(102)
        assert [n["field"] for n in phone.numbers] == ["mobile"]
        phone.select(103)
        assert [n["field"] for n in phone.numbers] == ["office"]
        assert phone.selected_number == "+12125550199"

    def test_next_and_previous_wrap_around(self, phone):
        phone.next()
        assert phone.current == 102
        phone.previous()
        phone.previous()
        assert phone.current == 103
        command(phone, "cmd_step_contact", step=1)
        assert phone.current == 101

    def test_single_value_offers_one_number(self, phone):
        phone.multiple_value = False
        assert [n["field"] for n in phone.numbers] == ["mobile"]
        phone.multiple_value = True
        assert len(phone.numbers) == 2

    def test_selected_number_is_normalised_and_validated(self, phone):
        phone.selected_number = "+44 20 7946 0018"
        assert phone.selected_number == "+442079460018"
        assert phone.selected_display == "020 7946 0018" or phone.selected_display.startswith("+44")
        with pytest.raises(traitlets.TraitError, match="selected_number"):
            phone.selected_number = "not a number"
        assert phone.selected_number == "+442079460018"

    def test_typed_number_becomes_the_selected_one(self, phone):
        phone.dialpad = "212555"
        assert phone.selected_number == "+14155550100"  # not yet a number
        phone.dialpad = "2125550199"
        assert phone.selected_number == "+12125550199"
        assert phone.current == 103  # a known number shows its contact

    def test_tab_and_interpretation_are_checked(self, phone):
        phone.tab = "history"
        with pytest.raises(traitlets.TraitError):
            phone.tab = "settings"
        phone.interpretation = "default"
        with pytest.raises(traitlets.TraitError):
            phone.interpretation = "fancy"

    def test_needs_fields_for_a_dataframe(self, leads):
        with pytest.raises(ValueError, match="fields"):
            TwilioPhone(contacts=leads)


class TestHistoryOnThePanel:
    def test_history_and_thread_follow_the_selection(self, phone, sandbox):
        expected = sandbox.calls("+14155550100")
        assert [r["sid"] for r in phone.history] == list(expected["sid"])
        phone.selected_number = "+12125550199"
        assert [r["sid"] for r in phone.history] == list(sandbox.calls("+12125550199")["sid"])

    def test_rows_are_json_and_bounded(self, phone, sandbox):
        for _ in range(60):
            sandbox.inbound_message("+14155550100", "hello")
        assert len(phone.thread) == phone.history_limit
        json.dumps(phone.history)
        json.dumps(phone.thread)

    def test_typed_frames(self, phone):
        calls = phone.calls()
        assert dict(calls.dtypes.astype(str)) == dict(frames.empty("calls").dtypes.astype(str))
        assert calls["start_time"].is_monotonic_decreasing
        assert list(phone.messages(number="(415) 555-0100").columns) == list(frames.MESSAGES)
        matched = phone.calls(with_contacts=True)
        assert {"contact", "field"} <= set(matched.columns)
        row = matched[(matched["to"] == "+14155550100") | (matched["from"] == "+14155550100")].iloc[0]
        assert row["contact"] == 101 and row["field"] == "mobile"


class TestCalls:
    def test_call_rings_connects_and_completes(self, phone, sandbox):
        before = len(phone.history)
        response = command(phone, "cmd_call")
        assert response["ok"] and phone.call["status"] == "ringing"
        assert phone.call["remote"] == "+14155550100"
        sandbox.advance(sandbox.ring_seconds)
        assert phone.call["status"] == "in-progress" and phone.call["started_at"]
        sandbox.advance(42)
        command(phone, "cmd_hang_up")
        assert phone.call["status"] == "completed"
        assert phone.call["duration"] == 42
        assert len(phone.history) == before + 1
        assert phone.history[0]["status"] == "completed"

    def test_scripted_busy(self, phone, sandbox):
        sandbox.script_outcome("+14155550100", "busy")
        command(phone, "cmd_call")
        sandbox.advance(sandbox.ring_seconds)
        assert phone.call["status"] == "busy" and phone.call["end_reason"] == "busy"

    def test_hanging_up_while_ringing_cancels(self, phone, sandbox):
        command(phone, "cmd_call")
        command(phone, "cmd_hang_up")
        assert phone.call["status"] == "canceled"

    def test_dismiss_clears_an_ended_call_only(self, phone, sandbox):
        command(phone, "cmd_call")
        assert command(phone, "cmd_dismiss_call")["ok"]
        assert phone.call["status"] == "ringing"  # a call still going stays on the panel
        command(phone, "cmd_hang_up")
        command(phone, "cmd_dismiss_call")
        assert phone.call == {}

    def test_one_call_at_a_time(self, phone):
        command(phone, "cmd_call")
        response = command(phone, "cmd_call")
        assert not response["ok"] and "already" in response["error"]["message"]
        assert phone.error["message"] == response["error"]["message"]

    def test_mute_and_digits_only_in_a_call(self, phone, sandbox):
        assert not command(phone, "cmd_mute", muted=True)["ok"]
        command(phone, "cmd_call")
        sandbox.advance(sandbox.ring_seconds)
        assert command(phone, "cmd_mute", muted=True)["call"]["muted"] is True
        assert command(phone, "cmd_digits", digits="12#")["call"]["digits"] == "12#"
        bad = command(phone, "cmd_digits", digits="12x")
        assert not bad["ok"] and "digits" in bad["error"]["message"]

    @pytest.mark.parametrize(("typed", "problem"), [("+1415555010", "too short"), ("", "type a number")])
    def test_a_corrected_or_erased_pad_is_never_dialled_as_the_old_selection(self, phone, sandbox, typed, problem):
        calls_before = len(sandbox.calls())
        phone.dialpad = typed  # what the pad shows after the user corrected or erased the number
        assert phone.dialpad_check["dialpad"] == typed
        assert problem in phone.dialpad_check["problem"].lower()  # the reason beside the disabled call button
        response = command(phone, "cmd_call")
        assert not response["ok"]
        assert "dialpad" in response["error"]["message"] and problem in response["error"]["message"]
        with pytest.raises(ValueError, match=problem):
            phone.place_call()
        assert len(sandbox.calls()) == calls_before and phone.call == {}

    def test_the_call_goes_to_what_the_pad_shows(self, phone):
        assert phone.dialpad_check == {"dialpad": "+14155550100", "problem": ""}
        phone.dialpad = "212 555 0199"
        assert phone.dialpad_check == {"dialpad": "212 555 0199", "problem": ""}
        command(phone, "cmd_call")
        assert phone.call["remote"] == "+12125550199"

    def test_invalid_number_is_refused_before_anything_is_sent(self, phone, sandbox):
        calls_before = len(sandbox.calls())
        response = command(phone, "cmd_call", number="12")
        assert not response["ok"] and "number" in response["error"]["message"]
        assert len(sandbox.calls()) == calls_before
        assert phone.call == {}


class TestIncoming:
    def test_known_caller_shows_the_card_and_accepting_selects_them(self, phone, sandbox):
        seen = []
        phone.on_incoming(seen.append)
        phone.select(101)
        call = sandbox.incoming_call("+12125550199")
        assert phone.incoming["contact"]["name"] == "Grace Hopper"
        assert phone.incoming["contact"]["fields"] == {"name": "Grace Hopper", "company": "Navy"}
        assert seen and seen[0]["sid"] == call["sid"]
        command(phone, "cmd_accept")
        assert phone.incoming is None
        assert phone.call["status"] == "in-progress" and phone.call["direction"] == "inbound"
        assert phone.current == 103 and phone.selected_number == "+12125550199"

    def test_unknown_caller_and_reject(self, phone, sandbox):
        sandbox.incoming_call("+13105550142")
        assert phone.incoming["contact"] is None
        command(phone, "cmd_reject")
        assert phone.incoming is None
        assert sandbox.calls("+13105550142")["status"].iloc[0] == "busy"

    def test_caller_giving_up_clears_the_ring(self, phone, sandbox):
        call = sandbox.incoming_call("+13105550142")
        sandbox.caller_hangs_up(call["sid"])
        assert phone.incoming is None


class TestMessages:
    def test_sent_message_appears_with_its_status(self, phone, sandbox):
        response = command(phone, "cmd_send_message", body="Hi Ada")
        assert response["ok"] and response["message"]["status"] == "queued"
        assert phone.thread[-1]["body"] == "Hi Ada"
        sandbox.advance(sandbox.delivery_seconds)
        assert phone.thread[-1]["status"] == "delivered"

    def test_inbound_message_reaches_the_open_thread(self, phone, sandbox):
        sandbox.inbound_message("+14155550100", "Call me back?")
        assert phone.thread[-1] == {**phone.thread[-1], "direction": "inbound",
                                    "body": "Call me back?", "status": "received"}

    def test_empty_body_and_opted_out_recipient_are_refused(self, phone, sandbox):
        assert "body" in command(phone, "cmd_send_message", body="  ")["error"]["message"]
        sandbox.inbound_message("+14155550100", "STOP")
        before = len(sandbox.messages())
        refused = command(phone, "cmd_send_message", body="Hello?")
        assert refused["error"]["code"] == 21610
        assert len(sandbox.messages()) == before


def test_state_is_the_same_size_over_a_million_contacts():
    def state_size(rows: int) -> int:
        df = pd.DataFrame({"phone": [f"+1415555{i % 10000:04d}" for i in range(rows)],
                           "name": [f"Lead {i}" for i in range(rows)]})
        phone = TwilioPhone(contacts=df, fields=["phone"], name="name", backend=SandboxBackend())
        try:
            state = {k: v for k, v in phone.get_state().items() if k not in ("_esm", "_css", "_phone_id")}
            state["contact"] = {**state["contact"], "count": 0}  # the one figure that names the size
            return len(json.dumps(state, default=str))
        finally:
            phone.close()

    assert state_size(1_000_000) == state_size(10)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_failed_construction_cleans_up_quietly(leads, sandbox):
    with pytest.raises(ValueError, match="caller_id"):
        TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, caller_id="not a number")
    gc.collect()  # the half-built widget's close() runs now, and must not raise


def test_recordings_take_a_window(phone):
    everything = phone.recordings()
    assert list(everything.columns) == [*frames.RECORDINGS, *frames.RECORDING_CONSENT]
    assert phone.recordings(since="2100-01-01").empty


class TestDataModel:
    MODEL = {
        "account_sid": "AC" + "1" * 32, "app_sid": "AP" + "2" * 32, "auth_token": "ab" * 16,
        "callers": [{"caller_id": "+15005550006", "client_mail": "ada@example.com", "user_id": "1547"}],
        "fields_with_phones": [{"app_id": "leads", "field_id": "mobile,office", "view_id": "name,company"}],
        "interpretation": [], "multiple_value": 0, "regular_expression": "\\.*$",
        "sip_domain": "sales.sip.twilio.com", "voice_mail_url": "https://example.com/vm.mp3",
    }

    def test_round_trip_with_the_token_masked(self, leads, sandbox):
        phone = TwilioPhone.from_data_model(self.MODEL, {"leads": leads}, backend=sandbox)
        assert phone.data_model == {**self.MODEL, "auth_token": "********"}
        assert phone.export_data_model(include_secrets=True) == self.MODEL
        assert "ab" * 16 not in repr(phone.get_state()) + repr(phone)
        assert phone.multiple_value is False and [n["field"] for n in phone.numbers] == ["mobile"]
        assert phone.caller_id == "+15005550006"

    def test_changes_on_the_panel_are_exported(self, leads, sandbox):
        phone = TwilioPhone.from_data_model(self.MODEL, {"leads": leads}, backend=sandbox)
        phone.multiple_value, phone.interpretation = True, "default"
        assert phone.data_model["multiple_value"] == 1
        assert phone.data_model["interpretation"] == ["default"]

    def test_the_config_sets_the_panels_options(self, leads, sandbox):
        config = PhoneConfig(multiple_value=False, interpretation=["default"])
        phone = TwilioPhone(leads, ["mobile", "office"], backend=sandbox, config=config)
        assert phone.multiple_value is False and phone.interpretation == "default"
        assert [n["field"] for n in phone.numbers] == ["mobile"]
        assert phone.data_model["multiple_value"] == 0 and phone.data_model["interpretation"] == ["default"]

    def test_the_export_and_the_config_follow_the_traits(self, leads, sandbox):
        config = PhoneConfig(multiple_value=False, interpretation=["default"])
        phone = TwilioPhone(leads, ["mobile", "office"], backend=sandbox, config=config, interpretation="panel")
        assert phone.data_model["interpretation"] == ["panel"]
        phone.multiple_value = True
        assert phone.data_model["multiple_value"] == 1
        assert phone.config.multiple_value is True and phone.config.interpretation == ["panel"]

    def test_from_env_options_are_one_truth(self, leads, sandbox):
        phone = TwilioPhone.from_env(leads, ["mobile", "office"], environ={}, backend=sandbox)
        assert phone.multiple_value is phone.config.multiple_value
        assert phone.data_model["multiple_value"] == int(phone.multiple_value) == len(phone.numbers) - 1
        assert phone.data_model["interpretation"] in ([], [phone.interpretation])
        single = TwilioPhone.from_env(leads, ["mobile", "office"], environ={}, backend=sandbox,
                                      multiple_value=False, interpretation="default")
        assert single.config.multiple_value is False and single.config.interpretation == ["default"]
        assert single.data_model["multiple_value"] == 0 and single.data_model["interpretation"] == ["default"]

    def test_a_missing_source_is_named(self, leads, sandbox):
        with pytest.raises(ValueError, match="leads"):
            TwilioPhone.from_data_model(self.MODEL, {"other": leads}, backend=sandbox)

    def test_from_env_without_credentials_is_the_sandbox(self, leads):
        phone = TwilioPhone.from_env(leads, ["mobile"], environ={})
        assert phone.mode == "sandbox" and phone.live_events
        phone.close()


def test_unknown_options_are_named(leads, sandbox):
    with pytest.raises(TypeError, match="multiple_values"):
        TwilioPhone(contacts=leads, fields=["mobile"], backend=sandbox, multiple_values=False)


class TestRobustness:
    def test_a_command_with_bad_arguments_still_answers(self, phone):
        response = command(phone, "cmd_digits", keys="12")
        assert not response["ok"] and "digits failed" in response["error"]["message"]
        assert phone.error == response["error"]

    def test_a_number_outside_the_book_shows_no_contact(self, phone):
        phone.selected_number = "+13105550142"
        assert phone.contact["name"] == "Unknown number" and phone.numbers == []
        assert phone.contact["count"] == 3
        phone.next()
        assert phone.contact["name"] == "Alan Turing"

    def test_mode_must_fit_the_backend(self, phone):
        with pytest.raises(traitlets.TraitError, match="bridge_to"):
            phone.mode = "bridge"
        assert phone.mode == "sandbox"

    def test_a_broken_listener_does_not_stop_the_sandbox(self, phone, sandbox):
        def broken(event):
            raise RuntimeError("listener bug")

        sandbox.subscribe(broken)
        phone.send_message("still delivered?")
        sandbox.advance(sandbox.delivery_seconds)
        assert phone.thread[-1]["status"] == "delivered"

    def test_close_stops_the_sandbox_it_made(self, leads):
        phone = TwilioPhone(contacts=leads, fields=["mobile"])
        clock = phone.backend._clock
        phone.close()
        assert clock._closed

    def test_error_messages_keep_their_quotes(self, phone):
        response = command(phone, "cmd_step_contact", step=5)
        assert response["error"]["message"] == "step: must be -1 or 1, not 5"


def test_one_phone_column_may_be_named_alone(leads, sandbox):
    phone = TwilioPhone(contacts=leads, fields="office", backend=sandbox, selected_number="+12125550199")
    assert [n["field"] for n in phone.numbers] == ["office"]
    assert phone.selected_number == "+12125550199" and phone.current == 103  # the chosen number wins


class TestRow:
    def test_row_follows_the_panel_and_drives_it(self, phone):
        assert phone.row == 101
        command(phone, "cmd_step_contact", step=1)
        assert phone.row == 102
        phone.row = 103
        assert phone.contact["name"] == "Grace Hopper" and phone.selected_number == "+12125550199"
        phone.selected_number = "+13105550142"
        assert phone.row is None

    def test_row_links_to_a_picker_widget(self, phone, leads):
        import ipywidgets

        picker = ipywidgets.Dropdown(options=[(name, label) for label, name in leads["name"].items()])
        ipywidgets.link((phone, "row"), (picker, "value"))
        picker.value = 102
        assert phone.contact["name"] == "Alan Turing"
        phone.next()
        assert picker.value == 103

    def test_an_unknown_row_is_named(self, phone):
        with pytest.raises(KeyError, match="999"):
            phone.row = 999
        assert phone.row == 101 and phone.contact["name"] == "Ada Lovelace"


def test_errors_stay_until_the_user_acts(phone):
    assert not command(phone, "cmd_mute", muted=True)["ok"]
    shown = phone.error
    assert command(phone, "cmd_poll")["ok"] and command(phone, "cmd_refresh")["ok"]
    assert phone.error == shown  # the panel's own requests leave it on screen
    assert command(phone, "cmd_step_contact", step=1)["ok"]
    assert phone.error is None
