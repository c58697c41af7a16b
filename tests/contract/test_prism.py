"""The backend against Stoplight Prism serving Twilio's OpenAPI description on loopback.

Prism (pinned in package.json beside this file) is started and stopped by the ``prism``
fixture; it checks each request against the spec itself (422 for a bad parameter, 401
without credentials), and each request is also validated with openapi-core before it
leaves. Known limits of the spec's examples (see ../shared/twilio-oai/README.md): the calls
list example links to a page 2 that Prism rejects, and the messages example never stops
paging, so list queries here pass a small ``limit``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from contract_helpers import NUMBER, OTHER

from twilio_widget import frames

pytestmark = pytest.mark.contract


def test_calls_list(prism_backend):
    frame = prism_backend.calls(limit=2)
    assert list(frame.columns) == list(frames.CALLS)
    assert len(frame) == 2
    assert frame["start_time"].dtype == "datetime64[ns, UTC]"
    assert prism_backend.loopback.sent[0][1].split("?")[0].endswith("/Calls.json")


def test_calls_for_a_number_with_a_date_range(prism_backend):
    frame = prism_backend.calls(NUMBER, since="2019-01-01", until="2019-12-31", limit=2)
    assert list(frame.columns) == list(frames.CALLS)
    assert len(prism_backend.loopback.sent) == 2  # To= and From=


def test_messages_list(prism_backend):
    frame = prism_backend.messages(NUMBER, limit=1)
    assert list(frame.columns) == list(frames.MESSAGES)
    assert 1 <= len(frame) <= 2


def test_recordings_list(prism_backend):
    frame = prism_backend.recordings(call_sid="CA" + "a" * 32)
    assert list(frame.columns) == list(frames.RECORDINGS)
    assert len(frame) == 1


def test_send_message(prism_backend):
    record = prism_backend.send_message(NUMBER, OTHER, "Hello")
    assert set(record) == set(frames.MESSAGES)
    assert isinstance(record["date_created"], pd.Timestamp)


def test_create_call(prism_backend):
    record = prism_backend.create_call(NUMBER, OTHER, twiml="<Response><Say>Hi</Say></Response>")
    assert set(record) == set(frames.CALLS)


def test_account_info_and_polling(prism_backend):
    assert prism_backend.account_info()["sid"].startswith("AC")
    assert prism_backend.call_status("CA" + "a" * 32)["sid"].startswith("CA")
    assert prism_backend.message_status("SM" + "a" * 32)["sid"].startswith(("SM", "MM"))


def test_end_call(prism_backend):
    # Prism's fetch example is a completed call: nothing to hang up, nothing posted.
    record = prism_backend.end_call("CA" + "a" * 32)
    assert set(record) == set(frames.CALLS)
