"""PhoneConfig: the Twilio Phone element's options, its data-model JSON, and their validation.

The element stores its settings as one JSON object (its "data model")::

    {"data_model": {"account_sid": ..., "auth_token": ..., "app_sid": ..., "callers": [...],
                    "fields_with_phones": [...], "interpretation": [], "multiple_value": 0,
                    "regular_expression": "\\\\.*$", "sip_domain": ..., "voice_mail_url": ...}}

:class:`PhoneConfig` reads and writes exactly that shape, validates every option with a
message naming it, and keeps the secrets (auth token, API key secret) out of reprs,
exceptions and exported JSON unless they are asked for. ``docs/element.md`` maps each
option to where it is used.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .checks import (
    e164_problem,
    email_problem,
    host_or_ip_problem,
    host_problem,
    regex_problem,
    secret_problem,
    sender_problem,
    sid_problem,
    url_problem,
)
from .contacts import Contacts
from .contacts.display import DEFAULT_REGULAR_EXPRESSION

__all__ = [
    "Caller",
    "ConfigError",
    "DATA_MODEL_KEYS",
    "ENVIRONMENT",
    "INTERPRETATIONS",
    "MASK",
    "PhoneConfig",
    "PhoneSource",
    "SmtpSettings",
    "check_sources",
    "contacts_from_config",
]

#: What an exported secret looks like when it is set but not asked for.
MASK = "********"

#: The element's interpretation types: a button opening the number list, or the full panel.
INTERPRETATIONS = ("default", "panel")

#: The data model's keys, in the element's order.
DATA_MODEL_KEYS = (
    "account_sid",
    "app_sid",
    "auth_token",
    "callers",
    "fields_with_phones",
    "interpretation",
    "multiple_value",
    "regular_expression",
    "sip_domain",
    "voice_mail_url",
)
#: Options that are not the element's, exported only when set (the routing service's mail).
_EXTRA_KEYS = ("smtp",)
_CALLER_KEYS = ("caller_id", "client_mail", "user_id")
_SMTP_KEYS = ("host", "port", "sender", "username", "password", "starttls", "ssl", "timeout")
#: Other spellings an ``smtp`` object may use (the CLI's flags say "from" and "user").
_SMTP_ALIASES = {"from": "sender", "user": "username"}
_SOURCE_KEYS = ("app_id", "field_id", "view_id")
_SID_OPTIONS = ("account_sid", "app_sid", "api_key_sid")
_SECRET_OPTIONS = ("auth_token", "api_key_secret")

#: The environment variables from_env reads, by option.
ENVIRONMENT = {
    "account_sid": "TWILIO_ACCOUNT_SID",
    "auth_token": "TWILIO_AUTH_TOKEN",
    "api_key_sid": "TWILIO_API_KEY",
    "api_key_secret": "TWILIO_API_SECRET",
    "app_sid": "TWILIO_APP_SID",
    "caller_id": "TWILIO_CALLER_ID",
    "sip_domain": "TWILIO_SIP_DOMAIN",
    "voice_mail_url": "TWILIO_VOICE_MAIL_URL",
    "client_mail": "TWILIO_CLIENT_MAIL",
}


class ConfigError(ValueError):
    """An option with a problem. ``problems`` lists (option, problem) pairs, all of them.

    Messages name the option and describe the value's problem; secret values never appear.
    """

    def __init__(self, problems: list[tuple[str, str]] | str, problem: str | None = None):
        if isinstance(problems, str):
            problems = [(problems, problem or "invalid")]
        self.problems = list(problems)
        super().__init__("; ".join(f"{option}: {why}" for option, why in self.problems))


# --------------------------------------------------------------------------------------
# The options
# --------------------------------------------------------------------------------------


@dataclass
class Caller:
    """A user who makes calls: their Twilio number (caller ID) and where mail goes."""

    user_id: str = ""
    caller_id: str = ""  # E.164 Twilio number shown to the people this user calls
    client_mail: str = ""  # where this user's voicemail and messages are emailed

    def problems(self, where: str) -> list[tuple[str, str]]:
        found = []
        if not self.user_id:
            found.append((f"{where}.user_id", "required (who this caller is)"))
        if self.caller_id and (why := e164_problem(self.caller_id)):
            found.append((f"{where}.caller_id", why))
        if self.client_mail and (why := email_problem(self.client_mail)):
            found.append((f"{where}.client_mail", why))
        return found

    def to_data_model(self) -> dict:
        return {"caller_id": self.caller_id, "client_mail": self.client_mail, "user_id": self.user_id}


@dataclass
class PhoneSource:
    """Where numbers come from: a DataFrame (app_id), its phone columns, its contact card.

    ``view_id`` is a comma-separated list of the columns the contact card shows when the
    contact calls in; empty means every column.
    """

    app_id: str = ""
    field_id: list[str] = field(default_factory=list)
    view_id: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.field_id, str):  # the element's own spelling: "a,b"
            self.field_id = _split(self.field_id)

    @property
    def view_columns(self) -> list[str]:
        """The contact card's columns ([] = all of them)."""
        return _split(self.view_id)

    def problems(self, where: str) -> list[tuple[str, str]]:
        found = []
        if not self.app_id:
            found.append((f"{where}.app_id", "required (the name of the DataFrame holding the numbers)"))
        if not self.field_id:
            found.append((f"{where}.field_id", "name at least one phone column"))
        elif len(set(self.field_id)) != len(self.field_id):
            found.append((f"{where}.field_id", f"a column is listed twice in {','.join(self.field_id)!r}"))
        if any("," in f or not f.strip() for f in self.field_id):
            found.append((f"{where}.field_id", "column names must be non-empty and contain no comma"))
        return found

    def to_data_model(self) -> dict:
        return {"app_id": self.app_id, "field_id": ",".join(self.field_id), "view_id": self.view_id}


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
        if why := _smtp_type_problem(value):
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
        unknown = sorted(set(values) - set(_SMTP_KEYS), key=str)
        if unknown:
            known = ", ".join(_SMTP_KEYS)
            raise ConfigError("smtp", f"unknown key(s) {', '.join(map(repr, unknown))} (known: {known})")
        if isinstance(values.get("port"), str) and values["port"].strip().isdigit():
            values["port"] = int(values["port"])
        values.setdefault("port", 465 if values.get("ssl") is True else 25)
        return cls(**{"host": "", **values})  # a missing host is named by the check, not a TypeError

    def to_data_model(self, include_secrets: bool = False) -> dict[str, Any]:
        model = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        model["username"] = self.username or ""
        model["password"] = (self.password if include_secrets else MASK) if self.password else ""
        return model

    def __repr__(self) -> str:
        shown = {**self.to_data_model(), "username": self.username}
        shown["password"] = MASK if self.password else None
        return f"SmtpSettings({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


def _smtp_type_problem(value: Any) -> str | None:
    if value is None or isinstance(value, SmtpSettings):
        return None
    return f"expected SMTP settings (a dict with host, port ...), got {type(value).__name__}"


def _smtp_host_problem(host: Any) -> str | None:
    if not isinstance(host, str) or not host:
        return "required (the SMTP server's host name)"
    return host_or_ip_problem(host)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(repr=False)
class PhoneConfig:
    """Every option of the Twilio Phone element, plus the API key this package can use.

    Validated on construction (and by :meth:`validate`); empty strings mean "not set".
    ``auth_token`` and ``api_key_secret`` never appear in repr, errors or exported JSON
    unless asked for; :data:`MASK` as their value means "set, but withheld".
    ``multiple_value`` and ``interpretation`` are where a phone's traits of the same names
    start (all of a contact's numbers, the full panel, unless set otherwise).
    """

    multiple_value: bool = True
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)
    app_sid: str = ""
    sip_domain: str = ""
    voice_mail_url: str = ""
    callers: list[Caller] = field(default_factory=list)
    fields_with_phones: list[PhoneSource] = field(default_factory=list)
    interpretation: list[str] = field(default_factory=list)
    regular_expression: str = DEFAULT_REGULAR_EXPRESSION
    api_key_sid: str = ""
    api_key_secret: str = field(default="", repr=False)
    #: The routing service's mail server (``phone.serve``, ``twilio-widget serve``); None: no mail.
    smtp: SmtpSettings | None = None

    def __post_init__(self) -> None:
        # Plain dicts (the data model's shape) are accepted for the list options and smtp too.
        self.callers = _items(self.callers, Caller)
        self.fields_with_phones = _items(self.fields_with_phones, PhoneSource)
        if isinstance(self.smtp, Mapping):
            self.smtp = SmtpSettings.from_mapping(self.smtp)
        self.validate()

    # -- validation ---------------------------------------------------------------------

    def problems(self) -> list[tuple[str, str]]:
        """Every (option, problem) in this configuration; [] when it is valid."""
        found: list[tuple[str, str]] = []
        for option, typ in (("multiple_value", bool), ("callers", list), ("fields_with_phones", list),
                            ("interpretation", list)):
            if not isinstance(getattr(self, option), typ):
                found.append((option, f"expected a {typ.__name__}, got {type(getattr(self, option)).__name__}"))
        strings = ("account_sid", "auth_token", "app_sid", "sip_domain", "voice_mail_url",
                   "regular_expression", "api_key_sid", "api_key_secret")
        for option in strings:
            if not isinstance(getattr(self, option), str):
                found.append((option, f"expected a string, got {type(getattr(self, option)).__name__}"))
        if why := _smtp_type_problem(self.smtp):
            found.append(("smtp", why))
        if found:
            return found
        for option in _SID_OPTIONS:
            if getattr(self, option) and (why := sid_problem(getattr(self, option), option)):
                found.append((option, why))
        for option in _SECRET_OPTIONS:
            value = getattr(self, option)
            if value and value != MASK and (why := secret_problem(value, option)):  # MASK: set, withheld
                found.append((option, why))
        if self.api_key_secret and not self.api_key_sid:
            found.append(("api_key_sid", "required when api_key_secret is set"))
        if self.sip_domain and (why := host_problem(self.sip_domain)):
            found.append(("sip_domain", why))
        if self.voice_mail_url and (why := url_problem(self.voice_mail_url)):
            found.append(("voice_mail_url", why))
        if why := regex_problem(self.regular_expression):
            found.append(("regular_expression", why))
        for i, kind in enumerate(self.interpretation):
            if kind not in INTERPRETATIONS:
                found.append((f"interpretation[{i}]", f"{kind!r} is not one of {', '.join(INTERPRETATIONS)}"))
        found += self._list_problems("callers", Caller, "user_id")
        found += self._list_problems("fields_with_phones", PhoneSource, "app_id")
        return found

    def _list_problems(self, option: str, kind: type, unique: str) -> list[tuple[str, str]]:
        found, seen = [], {}
        for i, item in enumerate(getattr(self, option)):
            where = f"{option}[{i}]"
            if not isinstance(item, kind):
                found.append((where, f"expected a {kind.__name__}, got {type(item).__name__}"))
                continue
            found += item.problems(where)
            key = getattr(item, unique)
            if key and key in seen:
                found.append((f"{where}.{unique}", f"{key!r} is already listed in {option}[{seen[key]}]"))
            seen.setdefault(key, i)
        return found

    def validate(self) -> PhoneConfig:
        """Raise :class:`ConfigError` listing every problem; return self when there are none."""
        found = self.problems()
        if found:
            raise ConfigError(found)
        return self

    # -- state --------------------------------------------------------------------------

    @property
    def has_credentials(self) -> bool:
        """Whether this can authenticate to Twilio: Account SID plus token or API key."""
        token = bool(self.auth_token) and self.auth_token != MASK
        api_key = bool(self.api_key_sid and self.api_key_secret) and self.api_key_secret != MASK
        return bool(self.account_sid) and (token or api_key)

    @property
    def look(self) -> str:
        """The interpretation the panel shows: the first one listed, "panel" when none is."""
        return self.interpretation[0] if self.interpretation else "panel"

    def caller(self, user_id: str) -> Caller | None:
        """The caller settings of one user, if listed."""
        return next((c for c in self.callers if c.user_id == user_id), None)

    def replace(self, **changes: Any) -> PhoneConfig:
        """A validated copy with some options changed."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("auth_token", "api_key_secret"):
                value = MASK if value else ""
            shown.append(f"{f.name}={value!r}")
        return f"PhoneConfig({', '.join(shown)})"

    __str__ = __repr__

    # -- the element's JSON -------------------------------------------------------------

    @classmethod
    def from_data_model(cls, data: Mapping[str, Any]) -> PhoneConfig:
        """Read the element's data model, with or without the outer ``data_model`` key."""
        if not isinstance(data, Mapping):
            raise ConfigError("data_model", f"expected a JSON object, got {type(data).__name__}")
        if set(data) == {"data_model"}:
            data = data["data_model"]
            if not isinstance(data, Mapping):
                raise ConfigError("data_model", f"expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(DATA_MODEL_KEYS) - set(_EXTRA_KEYS), key=str)
        if unknown:
            raise ConfigError("data_model", f"unknown option(s) {', '.join(map(repr, unknown))} "
                              f"(known: {', '.join(DATA_MODEL_KEYS + _EXTRA_KEYS)})")
        flag = data.get("multiple_value")
        return cls(
            # Left out, the switch keeps the one default (the dataclass field's).
            multiple_value=cls.multiple_value if flag is None else _read_flag(flag, "multiple_value"),
            account_sid=_read_str(data, "account_sid"),
            auth_token=_read_str(data, "auth_token"),
            app_sid=_read_str(data, "app_sid"),
            sip_domain=_read_str(data, "sip_domain"),
            voice_mail_url=_read_str(data, "voice_mail_url"),
            callers=[Caller(**_read_item(item, f"callers[{i}]", _CALLER_KEYS))
                     for i, item in enumerate(_read_list(data, "callers"))],
            fields_with_phones=[_read_source(item, f"fields_with_phones[{i}]")
                                for i, item in enumerate(_read_list(data, "fields_with_phones"))],
            interpretation=[str(kind) for kind in _read_list(data, "interpretation")],
            regular_expression=_read_str(data, "regular_expression", DEFAULT_REGULAR_EXPRESSION),
            smtp=SmtpSettings.from_mapping(data.get("smtp")),
        )

    def to_data_model(self, include_secrets: bool = False, *, wrap: bool = False) -> dict:
        """The element's data model (its keys, and ``smtp`` when mail is set up); the auth token
        and the SMTP password masked unless asked for."""
        token = self.auth_token if include_secrets or not self.auth_token else MASK
        model = {
            "account_sid": self.account_sid,
            "app_sid": self.app_sid,
            "auth_token": token,
            "callers": [c.to_data_model() for c in self.callers],
            "fields_with_phones": [s.to_data_model() for s in self.fields_with_phones],
            "interpretation": list(self.interpretation),
            "multiple_value": int(self.multiple_value),
            "regular_expression": self.regular_expression,
            "sip_domain": self.sip_domain,
            "voice_mail_url": self.voice_mail_url,
        }
        if self.smtp is not None:
            model["smtp"] = self.smtp.to_data_model(include_secrets)
        return {"data_model": model} if wrap else model

    # -- the environment ----------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> PhoneConfig:
        """Credentials and settings from the usual TWILIO_* variables.

        TWILIO_CALLER_ID and TWILIO_CLIENT_MAIL become one caller, whose user_id is
        TWILIO_USER_ID (default "me"). ``options`` set or override anything else.
        """
        environ = os.environ if environ is None else environ
        read = {option: environ.get(name, "").strip() for option, name in ENVIRONMENT.items()}
        caller_id, client_mail = read.pop("caller_id"), read.pop("client_mail")
        if caller_id or client_mail:
            user = environ.get("TWILIO_USER_ID", "").strip() or "me"
            read["callers"] = [Caller(user_id=user, caller_id=caller_id, client_mail=client_mail)]
        read.update(options)
        try:
            return cls(**read)
        except ConfigError as exc:
            raise ConfigError([(_env_name(option), why) for option, why in exc.problems]) from None


def _items(value: Any, kind: type) -> Any:
    """A list option with dicts made into ``kind``; anything but a list is left for validation."""
    if not isinstance(value, list | tuple):
        return value
    return [kind(**item) if isinstance(item, Mapping) else item for item in value]


def _env_name(option: str) -> str:
    """'callers[0].caller_id' -> 'TWILIO_CALLER_ID (callers[0].caller_id)'."""
    leaf = option.rsplit(".", 1)[-1]
    return f"{ENVIRONMENT[leaf]} ({option})" if leaf in ENVIRONMENT else option


def _read_str(data: Mapping, key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(key, f"expected a string, got {type(value).__name__}")
    return str(value)


def _read_flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return bool(int(value))
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(key, f"{value!r} is not a switch (expected 0 or 1)")


def _read_list(data: Mapping, key: str) -> list:
    value = data.get(key) or []
    if not isinstance(value, list | tuple):
        raise ConfigError(key, f"expected a list, got {type(value).__name__}")
    return list(value)


def _read_item(item: Any, where: str, keys: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(item, Mapping):
        raise ConfigError(where, f"expected a JSON object, got {type(item).__name__}")
    unknown = sorted(set(item) - set(keys), key=str)
    if unknown:
        raise ConfigError(where, f"unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(keys)})")
    return {key: _read_str(item, key) for key in keys}


def _read_source(item: Any, where: str) -> PhoneSource:
    values = _read_item(item, where, _SOURCE_KEYS)
    return PhoneSource(app_id=values["app_id"], field_id=_split(values["field_id"]), view_id=values["view_id"])


# --------------------------------------------------------------------------------------
# Sources: the DataFrames the options name
# --------------------------------------------------------------------------------------


def _column(df, name: str) -> Hashable | None:
    """The column called ``name``; column labels that are not strings match by str()."""
    if name in df.columns:
        return name
    return next((col for col in df.columns if str(col) == name), None)


def check_sources(config: PhoneConfig, sources: Mapping[str, Any]) -> None:
    """Raise ConfigError naming every app_id or column in fields_with_phones that is missing."""
    found: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, source in enumerate(config.fields_with_phones):
        where = f"fields_with_phones[{i}]"
        if source.app_id in seen:
            found.append((f"{where}.app_id", f"{source.app_id!r} is already listed in "
                          f"fields_with_phones[{seen[source.app_id]}]; list all its fields there"))
            continue
        seen[source.app_id] = i
        if source.app_id not in sources:
            known = ", ".join(map(repr, sources)) or "none given"
            found.append((f"{where}.app_id", f"no DataFrame named {source.app_id!r} (sources: {known})"))
            continue
        df = sources[source.app_id]
        for option, names in (("field_id", source.field_id), ("view_id", source.view_columns)):
            for name in names:
                if _column(df, name) is None:
                    found.append((f"{where}.{option}", f"{source.app_id!r} has no column {name!r} "
                                  f"(columns: {', '.join(map(str, df.columns))})"))
    if found:
        raise ConfigError(found)


def contacts_from_config(
    config: PhoneConfig,
    sources: Mapping[str, Any],
    region: str = "US",
    *,
    names: Mapping[str, str] | None = None,
):
    """The phone book that ``fields_with_phones`` describes.

    One source gives keys that are its row labels; several give (app_id, label) keys.
    ``names`` optionally maps an app_id to the column that names its contacts. Numbers
    are displayed with ``config.regular_expression``.
    """
    check_sources(config, sources)
    if not config.fields_with_phones:
        raise ConfigError("fields_with_phones", "no source of phone numbers is configured")
    names = names or {}
    parts = []
    for source in config.fields_with_phones:
        df = sources[source.app_id]
        view = [_column(df, name) for name in source.view_columns] or None
        parts.append(Contacts.from_dataframe(
            df,
            [_column(df, name) for name in source.field_id],
            name=names.get(source.app_id),
            region=region,
            view=view,
            display=config.regular_expression,
            source=source.app_id,
        ))
    return parts[0] if len(parts) == 1 else Contacts.combine(parts)
