"""The session's journal on a team's service: the analyst's own SQLite journal first, then the
service, so a team lead reads every analyst's outcomes from one database.

Recording an outcome never waits for the network: it is committed to the local journal
together with an entry in that journal's outbox (one transaction), and a thread of the
journal's own sends the outbox to the service (``POST /api/outcomes``), oldest first, removing
what the service acknowledged. While the service is out of reach the outbox waits and the
thread tries again, less often the longer it fails. The journal sends through whatever
connection the phone has now: after ``phone.disconnect()`` the outbox waits, and a
``phone.connect`` to the same service as the same user resumes it (never another user's
token, nor another service). Outcomes a closed session or a killed kernel left unsent go with
the next session connected to the same service as the same user.
An answer lost on the way is harmless: each outcome carries an id of its own, and the service
stores an (agent, id) pair once (a unique constraint), so a batch sent twice counts once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..backends.base import TwilioError
from .journal import SQLiteJournal

if TYPE_CHECKING:
    from ..team_client import TeamClient

log = logging.getLogger(__name__)

#: Outcomes in one request (the service takes up to 500).
BATCH = 200
#: Waits after a failed send, one step longer each time it fails again.
RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30)
#: How often a journal whose phone is disconnected looks for the connection again.
DISCONNECTED_SECONDS = 1.0


class TeamJournal:
    """A :class:`~.journal.Journal` that keeps everything in ``local`` and sends the outcomes
    to the team's service of ``connection()`` (the phone's current connection, or None)."""

    def __init__(self, local: SQLiteJournal, connection: Callable[[], TeamClient | None]) -> None:
        client = connection()
        if client is None:
            raise ValueError("journal: the phone is not connected to a team's service (phone.connect)")
        self.local = local
        self._connection = connection
        #: Whose outbox this is: one service, one user.
        self.target = _target(client)
        self._url, self._user = client.url, client.user
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send_loop, daemon=True,
                                        name=f"twilio-widget-outcomes:{client.user}")
        self._thread.start()

    def __repr__(self) -> str:
        return f"TeamJournal({str(self.local.path)!r}, {self._url!r}, user={self._user!r}, unsent={self.unsent()})"

    # -- the Journal: the local one keeps everything ------------------------------------------

    def append_outcome(self, row: Mapping[str, Any], lead: Mapping[str, Any]) -> None:
        self.local.append_outcome(row, lead, send_to=self.target)
        self._wake.set()

    def save_lead(self, queue: str, key: Hashable, lead: Mapping[str, Any]) -> None:
        self.local.save_lead(queue, key, lead)

    def save_queue(self, queue: str, state: Mapping[str, Any]) -> None:
        self.local.save_queue(queue, state)

    def load_queue(self, queue: str) -> tuple[dict[str, Any] | None, pd.DataFrame]:
        return self.local.load_queue(queue)

    def outcomes(self, queue: str | None = None) -> pd.DataFrame:
        """This analyst's outcomes, sent or not (the team's: ``phone.team.outcomes()``)."""
        return self.local.outcomes(queue)

    def close(self) -> None:
        """Stop sending; what is unsent stays in the local journal for the next session."""
        self._stop.set()
        self._wake.set()
        self._thread.join(15)
        self.local.close()

    # -- sending ------------------------------------------------------------------------------

    def send_earlier(self, queue: str, after_id: int) -> None:
        """Also send what ``queue`` recorded locally since the journal's last outcome id was
        ``after_id`` (a session that started before the phone connected)."""
        self.local.queue_since(self.target, queue, after_id)
        self._wake.set()

    def unsent(self) -> int:
        """How many outcomes the service has not acknowledged yet."""
        return self.local.unsent_count(self.target)

    def flush(self, timeout: float = 10.0) -> int:
        """Send now and wait up to ``timeout`` seconds for the service to acknowledge every
        outcome; returns how many are still unsent (0: the team has them all), at once while the
        phone is not connected to the service."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while (left := self.unsent()) and time.monotonic() < deadline and self._client() is not None:
            time.sleep(0.05)
        return left

    def _client(self) -> TeamClient | None:
        """The phone's connection when it is to this outbox's service, as its user."""
        client = self._connection()
        return client if client is not None and not client.closed and _target(client) == self.target else None

    def _send_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()  # before looking: an outcome appended from now on wakes the wait below
            client = self._client()
            if client is None:  # disconnected: look again soon, a reconnect tells nobody
                self._wake.wait(DISCONNECTED_SECONDS)
                continue
            try:
                sent = self._send_batch(client)
            except (TwilioError, ValueError) as exc:
                self.last_error = str(exc)
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.info("outcomes for %s wait (%s); trying again in %s s", self._url, exc, wait)
                self._stop.wait(wait)
                continue
            failures, self.last_error = 0, None
            if not sent:
                self._wake.wait(RETRY_SECONDS[-1])

    def _send_batch(self, client: TeamClient) -> int:
        batch = self.local.unsent(self.target, BATCH)
        if batch:
            client.send_outcomes([outcome for _, outcome in batch])
            self.local.mark_sent(self.target, [seq for seq, _ in batch])
        return len(batch)


def _target(client: TeamClient) -> str:
    return f"{client.url} {client.user}"
