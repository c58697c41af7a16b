"""The phone's calling sessions: the one on the panel, the journal it reads when there is none,
and the panel's session commands."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pandas as pd

from .activity import Activity
from .join import join_outcomes
from .journal import DEFAULT_PATH, SQLiteJournal
from .outcomes import Vocabulary, outcomes_frame
from .session import CallingSession

if TYPE_CHECKING:
    from ..widget import TwilioPhone


class Sessions:
    def __init__(self, phone: TwilioPhone) -> None:
        self._phone = phone
        self.current: CallingSession | None = None

    def queue(self, leads: pd.DataFrame, fields: Any = None, **options: Any) -> CallingSession:
        """Start a calling session over ``leads`` on the panel (replacing the one there)."""
        if fields is None:
            fields = self._phone.contacts.fields
        session = CallingSession(self._phone, leads, fields, **options)  # the old one stays if this fails
        if self.current is not None:
            self.current.close()
        self.current = session
        session.show()
        return session

    def joined_team(self) -> None:
        """The phone connected to a team's service: the session running sends its outcomes there."""
        if self.current is not None:
            self.current.join_team()

    def end(self) -> None:
        """Close the session on the panel (its journal keeps everything)."""
        if self.current is not None:
            self.current.close()
            self.current = None
            self._phone.session = None

    def outcomes(self, journal: Any = None) -> pd.DataFrame:
        """Every outcome in the journal: the session's, or the file named (default: the phone's)."""
        if journal is None and self.current is not None:
            return self.current.journal.outcomes()
        path = journal or DEFAULT_PATH
        if not isinstance(path, str) and hasattr(path, "outcomes"):
            return path.outcomes()
        if not os.path.exists(path):
            return outcomes_frame([])
        reader = SQLiteJournal(path)
        try:
            return reader.outcomes()
        finally:
            reader.close()

    def activity(self, outcomes: pd.DataFrame | None = None) -> Activity:
        """Typed frames and plots of the outcomes (default: all in the journal)."""
        vocabulary = self.current.vocabulary if self.current is not None else Vocabulary()
        return Activity.of(self.outcomes() if outcomes is None else outcomes, vocabulary.connected_names())

    def join(self, leads: pd.DataFrame, outcomes: pd.DataFrame | None = None) -> pd.DataFrame:
        """``leads`` with last_outcome, last_note, attempts, last_called and next_callback joined on."""
        return join_outcomes(leads, self.outcomes() if outcomes is None else outcomes, now=self._now())

    def _now(self) -> pd.Timestamp | None:
        return self.current._now() if self.current is not None else None

    # -- the panel's commands ------------------------------------------------------------------

    def _session(self) -> CallingSession:
        if self.current is None:
            raise ValueError("session: no calling session; start one with phone.queue(leads)")
        return self.current

    def panel_call(self) -> None:
        self._session().call()

    def panel_outcome(self, outcome: str, note: str = "", callback_at: str | None = None) -> None:
        self._session().record(outcome, note, callback_at or None)

    def panel_skip(self) -> None:
        self._session().skip()

    def panel_pause(self, paused: bool = True) -> None:
        if paused:
            self._session().pause()
        else:
            self._session().resume()
