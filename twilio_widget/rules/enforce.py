"""Where the rules meet a call or a text: the plan of one outgoing call, or the refusal.

Every path that calls or texts asks here (the panel's button through ``place_call``, a cell,
``send_message``); the routing service asks :class:`CallingRules` itself for the calls and
texts it places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .callerid import choose_caller_id
from .consent import RecordingDecision, decide_recording

if TYPE_CHECKING:
    from ..config.recording import RecordingSettings
    from .calling import CallingRules


def do_not_call_reason(source: str) -> str:
    return f"on the do-not-call list ({source})"


class CallRefused(ValueError):
    """A call or text the rules refuse; ``reason`` says why (as ``can_call`` does)."""

    def __init__(self, reason: str, *, texting: bool = False) -> None:
        self.reason = reason
        hint = "" if texting else " (place_call(..., override='why') calls anyway, and records it)"
        super().__init__(f"{'Not texted' if texting else 'Not called'}: {reason}{hint}")


@dataclass(frozen=True)
class CallPlan:
    """What a call to ``target`` will be: from which number (and why), the override taken, and
    whether it is recorded (announced first) and why."""

    target: str
    caller_id: str
    caller_id_choice: str
    override: str = ""
    overridden: str = ""  # the rule's reason that the override set aside
    recording: RecordingDecision | None = None


def plan_call(rules: CallingRules, target: str, *, owned: list[str], default_caller_id: str,
              override: str | None = None, recording: RecordingSettings | None = None,
              can_announce: bool = True) -> CallPlan:
    """The plan of a call, or :class:`CallRefused` when a rule forbids it and no override is given.
    ``recording``: the recording option (none: not recorded); ``can_announce``: the calling mode
    can play the recording announcement to the lead."""
    if override is not None and (not isinstance(override, str) or not override.strip()):
        raise ValueError("override: say why the rule is set aside (it is recorded with the call)")
    reason = rules.refusal(target)
    if reason and override is None:
        raise CallRefused(reason)
    caller_id, choice = choose_caller_id(target, owned, default_caller_id)
    decision = decide_recording(recording, target, can_announce=can_announce) if recording is not None else None
    return CallPlan(target, caller_id, choice, (override or "").strip() if reason else "", reason, decision)


def check_text(rules: CallingRules, to: str) -> None:
    """Texts are refused to numbers on the do-not-call list (calling hours are for calls)."""
    source = rules.do_not_call.source(to)
    if source is not None:
        raise CallRefused(do_not_call_reason(source), texting=True)
