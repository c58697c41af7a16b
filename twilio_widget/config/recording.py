"""The recording option (``rules.recording``): off unless enabled; where every party must consent,
an announcement first, or no recording.

    recording = {"enabled": True,
                 "all_party_consent": "announce",                 # or "skip": not recorded there
                 "announcement": "This call may be recorded.",    # said to the lead; an http(s) URL is played
                 "consent": {"US-OR": "all-party", "GB": "one-party"}}   # over rules/consent.py's table

Which places need every party's consent is a table in ``twilio_widget/rules/consent.py``;
``consent`` changes it for a country ("GB") or a state or province ("US-OR").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..checks import choice_problem, region_problem, url_problem
from .errors import ConfigError, check_names

#: What a place asks before a call is recorded: every party's consent, or one party's (the user's).
CONSENT_RULES = ("all-party", "one-party")
#: What to do where every party must consent: tell the lead first, or leave the call unrecorded.
ALL_PARTY_CHOICES = ("announce", "skip")
DEFAULT_ANNOUNCEMENT = "This call may be recorded."
#: Twilio's <Say> takes up to 4096 characters.
MAX_ANNOUNCEMENT_CHARS = 4096


@dataclass(frozen=True)
class RecordingSettings:
    enabled: bool = False
    all_party_consent: str = "announce"
    announcement: str = DEFAULT_ANNOUNCEMENT
    #: Region code -> "all-party" | "one-party", over the table's default for that place.
    consent: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any] | RecordingSettings | None,
                     option: str = "rules.recording") -> RecordingSettings:
        if value is None:
            return cls()
        if isinstance(value, RecordingSettings):
            return value
        check_names(value, option, [f.name for f in fields(cls)])
        settings = cls(**value)
        problems = settings.problems(option)
        if problems:
            raise ConfigError(problems)
        if isinstance(settings.consent, Mapping):  # a copy of its own: the caller's dict may change later
            object.__setattr__(settings, "consent", dict(settings.consent))
        return settings

    def problems(self, option: str = "rules.recording") -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not isinstance(self.enabled, bool):
            found.append((f"{option}.enabled", f"expected true or false, got {self.enabled!r}"))
        if why := choice_problem(self.all_party_consent, ALL_PARTY_CHOICES):
            found.append((f"{option}.all_party_consent", why))
        if why := announcement_problem(self.announcement):
            found.append((f"{option}.announcement", why))
        if not isinstance(self.consent, Mapping):
            found.append((f"{option}.consent", f"expected a mapping of region code to "
                          f"{' or '.join(CONSENT_RULES)}, got {type(self.consent).__name__}"))
            return found
        for region, rule in self.consent.items():
            if why := region_problem(region) or choice_problem(rule, CONSENT_RULES):
                found.append((f"{option}.consent[{region!r}]", why))
        return found

    @property
    def announcement_is_url(self) -> bool:
        """An http(s) URL is played to the lead; anything else is said."""
        return self.announcement.startswith(("http://", "https://"))

    @property
    def is_default(self) -> bool:
        return self == RecordingSettings()

    def to_data_model(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "all_party_consent": self.all_party_consent,
                "announcement": self.announcement, "consent": dict(self.consent)}


def announcement_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected the words to say or an http(s) URL to play, got {type(value).__name__}"
    if not value.strip():
        return "is empty: give the words to say (or an http(s) URL of the recording to play)"
    if value.startswith(("http://", "https://")):
        return url_problem(value)
    if len(value) > MAX_ANNOUNCEMENT_CHARS:
        return f"{len(value)} characters: Twilio says at most {MAX_ANNOUNCEMENT_CHARS}"
    return None
