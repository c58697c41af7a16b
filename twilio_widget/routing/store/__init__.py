"""The routing service's durable store, written before any 200: one SQLite file (WAL) by
default, or a PostgreSQL database that several workers share (``Store("postgresql://...")``).

Every webhook that carries news (a call status, an incoming call, a recording, an inbound
SMS, an outbound SMS status) becomes one row in ``events`` keyed by what Twilio repeats when
it retries (``call:<CallSid>:<status>``, ``message:<MessageSid>:<status>`` ...), so a retry
finds its key taken and changes nothing. The latest state of each call, message and
recording is kept beside it, for history and threads. Opt-outs block sends; outbound
messages that failed to send wait in ``outbox``; mail waits in ``mail_outbox`` until the
SMTP server took it.

One :class:`Store` serves every thread (the uvicorn thread, the kernel). Its parts, by
concern: ``schema`` (tables, migrations and records), ``engines`` (SQLite and PostgreSQL),
``base`` (the writer thread, events), ``changes`` (status callbacks, decided a batch at a time),
``calls`` (calls and recordings), ``messages`` (messages and opt-outs), ``outbox`` (what
waits to be sent or mailed), ``outcomes`` (the team's calling-session outcomes).
"""

from .calls import CallStore
from .engines import StoreUnavailable, is_postgres
from .messages import MessageStore, OptedOutError
from .outbox import OutboxStore
from .outcomes import TeamOutcomeStore
from .schema import SCHEMA_VERSION, Recorded, now_iso, parse_time

__all__ = ["SCHEMA_VERSION", "OptedOutError", "Recorded", "Store", "StoreUnavailable", "is_postgres", "now_iso",
           "parse_time"]


class Store(CallStore, MessageStore, OutboxStore, TeamOutcomeStore):
    """Durable state of the routing service. Safe to share between threads; a write method
    returns once its transaction is committed (how: :class:`~.base.StoreBase`)."""
