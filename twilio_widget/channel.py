"""The panel's commands over anywidget's custom messages: a channel of our own.

Panel -> kernel ``{"type": "twp:request", "id", "cmd", "args"}`` is answered with
``{"type": "twp:response", "id", "ok": true, "result"}`` or ``{..., "ok": false, "error"}``.
It needs nothing but custom messages, which every widget frontend has (JupyterLab, Notebook 7,
VS Code, Colab, marimo), where ``anywidget.experimental`` does not. Every request is answered:
an unknown command or a bug comes back as an error payload, never as silence for the panel to
time out on. Handlers run on the kernel's message loop and return at once; work that asks
Twilio goes to the phone's worker (see ``runners.py``).

Kernel -> panel ``{"type": "twp:device", "action", "args"}`` asks the panel's Voice SDK Device
to act; the panel reports what followed through commands (``cmd_call_event``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import traitlets

from .backends.base import TwilioError
from .payloads import DeviceRequest, PanelError, Request, Response, error_payload

logger = logging.getLogger(__name__)
REQUEST, RESPONSE, DEVICE = "twp:request", "twp:response", "twp:device"
#: Failures a command reports as they are; anything else is a bug, logged and reported as one.
EXPECTED = (TwilioError, ValueError, KeyError, traitlets.TraitError)
Handler = Callable[..., dict[str, Any]]


def panel_command(method: Callable[..., dict[str, Any] | None] | None = None, *, user_action: bool = True):
    """Make a method a panel command: ``cmd(args) -> {"ok": ..., ...}``.

    A user's action starts by clearing the last error (its own failure, even one found later
    by background work, then shows); the panel's own requests (polls, device reports) leave
    the error shown until the user acts or dismisses it. The phone must have ``error`` and
    ``report(exc) -> PanelError``.
    """
    if method is None:
        return functools.partial(panel_command, user_action=user_action)

    @functools.wraps(method)
    def handler(self: Any, args: dict[str, Any] | None = None) -> dict[str, Any]:
        if user_action:
            self.error = None
        try:
            result = method(self, **(args or {}))
        except EXPECTED as exc:
            return {"ok": False, "error": self.report(exc)}
        except Exception as exc:  # a bug: say so on the panel rather than leave the command unanswered
            logger.exception("panel command %s failed", method.__name__)
            failure = RuntimeError(f"{method.__name__.removeprefix('cmd_')} failed: {type(exc).__name__}: {exc}")
            return {"ok": False, "error": self.report(failure)}
        return {"ok": True, **(result or {})}

    handler.panel_command = True  # type: ignore[attr-defined]
    return handler


def commands_of(cls: type) -> dict[str, Handler]:
    """The panel commands a class answers, by name."""
    return {name: member for klass in reversed(cls.__mro__) for name, member in vars(klass).items()
            if getattr(member, "panel_command", False)}


class CommandChannel:
    """Answers a widget's ``twp:request`` messages, and sends its ``twp:device`` requests."""

    def __init__(self, widget: Any) -> None:
        self._widget = widget
        self._commands = commands_of(type(widget))
        widget.on_msg(self._received)

    def _received(self, widget: Any, content: Any, buffers: list[bytes]) -> None:
        if isinstance(content, dict) and content.get("type") == REQUEST:
            self._widget.send(self.answer(content))

    def answer(self, request: Request) -> Response:
        """The response to one request (this is all a frontend sees of a command)."""
        request_id = str(request.get("id", ""))
        name, args = request.get("cmd"), request.get("args", {})
        handler = self._commands.get(name) if isinstance(name, str) else None
        if handler is None:
            return _failed(request_id, {"message": f"Unknown command {name!r}: the panel and the kernel's "
                                                   "twilio-widget differ; restart the kernel", "code": None})
        if not isinstance(args, dict):
            return _failed(request_id, {"message": f"{name}: its arguments must be an object", "code": None})
        try:
            response = handler(self._widget, args)
        except Exception as exc:  # the handler reports its own failures; this is the last guard
            logger.exception("panel command %s failed", name)
            return _failed(request_id, error_payload(exc))
        ok = response.pop("ok")
        if not ok:
            return _failed(request_id, response["error"])
        return {"type": RESPONSE, "id": request_id, "ok": True, "result": response}

    def tell_device(self, action: str, **args: Any) -> None:
        """Ask the displayed panel's Device to dial, hang up, mute or send digits. Returns at
        once: a cell holds the kernel's message loop, so the panel's reports can only arrive
        after it ends."""
        message: DeviceRequest = {"type": DEVICE, "action": action, "args": args}  # type: ignore[typeddict-item]
        self._widget.send(message)


def _failed(request_id: str, error: PanelError) -> Response:
    return {"type": RESPONSE, "id": request_id, "ok": False, "error": error}
