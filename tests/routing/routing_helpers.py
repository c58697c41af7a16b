"""Helpers and fixtures for the routing tests: settings, signed requests, loopback SMTP, and
the database every routing test runs on twice: a SQLite file, then a PostgreSQL schema of its
own on a throwaway server (scripts/throwaway_postgres.py) started once for the session."""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from twilio_widget.backends.base import Event, EventHub, TwilioError
from twilio_widget.config.hours import CallingHours
from twilio_widget.config.rules import RulesSettings
from twilio_widget.routing import CallerRoute, RoutingSettings, SmtpSettings, Store, create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from throwaway_postgres import ThrowawayPostgres, unavailable_reason  # noqa: E402

#: Set to a server's URL to run the PostgreSQL half on it instead of a throwaway one.
ENV_TEST_DATABASE = "TWILIO_WIDGET_TEST_DATABASE"
ENGINES = ("sqlite", "postgresql")
_schemas = itertools.count(1)
#: The database of the test that runs now (make_settings' default store).
current_database: str | Path | None = None

PUBLIC_URL = "https://hooks.example.com/twilio"
TOKEN = "7e57" + "0123456789abcdef" + "a17b0c3d5e6f"  # a made-up auth token, shaped like one
ACCOUNT = "AC" + "0" * 32
ALICE = "+14155550100"
BOB = "+14155550101"
LEAD = "+14155550199"
CAROL = "+14155550102"  # the team lead's number (team_settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign(
    params: Mapping[str, str] | None,
    path: str,
    *,
    query: str = "",
    token: str = TOKEN,
    public_url: str = PUBLIC_URL,
) -> str:
    url = public_url + path + (f"?{query}" if query else "")
    return RequestValidator(token).compute_signature(url, dict(params or {}))


class Twilio:
    """Posts webhooks the way Twilio does: urlencoded form, X-Twilio-Signature."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        query: str = "",
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        sig = sign(params, path, query=query) if signature is None else signature
        hdrs = {"X-Twilio-Signature": sig, **(headers or {})}
        if signature == "":
            hdrs.pop("X-Twilio-Signature")
        url = path + (f"?{query}" if query else "")
        return self.client.post(url, data=dict(params), headers=hdrs)


class FakeBackend:
    """Sends nothing anywhere: keeps what it was asked to send (with its StatusCallback), or
    fails as Twilio would with ``fail``."""

    def __init__(self, fail: TwilioError | None = None) -> None:
        self.fail = fail
        self.sent: list[tuple[str, str, str, str | None]] = []

    def send_message(self, to: str, from_: str, body: str, status_callback: str | None = None):
        if self.fail:
            raise self.fail
        self.sent.append((to, from_, body, status_callback))
        return {
            "sid": f"SM{len(self.sent):032d}",
            "status": "queued",
            "direction": "outbound-api",
            "from": from_,
            "to": to,
            "body": body,
        }


class Recorder:
    def __init__(self, hub: EventHub) -> None:
        self.events: list[Event] = []
        hub.subscribe(self.events.append)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def make_settings(tmp_path: Path, **changes: Any) -> RoutingSettings:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "auth_token": TOKEN,
        "account_sid": ACCOUNT,
        "callers": {
            "alice": CallerRoute("alice", ALICE, "alice@example.org"),
            "bob": CallerRoute("bob", BOB, None),
        },
        "sip_domain": "acme.sip.twilio.com",
        "voice_mail_url": "https://example.com/voicemail.mp3",
        "ring_seconds": 15,
        "sip_seconds": 25,
        "voicemail_max_seconds": 90,
        "store_path": current_database or tmp_path / "routing.sqlite3",
        "max_body_bytes": 8 * 1024,
        # every hour a calling hour, so the flows do not depend on when the tests run; the rules'
        # own tests set theirs (test_rules_in_the_service.py)
        "rules": RulesSettings(calling_hours=CallingHours.parse({"default": "0:00-24:00"}),
                               do_not_call_path=str(tmp_path / "do-not-call.sqlite3")),
    }
    values.update(changes)
    return RoutingSettings(**values)


def team_settings(tmp_path: Path, secret: str) -> RoutingSettings:
    """A team's service: Alice and Bob call, Carol calls and leads (reads everyone's outcomes)."""
    callers = {"alice": CallerRoute("alice", ALICE), "bob": CallerRoute("bob", BOB),
               "carol": CallerRoute("carol", CAROL)}
    return make_settings(tmp_path, team_secret=secret, callers=callers, team_leads=["carol"])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """The URL of a PostgreSQL server for the session; None (the PostgreSQL tests skip saying
    why) where there is none, except under CI=true, where they must run."""
    given = os.environ.get(ENV_TEST_DATABASE)
    if given:
        yield given
        return
    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no PostgreSQL: {reason}")
        yield None
        return
    with ThrowawayPostgres(fsync=False) as server:
        yield server.url


def fresh_schema(server: str) -> str:
    """A URL whose connections work in a new, empty schema of ``server``'s database."""
    import psycopg

    name = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    joiner = "&" if "?" in server else "?"
    return f"{server}{joiner}options=-csearch_path%3D{name}"


@pytest.fixture(params=ENGINES, autouse=True)
def database(request, tmp_path: Path, postgres_server) -> Iterator[str | Path]:
    """Where this test's store lives: a SQLite file, or an empty PostgreSQL schema."""
    global current_database
    if request.param == "sqlite":
        target: str | Path = tmp_path / "routing.sqlite3"
    elif postgres_server is None:
        pytest.skip(f"PostgreSQL: {unavailable_reason()}")
    else:
        target = fresh_schema(postgres_server)
    current_database = target
    yield target
    current_database = None


@pytest.fixture
def settings(tmp_path: Path) -> RoutingSettings:
    return make_settings(tmp_path)


@pytest.fixture
def hub() -> EventHub:
    return EventHub()


@pytest.fixture
def recorder(hub: EventHub) -> Recorder:
    return Recorder(hub)


@pytest.fixture
def store(settings: RoutingSettings) -> Iterator[Store]:
    with Store(settings.store_path) as s:
        yield s


@pytest.fixture
def twilio(settings: RoutingSettings, store: Store, hub: EventHub) -> Iterator[Twilio]:
    with TestClient(create_app(settings, store, hub), raise_server_exceptions=True) as client:
        yield Twilio(client)


class Inbox:
    """An aiosmtpd handler that keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "data": envelope.content.decode("utf-8", "replace"),
            }
        )
        return "250 OK"

    def wait(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@contextlib.contextmanager
def smtp_server(port: int, login: tuple[str, str] | None = None) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on loopback at ``port``, keeping what it receives; with
    ``login`` (user, password) it takes mail only from a client that logged in with it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticate(server, session, envelope, mechanism, data) -> AuthResult:
        given = (data.login.decode(), data.password.decode()) if isinstance(data, LoginPassword) else None
        return AuthResult(success=given == login)

    inbox = Inbox()
    auth = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False} if login else {}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **auth)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSettings, Inbox]]:
    port = free_port()
    with smtp_server(port) as inbox:
        yield SmtpSettings(host="127.0.0.1", port=port, sender="phone@example.org", timeout=5), inbox
