"""ConfigError: every problem of a configuration at once, each naming its option."""

from __future__ import annotations


class ConfigError(ValueError):
    """An option with a problem. ``problems`` lists (option, problem) pairs, all of them.

    Messages name the option and describe the value's problem; secret values never appear.
    """

    def __init__(self, problems: list[tuple[str, str]] | str, problem: str | None = None):
        if isinstance(problems, str):
            problems = [(problems, problem or "invalid")]
        self.problems = list(problems)
        super().__init__("; ".join(f"{option}: {why}" for option, why in self.problems))
