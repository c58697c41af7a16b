"""`twilio-widget serve` arguments: configuration from the element JSON, secrets from the env."""

from __future__ import annotations

import json

import pytest
from routing_helpers import ALICE, PUBLIC_URL

from twilio_widget import cli
from twilio_widget.routing import RoutingSettings, serve_in_thread

FILE_TOKEN = "f11e" * 8  # made-up auth tokens, shaped like Twilio's
ENV_TOKEN = "e4f0" * 8
ELEMENT = {
    "data_model": {
        "account_sid": "AC" + "1" * 32,
        "auth_token": FILE_TOKEN,
        "app_sid": "AP" + "1" * 32,
        "callers": [{"user_id": "alice", "caller_id": ALICE, "client_mail": "alice@example.org"}],
        "sip_domain": "acme.sip.twilio.com",
        "voice_mail_url": "https://example.com/vm.mp3",
        "smtp": {"host": "mail.example.org", "port": 587, "starttls": True},
    }
}


def parse(*argv: str):
    return cli.build_parser().parse_args(["serve", *argv])


def test_settings_from_the_element_json_file(tmp_path) -> None:
    path = tmp_path / "element.json"
    path.write_text(json.dumps(ELEMENT))
    args = parse(
        "--public-url",
        PUBLIC_URL,
        "--config",
        str(path),
        "--store",
        str(tmp_path / "s.sqlite3"),
        "--ring-seconds",
        "12",
        "--smtp-user",
        "bot",
    )
    settings = cli.settings_from_args(args, environ={"TWILIO_WIDGET_SMTP_PASSWORD": "pw"})
    assert settings.auth_token == FILE_TOKEN
    assert settings.callers["alice"].caller_id == ALICE
    assert settings.sip_domain == "acme.sip.twilio.com" and settings.ring_seconds == 12
    assert settings.smtp.host == "mail.example.org" and settings.smtp.starttls
    assert settings.smtp.username == "bot" and settings.smtp.password == "pw"
    assert FILE_TOKEN not in repr(settings) and "pw" not in repr(settings.smtp)


def test_env_token_wins_and_inline_json_works(tmp_path) -> None:
    args = parse("--public-url", PUBLIC_URL, "--config", json.dumps(ELEMENT["data_model"]))
    settings = cli.settings_from_args(args, environ={"TWILIO_AUTH_TOKEN": ENV_TOKEN})
    assert settings.auth_token == ENV_TOKEN


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--config", "{}"], "--public-url: missing"),
        (["--public-url", PUBLIC_URL, "--config", "{}"], "auth token: missing"),
        (["--public-url", "phone.example.com", "--config", json.dumps({"auth_token": FILE_TOKEN})], "public_url"),
        (
            ["--public-url", PUBLIC_URL, "--config", json.dumps({"auth_token": FILE_TOKEN}), "--ring-seconds", "1"],
            "ring_seconds",
        ),
    ],
)
def test_configuration_errors_exit_2_naming_the_field(capsys, monkeypatch, argv, message) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("TWILIO_WIDGET_PUBLIC_URL", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main(["serve", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_environment_fills_what_the_file_leaves_out_as_the_widget_reads_it(tmp_path) -> None:
    env = {"TWILIO_AUTH_TOKEN": ENV_TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "2" * 32, "TWILIO_CALLER_ID": ALICE,
           "TWILIO_SIP_DOMAIN": "env.sip.twilio.com"}
    from_env = cli.settings_from_args(parse("--public-url", PUBLIC_URL), environ=env)
    assert from_env.callers["me"].caller_id == ALICE and from_env.sip_domain == "env.sip.twilio.com"
    config = json.dumps({**ELEMENT, "ring_seconds": 30})
    from_file = cli.settings_from_args(parse("--public-url", PUBLIC_URL, "--config", config), environ=env)
    assert from_file.account_sid == "AC" + "1" * 32 and from_file.sip_domain == "acme.sip.twilio.com"
    assert list(from_file.callers) == ["alice"] and from_file.ring_seconds == 30
    assert from_file.auth_token == ENV_TOKEN  # a secret in the environment wins


@pytest.mark.parametrize(
    ("config", "environ", "message"),
    [
        ({"auth_token": FILE_TOKEN, "sip_domain": "acme&co"}, {}, "sip_domain: 'acme&co' is not a host name"),
        ({"auth_token": FILE_TOKEN, "sip_domian": "x"}, {}, "unknown option(s) 'sip_domian'"),
        ({}, {"TWILIO_AUTH_TOKEN": "not-a-token-but-a-secret"}, "TWILIO_AUTH_TOKEN (auth_token): not an auth token"),
    ],
)
def test_the_file_and_the_environment_are_checked_as_the_widget_checks_them(config, environ, message) -> None:
    with pytest.raises(ValueError) as info:
        cli.settings_from_args(parse("--public-url", PUBLIC_URL, "--config", json.dumps(config)), environ=environ)
    assert message in str(info.value) and "not-a-token-but-a-secret" not in str(info.value)


def test_serve_in_thread_answers_on_loopback_and_stops(database) -> None:
    import httpx


    settings = RoutingSettings.from_config(
        ELEMENT, public_url=PUBLIC_URL, store_path=database, smtp=None
    )
    handle = serve_in_thread(settings)
    try:
        assert handle.port > 0 and handle.url == f"http://127.0.0.1:{handle.port}"
        assert httpx.get(handle.url + "/healthz").json() == {"status": "ok"}
        assert httpx.post(handle.url + "/status/call", data={"CallSid": "CA1"}).status_code == 403
    finally:
        handle.stop()
    assert not handle.running


def test_settings_from_the_packages_phone_config(database) -> None:
    config = pytest.importorskip("twilio_widget.config", reason="PhoneConfig not importable")
    phone = config.PhoneConfig.from_data_model({
        "account_sid": "AC" + "1" * 32, "auth_token": "a" * 32,
        "callers": [{"user_id": "alice", "caller_id": ALICE, "client_mail": "alice@example.org"}],
        "sip_domain": "acme.sip.twilio.com", "voice_mail_url": "https://example.com/vm.mp3",
    })
    settings = RoutingSettings.from_config(phone, public_url=PUBLIC_URL,
                                           store_path=database)
    assert settings.auth_token == "a" * 32 and settings.account_sid == "AC" + "1" * 32
    assert settings.caller_for_number(ALICE).client_mail == "alice@example.org"
    assert settings.sip_uri(settings.callers["alice"]) == "sip:alice@acme.sip.twilio.com"
    with pytest.raises(ValueError, match="auth_token"):
        RoutingSettings.from_config({"auth_token": "********"}, public_url=PUBLIC_URL)


def test_serve_in_thread_on_a_taken_port_says_so(database) -> None:
    import socket

    settings = RoutingSettings.from_config(ELEMENT, public_url=PUBLIC_URL,
                                           store_path=database, smtp=None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RuntimeError, match="cannot listen on 127.0.0.1"):
            serve_in_thread(settings, port=taken.getsockname()[1], startup_timeout=5)


def test_database_takes_a_postgresql_url_as_given(tmp_path) -> None:
    url = "postgresql://phone@db.example.com:5432/phone?sslmode=require"
    args = parse("--public-url", PUBLIC_URL, "--config", json.dumps(ELEMENT), "--database", url)
    assert cli.settings_from_args(args, environ={}).store_path == url


def test_several_workers_need_postgresql(tmp_path, capsys) -> None:
    argv = ["serve", "--public-url", PUBLIC_URL, "--config", json.dumps(ELEMENT), "--workers", "2",
            "--database", str(tmp_path / "one-writer.sqlite3")]
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert "--workers: several workers need a postgresql:// --database" in capsys.readouterr().err


def test_team_leads_come_from_the_file_or_the_flags() -> None:
    config = json.dumps({**ELEMENT, "team_leads": ["alice"]})
    from_file = cli.settings_from_args(parse("--public-url", PUBLIC_URL, "--config", config), environ={})
    assert from_file.team_leads == {"alice"}
    plain = cli.settings_from_args(parse("--public-url", PUBLIC_URL, "--config", json.dumps(ELEMENT)), environ={})
    assert plain.team_leads == set()
    with pytest.raises(ValueError, match="team_leads: 'bob' not among the callers' user ids"):
        cli.settings_from_args(parse("--public-url", PUBLIC_URL, "--config", config, "--team-lead", "bob"), environ={})
