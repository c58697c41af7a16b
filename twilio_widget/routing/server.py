"""The webhook service: a Starlette ASGI app Twilio asks what to do with calls and messages.

Every request goes through the same gate, in this order:

1. body larger than ``max_body_bytes``              -> 413
2. body that is not a readable urlencoded form        -> 400
3. ``X-Twilio-Signature`` missing or not matching      -> 403 (nothing stored, nothing emitted)
   the signature is computed over ``public_url + route path + query`` -- the URL Twilio
   used -- never over the Host header or scheme the service sees behind a proxy or tunnel.
4. missing or malformed parameters                    -> 400 with the reason
5. the flow: events are committed to the store *before* the 200 is sent; news (not a
   Twilio retry) is then emitted to the hub; mail goes out after the answer.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from twilio.request_validator import RequestValidator

from ..backends.base import EventHub
from . import twiml
from .gate import ClientGone, Problem, headers_of, read_form, verify_signature
from .handlers import ROUTES, Context, Handler
from .mail import Mailer, MailRetry
from .settings import RoutingSettings
from .store import Store, StoreUnavailable, is_postgres
from .team import TeamApi

__all__ = ["ROUTES", "RoutingApp", "ServerHandle", "Webhook", "create_app", "serve_in_thread"]

log = logging.getLogger(__name__)


class Webhook:
    """One webhook route as a plain ASGI app: the gate, then its handler, then the answer.

    Every failure the gate or the handler names becomes its status here (a bug still gets 500,
    logged), so the framework's middleware has nothing left to do for a webhook;
    :class:`RoutingApp` hands a POST straight to it.
    """

    def __init__(self, ctx: Context, path: str, handler: Handler) -> None:
        self.ctx, self.path, self.handler = ctx, path, handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(scope, receive)
        await response(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive) -> Response:
        ctx = self.ctx
        try:
            headers = headers_of(scope)
            form = await read_form(receive, headers, ctx.settings.max_body_bytes)
            verify_signature(ctx.settings, ctx.validator, scope, headers, self.path, form)
            return await self.handler(ctx, form)
        except Problem as problem:
            if problem.status == 403:
                log.warning("refused %s: %s", self.path, problem.reason)
            return PlainTextResponse(problem.reason, status_code=problem.status)
        except twiml.BadParams as exc:
            return PlainTextResponse(f"bad request: {exc}", status_code=400)
        except ClientGone as gone:  # nothing was stored; Twilio sends the request again
            log.info("%s: %s", self.path, gone)
            return Response(status_code=400)
        except StoreUnavailable as exc:  # nothing acknowledged is lost: Twilio retries a 503
            return PlainTextResponse(f"store unavailable: {exc}", status_code=503, headers={"Retry-After": "1"})
        except Exception:
            log.exception("%s failed", self.path)
            return PlainTextResponse("Internal Server Error", status_code=500)


class RoutingApp(Starlette):
    """The Starlette app, with a short way in for Twilio's webhooks: a POST to a webhook path goes
    straight to its :class:`Webhook` (no middleware stack, no route matching: at a few thousand
    callbacks a second that is a good part of the service's CPU). Everything else (the lifespan,
    the team API, a GET on a webhook path, a trailing slash) takes Starlette's usual way, which
    reaches the same :class:`Webhook` objects through the routes."""

    def __init__(self, webhooks: dict[str, Webhook], **kwargs: Any) -> None:
        routes = [Route(path, hook, methods=["POST"], name=path.strip("/").replace("/", "-"))
                  for path, hook in webhooks.items()]
        super().__init__(routes=routes + kwargs.pop("routes", []), **kwargs)
        self.webhooks = webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            hook = self.webhooks.get(scope["path"])
            if hook is not None and not scope.get("root_path"):
                scope["app"] = self
                await hook(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(
    settings: RoutingSettings,
    store: Store | None = None,
    hub: EventHub | None = None,
    *,
    mailer: Mailer | None = None,
    backend: Any = None,
) -> RoutingApp:
    """The ASGI app. ``store`` defaults to one at ``settings.store_path`` (closed with the app);
    ``mailer`` defaults to one for ``settings.smtp`` when that is set. With a team secret in the
    settings the team API is served too (``team.py``); ``backend`` sends its texts (by default
    the account's REST API)."""
    own_store = store is None
    if store is None:
        store = Store(settings.store_path, durability=settings.durability)
    if mailer is None and settings.smtp is not None:
        mailer = Mailer(settings.smtp)
    from ..rules import CallingRules, DoNotCall, dnc

    # The list is the store's own file; beside a PostgreSQL store it is the configured file (STOP
    # opt-outs are then checked by the store itself, for texts).
    listed = settings.rules.do_not_call_path or (dnc.DEFAULT_PATH if is_postgres(store.path) else store.path)
    rules = CallingRules(settings.rules.calling_hours, DoNotCall(listed, region=settings.default_region))
    ctx = Context(settings, store, hub, mailer, RequestValidator(settings.auth_token), rules)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What the SMTP server refused (before a restart, or while it was down) goes out again.
        retry = MailRetry(store, mailer, settings.mail_retry_seconds) if mailer is not None else None
        if retry is not None:
            retry.start()
        try:
            yield
        finally:
            if retry is not None:
                retry.stop()
            rules.close()
            if own_store:
                store.close()

    webhooks = {path: Webhook(ctx, path, handler) for path, handler in ROUTES.items()}
    routes = [Route("/healthz", health, methods=["GET"])]
    if settings.team_secret is not None:
        routes += TeamApi(settings, store, backend, rules).routes()
    app = RoutingApp(webhooks, routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.hub = hub
    app.state.mailer = mailer
    return app


# --- running it in the notebook ------------------------------------------------------------


@dataclass
class ServerHandle:
    """A service running in a background thread: its local URL, its store, a way to stop it."""

    host: str
    port: int
    public_url: str
    store: Store
    app: Starlette = field(repr=False)
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    settings: RoutingSettings,
    host: str = "127.0.0.1",
    port: int = 0,
    hub: EventHub | None = None,
    *,
    store: Store | None = None,
    mailer: Mailer | None = None,
    backend: Any = None,
    startup_timeout: float = 15.0,
) -> ServerHandle:
    """Run the service with uvicorn in a daemon thread (the kernel keeps serving the panel).

    ``port=0`` picks a free port; the handle's ``url``/``port`` say which.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"routing service cannot listen on {host}:{port}: {exc.strerror}") from None
    own_store = store is None  # then the app opens it and closes it when it shuts down
    app = create_app(settings, store, hub, mailer=mailer, backend=backend)
    # Open event streams (the team API) never end by themselves: a stop closes them after a second.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="twilio-widget-routing")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            if own_store:
                app.state.store.close()
            raise RuntimeError(f"routing service did not start on {host}:{port}")
        time.sleep(0.02)
    bound = sock.getsockname()[1]
    return ServerHandle(host, int(bound), settings.public_url, app.state.store, app, server, thread)
