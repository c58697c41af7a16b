"""A phone over the virtual-clock sandbox, a lead list, and a journal file of the test's own."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from twilio_widget import SandboxBackend, TwilioPhone

#: A Friday, 15:00 UTC: 10:00 in New York.
START = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def call_leads() -> pd.DataFrame:
    return pd.DataFrame(
        {"name": ["Ada", "Alan", "Grace", "Katherine", "Edsger", "Nobody"],
         "mobile": ["(415) 555-0100", "415.555.0101", "212 555 0102", "+1 757 555 0103", "617-555-0104", "n/a"],
         "score": [3, 9, 5, 7, 1, 8],
         "stage": ["new", "new", "new", "new", "old", "new"]},
        index=pd.Index([11, 12, 13, 14, 15, 16], name="lead_id"))


@pytest.fixture
def journal_path(tmp_path):
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def sandbox() -> SandboxBackend:
    backend = SandboxBackend(seed=7, now=START, realtime=False)
    yield backend
    backend.close()


@pytest.fixture
def phone(call_leads, sandbox) -> TwilioPhone:
    widget = TwilioPhone(contacts=call_leads, fields=["mobile"], name="name", backend=sandbox, user="ada")
    yield widget
    widget.close()
