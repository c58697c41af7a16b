"""A Jupyter kernel killed mid-session (SIGKILL: no clean-up runs) loses no outcome it recorded,
and the queue resumes where it was."""

from __future__ import annotations

import json
import os
import queue
import signal
import textwrap
import time

import pandas as pd
import pytest
from jupyter_client import KernelManager

from twilio_widget import SandboxBackend, TwilioPhone

LEADS = pd.DataFrame({"name": [f"Lead {i}" for i in range(40)],
                      "mobile": [f"+1415555{i:04d}" for i in range(100, 140)]})

SESSION = textwrap.dedent("""
    import time
    import pandas as pd
    from twilio_widget import SandboxBackend, TwilioPhone
    leads = pd.DataFrame({"name": [f"Lead {i}" for i in range(40)],
                          "mobile": [f"+1415555{i:04d}" for i in range(100, 140)]})
    sandbox = SandboxBackend(seed=1, realtime=False)
    phone = TwilioPhone(contacts=leads, fields=["mobile"], name="name", backend=sandbox)
    session = phone.queue(leads, lead_name="name", journal=JOURNAL, name="crash")
    while True:
        key = session.current
        session.call()
        sandbox.advance(3)
        sandbox.advance(20)
        phone.hang_up()
        session.record("connected", f"note for {key}")
        print(key, flush=True)   # recorded: the journal has it
        time.sleep(0.02)
""")


@pytest.fixture
def kernel(tmp_path):
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path), env={**os.environ, "PYTHONUNBUFFERED": "1"})
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    manager.cleanup_resources()


def printed_keys(client, until: int, timeout: float = 120) -> list[int]:
    """The keys the kernel's cell prints, until ``until`` of them arrived."""
    keys: list[int] = []
    buffer = ""
    deadline = time.monotonic() + timeout
    while len(keys) < until:
        try:
            message = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"the kernel printed {keys} and then nothing") from None
        if message["msg_type"] == "error":
            raise AssertionError("\n".join(message["content"]["traceback"]))
        if message["msg_type"] == "stream":
            buffer += message["content"]["text"]
            *lines, buffer = buffer.split("\n")
            keys += [int(line) for line in lines if line.strip()]
    return keys


def test_every_recorded_outcome_survives_a_killed_kernel_and_the_queue_resumes(kernel, tmp_path):
    manager, client = kernel
    journal = tmp_path / "journal.sqlite3"
    client.execute(SESSION.replace("JOURNAL", repr(str(journal))))
    recorded = printed_keys(client, until=7)
    os.kill(manager.provisioner.pid, signal.SIGKILL)  # mid-session, wherever it is
    deadline = time.monotonic() + 30
    while manager.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not manager.is_alive()

    sandbox = SandboxBackend(seed=1, realtime=False)
    phone = TwilioPhone(contacts=LEADS, fields=["mobile"], name="name", backend=sandbox)
    try:
        session = phone.queue(LEADS, lead_name="name", journal=journal, name="crash")
        outcomes = phone.outcomes
        saved = outcomes["key"].tolist()
        assert saved[:len(recorded)] == recorded  # every outcome it said it recorded, in order
        assert outcomes["note"].tolist()[:len(recorded)] == [f"note for {k}" for k in recorded]
        # The queue goes on after the last recorded lead, never back to one already done.
        assert session.current == saved[-1] + 1
        assert json.dumps(phone.session)  # and the panel's view is whole
    finally:
        phone.close()
