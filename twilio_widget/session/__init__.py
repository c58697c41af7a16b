"""The calling session: a dial queue over a DataFrame of leads, each call's outcome and note
journaled as it happens, retries and call-backs in the lead's local time, the outcomes joined back
onto the leads, and the session's activity as frames and plots.

    queue.py     LeadQueue: order, eligibility and state of every lead, as arrays
    retry.py     RetryRule: when an unanswered lead is called again
    outcomes.py  the outcome vocabulary (defaults) and the typed outcomes frame
    journal.py   Journal (the interface) and SQLiteJournal: outcomes and queue state, durable
    team_journal.py  TeamJournal: the same, and the outcomes sent to a team's service
    session.py   CallingSession: the queue on the panel (writes the ``session`` trait)
    join.py      the outcomes back on the leads frame
    activity.py  Activity: connect rates, talk time, attempts; frames and plots
    rules_link.py  the one link to the phone's calling rules and the leads' time zones
    link.py      Sessions: the phone's session, and the panel's session commands
"""

from .activity import Activity
from .join import join_outcomes, summarise
from .journal import DEFAULT_PATH, Journal, SQLiteJournal
from .outcomes import DEFAULT_OUTCOMES, OUTCOME_COLUMNS, Outcome, Vocabulary, outcomes_frame
from .queue import LeadQueue
from .retry import RetryRule
from .session import CallingSession
from .team_journal import TeamJournal

__all__ = ["DEFAULT_OUTCOMES", "DEFAULT_PATH", "OUTCOME_COLUMNS", "Activity", "CallingSession", "Journal",
           "LeadQueue", "Outcome", "RetryRule", "SQLiteJournal", "TeamJournal", "Vocabulary", "join_outcomes",
           "outcomes_frame", "summarise"]
