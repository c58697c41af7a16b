"""``twilio-widget`` command line: run the webhook service with uvicorn.

    twilio-widget serve --public-url https://phone.example.com [--host 0.0.0.0 --port 8080]
                        [--store PATH] [--config element.json]
    twilio-widget token USER_ID          # a user's token for phone.connect (the team API)

The element's options are read as the widget reads them (``PhoneConfig``): from the
configuration file, checked with errors naming each option, and from the ``TWILIO_*``
variables ``PhoneConfig.from_env`` knows, which fill what the file leaves empty. Secrets do
not go on the command line (other users can read it): the auth token comes from
``TWILIO_AUTH_TOKEN`` (or the file), the SMTP password from ``TWILIO_WIDGET_SMTP_PASSWORD``,
the team secret that signs the users' API tokens from ``TWILIO_WIDGET_TEAM_SECRET``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import routing
from .config import ENVIRONMENT, PhoneConfig
from .config.phone import SECRET_OPTIONS
from .config.secrets import usable
from .routing import twiml
from .routing.settings import RoutingSettings
from .routing.store import is_postgres
from .routing.store.engines import redacted

ENV_PUBLIC_URL = "TWILIO_WIDGET_PUBLIC_URL"
ENV_SMTP_PASSWORD = "TWILIO_WIDGET_SMTP_PASSWORD"
ENV_TEAM_SECRET = "TWILIO_WIDGET_TEAM_SECRET"
#: The database URL holds a password: it may come from the environment instead of the command line.
ENV_DATABASE = "TWILIO_WIDGET_DATABASE"
#: How `serve --workers N` hands its arguments (never secrets: those stay in the environment) to
#: the worker processes, which build their app with ``worker_app``.
ENV_WORKER_ARGS = "TWILIO_WIDGET_SERVE_ARGS"
#: Settings of the service alone that a configuration file may carry beside the element's options.
SERVICE_KEYS = ("ring_seconds", "sip_seconds", "voicemail_max_seconds", "durability", "store_path", "team_leads")
#: The options PhoneConfig.from_env can set: those a TWILIO_* variable names, and the callers
#: (its TWILIO_CALLER_ID and TWILIO_CLIENT_MAIL make one).
_ENVIRONMENT_OPTIONS = {f.name for f in dataclasses.fields(PhoneConfig) if f.name in ENVIRONMENT} | {"callers"}


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
        "--database",
        "--store",
        dest="store",
        default=os.environ.get(ENV_DATABASE) or None,
        help="where events, threads, opt-outs and the outbox live: a SQLite file "
        "(twilio-widget.sqlite3) or a postgresql:// URL (a team's service, several workers); "
        f"default ${ENV_DATABASE}",
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
        "--workers",
        type=int,
        default=1,
        help="worker processes (1); more than one needs a postgresql:// --database, which "
        "keeps them in step: a dead worker is replaced, the others serve on",
    )
    serve.add_argument(
        "--team-lead",
        dest="team_leads",
        action="append",
        default=None,
        metavar="USER_ID",
        help="a caller who reads every user's calling-session outcomes through the team API "
        "(repeat for several; the configuration file's team_leads otherwise)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    token = commands.add_parser(
        "token",
        help="print a user's token for the team API (phone.connect)",
        description=f"Print the API token of one configured user, signed with ${ENV_TEAM_SECRET} "
        "(the service must run with the same secret). Give it to that user only.",
    )
    token.add_argument("user_id", help="the user's user_id (their browser identity)")
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
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> RoutingSettings:
    env = os.environ if environ is None else environ
    if not args.public_url:
        raise ValueError(f"--public-url: missing (or set {ENV_PUBLIC_URL})")
    options = load_config(args.config)
    service = {key: options.pop(key) for key in SERVICE_KEYS if options.get(key) is not None}
    options["smtp"] = _smtp_options(options.get("smtp"), args, env)
    config = element_config(options, env)
    if not usable(config.auth_token):
        raise ValueError(f"auth token: missing (put it in --config or set {ENVIRONMENT['auth_token']})")
    for name in ("ring_seconds", "sip_seconds", "voicemail_max_seconds", "durability", "team_leads"):
        if getattr(args, name) is not None:  # a flag wins over the file
            service[name] = getattr(args, name)
    service["store_path"] = args.store or service.get("store_path") or "twilio-widget.sqlite3"
    service["team_secret"] = env.get(ENV_TEAM_SECRET) or None
    return RoutingSettings.from_config(config, public_url=args.public_url, **service)


def element_config(options: Mapping[str, Any], environ: Mapping[str, str]) -> PhoneConfig:
    """The element's configuration: the file's options, checked as the widget checks them, with
    the environment (read by ``PhoneConfig.from_env``) filling what the file leaves empty. A
    secret the environment holds wins over the file's: secrets belong in the environment."""
    in_file = PhoneConfig.from_data_model(options)
    kept = {name: value for name, value in vars(in_file).items()
            if name not in _ENVIRONMENT_OPTIONS or (value and not _environment_has_secret(name, environ))}
    return PhoneConfig.from_env(environ, **kept)


def _environment_has_secret(option: str, environ: Mapping[str, str]) -> bool:
    return option in SECRET_OPTIONS and bool(environ.get(ENVIRONMENT[option], "").strip())


def _smtp_options(given: Any, args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """The file's ``smtp`` object with the --smtp-* flags and the password from the environment
    laid over it (the config reads and checks the result)."""
    if given is not None and not isinstance(given, Mapping):
        return given  # not an object: the config names the problem
    smtp = dict(given or {})
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
    if environ.get(ENV_SMTP_PASSWORD):
        smtp["password"] = environ[ENV_SMTP_PASSWORD]
    return smtp


def serve(args: argparse.Namespace, argv: Sequence[str] = ()) -> int:
    import uvicorn

    settings = settings_from_args(args)
    if args.workers < 1:
        raise ValueError(f"--workers: {args.workers} is not a number of processes")
    if args.workers > 1 and not is_postgres(settings.store_path):
        raise ValueError("--workers: several workers need a postgresql:// --database (a SQLite file has one writer)")
    app: Any = routing.create_app(settings) if args.workers == 1 else "twilio_widget.cli:worker_app"
    if args.workers > 1:
        os.environ[ENV_WORKER_ARGS] = json.dumps(list(argv))
    print(
        f"twilio-widget: listening on http://{args.host}:{args.port} ({args.workers} worker(s)), "
        f"store {redacted(str(settings.store_path))}",
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
    freeze_startup_objects()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level in ("info", "debug"),
        lifespan="on",
        workers=args.workers,
        factory=args.workers > 1,
        timeout_graceful_shutdown=5,  # webhooks take milliseconds; the team's event streams never end
    )
    return 0


def worker_app() -> Any:
    """The app of one worker process of ``serve --workers N``: the same arguments, read again."""
    args = build_parser().parse_args(json.loads(os.environ[ENV_WORKER_ARGS]))
    app = routing.create_app(settings_from_args(args))
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Keep what the service loaded at start out of the collector's full passes (gc.freeze): a
    full pass over every module's objects stalled all requests for tens of milliseconds, and the
    workers, under one load, made theirs at the same moment. The service is a process of its own
    (the in-kernel service does not do this: it would freeze the notebook's objects too)."""
    import gc

    gc.collect()
    gc.freeze()


def token(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    from .routing.team import user_token
    from .voice import identity_for

    secret = (os.environ if environ is None else environ).get(ENV_TEAM_SECRET, "")
    if len(secret) < 16:
        raise ValueError(f"{ENV_TEAM_SECRET}: missing or shorter than 16 characters")
    print(user_token(secret, identity_for(args.user_id)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args, sys.argv[1:] if argv is None else argv)
        if args.command == "token":
            return token(args)
    except (ValueError, OSError, routing.StoreUnavailable) as exc:  # say which, no traceback
        parser.exit(2, f"twilio-widget: error: {exc}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
