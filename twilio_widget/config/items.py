"""The items of the element's list options: callers (who calls, from which number) and
phone sources (which DataFrame columns hold numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checks import e164_problem, email_problem


@dataclass
class Caller:
    """A user who makes calls: their Twilio number (caller ID) and where mail goes.

    ``numbers`` are more Twilio numbers the user may call from: a lead sees the one of its area
    code, else of its state or country, else ``caller_id`` (local caller ID, rules/callerid.py).
    """

    user_id: str = ""
    caller_id: str = ""  # E.164 Twilio number shown to the people this user calls
    client_mail: str = ""  # where this user's voicemail and messages are emailed
    numbers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.numbers, str):  # the data model's spelling: "+1303...,+1415..."
            self.numbers = split_names(self.numbers)

    def problems(self, where: str) -> list[tuple[str, str]]:
        found = []
        if not self.user_id:
            found.append((f"{where}.user_id", "required (who this caller is)"))
        if self.caller_id and (why := e164_problem(self.caller_id)):
            found.append((f"{where}.caller_id", why))
        if self.client_mail and (why := email_problem(self.client_mail)):
            found.append((f"{where}.client_mail", why))
        if not isinstance(self.numbers, list):
            found.append((f"{where}.numbers", f"expected a list of numbers, got {type(self.numbers).__name__}"))
            return found
        for i, number in enumerate(self.numbers):
            if why := e164_problem(number):
                found.append((f"{where}.numbers[{i}]", why))
        return found

    def to_data_model(self) -> dict:
        model = {"caller_id": self.caller_id, "client_mail": self.client_mail, "user_id": self.user_id}
        if self.numbers:
            model["numbers"] = ",".join(self.numbers)
        return model


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
            self.field_id = split_names(self.field_id)

    @property
    def view_columns(self) -> list[str]:
        """The contact card's columns ([] = all of them)."""
        return split_names(self.view_id)

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


def split_names(text: str) -> list[str]:
    """The element's comma-separated column names ("a, b") as a list, blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]
