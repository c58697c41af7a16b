"""Shared fixtures: a small lead list and a phone over the deterministic sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from twilio_widget import SandboxBackend, TwilioPhone

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["Ada Lovelace", "Alan Turing", "Grace Hopper"],
            "company": ["Analytical Engines", "Bletchley", "Navy"],
            "mobile": ["(415) 555-0100", "415.555.0101", None],
            "office": ["+44 20 7946 0018", "", "+1 212 555 0199"],
        },
        index=pd.Index([101, 102, 103], name="lead_id"),
    )


@pytest.fixture
def sandbox(leads) -> SandboxBackend:
    backend = SandboxBackend(
        numbers=["+14155550100", "+14155550101", "+442079460018", "+12125550199"],
        now=NOW,
        realtime=False,
    )
    yield backend
    backend.close()


@pytest.fixture
def phone(leads, sandbox) -> TwilioPhone:
    widget = TwilioPhone(contacts=leads, fields=["mobile", "office"], name="name",
                         view=["name", "company"], backend=sandbox)
    yield widget
    widget.close()



@pytest.fixture(autouse=True)
def do_not_call_list_of_the_test(tmp_path, monkeypatch):
    """A phone on an account keeps its do-not-call list in ./twilio-widget.sqlite3 by default; each
    test gets a file of its own instead, so no test sees another's list or writes in the checkout."""
    monkeypatch.setattr("twilio_widget.rules.calling.DEFAULT_PATH", str(tmp_path / "twilio-widget.sqlite3"))
    monkeypatch.setattr("twilio_widget.rules.dnc.DEFAULT_PATH", str(tmp_path / "twilio-widget.sqlite3"))
