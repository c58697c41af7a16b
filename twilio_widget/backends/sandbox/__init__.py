"""An offline stand-in for Twilio: deterministic history, calls and messages that behave like
the real thing, and hooks to script incoming calls and texts for demos and tests.

Time is either the wall clock (``realtime=True``, for demos: a call rings, then connects) or a
virtual clock moved by :meth:`SandboxBackend.advance` (for tests: nothing happens until told).

One concern a module: ``clock`` (the scheduler), ``records`` (Twilio-shaped records and
checks), ``seeding`` (the past), ``calls`` and ``messages`` (their simulation), ``insights``
(the calls' quality, as Voice Insights reports it), ``leads`` (dialled numbers that behave
like real leads), ``backend`` (the face). The names this module offered before it became a
package are importable from here.
"""

from __future__ import annotations

from .backend import SANDBOX_NUMBER, SandboxBackend
from .calls import CALL_OUTCOMES
from .leads import LeadBehaviour

__all__ = ["CALL_OUTCOMES", "SANDBOX_NUMBER", "LeadBehaviour", "SandboxBackend"]
