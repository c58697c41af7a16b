"""SmtpSettings: the mail server the routing service sends voicemails and inbound SMS through."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..checks import host_or_ip_problem, sender_problem
from .errors import ConfigError, check_names
from .secrets import exported

_SMTP_KEYS = ("host", "port", "sender", "username", "password", "starttls", "ssl", "timeout")
#: Other spellings an ``smtp`` object may use (the CLI's flags say "from" and "user").
_SMTP_ALIASES = {"from": "sender", "user": "username"}


@dataclass(frozen=True, repr=False)
class SmtpSettings:
    """Where the routing service mails voicemails and inbound SMS (to each caller's client_mail).

    Checked on construction, each problem named ``smtp.<field>``. The password is a secret
    like the auth token: :data:`MASK` in reprs and exports unless asked for.
    """

    host: str
    port: int = 25
    sender: str = "twilio-widget@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if found := self.problems():
            raise ConfigError(found)

    def problems(self) -> list[tuple[str, str]]:
        checks = {
            "host": _smtp_host_problem(self.host),
            "port": None if _is_int(self.port) and 1 <= self.port <= 65535
            else f"{self.port!r} is not a port number (1 to 65535)",
            "sender": sender_problem(self.sender) if isinstance(self.sender, str) else "expected a string",
            "username": "required when password is set" if self.password and not self.username else None,
            "ssl": "use starttls or ssl, not both" if self.starttls and self.ssl else None,
            "timeout": None if isinstance(self.timeout, int | float) and not isinstance(self.timeout, bool)
            and 0 < self.timeout <= 300 else f"{self.timeout!r} is not a number of seconds (above 0, at most 300)",
        }
        for flag in ("starttls", "ssl"):
            if not isinstance(getattr(self, flag), bool):
                checks[flag] = f"{getattr(self, flag)!r} is not true or false"
        for option in ("username", "password"):  # a password's value is never echoed
            if getattr(self, option) is not None and not isinstance(getattr(self, option), str):
                checks[option] = f"expected a string, got {type(getattr(self, option)).__name__}"
        return [(f"smtp.{option}", why) for option, why in checks.items() if why]

    @classmethod
    def read(cls, value: Any) -> SmtpSettings | None:
        """Settings however given: these, a mapping (see :meth:`from_mapping`), or None (no mail)."""
        if isinstance(value, Mapping):
            return cls.from_mapping(value)
        if why := smtp_type_problem(value):
            raise ConfigError("smtp", why)
        return value

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> SmtpSettings | None:
        """Read an ``smtp`` object as JSON or the CLI gives it; None when it is empty (no mail)."""
        if not data:
            return None
        if not isinstance(data, Mapping):
            raise ConfigError("smtp", f"expected a JSON object, got {type(data).__name__}")
        values = {_SMTP_ALIASES.get(key, key): value for key, value in data.items() if value not in (None, "")}
        check_names(values, "smtp", _SMTP_KEYS, noun="key")
        if isinstance(values.get("port"), str) and values["port"].strip().isdigit():
            values["port"] = int(values["port"])
        values.setdefault("port", 465 if values.get("ssl") is True else 25)
        return cls(**{"host": "", **values})  # a missing host is named by the check, not a TypeError

    def to_data_model(self, include_secrets: bool = False) -> dict[str, Any]:
        model = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        model["username"] = self.username or ""
        model["password"] = exported(self.password, include_secrets)
        return model

    def __repr__(self) -> str:
        shown = {**self.to_data_model(), "username": self.username}
        shown["password"] = exported(self.password) or None
        return f"SmtpSettings({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


def smtp_type_problem(value: Any) -> str | None:
    if value is None or isinstance(value, SmtpSettings):
        return None
    return f"expected SMTP settings (a dict with host, port ...), got {type(value).__name__}"


def _smtp_host_problem(host: Any) -> str | None:
    if not isinstance(host, str) or not host:
        return "required (the SMTP server's host name)"
    return host_or_ip_problem(host)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
