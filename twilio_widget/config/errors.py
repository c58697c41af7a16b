"""ConfigError: every problem of a configuration at once, each naming its option."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ConfigError(ValueError):
    """An option with a problem. ``problems`` lists (option, problem) pairs, all of them.

    Messages name the option and describe the value's problem; secret values never appear.
    """

    def __init__(self, problems: list[tuple[str, str]] | str, problem: str | None = None):
        if isinstance(problems, str):
            problems = [(problems, problem or "invalid")]
        self.problems = list(problems)
        super().__init__("; ".join(f"{option}: {why}" for option, why in self.problems))


def check_names(value: Any, option: str, known: Sequence[str], *, noun: str = "option",
                expected: str = "a mapping") -> None:
    """Refuse a value that is not a mapping, or that names anything not in ``known``."""
    if not isinstance(value, Mapping):
        raise ConfigError(option, f"expected {expected}, got {type(value).__name__}")
    unknown = sorted(set(value) - set(known), key=str)
    if unknown:
        raise ConfigError(option, f"unknown {noun}(s) {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
