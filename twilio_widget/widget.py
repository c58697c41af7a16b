"""TwilioPhone: the phone panel's state (traits) and the commands it sends to the kernel.

Everything the panel shows is a trait; everything it asks for is a command. The kernel keeps
the contacts, the credentials and the backend; the panel only ever sees bounded lists.
"""

from __future__ import annotations

import logging
import pathlib
import threading
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import anywidget
import pandas as pd
import traitlets

from . import voice
from .backends.base import Backend, Event, Simulator, TwilioError
from .backends.sandbox import SandboxBackend
from .backends.twilio import TwilioBackend
from .channel import CommandChannel, panel_command
from .config import ConfigError, PhoneConfig, contacts_from_config
from .contacts import Contacts, InvalidNumber, parse_number
from .frames import ACTIVE_CALL_STATUSES as ACTIVE_CALL
from .frames import PENDING_MESSAGE_STATUSES as PENDING_MESSAGE
from .payloads import error_payload, iso, missing_as_none
from .runners import Background, InlineRunner, Runner, WorkerRunner

logger = logging.getLogger(__name__)
STATIC = pathlib.Path(__file__).parent / "static"
TABS = ("numpad", "history", "messages")
INTERPRETATIONS = ("panel", "default")
#: Seeded sandbox history covers this many contacts; a million-row book seeds no more.
SANDBOX_SEEDED_CONTACTS = 200
#: How the browser's Device reports any end of a call; the lead's leg may know better (busy ...).
GENERIC_END = frozenset({"completed", "canceled"})
#: Bridge mode polls the call's status this often (seconds) until it ends.
BRIDGE_POLL_SECONDS = 1.0
TOKEN_TTL_SECONDS = 3600
#: Without a routing service, the panel re-checks at most this many undelivered messages a poll.
POLLED_MESSAGES = 10
#: Why an empty pad cannot be called (the refusal's message).
EMPTY_PAD = "type a number to call, or pick one of the contact's"


class TwilioPhone(anywidget.AnyWidget):
    """A Twilio phone panel over a DataFrame of contacts.

    >>> phone = TwilioPhone(contacts=leads, fields=["mobile", "office"], name="name")
    >>> phone            # displays the panel; with no credentials it runs on the sandbox
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"
    #: The phone whose browser Device is registered under each identity in this kernel.
    _browser_phones: weakref.WeakValueDictionary[str, TwilioPhone] = weakref.WeakValueDictionary()

    selected_number = traitlets.Unicode("").tag(sync=True)
    selected_display = traitlets.Unicode("").tag(sync=True)
    tab = traitlets.Enum(TABS, default_value="numpad").tag(sync=True)
    interpretation = traitlets.Enum(INTERPRETATIONS, default_value="panel").tag(sync=True)
    multiple_value = traitlets.Bool(True).tag(sync=True)
    numbers = traitlets.List(traitlets.Dict()).tag(sync=True)
    dialpad = traitlets.Unicode("").tag(sync=True)
    #: The kernel's verdict on the pad: the text it checked and, in a few words, why that cannot
    #: be called ("" when it can). The panel disables its call button with the reason while it
    #: shows that very text.
    dialpad_check = traitlets.Dict({"dialpad": "", "problem": "Type a number to call"}).tag(sync=True)
    contact = traitlets.Dict().tag(sync=True)
    call = traitlets.Dict().tag(sync=True)
    incoming = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    history = traitlets.List(traitlets.Dict()).tag(sync=True)
    thread = traitlets.List(traitlets.Dict()).tag(sync=True)
    mode = traitlets.Enum(("sandbox", "twilio", "bridge"), default_value="sandbox").tag(sync=True)
    caller_id = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    device = traitlets.Dict({"status": "off"}).tag(sync=True)
    #: Whether events reach the panel by themselves (the sandbox, or a running routing service);
    #: when False the open panel polls Twilio (``cmd_poll``) for new messages and statuses.
    live_events = traitlets.Bool(True).tag(sync=True)
    #: Names this phone to the panel's JavaScript, which keeps one Voice SDK Device per phone.
    _phone_id = traitlets.Unicode().tag(sync=True)
    history_limit = traitlets.Int(50, min=1, max=500)
    #: The row label of the contact on the panel (None for a number in no contact). Set it to
    #: show another; link it to a widget that picks rows, e.g.
    #: ``ipywidgets.link((phone, "row"), (dropdown, "value"))``. Kernel-side only: labels may
    #: be any hashable, and the panel already shows the contact.
    row = traitlets.Any(None, allow_none=True)

    def __init__(
        self,
        contacts: pd.DataFrame | Contacts | None = None,
        fields: list[str] | None = None,
        *,
        name: str | None = None,
        view: list[str] | None = None,
        region: str = "US",
        display: str | None = None,
        backend: Backend | None = None,
        config: PhoneConfig | None = None,
        user: str | None = None,
        mode: str | None = None,
        bridge_to: str | None = None,
        caller_id: str | None = None,
        runner: Runner | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(_phone_id=uuid.uuid4().hex)
        # What close() undoes, set first: close() runs even when the constructor fails half-way.
        self._unsubscribe: Callable[[], None] = lambda: None
        self._routing = None
        self._background: Background | None = None
        self._lead_leg = ""
        self._ready = False
        #: Messages the panel sent that Twilio has not confirmed (sending) or refused (failed),
        #: by number: kept beside the fetched thread so a refresh cannot wipe them.
        self._local_messages: dict[str, list[dict[str, Any]]] = {}
        self._owns_backend = backend is None
        self._lock = threading.RLock()
        self._incoming_callbacks: list[Callable[[dict[str, Any]], Any]] = []
        self._channel = CommandChannel(self)
        self.config = config or PhoneConfig()
        self.region = region
        # The element's regular_expression option is the display format unless one is given.
        display = self.config.regular_expression if display is None else display
        self.contacts = _as_contacts(contacts, fields, name=name, view=view, region=region,
                                     display=display)
        # The element's options start the traits (keywords below may still change them).
        self.multiple_value, self.interpretation = self.config.multiple_value, self.config.look
        self.backend: Backend = backend or self._default_backend()
        # Where backend work runs: in place for a backend in memory, else on a worker thread.
        self._background = Background(runner or (InlineRunner() if self.backend.in_memory else WorkerRunner()),
                                      self.report)
        self.user = user or (self.config.callers[0].user_id if self.config.callers else "")
        self.identity = voice.identity_for(self.user)
        self.caller_id = self._caller_id(caller_id)
        self.bridge_to = parse_number(bridge_to, region, field="bridge_to") if bridge_to else ""
        if mode == "bridge" and not self.bridge_to:
            raise ValueError("bridge_to: bridge mode rings your own phone first; give its number")
        self.mode = mode or ("sandbox" if self.backend.simulator is not None else "twilio")
        self.live_events = self.backend.pushes_events
        self._unsubscribe = self.backend.subscribe(self._on_event)
        self._position = 0
        if len(self.contacts):
            self.select(self.contacts.key_at(0))
        for trait, value in kwargs.items():  # last: the contacts and the first selection exist
            if not self.has_trait(trait):
                raise TypeError(f"TwilioPhone() got an unexpected keyword argument {trait!r}")
            setattr(self, trait, value)
        self._ready = True
        self._claim_identity()

    @classmethod
    def from_env(cls, contacts: pd.DataFrame | Contacts | None = None, fields: list[str] | None = None, *,
                 environ: dict[str, str] | None = None, **kwargs: Any) -> TwilioPhone:
        """A phone on the account named by the TWILIO_* environment variables (see ``PhoneConfig.from_env``);
        on the sandbox when they name none."""
        return cls(contacts, fields, config=PhoneConfig.from_env(environ), **kwargs)

    @classmethod
    def from_data_model(cls, data_model: dict[str, Any], sources: dict[str, pd.DataFrame], *,
                        names: dict[str, str] | None = None, region: str = "US", **kwargs: Any) -> TwilioPhone:
        """A phone configured by the element's data model; ``sources`` maps each ``app_id`` to its DataFrame."""
        config = PhoneConfig.from_data_model(data_model)
        contacts = contacts_from_config(config, sources, region, names=names)
        return cls(contacts, config=config, region=region, **kwargs)

    @property
    def data_model(self) -> dict[str, Any]:
        """The element's data model for this phone; the auth token and SMTP password masked."""
        return self.export_data_model()

    def export_data_model(self, include_secrets: bool = False) -> dict[str, Any]:
        """The element's data model; ``include_secrets=True`` writes the real auth token and SMTP password."""
        return self.config.to_data_model(include_secrets=include_secrets)

    # The config follows the panel's options, so it (and every export) says what the panel shows.

    @traitlets.observe("multiple_value")
    def _keep_multiple_value(self, change: dict[str, Any]) -> None:
        self.config = self.config.replace(multiple_value=change["new"])

    @traitlets.observe("interpretation")
    def _keep_look(self, change: dict[str, Any]) -> None:
        if self.config.look != change["new"]:  # an unchanged look keeps the element's list as written
            self.config = self.config.replace(interpretation=[change["new"]])

    def _default_backend(self) -> Backend:
        if not self.config.has_credentials:
            return self._sandbox_for(self.contacts)
        return TwilioBackend.from_credentials(
            self.config.account_sid, self.config.auth_token or None,
            api_key=self.config.api_key_sid or None, api_secret=self.config.api_key_secret or None)

    def _caller_id(self, explicit: str | None) -> str:
        if explicit:
            return parse_number(explicit, self.region, field="caller_id")
        caller = self.config.caller(self.user) if self.user else None
        if caller and caller.caller_id:
            return caller.caller_id
        return self.backend.own_number

    @traitlets.validate("mode")
    def _valid_mode(self, proposal: dict[str, Any]) -> str:
        mode = proposal["value"]
        if mode == "sandbox" and self.backend.simulator is None:
            raise traitlets.TraitError("mode: 'sandbox' simulates calls and needs the sandbox backend")
        if mode == "bridge" and not self.bridge_to:
            raise traitlets.TraitError("mode: 'bridge' rings your own phone first; set bridge_to to its number")
        return mode

    @traitlets.observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        if self._ready:  # a phone being built claims its identity once it is whole
            self._claim_identity()

    def _claim_identity(self) -> None:
        """One browser Device per identity in a kernel: a phone that starts calling from the
        browser closes the older one registered under the same identity (a re-run cell would
        otherwise ring twice)."""
        if self.mode != "twilio":
            return
        older = self._browser_phones.get(self.identity)
        if older is not None and older is not self and older.mode == "twilio":
            older.close()
        self._browser_phones[self.identity] = self

    # -- contacts and selection ----------------------------------------------------------

    def select(self, key: Any) -> None:
        """Show the contact whose row label is ``key`` and select its first number."""
        position = self.contacts.position(key)
        self._show_contact(position)

    def next(self) -> None:
        """Move to the next contact (wraps around)."""
        if len(self.contacts):
            self._show_contact((self._position + 1) % len(self.contacts))

    def previous(self) -> None:
        """Move to the previous contact (wraps around)."""
        if len(self.contacts):
            self._show_contact((self._position - 1) % len(self.contacts))

    @property
    def current(self) -> Any:
        """The row label of the contact on the panel (the same as ``row``)."""
        return self.row

    @traitlets.validate("row")
    def _known_row(self, proposal: dict[str, Any]) -> Any:
        key = proposal["value"]
        if key is not None:
            self.contacts.position(key)  # a KeyError naming the label, before anything changes
        return key

    @traitlets.observe("row")
    def _row_chosen(self, change: dict[str, Any]) -> None:
        key = change["new"]
        if key is not None and self.contact.get("key") != str(key):
            self.select(key)

    def _show_contact(self, position: int, number: str | None = None) -> None:
        key = self.contacts.key_at(position)
        self._position = position
        offered = self.contacts.numbers(key)
        self.numbers = offered if self.multiple_value else offered[:1]
        self.contact = {
            "key": str(key),
            "name": self.contacts.name_of(key),
            "fields": self.contacts.record(key),
            "position": position,
            "count": len(self.contacts),
        }
        self.row = key.item() if hasattr(key, "item") else key  # numpy scalars read as plain labels
        chosen = number or (self.numbers[0]["number"] if self.numbers else "")
        self.selected_number = chosen

    def _show_unknown(self) -> None:
        """A number that is in no contact's record: no card, no field buttons."""
        self.numbers = []
        self.contact = {"key": "", "name": "Unknown number", "fields": {}, "position": self._position,
                        "count": len(self.contacts)}
        self.row = None

    @traitlets.observe("multiple_value")
    def _offer_numbers(self, change: dict[str, Any]) -> None:
        if len(self.contacts) and self.contact.get("key"):
            self._show_contact(self._position, self.selected_number or None)

    @traitlets.validate("selected_number")
    def _valid_selection(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"].strip()
        if not value:
            return ""
        try:
            return parse_number(value, self.region, field="selected_number")
        except InvalidNumber as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.observe("selected_number")
    def _selection_changed(self, change: dict[str, Any]) -> None:
        number = change["new"]
        if number and all(n["number"] != number for n in self.numbers):
            matches = self.contacts.lookup(number)
            if matches:  # a number of another contact: show that contact's card
                self._show_contact(self.contacts.position(matches[0][0]), number)
            else:
                self._show_unknown()
        self.selected_display = self.contacts.format(number) if number else ""
        if _read_pad(self.dialpad, self.region)[0] != number:
            self.dialpad = number
        self._in_background(self.refresh)

    @traitlets.observe("call")
    def _name_the_remote_party(self, change: dict[str, Any]) -> None:
        # Browser calls arrive from the panel with the bare number; show it as everywhere else.
        with self._lock:
            call = self.call
            remote = call.get("remote")
            if remote and not call.get("remote_display"):
                self.call = {**call, "remote_display": self.contacts.format(remote)}

    @traitlets.observe("dialpad")
    def _typed(self, change: dict[str, Any]) -> None:
        number, problem = _read_pad(change["new"], self.region)
        self.dialpad_check = {"dialpad": change["new"], "problem": problem}
        if number:
            self.selected_number = number

    # -- history -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the panel's Call history and Messages for the selected number."""
        number = self.selected_number
        if not number:
            self.history, self.thread = [], []
            return
        try:
            calls = self.backend.calls(number, limit=self.history_limit)
            messages = self.backend.messages(number, limit=self.history_limit)
        except TwilioError as exc:
            self.report(exc)
            return
        history = [_history_row(row, number) for row in calls.to_dict("records")]
        thread = [_thread_row(row) for row in messages.iloc[::-1].to_dict("records")]
        with self._lock:
            if self.selected_number == number:  # the selection may have moved on meanwhile
                fetched = {row["sid"] for row in thread}
                local = [row for row in self._local_messages.get(number, []) if row["sid"] not in fetched]
                self.history, self.thread = history, [*thread, *local][-self.history_limit:]

    def _in_background(self, work: Callable[[], Any]) -> Future:
        """Run REST-bound work where the phone's runner runs it (off the kernel's message loop
        for a backend on the network); a failure shows on the panel."""
        return self._background.run(work)

    def wait_until_idle(self, timeout: float | None = 30) -> None:
        """Block until the background work queued so far is done (scripts and tests)."""
        self._background.wait_until_idle(timeout)

    def poll(self) -> None:
        """Catch up without a routing service: new calls and messages with the selected
        number, and the delivery status of the messages still on their way."""
        self.refresh()
        pending = [row["sid"] for row in self.thread if row["direction"] == "outbound"
                   and row["status"] in PENDING_MESSAGE and not row["sid"].startswith("pending-")][-POLLED_MESSAGES:]
        for sid in pending:
            try:
                self.backend.message_status(sid)  # a changed status comes back as an event
            except TwilioError as exc:
                self.report(exc)
                return

    def calls(self, number: str | None = None, *, with_contacts: bool = False,
              **window: Any) -> pd.DataFrame:
        """Call history as a typed DataFrame, newest first (see ``frames.CALLS``)."""
        frame = self.backend.calls(_optional_number(number, self.region), **window)
        return self._with_contacts(frame) if with_contacts else frame

    def messages(self, number: str | None = None, *, with_contacts: bool = False,
                 **window: Any) -> pd.DataFrame:
        """Messages as a typed DataFrame, newest first (see ``frames.MESSAGES``)."""
        frame = self.backend.messages(_optional_number(number, self.region), **window)
        return self._with_contacts(frame) if with_contacts else frame

    def recordings(self, call_sid: str | None = None, **window: Any) -> pd.DataFrame:
        """Call recordings as a typed DataFrame, newest first."""
        return self.backend.recordings(call_sid, **window)

    def _with_contacts(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add ``contact`` (row label) and ``field`` by matching the remote party's number."""
        remote = frame["to"].where(frame["direction"] != "inbound", frame["from"])
        matches = {n: (self.contacts.lookup(n) or [(None, None)])[0]
                   for n in remote.dropna().unique()}
        out = frame.copy()
        out["contact"] = pd.Series([matches.get(n, (None, None))[0] for n in remote],
                                   index=frame.index, dtype="object")
        out["field"] = pd.Series([matches.get(n, (None, None))[1] for n in remote],
                                 index=frame.index, dtype="string")
        return out

    # -- calls -----------------------------------------------------------------------------

    def place_call(self, number: str | None = None) -> dict[str, Any]:
        """Call ``number`` (default: what the pad shows, the selected number unless typed over)
        with the current caller ID. A pad that holds no valid number is refused, never replaced
        by an earlier selection.

        On the sandbox the call is simulated; in bridge mode Twilio rings ``bridge_to`` first
        and connects it to the number. In twilio mode the panel's Voice SDK device dials: use
        the panel's call button (this returns the parameters it sends).
        """
        on_pad = number is None
        target = _dial_target(self.dialpad if on_pad else number, self.region, "dialpad" if on_pad else "number")
        with self._lock:
            if self.call.get("status") in ACTIVE_CALL:
                raise TwilioError("A call is already in progress: hang up first", status=409)
            if self.mode == "twilio":
                if not self.caller_id:
                    raise ConfigError("caller_id", "set the Twilio number to call from (Callers in the element)")
                return {"To": target, "CallerId": self.caller_id}
            if self.mode == "bridge":
                record = self.backend.create_call(
                    self.bridge_to, self.caller_id, twiml=voice.bridge_twiml(target, self.caller_id))
                self._track_call(record, remote=target, direction="outbound")
                self.call = {**self.call, "leg": "you"}
                if not self.backend.pushes_events:  # Twilio reports the legs to no webhook: poll them
                    self._follow_bridge_call(record["sid"])
            else:
                record = self.backend.simulator.dial(target, self.caller_id or None)
                self._track_call(record, remote=target, direction="outbound")
        return self.call

    def _follow_bridge_call(self, sid: str) -> None:
        """Poll the bridged call until it ends; the backend turns status changes into events."""

        def follow() -> None:
            while self.call.get("sid") == sid and self.call.get("status") in ACTIVE_CALL:
                threading.Event().wait(BRIDGE_POLL_SECONDS)
                try:  # both legs: the user's phone, then the lead (changes come back as events)
                    self._call_event(self.backend.call_status(sid))
                    for leg in self.backend.child_calls(sid):
                        self._call_event(leg)
                except TwilioError as exc:
                    self.report(exc)
                    return

        threading.Thread(target=follow, name=f"bridge-{sid}", daemon=True).start()

    def hang_up(self) -> dict[str, Any]:
        """End the current call (or stop it ringing)."""
        sid = self.call.get("sid")
        if not sid or self.call.get("status") not in ACTIVE_CALL:
            return self.call
        if self.mode == "twilio":
            raise TwilioError("This call runs in the browser: hang up on the panel", status=409)
        self._call_event(self.backend.end_call(sid))
        return self.call

    def mute(self, muted: bool = True) -> None:
        """Mute or unmute the microphone on the current call."""
        self._require_call_controls("mute")
        with self._lock:
            self.call = {**self.call, "muted": bool(muted)}

    def send_digits(self, digits: str) -> None:
        """Send DTMF tones on the current call (menus, extensions)."""
        if not digits or any(d not in "0123456789*#w" for d in digits):
            raise ValueError(f"digits: {digits!r} may hold only 0-9, *, # and w (a pause)")
        self._require_call_controls("send digits")
        with self._lock:
            self.call = {**self.call, "digits": self.call.get("digits", "") + digits}

    def _require_call_controls(self, action: str) -> None:
        if self.mode == "bridge":
            raise TwilioError(f"In bridge mode the call runs on your own phone: {action} there", status=409)
        if self.mode == "twilio":
            raise TwilioError(f"This call runs in the browser: {action} on the panel", status=409)
        if self.call.get("status") != "in-progress":
            raise TwilioError(f"There is no call in progress to {action}", status=409)

    def accept(self, sid: str | None = None) -> dict[str, Any]:
        """Answer the ringing incoming call and show the caller's contact.

        In twilio mode the browser answers (the panel's Accept button) and tells the kernel
        with the call's ``sid``; the kernel then selects the caller.
        """
        ringing = self.incoming
        if not ringing or (sid and sid != ringing["sid"]):
            raise TwilioError("There is no incoming call to accept", status=409)
        if self.mode == "twilio":
            if not sid:
                raise TwilioError("Answer browser calls with the panel's Accept button", status=409)
        else:
            record = self.backend.simulator.accept(ringing["sid"])
            self._track_call(record, remote=ringing["from"], direction="inbound")
        self.incoming = None
        if ringing.get("contact"):
            self._show_contact(ringing["contact"]["position"], ringing["from"])
        else:
            self.selected_number = ringing["from"]
        return self.call

    def reject(self) -> None:
        """Decline the ringing incoming call."""
        ringing = self.incoming
        if not ringing:
            raise TwilioError("There is no incoming call to reject", status=409)
        if self.mode != "twilio":  # in the browser, the Device has already declined it
            self.backend.simulator.reject(ringing["sid"])
        self.incoming = None

    def on_incoming(self, callback: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
        """Call ``callback(incoming)`` when a call comes in; returns a function that removes it."""
        self._incoming_callbacks.append(callback)
        return lambda: self._incoming_callbacks.remove(callback)

    def _track_call(self, record: dict[str, Any], *, remote: str, direction: str) -> None:
        self._lead_leg = ""
        self.call = {
            "sid": record["sid"],
            "status": record["status"],
            "direction": direction,
            "remote": remote,
            "remote_display": self.contacts.format(remote),
            "started_at": None,
            "muted": False,
            "digits": "",
            "end_reason": None,
        }
        self._apply_call_record(record)

    def _apply_call_record(self, record: dict[str, Any], leg: str | None = None) -> None:
        status = record["status"]
        update: dict[str, Any] = {"status": status}
        if leg:  # bridge mode: "you" while your own phone rings, "lead" once the contact's does
            update["leg"] = leg
        if status == "in-progress" and not self.call.get("started_at"):
            update["started_at"] = iso(record.get("start_time") or datetime.now(UTC))
        if status not in ACTIVE_CALL:
            update["end_reason"] = status
            update["duration"] = record.get("duration")
        self.call = {**self.call, **update}

    # -- messages ----------------------------------------------------------------------------

    def send_message(self, body: str, to: str | None = None) -> dict[str, Any]:
        """Text ``to`` (default: the selected number) from the current caller ID."""
        target = self._message_target(body, to)
        record = self._deliver(body, target)
        if target == self.selected_number:
            self._upsert_thread(record)
        return _thread_row(record)

    def _message_target(self, body: str, to: str | None) -> str:
        """Check a message before anything is sent: its text and its recipient."""
        if not isinstance(body, str) or not body.strip():
            raise ValueError("body: a message needs some text")
        return parse_number(to or self.selected_number, self.region, field="to")

    def _deliver(self, body: str, target: str) -> dict[str, Any]:
        if self._routing is not None:  # opt-outs, the outbox and delivery callbacks apply
            from .routing import send_message

            return send_message(self.backend, self._routing.store, target, self.caller_id, body,
                                status_callback=self._routing.public_url + "/status/message")
        return self.backend.send_message(target, self.caller_id, body)

    def _send_from_panel(self, body: str, to: str | None) -> dict[str, Any]:
        """The panel's send: the thread shows the message at once as "sending" while Twilio is
        asked off the kernel's message loop; the real record (or the failure, with Twilio's
        code) then takes its place. The text is never lost: a failed message stays visible.
        When the work runs in place, the answer (or the refusal) is returned."""
        target = self._message_target(body, to)
        pending = {"sid": f"pending-{uuid.uuid4().hex}", "direction": "outbound", "body": body,
                   "status": "sending", "time": iso(datetime.now(UTC)), "error_code": None}
        self._keep_local(target, pending)

        def deliver() -> dict[str, Any]:
            try:
                record = self._deliver(body, target)
            except TwilioError as exc:
                self._keep_local(target, {**pending, "status": "failed", "error_code": exc.code}, replaces=pending)
                raise
            self._keep_local(target, None, replaces=pending)
            if target == self.selected_number:
                self._upsert_thread(record)
            return _thread_row(record)

        sent = self._in_background(deliver)
        return sent.result() if self._background.in_place else pending

    def _keep_local(self, number: str, row: dict[str, Any] | None, *, replaces: dict[str, Any] | None = None) -> None:
        """Add (or replace, or with ``row=None`` drop) a message only this panel knows of, on
        the panel too when its number is the one selected."""
        gone = {replaces["sid"]} if replaces else set()
        with self._lock:
            kept = [r for r in self._local_messages.get(number, []) if r["sid"] not in gone]
            self._local_messages[number] = ([*kept, row] if row else kept)[-self.history_limit:]
            if number == self.selected_number:
                rows = [r for r in self.thread if r["sid"] not in gone]
                self.thread = ([*rows, row] if row else rows)[-self.history_limit:]

    def _upsert_thread(self, record: dict[str, Any]) -> None:
        row = _thread_row(record)
        with self._lock:
            rows = [r for r in self.thread if r["sid"] != row["sid"]]
            known = len(rows) != len(self.thread)
            if known:
                rows = [row if r["sid"] == row["sid"] else r for r in self.thread]
            else:
                rows.append(row)
            self.thread = rows[-self.history_limit:]

    # -- events from the backend --------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        record = event.record
        if event.kind == "call":
            self._call_event(record)
        elif event.kind == "incoming_call" and self.mode == "sandbox":
            # In twilio mode the browser's Device reports the leg that rings it (cmd_incoming);
            # in bridge mode incoming calls go to the user's own phone, not to this panel.
            self._incoming_event(record)
        elif event.kind == "message" and self.selected_number in (record.get("from"), record.get("to")):
            self._upsert_thread(record)

    def _call_event(self, record: dict[str, Any]) -> None:
        with self._lock:
            ours = self.call.get("sid")
            if ours and record.get("parent_call_sid") == ours:
                # The leg our call dialled (the lead, in bridge mode and for browser calls): once
                # it reports, it is what the panel shows, busy and no-answer included. A browser
                # call's Device reports ringing and answer itself, sooner: only how the lead's
                # leg ended (busy, no-answer ...) is news for it.
                self._lead_leg = record["sid"]
                if self.mode != "twilio":
                    self._apply_call_record({**record, "sid": ours}, leg="lead")
                elif record["status"] not in ACTIVE_CALL and self.call.get("status") in ACTIVE_CALL | GENERIC_END:
                    self._apply_call_record({**record, "sid": ours})
            elif ours and record["sid"] == ours and not (
                self._lead_leg and (record["status"] in ACTIVE_CALL or self.call.get("status") not in ACTIVE_CALL)
            ):
                self._apply_call_record(record, leg="you" if self.mode == "bridge" and not self._lead_leg else None)
            elif self.incoming and record["sid"] == self.incoming.get("sid") and (
                record["status"] not in ACTIVE_CALL
            ):
                self.incoming = None
        if record["status"] not in ACTIVE_CALL and self.selected_number in (
            record.get("from"), record.get("to")
        ):
            self._in_background(self.refresh)

    def _incoming_event(self, record: dict[str, Any]) -> None:
        caller = record["from"]
        matches = self.contacts.lookup(caller)
        contact = None
        if matches:
            key, field = matches[0]
            contact = {
                "key": str(key),
                "name": self.contacts.name_of(key),
                "field": field,
                "fields": self.contacts.record(key),
                "position": self.contacts.position(key),
            }
        self.incoming = {
            "sid": record["sid"],
            "from": caller,
            "display": self.contacts.format(caller),
            "contact": contact,
        }
        for callback in list(self._incoming_callbacks):
            callback(dict(self.incoming))

    # -- the panel's commands -----------------------------------------------------------------

    @panel_command
    def cmd_call(self, number: str | None = None) -> dict[str, Any]:
        placed = self.place_call(number)
        return {"dial": placed} if self.mode == "twilio" else {"call": placed}

    @panel_command(user_action=False)
    def cmd_token(self) -> dict[str, Any]:
        token = voice.mint_token(self.config, self.identity, ttl=TOKEN_TTL_SECONDS)
        return {"token": token, "identity": self.identity, "ttl": TOKEN_TTL_SECONDS}

    @panel_command(user_action=False)
    def cmd_incoming(self, sid: str, **params: Any) -> dict[str, Any]:
        caller = params.get("from", "")  # "from" is the SDK's name, and a Python keyword
        try:
            number = parse_number(caller, self.region, field="from")
        except InvalidNumber:
            number = caller  # a client: or sip: caller is shown as it came
        self._incoming_event({"sid": sid, "from": number})
        return {}

    @panel_command(user_action=False)
    def cmd_incoming_ended(self, sid: str) -> dict[str, Any]:
        if self.incoming and self.incoming.get("sid") == sid:
            self.incoming = None
        return {}

    @panel_command(user_action=False)
    def cmd_call_ended(self, sid: str, status: str) -> dict[str, Any]:
        self._in_background(self.refresh)
        return {}

    @panel_command
    def cmd_hang_up(self) -> dict[str, Any]:
        return {"call": self.hang_up()}

    @panel_command
    def cmd_mute(self, muted: bool = True) -> dict[str, Any]:
        self.mute(muted)
        return {"call": self.call}

    @panel_command
    def cmd_digits(self, digits: str) -> dict[str, Any]:
        self.send_digits(digits)
        return {"call": self.call}

    @panel_command
    def cmd_accept(self, sid: str | None = None) -> dict[str, Any]:
        return {"call": self.accept(sid)}

    @panel_command
    def cmd_reject(self) -> dict[str, Any]:
        self.reject()
        return {}

    @panel_command
    def cmd_send_message(self, body: str, to: str | None = None) -> dict[str, Any]:
        return {"message": self._send_from_panel(body, to)}

    @panel_command(user_action=False)
    def cmd_refresh(self) -> dict[str, Any]:
        self._in_background(self.refresh)
        return {}

    @panel_command(user_action=False)
    def cmd_poll(self) -> dict[str, Any]:
        self._in_background(self.poll)
        return {}

    @panel_command
    def cmd_step_contact(self, step: int) -> dict[str, Any]:
        if step not in (-1, 1):
            raise ValueError(f"step: must be -1 or 1, not {step!r}")
        self.next() if step == 1 else self.previous()
        return {}

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def sandbox(self) -> Simulator:
        """The sandbox backend, to script incoming calls and messages in demos and tests."""
        if self.backend.simulator is None:
            raise AttributeError("This phone talks to Twilio, not to the sandbox")
        return self.backend.simulator

    def setup(self, *, create: bool = False, voice_url: str | None = None) -> voice.SetupReport:
        """Check the API key and TwiML App browser calling needs; ``create=True`` creates what is
        missing (nothing is ever created silently). New SIDs and secrets stay in this kernel."""
        if self.backend.client is None:
            raise TwilioError("setup() needs a phone on a Twilio account, not the sandbox")
        report = voice.setup(self.backend.client, self.config, create=create, voice_url=voice_url)
        self.config = report.config
        return report

    def serve(self, public_url: str, *, host: str = "127.0.0.1", port: int = 8080,
              store_path: str = "twilio-widget.sqlite3", **settings: Any):
        """Run the routing service (TwiML, status callbacks, SMS, voicemail) in a background
        thread, its events going straight to this panel. ``public_url`` is the address Twilio
        uses (a tunnel's or a proxy's): requests are verified against it. See docs/deployment.md.
        """
        from .backends.base import EventHub
        from .routing import RoutingSettings, serve_in_thread

        if self._routing is not None and self._routing.running:
            raise RuntimeError(f"already serving at {self._routing.url}; phone.stop_serving() first")
        routing = RoutingSettings.from_config(self.config, public_url=public_url, store_path=store_path,
                                              **settings)
        hub = EventHub()
        # Listeners run on the service's event loop: hand the panel's work to the phone's worker.
        hub.subscribe(lambda event: self._in_background(lambda: self._on_event(event)))
        self._routing = serve_in_thread(routing, host=host, port=port, hub=hub)
        self.live_events = True
        return self._routing

    def outbox(self) -> pd.DataFrame:
        """Messages that failed to send while the routing service ran, with their errors."""
        return pd.DataFrame(self._serving().store.outbox_pending())

    def retry_outbox(self) -> dict[str, int]:
        """Try the outbox's messages once more; returns how many were sent, failed, blocked."""
        from .routing import retry_outbox

        handle = self._serving()
        return retry_outbox(self.backend, handle.store, status_callback=handle.public_url + "/status/message")

    def _serving(self):
        if self._routing is None:
            raise RuntimeError("the outbox belongs to the routing service: start it with phone.serve(...)")
        return self._routing

    def stop_serving(self) -> None:
        """Stop the routing service started with :meth:`serve`."""
        if self._routing is not None:
            self._routing.stop()
            self._routing = None
            self.live_events = self.backend.pushes_events

    def report(self, exc: Exception) -> dict[str, Any]:
        """Show ``exc`` on the panel (the ``error`` trait); returns what is shown."""
        self.error = payload = error_payload(exc)
        return payload

    def _sandbox_for(self, contacts: Contacts) -> SandboxBackend:
        seeded = [n["number"] for i in range(min(len(contacts), SANDBOX_SEEDED_CONTACTS))
                  for n in contacts.numbers(contacts.key_at(i))]
        return SandboxBackend(numbers=seeded, realtime=True)

    def close(self) -> None:
        self.stop_serving()
        self._unsubscribe()
        if self._background is not None:
            self._background.shutdown()
        if self._owns_backend and "backend" in vars(self):  # absent when the constructor failed early
            self.backend.close()
        super().close()

    def __repr__(self) -> str:
        return (f"TwilioPhone(mode={self.mode!r}, contacts={len(self.contacts)}, "
                f"selected_number={self.selected_number!r})")


def _as_contacts(contacts, fields, **options) -> Contacts:
    if isinstance(contacts, Contacts):
        return contacts
    if contacts is None:
        return Contacts.from_dataframe(pd.DataFrame({"phone": pd.Series([], dtype="string")}),
                                       ["phone"])
    if not isinstance(contacts, pd.DataFrame):
        raise TypeError(f"contacts: expected a pandas DataFrame or Contacts, "
                        f"got {type(contacts).__name__}")
    if not fields:
        raise ValueError("fields: name the DataFrame's phone columns, e.g. fields=['mobile']")
    return Contacts.from_dataframe(contacts, [fields] if isinstance(fields, str) else list(fields), **options)


def _dial_target(text: str, region: str, field: str) -> str:
    """The E.164 number a call to ``text`` dials; a ValueError naming ``field`` says why not."""
    if not text.strip():
        raise ValueError(f"{field}: {EMPTY_PAD}")
    return parse_number(text, region, field=field)


def _read_pad(text: str, region: str) -> tuple[str, str]:
    """(E.164 number, "") for a pad that can be called, else ("", why not, short enough to stand
    beside the call button): the same rule as the call itself."""
    try:
        return _dial_target(text, region, "dialpad"), ""
    except InvalidNumber as exc:
        return "", f"Not a valid number ({exc.reason})"
    except ValueError:  # an empty pad
        return "", "Type a number to call"


def _optional_number(number: str | None, region: str) -> str | None:
    return parse_number(number, region, field="number") if number else None


def _history_row(row: dict[str, Any], number: str) -> dict[str, Any]:
    return {
        "sid": row["sid"],
        "direction": "inbound" if row["direction"] == "inbound" else "outbound",
        "status": row["status"],
        "time": iso(missing_as_none(row["start_time"])),
        "duration": missing_as_none(row["duration"]),
        "number": row["from"] if row["direction"] == "inbound" else row["to"],
    }


def _thread_row(row: dict[str, Any]) -> dict[str, Any]:
    error_code = missing_as_none(row.get("error_code"))
    return {
        "sid": row["sid"],
        "direction": "inbound" if row["direction"] == "inbound" else "outbound",
        "body": row["body"],
        "status": row["status"],
        "time": iso(missing_as_none(row.get("date_sent")) or missing_as_none(
            row.get("date_created"))),
        "error_code": int(error_code) if error_code is not None else None,
    }
