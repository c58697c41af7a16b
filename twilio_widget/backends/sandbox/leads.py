"""Numbers that behave like real leads when the sandbox dials them: some answer, more at the hours
people pick up (in the lead's own time zone), some lines are busy, voicemail takes many calls, a
few numbers are wrong. Deterministic: the same seed, number and attempt give the same call.
Scriptable: ``script(number, "busy", "voicemail", "answer")`` fixes a number's next calls."""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ...session.rules_link import local_times

__all__ = ["ANSWER_BY_HOUR", "CallPlan", "LeadBehaviour", "PLANS"]

#: The chance a person picks up, by the hour of their own day: low at night, best mid-morning and
#: late afternoon (the shape outbound teams report).
ANSWER_BY_HOUR: dict[int, float] = {
    **dict.fromkeys(range(0, 7), 0.02), 7: 0.10, 8: 0.25, 9: 0.35, 10: 0.45, 11: 0.45, 12: 0.30,
    13: 0.30, 14: 0.35, 15: 0.40, 16: 0.50, 17: 0.45, 18: 0.30, 19: 0.20, 20: 0.12, 21: 0.08,
    22: 0.04, 23: 0.02,
}
#: What a scripted call can be.
PLANS = ("answer", "busy", "no-answer", "voicemail", "failed")


@dataclass(frozen=True)
class CallPlan:
    """How one dialled call goes: its final status, who answered, how long they talk."""

    status: str  # completed, busy, no-answer or failed
    answered_by: str | None = None  # "human" or "machine_start" (voicemail) when answered
    talk_seconds: int | None = None  # the callee hangs up after this long (None: the caller ends it)


class LeadBehaviour:
    def __init__(self, seed: int = 0, *, answer_by_hour: Mapping[int, float] | None = None,
                 busy: float = 0.08, voicemail: float = 0.6, wrong_number: float = 0.05,
                 talk_seconds: tuple[int, int] = (30, 420)) -> None:
        hours = dict(ANSWER_BY_HOUR if answer_by_hour is None else answer_by_hour)
        if set(hours) != set(range(24)) or not all(0 <= p <= 1 for p in hours.values()):
            raise ValueError("answer_by_hour: give a chance between 0 and 1 for each hour 0-23")
        for name, p in (("busy", busy), ("voicemail", voicemail), ("wrong_number", wrong_number)):
            if not 0 <= p <= 1:
                raise ValueError(f"{name}: a chance between 0 and 1, not {p!r}")
        self.seed = seed
        self.answer_by_hour = hours
        self.busy, self.voicemail, self.wrong_number = busy, voicemail, wrong_number
        self.talk_seconds = talk_seconds
        self._attempts: dict[str, int] = defaultdict(int)
        self._scripts: dict[str, deque[str]] = defaultdict(deque)

    def script(self, number: str, *plans: str) -> None:
        """The next calls to ``number`` go as listed (answer, busy, no-answer, voicemail, failed)."""
        unknown = [p for p in plans if p not in PLANS]
        if unknown:
            raise ValueError(f"plans: {unknown[0]!r} is not one of {', '.join(PLANS)}")
        self._scripts[number].extend(plans)

    def is_wrong_number(self, number: str) -> bool:
        """Whether the person who answers ``number`` is not the lead (the same for a seed)."""
        return random.Random(f"{self.seed}:wrong:{number}").random() < self.wrong_number

    def plan(self, number: str, now: datetime) -> CallPlan:
        """How the next call to ``number`` at ``now`` goes."""
        self._attempts[number] += 1
        rng = random.Random(f"{self.seed}:{number}:{self._attempts[number]}")
        if self._scripts[number]:
            return self._scripted(self._scripts[number].popleft(), rng)
        if rng.random() < self.busy:
            return CallPlan("busy")
        hour = int(local_times(pd.Series([number]), now).iat[0].hour)
        if rng.random() < self.answer_by_hour[hour] or self.is_wrong_number(number):
            talk = (rng.randint(5, 25) if self.is_wrong_number(number) else rng.randint(*self.talk_seconds))
            return CallPlan("completed", "human", talk)
        if rng.random() < self.voicemail:
            return CallPlan("completed", "machine_start", rng.randint(20, 40))
        return CallPlan("no-answer")

    def _scripted(self, plan: str, rng: random.Random) -> CallPlan:
        if plan == "answer":
            return CallPlan("completed", "human", rng.randint(*self.talk_seconds))
        if plan == "voicemail":
            return CallPlan("completed", "machine_start", rng.randint(20, 40))
        return CallPlan(plan)
