"""Recordings with their calls: the backend's recordings, joined to what this phone knows of the
call each one is of (the lead's number and the consent decision the call recorded).

:class:`RecordedCalls` only reads ``call`` (the calls object of the mode writes it), as
``quality.CallQualityLog`` does; it keeps one small row per call placed with a consent decision.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import frames


class RecordedCalls:
    def __init__(self) -> None:
        self._calls: dict[str, dict[str, Any]] = {}

    def call_changed(self, call: dict[str, Any]) -> None:
        """Keep each placed call's number and consent decision, under its sid once known."""
        sid, decision = call.get("sid"), call.get("recording")
        if sid and sid != "pending" and decision:
            self._calls[sid] = {"number": call.get("remote") or None, "consent": decision["consent"] or None,
                                "announced": decision["record"] and decision["announce"],
                                "consent_place": decision["place"] or None, "consent_reason": decision["reason"]}

    def join(self, recordings: pd.DataFrame) -> pd.DataFrame:
        """``recordings`` with the columns of ``frames.RECORDING_CONSENT`` (<NA> for a call this
        phone did not place)."""
        known = frames.from_records(self._calls.values(), "recording_consent")
        known.index = pd.Index(list(self._calls), dtype="string")
        added = known.reindex(pd.Index(recordings["call_sid"], dtype="string"))
        added.index = recordings.index
        return pd.concat([recordings, added], axis=1)
