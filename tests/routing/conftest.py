"""Fixtures for the routing tests live in routing_helpers (a unique module name, importable
from the test modules too, whatever pytest's import mode)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from routing_helpers import (  # noqa: E402, F401
    database,
    hub,
    postgres_server,
    recorder,
    settings,
    smtp,
    store,
    twilio,
)
