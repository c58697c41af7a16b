"""The calling rules' options (not the element's own; exported as ``rules`` when set).

    rules = {"calling_hours": {"default": "8:00-21:00", "sun": "closed"},   # see config/hours.py
             "do_not_call_path": "twilio-widget.sqlite3",   # the list's SQLite file (the routing store's)
             "voicemail_drop_url": "https://example.com/message.mp3",  # played by one click on voicemail
             "answering_machine_detection": True,           # Twilio tells a machine's greeting (both modes)
             "recording": {"enabled": True}}                # with consent: see config/recording.py
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..checks import url_problem
from .errors import ConfigError, check_names
from .hours import CallingHours
from .recording import RecordingSettings


@dataclass(frozen=True)
class RulesSettings:
    calling_hours: CallingHours = field(default_factory=CallingHours)
    do_not_call_path: str = ""
    voicemail_drop_url: str = ""
    answering_machine_detection: bool = False
    recording: RecordingSettings = field(default_factory=RecordingSettings)

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any] | RulesSettings | None, option: str = "rules") -> RulesSettings:
        if value is None:
            return cls()
        if isinstance(value, RulesSettings):
            return value
        check_names(value, option, [f.name for f in fields(cls)])
        given = dict(value)
        given["calling_hours"] = CallingHours.parse(given.get("calling_hours"), f"{option}.calling_hours")
        given["recording"] = RecordingSettings.from_mapping(given.get("recording"), f"{option}.recording")
        settings = cls(**given)
        problems = settings.problems(option)
        if problems:
            raise ConfigError(problems)
        return settings

    def problems(self, option: str = "rules") -> list[tuple[str, str]]:
        found = []
        for name in ("do_not_call_path", "voicemail_drop_url"):
            if not isinstance(getattr(self, name), str):
                found.append((f"{option}.{name}", f"expected a string, got {type(getattr(self, name)).__name__}"))
        for name in ("answering_machine_detection",):
            if not isinstance(getattr(self, name), bool):
                found.append((f"{option}.{name}", f"expected true or false, got {getattr(self, name)!r}"))
        if not isinstance(self.recording, RecordingSettings):
            found.append((f"{option}.recording", f"expected a mapping, got {type(self.recording).__name__}"))
        if found:
            return found
        found += self.recording.problems(f"{option}.recording")
        if self.voicemail_drop_url and (why := url_problem(self.voicemail_drop_url)):
            found.append((f"{option}.voicemail_drop_url", why))
        return found

    @property
    def is_default(self) -> bool:
        return self == RulesSettings()

    def to_data_model(self) -> dict[str, Any]:
        model = {f.name: getattr(self, f.name) for f in fields(self)}
        model["calling_hours"] = self.calling_hours.to_data_model()
        model["recording"] = self.recording.to_data_model()
        return model
