"""A method of the phone that is one of its collaborators' methods.

The phone's face keeps its public API in one place without restating each method: ``hang_up =
forwarded("_calls", ModeCalls.hang_up)`` reads ``phone.hang_up`` as the current calls object's
method, resolved at each access (so a change of mode is followed), with its signature and
docstring shown by ``help(TwilioPhone)``. A panel command can be one too.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any


class forwarded:  # noqa: N801 - used like a decorator, named like one
    def __init__(self, collaborator: str, method: Callable[..., Any]) -> None:
        self._resolve = operator.attrgetter(f"{collaborator}.{method.__name__}")
        functools.update_wrapper(self, method)

    def __get__(self, phone: Any, owner: type | None = None) -> Any:
        return self if phone is None else self._resolve(phone)

    def __call__(self, phone: Any, *args: Any, **kwargs: Any) -> Any:
        """As an unbound method (``panel_command`` wraps one)."""
        return self._resolve(phone)(*args, **kwargs)
