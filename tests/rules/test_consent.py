"""Recording with consent: the decision for every kind of number and configuration, the option's
errors, and recordings joined to their calls on the sandbox (sandbox and bridge modes)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twilio_widget import TwilioPhone
from twilio_widget.backends import SandboxBackend
from twilio_widget.config import ConfigError, PhoneConfig
from twilio_widget.config.recording import ALL_PARTY_CHOICES, CONSENT_RULES, RecordingSettings
from twilio_widget.rules.consent import ALL_PARTY, consent_rule, decide_recording, region_of


def north_american_numbers() -> st.SearchStrategy[str]:
    return st.from_regex(r"\+1[2-9]\d{2}[2-9]\d{6}", fullmatch=True)


def any_numbers() -> st.SearchStrategy[str]:
    return st.one_of(north_american_numbers(), st.from_regex(r"\+[2-9]\d{7,11}", fullmatch=True))


REGIONS = sorted({*ALL_PARTY, "US-TX", "US-OR", "US-NY", "US", "GB", "JP", "CA-ON"})
recording_settings = st.builds(
    RecordingSettings,
    enabled=st.booleans(),
    all_party_consent=st.sampled_from(ALL_PARTY_CHOICES),
    consent=st.dictionaries(st.sampled_from(REGIONS), st.sampled_from(CONSENT_RULES), max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(recording_settings, any_numbers(), st.booleans())
def test_no_call_is_ever_recorded_where_every_party_must_consent_without_the_announcement(rec, number, can_announce):
    decision = decide_recording(rec, number, can_announce=can_announce)
    if not rec.enabled:
        assert not decision.record and decision.consent == ""
        return
    assert decision.consent == consent_rule(region_of(number), dict(rec.consent)).rule
    if decision.consent == "one-party":
        assert decision.record and not decision.announce
    else:
        wanted = rec.all_party_consent == "announce" and can_announce
        assert decision.record == wanted and decision.announce == wanted
    assert decision.reason


@settings(max_examples=200, deadline=None)
@given(north_american_numbers(), st.sampled_from(CONSENT_RULES))
def test_the_configuration_wins_over_the_table_for_its_region(number, rule):
    region = region_of(number)
    if not region:
        return
    assert consent_rule(region, {region: rule}).rule == rule


@settings(max_examples=200, deadline=None)
@given(north_american_numbers())
def test_a_us_state_is_all_party_exactly_when_the_table_says_so(number):
    region = region_of(number)
    if not region.startswith("US-"):
        return
    assert (consent_rule(region).rule == "all-party") == (region in ALL_PARTY)


@pytest.mark.parametrize(("number", "rule", "place"), [
    ("+14155550100", "all-party", "US-CA"),   # San Francisco
    ("+13125550100", "all-party", "US-IL"),   # Chicago
    ("+13025550100", "all-party", "US-DE"),   # Delaware: disputed, taken as all-party
    ("+12485550100", "all-party", "US-MI"),   # Michigan: disputed, taken as all-party
    ("+15035550100", "one-party", "US-OR"),   # Oregon: one-party for telephone calls
    ("+15125550100", "one-party", "US-TX"),
    ("+12125550100", "one-party", "US-NY"),
    ("+14165550100", "all-party", "CA"),      # Toronto: Canada's PIPEDA
    ("+442079460018", "all-party", "GB"),
    ("+493012345678", "all-party", "DE"),
    ("+81312345678", "one-party", "JP"),
])
def test_the_table(number, rule, place):
    found = consent_rule(region_of(number))
    assert (found.rule, found.place) == (rule, place)


def test_a_number_of_no_known_state_gets_the_strictest_rule_of_its_country():
    toll_free = consent_rule(region_of("+18005550100"))
    assert region_of("+18005550100") == "US" and toll_free.rule == "all-party"
    assert "US-CA" in toll_free.basis
    # once no state of the country asks every party, one party's consent is enough again
    one_party_everywhere = {state: "one-party" for state in ALL_PARTY if state.startswith("US-")}
    assert consent_rule("US", one_party_everywhere).rule == "one-party"
    assert consent_rule("").rule == "all-party"  # placed nowhere


def test_the_decision_says_why():
    on = RecordingSettings(enabled=True)
    assert decide_recording(RecordingSettings(), "+14155550100").reason == "recording is off"
    announced = decide_recording(on, "+14155550100")
    assert announced.record and announced.announce and "California Penal Code" in announced.reason
    assert "routing service" in decide_recording(on, "+14155550100", can_announce=False).reason
    assert "not recorded" in decide_recording(RecordingSettings(enabled=True, all_party_consent="skip"),
                                              "+14155550100").reason


@pytest.mark.parametrize(("recording", "option", "problem"), [
    ({"enabled": "yes"}, "rules.recording.enabled", "true or false"),
    ({"all_party_consent": "ask"}, "rules.recording.all_party_consent", "not one of announce, skip"),
    ({"announcement": ""}, "rules.recording.announcement", "is empty"),
    ({"announcement": "https://"}, "rules.recording.announcement", "URL"),
    ({"announcement": "x" * 5000}, "rules.recording.announcement", "at most 4096"),
    ({"consent": {"California": "all-party"}}, "rules.recording.consent['California']", "region code"),
    ({"consent": {"US-OR": "two-party"}}, "rules.recording.consent['US-OR']", "not one of all-party"),
    ({"consent": ["US-OR"]}, "rules.recording.consent", "mapping"),
    ({"record": True}, "rules.recording", "unknown option(s) 'record'"),
])
def test_bad_options_are_named(recording, option, problem):
    with pytest.raises(ConfigError) as caught:
        PhoneConfig(rules={"recording": recording})
    assert any(name == option and problem in why for name, why in caught.value.problems), caught.value.problems


def test_the_option_round_trips_through_the_data_model():
    config = PhoneConfig(rules={"recording": {"enabled": True, "consent": {"US-OR": "all-party"}}})
    model = config.to_data_model()
    assert model["rules"]["recording"]["consent"] == {"US-OR": "all-party"}
    assert PhoneConfig.from_data_model(model).rules.recording == config.rules.recording


LEADS = pd.DataFrame({"name": ["Cal", "Tex"], "mobile": ["+1 415 555 0100", "+1 512 555 0100"]})


@pytest.fixture
def recorded_phone():
    backend = SandboxBackend(numbers=[], realtime=False)
    phone = TwilioPhone(LEADS, ["mobile"], backend=backend,
                        config=PhoneConfig(rules={"recording": {"enabled": True}}))
    yield phone, backend
    phone.close()
    backend.close()


def test_the_sandbox_announces_records_and_joins_the_recording_to_its_call(recorded_phone):
    phone, sandbox = recorded_phone
    call = phone.place_call("+14155550100")
    assert call["recording"]["announce"] and call["recording"]["place"] == "US-CA"
    sandbox.advance(sandbox.ring_seconds + 1)
    assert [a["call_sid"] for a in sandbox.announcements] == [call["sid"]]
    sandbox.advance(30)
    phone.hang_up()
    texas = phone.place_call("+15125550100")
    sandbox.advance(sandbox.ring_seconds + 5)
    phone.hang_up()
    recordings = phone.recordings()
    assert len(sandbox.announcements) == 1  # Texas: one-party, no announcement
    by_call = recordings.set_index("call_sid")
    assert by_call.loc[call["sid"], "number"] == "+14155550100" and by_call.loc[call["sid"], "announced"]
    assert by_call.loc[call["sid"], "duration"] == 31 and by_call.loc[call["sid"], "consent"] == "all-party"
    assert by_call.loc[texas["sid"], "consent"] == "one-party" and not by_call.loc[texas["sid"], "announced"]
    assert str(recordings["announced"].dtype) == "boolean" and str(recordings["number"].dtype) == "string"


def test_a_call_that_is_not_answered_leaves_no_recording(recorded_phone):
    phone, sandbox = recorded_phone
    sandbox.script_outcome("+15125550100", "busy")
    phone.place_call("+15125550100")
    sandbox.advance(sandbox.ring_seconds + 1)
    assert phone.recordings().empty


def test_bridge_mode_without_a_routing_service_leaves_all_party_leads_unrecorded(recorded_phone):
    phone, sandbox = recorded_phone
    phone.bridge_to = "+12025550143"
    phone.mode = "bridge"
    california = phone.place_call("+14155550100")
    assert not california["recording"]["record"] and "routing service" in california["recording"]["reason"]
    sandbox.advance(2 * sandbox.ring_seconds + 1)
    phone.hang_up()
    texas = phone.place_call("+15125550100")
    sandbox.advance(2 * sandbox.ring_seconds + 10)
    phone.hang_up()
    assert texas["recording"]["record"]
    recordings = phone.recordings()
    assert list(recordings["call_sid"]) == [texas["sid"]]  # with the bridged call (the <Dial>'s parent)
    assert recordings["consent"].tolist() == ["one-party"] and sandbox.announcements == []
