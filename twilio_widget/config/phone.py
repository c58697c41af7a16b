"""PhoneConfig: every option of the Twilio Phone element, validated, from and to its data
model and the environment."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..checks import host_problem, regex_problem, secret_problem, sid_problem, url_problem
from ..contacts.display import DEFAULT_REGULAR_EXPRESSION
from ..vocabulary import VOICE_CODECS
from .errors import ConfigError, check_names
from .items import Caller, PhoneSource
from .reading import CALLER_KEYS, read_flag, read_item, read_list, read_source, read_str
from .rules import RulesSettings
from .secrets import exported, usable
from .smtp import SmtpSettings, smtp_type_problem
from .voice_options import as_list, codec_problems, edge_problems

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
_EXTRA_KEYS = ("smtp", "edge", "codecs", "rules")
_SID_OPTIONS = ("account_sid", "app_sid", "api_key_sid")
#: The options that are secrets: never shown, and best kept in the environment.
SECRET_OPTIONS = ("auth_token", "api_key_secret")

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
    #: The browser Device's edge, or edges in order of preference ([]: Twilio's default, roaming).
    edge: list[str] = field(default_factory=list)
    #: The audio codecs the browser Device prefers, best first.
    codecs: list[str] = field(default_factory=lambda: list(VOICE_CODECS))
    #: The calling rules: hours, do-not-call list, voicemail drop (config/rules.py).
    rules: RulesSettings = field(default_factory=RulesSettings)

    def __post_init__(self) -> None:
        self.edge, self.codecs = as_list(self.edge), as_list(self.codecs)
        # Plain dicts (the data model's shape) are accepted for the list options and smtp too.
        self.callers = _items(self.callers, Caller)
        self.fields_with_phones = _items(self.fields_with_phones, PhoneSource)
        if isinstance(self.smtp, Mapping):
            self.smtp = SmtpSettings.from_mapping(self.smtp)
        self.rules = RulesSettings.from_mapping(self.rules)
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
        if why := smtp_type_problem(self.smtp):
            found.append(("smtp", why))
        if not isinstance(self.rules, RulesSettings):
            found.append(("rules", f"expected rules settings, got {type(self.rules).__name__}"))
        if found:
            return found
        found += self.rules.problems()
        for option in _SID_OPTIONS:
            if getattr(self, option) and (why := sid_problem(getattr(self, option), option)):
                found.append((option, why))
        for option in SECRET_OPTIONS:
            value = getattr(self, option)
            if usable(value) and (why := secret_problem(value, option)):
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
        found += edge_problems(self.edge) + codec_problems(self.codecs)
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
        token = usable(self.auth_token)
        api_key = bool(self.api_key_sid) and usable(self.api_key_secret)
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
                value = exported(value)
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
        check_names(data, "data_model", DATA_MODEL_KEYS + _EXTRA_KEYS, expected="a JSON object")
        flag = data.get("multiple_value")
        return cls(
            # Left out, the switch keeps the one default (the dataclass field's).
            multiple_value=cls.multiple_value if flag is None else read_flag(flag, "multiple_value"),
            account_sid=read_str(data, "account_sid"),
            auth_token=read_str(data, "auth_token"),
            app_sid=read_str(data, "app_sid"),
            sip_domain=read_str(data, "sip_domain"),
            voice_mail_url=read_str(data, "voice_mail_url"),
            callers=[Caller(**read_item(item, f"callers[{i}]", CALLER_KEYS))
                     for i, item in enumerate(read_list(data, "callers"))],
            fields_with_phones=[read_source(item, f"fields_with_phones[{i}]")
                                for i, item in enumerate(read_list(data, "fields_with_phones"))],
            interpretation=[str(kind) for kind in read_list(data, "interpretation")],
            regular_expression=read_str(data, "regular_expression", DEFAULT_REGULAR_EXPRESSION),
            smtp=SmtpSettings.from_mapping(data.get("smtp")),
            edge=data.get("edge", []),
            codecs=data.get("codecs", list(VOICE_CODECS)),
            rules=RulesSettings.from_mapping(data.get("rules")),
        )

    def to_data_model(self, include_secrets: bool = False, *, wrap: bool = False) -> dict:
        """The element's data model (its keys, and ``smtp`` when mail is set up); the auth token
        and the SMTP password masked unless asked for."""
        model = {
            "account_sid": self.account_sid,
            "app_sid": self.app_sid,
            "auth_token": exported(self.auth_token, include_secrets),
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
        if self.edge:
            model["edge"] = list(self.edge)
        if self.codecs != list(VOICE_CODECS):
            model["codecs"] = list(self.codecs)
        if not self.rules.is_default:
            model["rules"] = self.rules.to_data_model()
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
