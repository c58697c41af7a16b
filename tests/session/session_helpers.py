"""What the calling session's tests share: ending a sandbox call, and calling rules that record."""

from __future__ import annotations

import pandas as pd


def finish_call(phone, sandbox, seconds: float = 30) -> None:
    """Let the sandbox ring (and answer), talk ``seconds``, then hang up if the line is still open."""
    sandbox.advance(sandbox.ring_seconds + 0.5)
    sandbox.advance(seconds)
    phone.hang_up()


class RecordingRules:
    """The calling rules' contract, with numbers that may not be called and a record of blocks."""

    def __init__(self, forbidden=()):
        self.forbidden = set(forbidden)
        self.blocked: list[tuple[list[str], str]] = []
        self.asked: list[pd.Series] = []

    def can_call(self, numbers, at=None):
        self.asked.append(numbers)
        allowed = ~numbers.isin(self.forbidden)
        return pd.DataFrame({"allowed": allowed, "reason": (~allowed).map({True: "on the do-not-call list",
                                                                            False: ""}),
                             "local_time": pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns]"),
                             "next_allowed": pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns, UTC]")},
                            index=numbers.index)

    def block(self, numbers, *, source):
        self.blocked.append((list(numbers), source))
        self.forbidden.update(numbers)
