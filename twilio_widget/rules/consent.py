"""Recording with consent: may this call be recorded, and must the lead hear an announcement first?

The places where every party must consent to a recording (or, for a business's call, be told of
it) are the table below, by region code as ``places.py`` gives them: a US state ("US-CA"), a
Canadian province's country ("CA"), a country ("DE"). Everywhere else one party's consent (the
user's, who turned recording on) is enough, as US federal law has it (18 U.S.C. § 2511(2)(d)).
The configuration's ``rules.recording.consent`` changes any entry. One function,
:func:`decide_recording`, makes the decision for a call; the call records it.

The table is a conservative default, not legal advice: where a court or a data-protection
authority reads the law more strictly than its letter, the stricter reading is taken.

- Delaware and Michigan are disputed (Delaware's wiretap law is one-party, its privacy law
  all-party; Michigan's courts let a participant record): both are all-party here.
- Oregon asks every party's consent for conversations in person, one party's for telephone
  calls (ORS 165.540(1)(a) and (c)): one-party here; ``{"US-OR": "all-party"}`` changes it.
- In the EU, the EEA, the UK and Switzerland a participant may often record under criminal law,
  but a business's recording is processing of personal data: it needs a lawful basis and the
  other party must be told (GDPR Art. 6, 13). Canada's PIPEDA asks the same of a business, and
  in Australia a call passing over the network may be recorded only with the parties' knowledge.
  So every such country is all-party here: the lead hears the announcement.
- A number whose state is not known (toll-free, non-geographic) could be in any state of its
  country: the strictest of that country's rules applies. A number placed nowhere: all-party.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .places import country_of, regions

if TYPE_CHECKING:
    from ..config.recording import RecordingSettings
    from ..payloads import RecordingConsent

_GDPR = "GDPR Art. 6 and 13: a business's recording needs a lawful basis and the other party must be told"

#: Region code -> why every party must consent (or be told) there. Everywhere else: one party.
ALL_PARTY: dict[str, str] = {
    "US-CA": "California Penal Code § 632",
    "US-CT": "Connecticut Gen. Stat. § 52-570d",
    "US-DE": "Delaware Code tit. 11 § 1335 (disputed against § 2402: taken as all-party)",
    "US-FL": "Florida Statutes § 934.03",
    "US-IL": "Illinois 720 ILCS 5/14-2",
    "US-MD": "Maryland Cts. & Jud. Proc. § 10-402",
    "US-MA": "Massachusetts Gen. Laws ch. 272 § 99",
    "US-MI": "Michigan Comp. Laws § 750.539c (disputed for a participant: taken as all-party)",
    "US-MT": "Montana Code § 45-8-213",
    "US-NV": "Nevada Rev. Stat. § 200.620",
    "US-NH": "New Hampshire RSA 570-A:2",
    "US-PA": "Pennsylvania 18 Pa.C.S. § 5703",
    "US-WA": "Washington RCW 9.73.030",
    "CA": "Canada's PIPEDA: a business must tell the other party a call is recorded",
    "AU": "Australia's Telecommunications (Interception and Access) Act 1979: the parties must know",
    "CH": "Swiss Criminal Code Art. 179ter, and the Data Protection Act",
    "DE": "German Criminal Code § 201 (the spoken word), and the GDPR",
    "GB": "UK GDPR Art. 6 and 13: the other party must be told",
    **{country: _GDPR for country in (
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",  # the EU (Germany above)
        "IS", "LI", "NO")},  # the rest of the EEA
}
ONE_PARTY_BASIS = "one party's consent is enough (the user's)"


@dataclass(frozen=True)
class ConsentRule:
    """What a place asks before a call is recorded, and why."""

    rule: str  # "all-party" or "one-party"
    place: str  # the region code the rule was read for ("" when the number is placed nowhere)
    basis: str


@dataclass(frozen=True)
class RecordingDecision:
    """Whether a call is recorded, whether the lead hears the announcement first, and why."""

    record: bool
    announce: bool
    consent: str  # "all-party", "one-party", or "" when recording is off
    place: str
    reason: str

    def payload(self) -> RecordingConsent:
        return {"record": self.record, "announce": self.announce, "consent": self.consent,
                "place": self.place, "reason": self.reason}


def consent_rule(region: str, overrides: dict[str, str] | None = None) -> ConsentRule:
    """The rule of a region code ("US-CA", "GB"; "" for a number placed nowhere): its own entry
    (the configuration's before the table's), else its country's; a country whose states differ
    and a number of no known state get the strictest."""
    table = {**{place: "all-party" for place in ALL_PARTY}, **(overrides or {})}
    if not region:
        return ConsentRule("all-party", "", "the lead's place is not known: the strictest rule applies")
    country = country_of(region)
    for place in (region, country):
        if place in table:
            return ConsentRule(table[place], place, _basis(table[place], place))
    if region == country and (states := [p for p, r in table.items() if r == "all-party" and
                                         p.startswith(f"{country}-")]):
        return ConsentRule("all-party", country, f"the lead's state is not known and {', '.join(sorted(states))} "
                           f"ask every party's consent: the strictest rule applies")
    return ConsentRule("one-party", region, ONE_PARTY_BASIS)


def _basis(rule: str, place: str) -> str:
    if rule == "one-party":
        return ONE_PARTY_BASIS
    return ALL_PARTY.get(place, "every party must consent (the configuration says so)")


def region_of(number: str) -> str:
    """The region code of one E.164 number ("" when it is placed nowhere)."""
    found = regions(pd.Series([number], dtype=object)).iloc[0]
    return "" if pd.isna(found) else str(found)


def decide_recording(settings: RecordingSettings, number: str, *, can_announce: bool = True) -> RecordingDecision:
    """Record a call to ``number``? Announce first? Off unless enabled; where every party must
    consent, the lead hears the announcement first, or (``all_party_consent="skip"``, or no way
    to play it: ``can_announce`` False) the call is not recorded."""
    if not settings.enabled:
        return RecordingDecision(False, False, "", "", "recording is off")
    rule = consent_rule(region_of(number), dict(settings.consent))
    where = f"{rule.place}: " if rule.place else ""
    if rule.rule == "one-party":
        return RecordingDecision(True, False, rule.rule, rule.place, f"{where}{rule.basis}: recorded")
    if settings.all_party_consent == "skip":
        return RecordingDecision(False, False, rule.rule, rule.place,
                                 f"{where}every party must consent ({rule.basis}): not recorded")
    if not can_announce:
        return RecordingDecision(False, False, rule.rule, rule.place,
                                 f"{where}every party must consent ({rule.basis}), and the announcement needs the "
                                 f"routing service (phone.serve or phone.connect): not recorded")
    return RecordingDecision(True, True, rule.rule, rule.place,
                             f"{where}every party must consent ({rule.basis}): announced, then recorded")
