"""What the routing service needs to know: its public URL, the auth token, who the users are.

:class:`RoutingSettings` derives from the element's configuration, a ``PhoneConfig``
(:meth:`RoutingSettings.from_config`): the account, the auth token, the callers, the SIP
domain, the voice mail URL and the mail server are read and checked there, once, for the
widget and the service alike. What only the service needs (its public URL, ring times, the
store) is its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..checks import host_problem, identity_problem, url_problem
from ..config import MASK, Caller, PhoneConfig, SmtpSettings
from ..config.rules import RulesSettings
from ..config.secrets import usable
from ..contacts import normalize as normalize_number
from ..voice import identity_for

#: The user part of a SIP URI that we are willing to build.
_SIP_USER = re.compile(r"^[A-Za-z0-9_.!~*'()&=+$,;?/%\-]{1,64}$")


@dataclass(frozen=True)
class CallerRoute:
    """One user of the element: the browser client identity, their Twilio number, their mail."""

    identity: str
    caller_id: str
    client_mail: str | None = None
    sip_user: str | None = None
    #: More numbers the caller owns (local caller ID picks among them and caller_id).
    numbers: tuple[str, ...] = ()

    @property
    def sip_name(self) -> str:
        return self.sip_user or self.identity

    @classmethod
    def of(cls, caller: Caller) -> CallerRoute | None:
        """The route of a configured caller; None for one without a number to route."""
        user, caller_id = caller.user_id.strip(), caller.caller_id.strip()
        if not user or not caller_id:
            return None
        # The browser registers under the same identity the token names (see voice.identity_for);
        # a SIP phone keeps the user id as given.
        identity = _identity_of(user)
        return cls(identity=identity, caller_id=caller_id, client_mail=caller.client_mail.strip() or None,
                   sip_user=user if user != identity else None, numbers=tuple(caller.numbers))


@dataclass(frozen=True)
class RoutingSettings:
    """Everything the webhook service needs. Secrets are kept out of ``repr``.

    ``public_url`` is the URL Twilio uses to reach the service's root (scheme, host and any
    path prefix the proxy adds): signatures are checked against it, never against the Host
    header the service happens to see.
    """

    public_url: str
    auth_token: str = field(repr=False)
    callers: Mapping[str, CallerRoute] = field(default_factory=dict)
    account_sid: str | None = None
    sip_domain: str | None = None
    voice_mail_url: str | None = None
    ring_seconds: int = 20
    sip_seconds: int = 20
    voicemail_max_seconds: int = 120
    voicemail_greeting: str = "Nobody is available to take your call. Please leave a message after the tone."
    #: The mail server (config.SmtpSettings); a dict is read and checked the same way.
    smtp: SmtpSettings | None = None
    #: Mail the SMTP server refused is tried again this often (seconds; longer while it keeps failing).
    mail_retry_seconds: float = 60.0
    store_path: str | Path = "twilio-widget.sqlite3"
    max_body_bytes: int = 64 * 1024
    default_region: str = "US"
    #: SQLite ``synchronous`` level: FULL survives power loss, NORMAL survives process crashes.
    durability: str = "FULL"
    #: Signs the team's per-user API tokens (``team.user_token``); None turns the team API off.
    team_secret: str | None = field(default=None, repr=False)
    #: The callers (user ids) who read every user's calling-session outcomes through the team API;
    #: everyone else reads their own.
    team_leads: frozenset[str] = frozenset()  # any collection of user ids is taken
    #: The calling rules (hours, do-not-call list in the store's file) for the calls it connects.
    rules: RulesSettings = field(default_factory=RulesSettings)

    def __post_init__(self) -> None:
        if why := url_problem(self.public_url):
            raise ValueError(f"public_url: {why}; it must be the URL Twilio uses to reach this service")
        parts = urlsplit(self.public_url)
        if parts.query or parts.fragment:
            raise ValueError("public_url: must not carry a query string or fragment")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if not self.auth_token:
            raise ValueError("auth_token: is empty; webhooks cannot be verified without it")
        for name in ("ring_seconds", "sip_seconds"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 5 <= value <= 600:
                raise ValueError(f"{name}: {value!r} must be an integer between 5 and 600")
        if not isinstance(self.voicemail_max_seconds, int) or not 1 <= self.voicemail_max_seconds <= 14400:
            raise ValueError(f"voicemail_max_seconds: {self.voicemail_max_seconds!r} must be 1..14400")
        if not isinstance(self.max_body_bytes, int) or self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes: {self.max_body_bytes!r} must be at least 1024")
        if self.durability.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"durability: {self.durability!r} must be FULL, NORMAL or EXTRA")
        for key, caller in self.callers.items():
            if why := identity_problem(caller.identity):
                raise ValueError(f"callers[{key!r}].user_id: {why}")
        if self.team_secret is not None and len(self.team_secret) < 16:
            raise ValueError("team_secret: shorter than 16 characters; tokens signed with it could be guessed")
        self._check_team_leads()
        self._check_mail()

    def _check_team_leads(self) -> None:
        leads = self.team_leads
        if isinstance(leads, str) or not isinstance(leads, Iterable) or not all(isinstance(x, str) for x in leads):
            raise ValueError(f"team_leads: a list of the callers' user ids, not {leads!r}")
        identities = frozenset(_identity_of(lead.strip()) for lead in leads)
        if unknown := sorted(identities - set(self.callers)):
            raise ValueError(f"team_leads: {', '.join(map(repr, unknown))} not among the callers' user ids "
                             f"({', '.join(sorted(self.callers)) or 'none configured'})")
        object.__setattr__(self, "team_leads", identities)

    def _check_mail(self) -> None:
        # A dict (e.g. phone.serve(smtp={...})) is read and checked as the config reads it.
        object.__setattr__(self, "smtp", SmtpSettings.read(self.smtp))
        if self.smtp is not None and self.smtp.password and not usable(self.smtp.password):
            raise ValueError(f"smtp.password: withheld ({MASK!r}, as exported without secrets); give the real one")
        seconds = self.mail_retry_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 86400:
            raise ValueError(f"mail_retry_seconds: {seconds!r} must be a number of seconds above 0, at most 86400")

    # --- derived views -------------------------------------------------------------------

    @property
    def usable_sip_domain(self) -> str | None:
        """The SIP domain when it is a host name, else None (the SIP step is skipped)."""
        domain = (self.sip_domain or "").strip()
        return domain if domain and host_problem(domain) is None else None

    @property
    def usable_voice_mail_url(self) -> str | None:
        """The voice mail audio URL when it is an http(s) URL, else None (a <Say> is used)."""
        url = (self.voice_mail_url or "").strip()
        return url if url and url_problem(url) is None else None

    def url(self, path: str) -> str:
        """The absolute public URL of one of the service's routes."""
        return self.public_url + path

    def caller_for_identity(self, identity: str) -> CallerRoute | None:
        return self.callers.get(identity)

    def caller_for_number(self, number: str | None) -> CallerRoute | None:
        """The user whose Twilio number (caller_id) is ``number``."""
        wanted = normalize_number(number, self.default_region)
        if not wanted:
            return None
        for caller in self.callers.values():
            if normalize_number(caller.caller_id, self.default_region) == wanted:
                return caller
        return None

    def caller_ids(self) -> set[str]:
        return {n for c in self.callers.values() if (n := normalize_number(c.caller_id, self.default_region))}

    def sip_uri(self, caller: CallerRoute) -> str | None:
        domain = self.usable_sip_domain
        if not domain or not _SIP_USER.match(caller.sip_name):
            return None
        return f"sip:{caller.sip_name}@{domain}"

    def with_(self, **changes: Any) -> RoutingSettings:
        return replace(self, **changes)

    # --- construction --------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: PhoneConfig | Mapping[str, Any], *, public_url: str,
                    **overrides: Any) -> RoutingSettings:
        """Settings from the element's configuration: a ``PhoneConfig``, or its data model (JSON,
        with or without the ``data_model`` key), read and checked as ``PhoneConfig`` reads it.
        Keyword ``overrides`` win over the configuration.
        """
        if not isinstance(config, PhoneConfig):
            config = PhoneConfig.from_data_model(config)
        values: dict[str, Any] = {
            "public_url": public_url,
            "auth_token": config.auth_token if usable(config.auth_token) else "",  # withheld: no token
            "callers": config.callers,
            "account_sid": config.account_sid or None,
            "sip_domain": config.sip_domain or None,
            "voice_mail_url": config.voice_mail_url or None,
            "smtp": config.smtp,
            "rules": config.rules,
            **overrides,
        }
        values["callers"] = callers_from(values["callers"])
        return cls(**values)


#: Callers as the settings take them: the config's, dicts shaped like them, or routes.
CallerItems = Iterable[Caller | CallerRoute | Mapping[str, Any]] | Mapping[str, Any]


def callers_from(items: CallerItems) -> dict[str, CallerRoute]:
    """Routes by identity for the callers that have a number: the config's callers (or dicts
    shaped like them), routes as they are, or a mapping of either by user id."""
    if isinstance(items, Mapping):
        items = [v if isinstance(v, CallerRoute | Caller) else {"user_id": k, **v} for k, v in items.items()]
    routes = (item if isinstance(item, CallerRoute) else CallerRoute.of(_caller(item)) for item in items)
    return {route.identity: route for route in routes if route is not None}


def _caller(item: Caller | Mapping[str, Any]) -> Caller:
    return item if isinstance(item, Caller) else Caller(**item)


def _identity_of(user_id: str) -> str:
    try:
        return identity_for(user_id)
    except ValueError:
        return user_id  # left as given: validation names the bad user_id
