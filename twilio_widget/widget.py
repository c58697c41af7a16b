"""TwilioPhone, the panel's face in the kernel: traits, constructors, the public API, the panel's
commands. Collaborators with one job each do the work, and write the traits: selection.py, conversations.py,
calls/ and service.py (docs/design-notes.md, "The call core", maps who writes which trait)."""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anywidget
import pandas as pd
import traitlets

from . import voice
from .backends import Backend, Event, Simulator, TwilioError, default_backend
from .calls import CALL_MODES, CallsByMode, ModeCalls
from .channel import CommandChannel, panel_command
from .config import INTERPRETATIONS, PhoneConfig, contacts_from_config
from .contacts import Contacts, parse_number
from .conversations import Conversations
from .forwarding import forwarded
from .payloads import CallEvent, CallState, DeviceEvent, PanelError, checked, error_payload
from .quality import CallQualityLog, PreflightRun, Preflights
from .recordings import RecordedCalls
from .rules import CallingRules
from .rules.enforce import plan_call
from .rules.leads import lead_verdicts
from .runners import Background, InlineRunner, Runner, WorkerRunner
from .selection import Selection, as_contacts
from .service import RoutingLink
from .session.link import Sessions

if TYPE_CHECKING:
    from .team_client import TeamClient

STATIC = pathlib.Path(__file__).parent / "static"


class TwilioPhone(anywidget.AnyWidget):
    """A Twilio phone panel over a DataFrame of contacts.

    >>> phone = TwilioPhone(contacts=leads, fields=["mobile", "office"], name="name")
    >>> phone            # displays the panel; with no credentials it runs on the sandbox

    ``runner`` decides where backend work runs (see runners.py; by default in place on the sandbox).
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    selected_number = traitlets.Unicode("").tag(sync=True)
    selected_display = traitlets.Unicode("").tag(sync=True)
    tab = traitlets.Enum(("numpad", "history", "messages"), default_value="numpad").tag(sync=True)
    interpretation = traitlets.Enum(INTERPRETATIONS, default_value="panel").tag(sync=True)
    multiple_value = traitlets.Bool(True).tag(sync=True)
    numbers = traitlets.List(traitlets.Dict()).tag(sync=True)
    dialpad = traitlets.Unicode("").tag(sync=True)
    #: The kernel's verdict on the pad: the text it checked and why that cannot be called ("" when
    #: it can). The panel disables its call button with the reason while it shows that very text.
    dialpad_check = traitlets.Dict({"dialpad": "", "problem": "Type a number to call"}).tag(sync=True)
    contact = traitlets.Dict().tag(sync=True)
    call = traitlets.Dict().tag(sync=True)
    incoming = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    history = traitlets.List(traitlets.Dict()).tag(sync=True)
    thread = traitlets.List(traitlets.Dict()).tag(sync=True)
    mode = traitlets.Enum(tuple(CALL_MODES), default_value="sandbox").tag(sync=True)
    caller_id = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    device = traitlets.Dict({"status": "off"}).tag(sync=True)
    #: Whether events reach the panel by themselves (the sandbox, or a running routing service);
    #: when False the open panel polls (``cmd_poll``) for new messages and statuses.
    live_events = traitlets.Bool(True).tag(sync=True)
    #: Names this phone to the panel's JavaScript, which keeps one Voice SDK Device per phone.
    _phone_id = traitlets.Unicode().tag(sync=True)
    #: The calling session on the panel (``queue()``): a bounded view, written by session/session.py.
    session = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    history_limit = traitlets.Int(50, min=1, max=500)
    #: The row label of the contact on the panel (None for a number in no contact); set it, or link it
    #: to a row picker (``ipywidgets.link``). Kernel-side only: labels may be any hashable.
    row = traitlets.Any(None, allow_none=True)

    def __init__(self, contacts: pd.DataFrame | Contacts | None = None, fields: list[str] | None = None, *,
                 name: str | None = None, view: list[str] | None = None, region: str = "US",
                 display: str | None = None, backend: Backend | None = None, config: PhoneConfig | None = None,
                 user: str | None = None, mode: str | None = None, bridge_to: str | None = None,
                 caller_id: str | None = None, runner: Runner | None = None, **kwargs: Any) -> None:
        super().__init__(_phone_id=uuid.uuid4().hex)
        # What close() undoes, set first: close() runs even when the constructor fails half-way.
        self._unsubscribe: Callable[[], None] = lambda: None
        self._calls: CallsByMode | None = None
        self._routing: RoutingLink | None = None
        self._background: Background | None = None
        self._sessions = Sessions(self)
        self._owns_backend = backend is None
        self.config = config or PhoneConfig()
        self.region = region
        # The element's regular_expression option is the display format unless one is given.
        display = self.config.regular_expression if display is None else display
        self.contacts = as_contacts(contacts, fields, name=name, view=view, region=region, display=display)
        # The element's options start the traits (keywords below may still change them).
        self.multiple_value, self.interpretation = self.config.multiple_value, self.config.look
        self.backend: Backend = backend or default_backend(self.config, self.contacts)
        self._background = Background(runner or (InlineRunner() if self.backend.in_memory else WorkerRunner()),
                                      self.report)
        self.user = user or (self.config.callers[0].user_id if self.config.callers else "")
        self.identity = voice.identity_for(self.user)
        self.caller_id = self._caller_id(caller_id)
        self.bridge_to = parse_number(bridge_to, region, field="bridge_to") if bridge_to else ""
        self._channel = CommandChannel(self)
        #: Calling hours, do-not-call list: asked by the pad's check, place_call, send_message, the service.
        self.rules = CallingRules.for_phone(self.config, region=region, simulator=self.backend.simulator)
        self._conversations = Conversations(self, self.backend, self.contacts, region, self._background,
                                            deliver=lambda to, body: self._routing.deliver(to, body),
                                            rules=self.rules)
        self._selection = Selection(self, self.contacts, region, on_number=self._conversations.refresh_soon,
                                    rules=self.rules)
        self._routing = RoutingLink(self, self.backend, self._background, self._on_event)
        self._calls = CallsByMode(self, self.backend, self._selection, self._conversations, self._channel,
                                  self._routing)
        self._preflights = Preflights(lambda run_id: self._calls.current.ask_preflight(run_id))
        self._quality = CallQualityLog()
        self.observe(lambda change: self._quality.call_changed(change["new"]), names="call")
        self._recorded = RecordedCalls()
        self.observe(lambda change: self._recorded.call_changed(change["new"]), names="call")
        self.mode = mode or ("sandbox" if self.backend.simulator is not None else "twilio")
        self._calls.change(self.mode)
        self._unsubscribe = self.backend.subscribe(self._on_event)
        self._selection.start()
        for trait, value in kwargs.items():  # last: the contacts and the first selection exist
            if not self.has_trait(trait):
                raise TypeError(f"TwilioPhone() got an unexpected keyword argument {trait!r}")
            setattr(self, trait, value)
        self._calls.start()  # once whole: a phone that fails above leaves the others alone

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
        return cls(contacts_from_config(config, sources, region, names=names), config=config, region=region, **kwargs)

    @property
    def data_model(self) -> dict[str, Any]:
        """The element's data model for this phone; the auth token and SMTP password masked."""
        return self.export_data_model()

    def export_data_model(self, include_secrets: bool = False) -> dict[str, Any]:
        """The element's data model; ``include_secrets=True`` writes the real auth token and SMTP password."""
        return self.config.to_data_model(include_secrets=include_secrets)

    def _caller_id(self, explicit: str | None) -> str:
        if explicit:
            return parse_number(explicit, self.region, field="caller_id")
        caller = self.config.caller(self.user) if self.user else None
        return caller.caller_id if caller and caller.caller_id else self.backend.own_number

    # -- the user's traits, checked and followed (the config follows the panel's options) ------

    @traitlets.observe("multiple_value")
    def _keep_multiple_value(self, change: dict[str, Any]) -> None:
        self.config = self.config.replace(multiple_value=change["new"])

    @traitlets.observe("interpretation")
    def _keep_look(self, change: dict[str, Any]) -> None:
        if self.config.look != change["new"]:  # an unchanged look keeps the element's list as written
            self.config = self.config.replace(interpretation=[change["new"]])

    @traitlets.validate("selected_number")
    def _valid_selection(self, proposal: dict[str, Any]) -> str:
        return self._selection.valid_number(proposal["value"])

    @traitlets.validate("row")
    def _known_row(self, proposal: dict[str, Any]) -> Any:
        return self._selection.known_row(proposal["value"])

    @traitlets.validate("mode")
    def _valid_mode(self, proposal: dict[str, Any]) -> str:
        return self._calls.check(proposal["value"])

    @traitlets.observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        if self._calls.current is not None:  # a phone being built picks its calls once the mode is set
            self._calls.change(change["new"])

    # -- the public API (see the README); most of it is a collaborator's ---------------------------

    select = forwarded("_selection", Selection.select)
    next = forwarded("_selection", Selection.next)
    previous = forwarded("_selection", Selection.previous)
    refresh = forwarded("_conversations", Conversations.refresh)
    poll = forwarded("_conversations", Conversations.poll)
    calls = forwarded("_conversations", Conversations.calls)
    messages = forwarded("_conversations", Conversations.messages)
    call_summaries = forwarded("_conversations", Conversations.call_summaries)
    call_summary = forwarded("_conversations", Conversations.call_summary)
    call_events = forwarded("_conversations", Conversations.call_events)
    call_metrics = forwarded("_conversations", Conversations.call_metrics)
    send_message = forwarded("_conversations", Conversations.send_message)
    hang_up = forwarded("_calls.current", ModeCalls.hang_up)
    mute = forwarded("_calls.current", ModeCalls.mute)
    send_digits = forwarded("_calls.current", ModeCalls.send_digits)
    accept = forwarded("_calls.current", ModeCalls.accept)
    drop_voicemail = forwarded("_calls.current", ModeCalls.drop_voicemail)
    reject = forwarded("_calls.current", ModeCalls.reject)
    on_incoming = forwarded("_calls", CallsByMode.on_incoming)
    serve = forwarded("_routing", RoutingLink.serve)
    stop_serving = forwarded("_routing", RoutingLink.stop_serving)
    disconnect = forwarded("_routing", RoutingLink.disconnect)
    outbox = forwarded("_routing", RoutingLink.outbox)
    retry_outbox = forwarded("_routing", RoutingLink.retry_outbox)
    wait_until_idle = forwarded("_background", Background.wait_until_idle)
    queue = forwarded("_sessions", Sessions.queue)
    end_session = forwarded("_sessions", Sessions.end)
    activity = forwarded("_sessions", Sessions.activity)
    join_outcomes = forwarded("_sessions", Sessions.join)

    @property
    def outcomes(self) -> pd.DataFrame:
        """Every call outcome in the journal, typed (see the README's calling session)."""
        return self._sessions.outcomes()

    def connect(self, url: str, token: str | None = None) -> TeamClient:
        """Connect to a team's routing service (``twilio-widget serve`` with a team secret) as
        the user ``token`` was made for (``twilio-widget token USER``): this user's events reach
        the panel as they are stored, texts go out through the service from the user's number,
        and the outbox is theirs on the service. No Twilio secret is needed in this kernel for
        that, and none reaches the browser. Without ``token``, ``$TWILIO_WIDGET_TOKEN`` is used.
        A calling session already running sends its outcomes to the service from then on, those
        it recorded so far included."""
        team = self._routing.connect(url, token)
        self._sessions.joined_team()
        return team

    @property
    def team(self) -> TeamClient | None:
        """The connection to a team's service made by ``connect`` (None without one): the team's
        calling-session outcomes, ``phone.team.outcomes()`` and ``.activity()``."""
        return self._routing.team

    @property
    def current(self) -> Any:
        """The row label of the contact on the panel (the same as ``row``)."""
        return self.row

    def place_call(self, number: str | None = None, *, override: str | None = None) -> CallState:
        """Call ``number`` (default: what the pad shows) from the caller ID local to it; a pad that
        holds no valid number is refused, never replaced by an earlier selection. The calling rules
        refuse a number outside its calling hours or on the do-not-call list (``CallRefused``, with
        the reason) unless ``override`` says why to call anyway; the call records it. Returns at
        once with the call as it stands; ``call`` follows it. The sandbox simulates the call;
        bridge mode rings ``bridge_to`` first; twilio mode asks the displayed panel to dial."""
        target = self._selection.dial_target(number)
        caller = self.config.caller(self.user) if self.user else None
        plan = plan_call(self.rules, target, owned=[self.caller_id, *(caller.numbers if caller else [])],
                         default_caller_id=self.caller_id, override=override,
                         recording=self.config.rules.recording, can_announce=self._calls.current.can_announce)
        return self._calls.current.place(target, plan)

    def recordings(self, call_sid: str | None = None, **window: Any) -> pd.DataFrame:
        """Call recordings as a typed DataFrame, newest first; for the calls this phone placed, with
        the lead's number and the recording's consent decision (``frames.RECORDING_CONSENT``)."""
        return self._recorded.join(self._conversations.recordings(call_sid, **window))

    def can_call(self, frame: pd.DataFrame | None = None, at: pd.Timestamp | None = None) -> pd.DataFrame:
        """For every row of a leads frame (default: the phone's contacts), read through the phone's
        number fields: number, field, allowed, reason, local_time, next_allowed."""
        book = self.contacts if frame is None else as_contacts(frame, self.contacts.fields, region=self.region)
        return lead_verdicts(self.rules, book, at)

    def preflight(self) -> PreflightRun:
        """Run the Voice SDK's preflight test in the displayed panel (twilio mode): a test call
        that measures the network. Returns at once: the panel shows the test's progress and
        verdict, and the returned run's ``report`` (a dict) and ``frame()`` fill in once it is
        done, after this cell (a cell cannot wait for the panel)."""
        return self._preflights.start()

    @property
    def last_preflight(self) -> PreflightRun | None:
        """The latest preflight test, asked from a cell or from the panel's button."""
        return self._preflights.last

    def call_quality(self) -> pd.DataFrame:
        """This session's finished browser calls, as the panel's Device measured them: the worst
        MOS, round trip, jitter and packet loss of each, and the warnings it raised."""
        return self._quality.frame()

    def _on_event(self, event: Event) -> None:
        self._calls.on_event(event)
        self._conversations.on_event(event)

    # -- the panel's commands -------------------------------------------------------------------

    @panel_command
    def cmd_call(self, number: str | None = None, override: str | None = None) -> dict[str, Any]:
        return {"call": self.place_call(number, override=override)}

    @panel_command
    def cmd_hang_up(self) -> dict[str, Any]:
        return {"call": self.hang_up()}

    @panel_command
    def cmd_mute(self, muted: bool = True) -> dict[str, Any]:
        return {"call": self.mute(muted)}

    @panel_command
    def cmd_digits(self, digits: str) -> dict[str, Any]:
        return {"call": self.send_digits(digits)}

    @panel_command
    def cmd_accept(self, sid: str | None = None) -> dict[str, Any]:
        return {"call": self.accept(sid)}

    cmd_reject = panel_command(forwarded("_calls.current", ModeCalls.reject))

    @panel_command
    def cmd_drop_voicemail(self) -> dict[str, Any]:
        return {"call": self.drop_voicemail()}
    cmd_dismiss_call = panel_command(forwarded("_calls.current", ModeCalls.dismiss))

    @panel_command
    def cmd_send_message(self, body: str, to: str | None = None) -> dict[str, Any]:
        return {"message": self._conversations.send_from_panel(body, to)}

    cmd_step_contact = panel_command(forwarded("_selection", Selection.step))
    cmd_session_call = panel_command(forwarded("_sessions", Sessions.panel_call))
    cmd_session_outcome = panel_command(forwarded("_sessions", Sessions.panel_outcome))
    cmd_session_skip = panel_command(forwarded("_sessions", Sessions.panel_skip))
    cmd_session_pause = panel_command(forwarded("_sessions", Sessions.panel_pause))

    @panel_command
    def cmd_preflight(self) -> dict[str, Any]:
        return {"id": self.preflight().id}

    @panel_command
    def cmd_use_bridge(self) -> dict[str, Any]:
        """The panel's offer where the page cannot use a microphone: calls ring ``bridge_to``."""
        self.mode = "bridge"
        return {"mode": self.mode}

    # The panel's own requests and reports: they leave the error shown until the user acts.

    @panel_command(user_action=False)
    def cmd_token(self) -> dict[str, Any]:
        return voice.panel_token(self.config, self.identity)

    @panel_command(user_action=False)
    def cmd_call_event(self, sid: str, **report: Any) -> None:
        self._calls.current.panel_call_event(checked(CallEvent, {"sid": sid, **report}))

    @panel_command(user_action=False)
    def cmd_device_event(self, **report: Any) -> None:
        self._calls.current.panel_device_event(checked(DeviceEvent, report))

    cmd_incoming = panel_command(forwarded("_calls.current", ModeCalls.panel_incoming), user_action=False)
    cmd_incoming_ended = panel_command(forwarded("_calls.current", ModeCalls.panel_incoming_ended), user_action=False)
    cmd_refresh = panel_command(forwarded("_conversations", Conversations.refresh_soon), user_action=False)
    cmd_poll = panel_command(forwarded("_conversations", Conversations.poll_soon), user_action=False)
    cmd_preflight_report = panel_command(forwarded("_preflights", Preflights.panel_report), user_action=False)

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

    def report(self, problem: Exception | PanelError) -> PanelError:
        """Show a problem on the panel (the ``error`` trait); returns what is shown."""
        self.error = payload = error_payload(problem)
        return payload

    def close(self) -> None:
        self._sessions.end()
        if "_selection" in vars(self):  # absent when the constructor failed before it
            self._selection.stop()
        if self._routing is not None:  # None when the constructor failed before it
            self._routing.stop_serving()
            self._routing.disconnect()
        if self._calls is not None:
            self._calls.stop()
        self._unsubscribe()
        if self._background is not None:
            self._background.shutdown()
        if self._owns_backend and "backend" in vars(self):  # absent when the constructor failed early
            self.backend.close()
        if "rules" in vars(self):
            self.rules.close()
        super().close()

    def __repr__(self) -> str:
        return (f"TwilioPhone(mode={self.mode!r}, contacts={len(self.contacts)}, "
                f"selected_number={self.selected_number!r})")

