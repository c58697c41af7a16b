"""``twilio-widget`` command line: run the webhook service with uvicorn.

    twilio-widget serve --public-url https://phone.example.com [--host 0.0.0.0 --port 8080]
                        [--store PATH] [--config element.json]

Secrets do not go on the command line (other users can read it): the auth token comes from
the configuration file or ``TWILIO_AUTH_TOKEN``, the SMTP password from
``TWILIO_WIDGET_SMTP_PASSWORD``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import routing
from .routing import twiml
from .routing.settings import RoutingSettings, SmtpSettings

ENV_TOKEN = "TWILIO_AUTH_TOKEN"
ENV_ACCOUNT = "TWILIO_ACCOUNT_SID"
ENV_PUBLIC_URL = "TWILIO_WIDGET_PUBLIC_URL"
ENV_SMTP_PASSWORD = "TWILIO_WIDGET_SMTP_PASSWORD"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twilio-widget", description="Twilio phone panel for Jupyter: tools."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the webhook service Twilio calls (TwiML, status callbacks, SMS)",
        description="Run the routing service. Point the Twilio number's Voice and Messaging "
        "webhooks and the TwiML App's Voice URL at --public-url (see "
        "docs/deployment.md).",
    )
    serve.add_argument(
        "--public-url",
        default=os.environ.get(ENV_PUBLIC_URL),
        help="the URL Twilio uses to reach this service (signatures are checked "
        f"against it); default ${ENV_PUBLIC_URL}",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    serve.add_argument(
        "--store",
        type=Path,
        default=None,
        help="SQLite file for events, threads, opt-outs, outbox (twilio-widget.sqlite3)",
    )
    serve.add_argument(
        "--config",
        default=None,
        help="the element's configuration: a JSON file or inline JSON (its data "
        "model: auth_token, callers, sip_domain, voice_mail_url; optional "
        "'smtp' object)",
    )
    serve.add_argument(
        "--ring-seconds", type=int, default=None, help="how long the browser rings (20)"
    )
    serve.add_argument(
        "--sip-seconds", type=int, default=None, help="how long the SIP phone rings (20)"
    )
    serve.add_argument(
        "--voicemail-max-seconds", type=int, default=None, help="longest voicemail recorded (120)"
    )
    serve.add_argument("--smtp-host", default=None, help="SMTP server for voicemail/SMS mail")
    serve.add_argument("--smtp-port", type=int, default=None)
    serve.add_argument(
        "--smtp-user", default=None, help=f"SMTP login (password from ${ENV_SMTP_PASSWORD})"
    )
    serve.add_argument("--smtp-from", default=None, help="sender address of the mail")
    tls = serve.add_mutually_exclusive_group()
    tls.add_argument("--smtp-starttls", action="store_true", default=None)
    tls.add_argument("--smtp-ssl", action="store_true", default=None)
    serve.add_argument(
        "--durability",
        choices=["FULL", "NORMAL"],
        default=None,
        help="SQLite synchronous level: FULL survives power loss (default), "
        "NORMAL survives crashes of the process",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    return parser


def load_config(value: str | None) -> dict[str, Any]:
    """The configuration from a JSON file path or inline JSON ({} when None)."""
    if not value:
        return {}
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("--config: expected a JSON object")
    if isinstance(data.get("data_model"), dict):
        data = {**data["data_model"], **{k: v for k, v in data.items() if k != "data_model"}}
    return data


def settings_from_args(
    args: argparse.Namespace, environ: dict[str, str] | None = None
) -> RoutingSettings:
    env = dict(os.environ if environ is None else environ)
    if not args.public_url:
        raise ValueError(f"--public-url: missing (or set {ENV_PUBLIC_URL})")
    config = load_config(args.config)
    if env.get(ENV_TOKEN):
        config["auth_token"] = env[ENV_TOKEN]
    if env.get(ENV_ACCOUNT) and not config.get("account_sid"):
        config["account_sid"] = env[ENV_ACCOUNT]
    if not config.get("auth_token"):
        raise ValueError(f"auth token: missing (put it in --config or set {ENV_TOKEN})")

    smtp = dict(config.get("smtp") or {})
    for key, value in (
        ("host", args.smtp_host),
        ("port", args.smtp_port),
        ("username", args.smtp_user),
        ("sender", args.smtp_from),
        ("starttls", args.smtp_starttls),
        ("ssl", args.smtp_ssl),
    ):
        if value is not None:
            smtp[key] = value
    if env.get(ENV_SMTP_PASSWORD):
        smtp["password"] = env[ENV_SMTP_PASSWORD]
    config["smtp"] = SmtpSettings.from_mapping(smtp)

    overrides: dict[str, Any] = {}
    for name in ("ring_seconds", "sip_seconds", "voicemail_max_seconds", "durability"):
        value = getattr(args, name)
        if value is None:
            value = config.get(name)
        if value is not None:
            overrides[name] = value
    overrides["store_path"] = args.store or config.get("store_path") or "twilio-widget.sqlite3"
    return RoutingSettings.from_config(config, public_url=args.public_url, **overrides)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_from_args(args)
    app = routing.create_app(settings)
    print(
        f"twilio-widget: listening on http://{args.host}:{args.port}, store {settings.store_path}",
        file=sys.stderr,
    )
    for label, path in (
        ("TwiML App Voice URL", twiml.VOICE_OUTGOING),
        ("number: A call comes in", twiml.VOICE_INCOMING),
        ("number: A message comes in", twiml.SMS_INCOMING),
        ("call status callback", twiml.STATUS_CALL),
        ("message status callback", twiml.STATUS_MESSAGE),
    ):
        print(f"  {label:<28} POST {settings.url(path)}", file=sys.stderr)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level in ("info", "debug"),
        lifespan="on",
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
    except (ValueError, OSError) as exc:  # configuration problems: say which, no traceback
        parser.exit(2, f"twilio-widget: error: {exc}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
