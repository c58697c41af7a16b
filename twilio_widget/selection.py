"""Which contact and number the panel shows, and what a call would dial.

Writes ``numbers``, ``contact``, ``row``, ``selected_display`` and ``dialpad_check``.
``selected_number`` and ``dialpad`` are the user's (typed or clicked on the panel, or set in a
cell); it checks them (the phone's validators ask it) and follows them: a number of another
contact shows that contact's card, a number in no contact shows none, and the pad always holds
what a call dials. The kernel checks each text the pad shows with the very rule the call uses,
so the panel can disable its call button with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets

from .contacts import Contacts, InvalidNumber, parse_number
from .payloads import ContactCard, DialpadCheck

if TYPE_CHECKING:
    from .rules import CallingRules
    from .widget import TwilioPhone

#: Why an empty pad cannot be called (the refusal's message).
EMPTY_PAD = "type a number to call, or pick one of the contact's"


class Selection:
    def __init__(self, phone: TwilioPhone, contacts: Contacts, region: str,
                 on_number: Callable[[], Any], rules: CallingRules | None = None) -> None:
        self._phone = phone
        # The calling rules: their verdict on a valid number, and when the clock next changes it.
        self._rules = rules
        self._recheck: threading.Timer | None = None
        self.contacts = contacts
        self.region = region
        self._on_number = on_number  # the selected number changed: its history is loaded
        self._position = 0
        phone.observe(self._offer_numbers, "multiple_value")
        phone.observe(self._row_chosen, "row")
        phone.observe(self._number_chosen, "selected_number")
        phone.observe(self._typed, "dialpad")

    def start(self) -> None:
        """Show the first contact, if there is one."""
        if len(self.contacts):
            self.select(self.contacts.key_at(0))

    def select(self, key: Any) -> None:
        """Show the contact whose row label is ``key`` and select its first number."""
        self._show(self.contacts.position(key))

    def next(self) -> None:
        """Move to the next contact (wraps around)."""
        self.step(1)

    def previous(self) -> None:
        """Move to the previous contact (wraps around)."""
        self.step(-1)

    def step(self, step: int) -> None:
        """Move one contact on (``step=1``) or back (-1), wrapping around."""
        if step not in (-1, 1):
            raise ValueError(f"step: must be -1 or 1, not {step!r}")
        if len(self.contacts):
            self._show((self._position + step) % len(self.contacts))

    def show_caller(self, number: str, card: ContactCard | None) -> None:
        """Select a caller: their contact and the number that called, when they are known."""
        if card:
            self._show(card["position"], number)
        else:
            self._phone.selected_number = number

    def card_for(self, number: str) -> ContactCard | None:
        """The card of the first contact with ``number``, naming the field it is in."""
        matches = self.contacts.lookup(number)
        if not matches:
            return None
        key, field = matches[0]
        return {**self._card(key, self.contacts.position(key)), "field": field}

    def dial_target(self, number: str | None) -> str:
        """The E.164 number a call dials: ``number``, or what the pad shows; a ValueError says
        why it cannot be called (an erased pad is never replaced by an earlier selection)."""
        on_pad = number is None
        return dial_target(self._phone.dialpad if on_pad else number, self.region,
                           "dialpad" if on_pad else "number")

    # -- the phone's validators ask these -------------------------------------------------

    def valid_number(self, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        try:
            return parse_number(value, self.region, field="selected_number")
        except InvalidNumber as exc:
            raise traitlets.TraitError(str(exc)) from None

    def known_row(self, key: Any) -> Any:
        if key is not None:
            self.contacts.position(key)  # a KeyError naming the label, before anything changes
        return key

    # -- following the user's choices -----------------------------------------------------

    def _row_chosen(self, change: dict[str, Any]) -> None:
        key = change["new"]
        if key is not None and self._phone.contact.get("key") != str(key):
            self.select(key)

    def _offer_numbers(self, change: dict[str, Any]) -> None:
        if len(self.contacts) and self._phone.contact.get("key"):
            self._show(self._position, self._phone.selected_number or None)

    def _number_chosen(self, change: dict[str, Any]) -> None:
        phone, number = self._phone, change["new"]
        if number and all(n["number"] != number for n in phone.numbers):
            matches = self.contacts.lookup(number)
            if matches:  # a number of another contact: show that contact's card
                self._show(self.contacts.position(matches[0][0]), number)
            else:
                self._show_unknown()
        phone.selected_display = self.contacts.format(number) if number else ""
        if read_pad(phone.dialpad, self.region)[0] != number:
            phone.dialpad = number
        self._on_number()

    def _typed(self, change: dict[str, Any]) -> None:
        number, problem = read_pad(change["new"], self.region)
        rule = self._rules.refusal(number) if number and self._rules is not None else ""
        verdict: DialpadCheck = {"dialpad": change["new"], "problem": rule or problem}
        if rule:  # the panel offers to call anyway, with a reason
            verdict["rule"] = True
        self._phone.dialpad_check = verdict
        self._check_again_when_the_clock_changes_it(change["new"], number)
        if number:
            self._phone.selected_number = number

    def _check_again_when_the_clock_changes_it(self, typed: str, number: str) -> None:
        """A verdict goes stale when the lead's window opens or closes: the pad is checked again
        then (by this writer of ``dialpad_check``), if it still shows the same text."""
        self.stop()
        when = self._rules.next_change(number) if number and self._rules is not None else None
        if when is None:
            return
        seconds = max(0.0, (when - pd.Timestamp(self._rules.clock())).total_seconds()) + 0.5

        def check_again() -> None:
            if self._phone.dialpad == typed:
                self._typed({"new": typed})

        self._recheck = threading.Timer(seconds, check_again)
        self._recheck.daemon = True
        self._recheck.start()

    def stop(self) -> None:
        """No more checks of the pad on a schedule (the phone closes, or the pad changed)."""
        if self._recheck is not None:
            self._recheck.cancel()
            self._recheck = None

    # -- drawing a contact -----------------------------------------------------------------

    def _card(self, key: Any, position: int) -> ContactCard:
        return {"key": str(key), "name": self.contacts.name_of(key), "fields": self.contacts.record(key),
                "position": position, "count": len(self.contacts)}

    def _show(self, position: int, number: str | None = None) -> None:
        phone = self._phone
        key = self.contacts.key_at(position)
        self._position = position
        offered = self.contacts.numbers(key)
        phone.numbers = offered if phone.multiple_value else offered[:1]
        phone.contact = self._card(key, position)
        phone.row = key.item() if hasattr(key, "item") else key  # numpy scalars read as plain labels
        phone.selected_number = number or (phone.numbers[0]["number"] if phone.numbers else "")

    def _show_unknown(self) -> None:
        """A number that is in no contact's record: no card, no field buttons."""
        self._phone.numbers = []
        self._phone.contact = {"key": "", "name": "Unknown number", "fields": {}, "position": self._position,
                               "count": len(self.contacts)}
        self._phone.row = None


def dial_target(text: str, region: str, field: str) -> str:
    """The E.164 number a call to ``text`` dials; a ValueError naming ``field`` says why not."""
    if not text.strip():
        raise ValueError(f"{field}: {EMPTY_PAD}")
    return parse_number(text, region, field=field)


def read_pad(text: str, region: str) -> tuple[str, str]:
    """(E.164 number, "") for a pad that can be called, else ("", why not, short enough to stand
    beside the call button): the same rule as the call itself."""
    try:
        return dial_target(text, region, "dialpad"), ""
    except InvalidNumber as exc:
        return "", f"Not a valid number ({exc.reason})"
    except ValueError:  # an empty pad
        return "", "Type a number to call"


def as_contacts(contacts: Any, fields: Any, **options: Any) -> Contacts:
    """The phone's ``contacts`` argument as Contacts (an empty book for None)."""
    if isinstance(contacts, Contacts):
        return contacts
    if contacts is None:
        return Contacts.from_dataframe(pd.DataFrame({"phone": pd.Series([], dtype="string")}), ["phone"])
    if not isinstance(contacts, pd.DataFrame):
        raise TypeError(f"contacts: expected a pandas DataFrame or Contacts, got {type(contacts).__name__}")
    if not fields:
        raise ValueError("fields: name the DataFrame's phone columns, e.g. fields=['mobile']")
    return Contacts.from_dataframe(contacts, [fields] if isinstance(fields, str) else list(fields), **options)
