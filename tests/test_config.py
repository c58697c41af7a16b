"""PhoneConfig: the element's data model round-trips, every option is validated, secrets stay hidden."""

from __future__ import annotations

import copy
import json
import re
import string

import pandas as pd
import phonenumbers
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from twilio_widget.config import (
    DATA_MODEL_KEYS,
    MASK,
    Caller,
    ConfigError,
    PhoneConfig,
    PhoneSource,
    check_sources,
    contacts_from_config,
)

ACCOUNT = "AC" + "0123456789abcdef" * 2
APP = "AP" + "fedcba9876543210" * 2
KEY = "SK" + "00112233445566778899aabbccddeeff"
TOKEN = "9f86d081884c7d659a2feaa0c55ad015"
API_SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3tZZ"

# The element's own example, as it documents it (its values are placeholders).
SEED = {
    "data_model": {
        "account_sid": "83rhefhjfwkkk",
        "app_sid": "aksjoiuo82b",
        "auth_token": "iusdoinshiodsa22",
        "callers": [{"caller_id": "456574745", "client_mail": "dgdfg@gmail.com", "user_id": "1547"}],
        "fields_with_phones": [{"app_id": "29862", "field_id": "697437,699277", "view_id": "1575865"}],
        "interpretation": [],
        "multiple_value": 0,
        "regular_expression": "\\.*$",
        "sip_domain": "sdhkui&89a7ihween",
        "voice_mail_url": "dsfssdg@gmail.com",
    }
}


def valid_model():
    """The element's example with real-shaped values."""
    model = copy.deepcopy(SEED["data_model"])
    model.update(
        account_sid=ACCOUNT,
        app_sid=APP,
        auth_token=TOKEN,
        callers=[{"caller_id": "+14155550100", "client_mail": "dgdfg@gmail.com", "user_id": "1547"}],
        sip_domain="acme.sip.twilio.com",
        voice_mail_url="https://example.com/voicemail.mp3",
    )
    return model


def secrets_absent(text: str) -> bool:
    return TOKEN not in text and API_SECRET not in text and "iusdoinshiodsa22" not in text


# -- the data model -----------------------------------------------------------------------


@pytest.mark.parametrize("wrapped", [True, False])
def test_data_model_round_trips_exactly(wrapped):
    model = valid_model()
    config = PhoneConfig.from_data_model({"data_model": model} if wrapped else model)
    assert config.to_data_model(include_secrets=True) == model
    assert json.dumps(config.to_data_model(include_secrets=True, wrap=True), sort_keys=True) == json.dumps(
        {"data_model": model}, sort_keys=True
    )
    assert PhoneConfig.from_data_model(config.to_data_model(include_secrets=True)) == config


def test_data_model_reads_into_typed_options():
    config = PhoneConfig.from_data_model(valid_model())
    assert config.multiple_value is False
    assert config.fields_with_phones == [PhoneSource("29862", ["697437", "699277"], "1575865")]
    assert config.callers == [Caller("1547", "+14155550100", "dgdfg@gmail.com")]
    assert config.caller("1547").client_mail == "dgdfg@gmail.com" and config.caller("x") is None
    assert config.regular_expression == r"\.*$"


def test_exported_keys_are_exactly_the_elements():
    exported = PhoneConfig.from_data_model(valid_model()).to_data_model()
    assert tuple(exported) == DATA_MODEL_KEYS == tuple(sorted(SEED["data_model"]))
    assert set(exported["callers"][0]) == {"caller_id", "client_mail", "user_id"}
    assert exported["fields_with_phones"][0] == {"app_id": "29862", "field_id": "697437,699277", "view_id": "1575865"}
    assert exported["multiple_value"] == 0
    assert PhoneConfig(multiple_value=True).to_data_model()["multiple_value"] == 1


def test_auth_token_is_masked_unless_asked_for():
    config = PhoneConfig.from_data_model(valid_model())
    assert config.to_data_model()["auth_token"] == MASK
    assert config.to_data_model(include_secrets=True)["auth_token"] == TOKEN
    assert PhoneConfig().to_data_model()["auth_token"] == ""  # unset stays visibly unset


def test_a_masked_model_reads_back_as_withheld():
    masked = PhoneConfig.from_data_model(valid_model()).to_data_model()
    config = PhoneConfig.from_data_model(masked)
    assert config.to_data_model() == masked
    assert not config.has_credentials  # the placeholder is not a token


@pytest.mark.parametrize("flag, expected", [(0, False), (1, True), (True, True), ("1", True), ("false", False)])
def test_multiple_value_reads_switch_values(flag, expected):
    model = valid_model() | {"multiple_value": flag}
    assert PhoneConfig.from_data_model(model).multiple_value is expected


def test_seed_example_is_rejected_with_every_problem_named_and_no_secret():
    with pytest.raises(ConfigError) as err:
        PhoneConfig.from_data_model(SEED)
    options = [option for option, _ in err.value.problems]
    assert options == ["account_sid", "app_sid", "auth_token", "sip_domain", "voice_mail_url",
                       "callers[0].caller_id"]
    message = str(err.value)
    assert "account_sid: '83rhefhjfwkkk' is not an Account SID" in message
    assert "callers[0].caller_id: '456574745' is not an E.164 number" in message
    assert "auth_token: not an auth token (expected 32 hexadecimal characters, got 16 characters" in message
    assert secrets_absent(message) and secrets_absent(repr(err.value))


@pytest.mark.parametrize(
    "change, option",
    [
        ({"surprise": 1}, "data_model"),
        ({"callers": {"user_id": "1"}}, "callers"),
        ({"callers": ["x"]}, "callers[0]"),
        ({"callers": [{"user_id": "1", "phone": "x"}]}, "callers[0]"),
        ({"fields_with_phones": [{"app_id": "a", "field_id": ""}]}, "fields_with_phones[0].field_id"),
        ({"fields_with_phones": [{"app_id": "", "field_id": "p"}]}, "fields_with_phones[0].app_id"),
        ({"multiple_value": 2}, "multiple_value"),
        ({"account_sid": ["AC"]}, "account_sid"),
        ({"interpretation": ["popup"]}, "interpretation[0]"),
        ({"regular_expression": "(("}, "regular_expression"),
        ({"callers": [{"user_id": "1"}, {"user_id": "1"}]}, "callers[1].user_id"),
        ({"callers": [{"user_id": ""}]}, "callers[0].user_id"),
    ],
)
def test_bad_data_models_name_the_option(change, option):
    with pytest.raises(ConfigError) as err:
        PhoneConfig.from_data_model(valid_model() | change)
    assert option in [o for o, _ in err.value.problems]
    assert str(err.value).startswith(option) or f"; {option}" in str(err.value)
    assert secrets_absent(str(err.value))


def test_not_a_json_object():
    with pytest.raises(ConfigError, match="data_model: expected a JSON object, got list"):
        PhoneConfig.from_data_model([])
    with pytest.raises(ConfigError, match="data_model: expected a JSON object, got str"):
        PhoneConfig.from_data_model({"data_model": "x"})


# -- validation, property-based -------------------------------------------------------------

hex32 = st.text("0123456789abcdefABCDEF", min_size=32, max_size=32)


@given(hex32, hex32, hex32)
def test_well_formed_sids_are_accepted(account, app, key):
    config = PhoneConfig(account_sid="AC" + account, app_sid="AP" + app, api_key_sid="SK" + key,
                         auth_token=account, api_key_secret=app)
    assert config.has_credentials


@given(st.text(max_size=40), st.sampled_from(["account_sid", "app_sid", "api_key_sid"]))
def test_anything_else_is_not_a_sid(value, option):
    prefix = {"account_sid": "AC", "app_sid": "AP", "api_key_sid": "SK"}[option]
    assume(value and not re.fullmatch(prefix + "[0-9a-fA-F]{32}", value))
    with pytest.raises(ConfigError) as err:
        PhoneConfig(**{option: value})
    assert err.value.problems[0][0] == option
    assert f"expected '{prefix}' followed by 32 hexadecimal digits" in str(err.value)


@given(st.text(min_size=1, max_size=40))
@example("an auth ")  # a piece of the message's own wording
def test_secrets_never_leak_from_validation(secret):
    assume(not re.fullmatch("[0-9a-fA-F]{32}", secret) and secret != MASK)
    with pytest.raises(ConfigError) as err:
        PhoneConfig(auth_token=secret, api_key_secret=secret, api_key_sid=KEY)
    assert [o for o, _ in err.value.problems] == ["auth_token"] + (
        [] if re.fullmatch("[0-9A-Za-z]{32}", secret) else ["api_key_secret"])
    # A secret may be a piece of the messages' own wording ("an auth "): only a secret that is
    # not is expected to be absent. The wording comes from a placeholder of the same length.
    with pytest.raises(ConfigError) as placeholder:
        PhoneConfig(auth_token="-" * len(secret), api_key_secret="-" * len(secret), api_key_sid=KEY)
    if secret not in str(placeholder.value):
        assert secret not in str(err.value)


@given(st.sampled_from(["US", "GB", "DE", "FR", "JP", "BR", "IN", "AU"]), st.integers(0, 10**6))
def test_valid_caller_ids_are_accepted(region, seed):
    example = phonenumbers.example_number(region)
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert PhoneConfig(callers=[Caller("u", number, "")]).callers[0].caller_id == number


@pytest.mark.parametrize(
    "caller_id", ["456574745", "+1 415 555 0100", "14155550100", "+10005550100", "+", "+0123", "+99912345"]
)
def test_bad_caller_ids_are_named(caller_id):
    with pytest.raises(ConfigError, match=r"callers\[0\]\.caller_id: "):
        PhoneConfig(callers=[Caller("u", caller_id, "")])


@given(st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,10}(\.[a-z]{2,6}){1,2}", fullmatch=True))
def test_email_addresses_are_accepted(mail):
    assume(not mail.startswith("-"))
    PhoneConfig(callers=[Caller("u", "", mail)])


@pytest.mark.parametrize("mail", ["dgdfg", "a@b", "a b@c.com", "@c.com", "a@@c.com", "a@.com"])
def test_bad_email_addresses_are_named(mail):
    with pytest.raises(ConfigError, match=r"callers\[0\]\.client_mail: .* is not an email address"):
        PhoneConfig(callers=[Caller("u", "", mail)])


label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)


@given(st.lists(label, min_size=1, max_size=4))
def test_host_names_and_urls_are_accepted(labels):
    host = ".".join(labels)
    config = PhoneConfig(sip_domain=host, voice_mail_url=f"https://{host}/vm.mp3?x=1")
    assert config.sip_domain == host


@pytest.mark.parametrize("domain", ["sdhkui&89a7ihween", "-a.com", "a..com", "a_b.com", "a" * 64 + ".com", "a b"])
def test_bad_sip_domains_are_named(domain):
    with pytest.raises(ConfigError, match="sip_domain: .* is not a host name"):
        PhoneConfig(sip_domain=domain)


@pytest.mark.parametrize(
    "url", ["dsfssdg@gmail.com", "ftp://a.com/x", "https://", "https://a b.com/x", "example.com/vm", "http://[::1"]
)
def test_bad_voice_mail_urls_are_named(url):
    with pytest.raises(ConfigError, match="voice_mail_url: .* is not an http"):
        PhoneConfig(voice_mail_url=url)


@given(st.text(max_size=60))
def test_url_and_host_checks_never_raise_anything_but_config_errors(text):
    for option in ("voice_mail_url", "sip_domain"):
        try:
            PhoneConfig(**{option: text})
        except ConfigError as err:
            assert err.problems[0][0] == option
    try:
        PhoneConfig(callers=[Caller("u", text, text)])
    except ConfigError as err:
        assert {o for o, _ in err.problems} <= {"callers[0].caller_id", "callers[0].client_mail"}


def test_ip_addresses_are_urls_hosts():
    assert PhoneConfig(voice_mail_url="http://[::1]:8000/vm.mp3").voice_mail_url
    assert PhoneConfig(voice_mail_url="http://127.0.0.1/vm.mp3").voice_mail_url


def test_empty_strings_mean_not_set():
    config = PhoneConfig()
    assert config.problems() == [] and not config.has_credentials
    assert PhoneConfig(callers=[Caller("u")]).callers[0].caller_id == ""


def test_api_key_secret_needs_its_sid():
    with pytest.raises(ConfigError, match="api_key_sid: required when api_key_secret is set"):
        PhoneConfig(account_sid=ACCOUNT, api_key_secret=API_SECRET)
    assert PhoneConfig(account_sid=ACCOUNT, api_key_sid=KEY, api_key_secret=API_SECRET).has_credentials


def test_validate_runs_again_after_changes():
    config = PhoneConfig()
    config.app_sid = "nope"
    with pytest.raises(ConfigError, match="app_sid"):
        config.validate()
    with pytest.raises(ConfigError, match="app_sid"):
        PhoneConfig().replace(app_sid="nope")


# -- secrets ------------------------------------------------------------------------------


def test_repr_and_str_never_show_secrets():
    config = PhoneConfig(account_sid=ACCOUNT, auth_token=TOKEN, api_key_sid=KEY, api_key_secret=API_SECRET)
    for text in (repr(config), str(config), f"{config}", repr([config])):
        assert secrets_absent(text)
        assert "auth_token='********'" in text and ACCOUNT in text
    assert "auth_token=''" in repr(PhoneConfig())
    assert secrets_absent(json.dumps(config.to_data_model()))


# -- the environment ------------------------------------------------------------------------


SMTP = {"host": "smtp.example.com", "port": 587, "sender": "phone@example.com", "username": "phone@example.com",
        "password": "smtp-password-not-to-be-shown", "starttls": True}


@pytest.mark.parametrize(
    ("smtp", "where"),
    [
        ({"port": 25}, "smtp.host"),
        ({"host": "mail example"}, "smtp.host"),
        ({"host": "smtp.example.com", "port": 70000}, "smtp.port"),
        ({"host": "smtp.example.com", "port": "twenty-five"}, "smtp.port"),
        ({"host": "smtp.example.com", "sender": "nobody"}, "smtp.sender"),
        ({"host": "smtp.example.com", "starttls": True, "ssl": True}, "smtp.ssl"),
        ({"host": "smtp.example.com", "password": "pw"}, "smtp.username"),
        ({"host": "smtp.example.com", "timeout": 0}, "smtp.timeout"),
        ({"host": "smtp.example.com", "pasword": "pw"}, "smtp"),
    ],
)
def test_smtp_settings_are_checked_naming_the_field(smtp, where):
    with pytest.raises(ConfigError, match=re.escape(where)) as err:
        PhoneConfig(smtp=smtp)
    assert "pw" not in str(err.value).replace("'pasword'", "")


def test_smtp_password_is_masked_like_the_auth_token():
    config = PhoneConfig(auth_token=TOKEN, smtp=SMTP)
    assert config.smtp.port == 587 and config.smtp.starttls
    assert SMTP["password"] not in repr(config) + str(config) + repr(config.smtp)
    assert f"password={MASK!r}" in repr(config.smtp)
    assert config.to_data_model()["smtp"] == {**SMTP, "password": MASK, "ssl": False, "timeout": 10.0}
    secrets = config.to_data_model(include_secrets=True)
    assert secrets["smtp"]["password"] == SMTP["password"]
    assert PhoneConfig.from_data_model(secrets) == config
    assert "smtp" not in PhoneConfig().to_data_model()  # the element's keys only, without mail
    with pytest.raises(ConfigError, match="smtp.port") as err:
        PhoneConfig(smtp={**SMTP, "port": 0})
    assert SMTP["password"] not in str(err.value)


def test_from_env_reads_the_twilio_variables():
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_KEY": KEY,
        "TWILIO_API_SECRET": API_SECRET,
        "TWILIO_APP_SID": APP,
        "TWILIO_CALLER_ID": "+14155550100",
        "TWILIO_SIP_DOMAIN": "acme.sip.twilio.com",
        "TWILIO_VOICE_MAIL_URL": "https://example.com/vm.mp3",
        "TWILIO_CLIENT_MAIL": "me@example.com",
        "TWILIO_USER_ID": "ann",
    }
    config = PhoneConfig.from_env(env)
    assert (config.account_sid, config.auth_token, config.api_key_sid, config.api_key_secret) == (
        ACCOUNT, TOKEN, KEY, API_SECRET)
    assert config.app_sid == APP and config.sip_domain == "acme.sip.twilio.com"
    assert config.voice_mail_url == "https://example.com/vm.mp3"
    assert config.callers == [Caller("ann", "+14155550100", "me@example.com")]
    assert config.has_credentials


def test_from_env_with_nothing_set_is_an_empty_config():
    config = PhoneConfig.from_env({})
    assert config == PhoneConfig() and not config.has_credentials
    assert PhoneConfig.from_env({}, multiple_value=True).multiple_value is True


def test_from_env_errors_name_the_variable_and_hide_the_secret():
    with pytest.raises(ConfigError) as err:
        PhoneConfig.from_env({"TWILIO_AUTH_TOKEN": "not-a-token-but-a-secret", "TWILIO_CALLER_ID": "555"})
    message = str(err.value)
    assert "TWILIO_AUTH_TOKEN (auth_token): not an auth token" in message
    assert "TWILIO_CALLER_ID (callers[0].caller_id): '555'" in message
    assert "not-a-token-but-a-secret" not in message


# -- sources ----------------------------------------------------------------------------------


@pytest.fixture
def sources():
    leads = pd.DataFrame({"name": ["Ann", "Bob"], "mobile": ["(415) 555-0100", "junk"],
                          "work": ["", "212-555-0199"], "company": ["Acme", "Initech"]})
    customers = pd.DataFrame({697437: ["+14155550100"], "owner": ["Cy"]}, index=["c1"])
    return {"leads": leads, "29862": customers}


def config_for(*entries, **options):
    return PhoneConfig(fields_with_phones=[PhoneSource(*e) for e in entries], **options)


def test_check_sources_names_missing_dataframes_and_columns(sources):
    check_sources(config_for(("leads", ["mobile", "work"], "name,company")), sources)
    with pytest.raises(ConfigError) as err:
        check_sources(config_for(("leads", ["mobile", "fax"], "name,age"), ("crm", ["p"], "")), sources)
    assert err.value.problems == [
        ("fields_with_phones[0].field_id", "'leads' has no column 'fax' (columns: name, mobile, work, company)"),
        ("fields_with_phones[0].view_id", "'leads' has no column 'age' (columns: name, mobile, work, company)"),
        ("fields_with_phones[1].app_id", "no DataFrame named 'crm' (sources: 'leads', '29862')"),
    ]
    with pytest.raises(ConfigError, match=r"fields_with_phones\[1\]\.app_id: 'leads' is already listed"):
        check_sources(config_for(("leads", ["mobile"], ""), ("leads", ["work"], "")), sources)


def test_contacts_from_one_source_keep_row_labels(sources):
    config = config_for(("leads", ["mobile", "work"], "name,company"), regular_expression="e164")
    book = contacts_from_config(config, sources, names={"leads": "name"})
    assert book.lookup("+12125550199") == [(1, "work")]
    assert book.record(0) == {"name": "Ann", "company": "Acme"}
    assert book.name_of(0) == "Ann"
    assert book.numbers(0)[0]["display"] == "+14155550100"  # regular_expression is the display
    assert book.rejects["value"].tolist() == ["junk"]


def test_contacts_from_several_sources_key_by_app_id(sources):
    config = config_for(("leads", ["mobile"], ""), ("29862", ["697437"], "owner"))
    book = contacts_from_config(config, sources)
    assert book.lookup("+14155550100") == [(("leads", 0), "mobile"), (("29862", "c1"), 697437)]
    assert book.record(("29862", "c1")) == {"owner": "Cy"}
    assert book.numbers(("leads", 0))[0]["display"] == "(415) 555-0100"


def test_contacts_need_a_source(sources):
    with pytest.raises(ConfigError, match="fields_with_phones: no source"):
        contacts_from_config(PhoneConfig(), sources)


def test_list_options_accept_the_data_models_dicts():
    config = PhoneConfig(
        callers=[{"user_id": "ann", "caller_id": "+14155550100", "client_mail": "ann@example.com"}],
        fields_with_phones=[{"app_id": "leads", "field_id": "mobile, work", "view_id": ""}],
    )
    assert config.callers == [Caller("ann", "+14155550100", "ann@example.com")]
    assert config.fields_with_phones == [PhoneSource("leads", ["mobile", "work"])]
    with pytest.raises(ConfigError, match=r"callers: expected a list, got str"):
        PhoneConfig(callers="ann")
    with pytest.raises(TypeError):
        PhoneConfig(callers=[{"user": "ann"}])
