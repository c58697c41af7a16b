"""A kernel killed mid-session (SIGKILL: no clean-up runs) loses no outcome it recorded, and the
queue resumes where it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pandas as pd

from twilio_widget import SandboxBackend, TwilioPhone

LEADS = pd.DataFrame({"name": [f"Lead {i}" for i in range(40)],
                      "mobile": [f"+1415555{i:04d}" for i in range(100, 140)]})

WORKER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from twilio_widget import SandboxBackend, TwilioPhone
    leads = pd.DataFrame({"name": [f"Lead {i}" for i in range(40)],
                          "mobile": [f"+1415555{i:04d}" for i in range(100, 140)]})
    sandbox = SandboxBackend(seed=1, realtime=False)
    phone = TwilioPhone(contacts=leads, fields=["mobile"], name="name", backend=sandbox)
    session = phone.queue(leads, lead_name="name", journal=sys.argv[1], name="crash")
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


def test_every_recorded_outcome_survives_a_kill_and_the_queue_resumes(tmp_path):
    journal = tmp_path / "journal.sqlite3"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(journal)], stdout=subprocess.PIPE, text=True,
                              cwd=tmp_path)
    recorded = []
    try:
        for line in worker.stdout:
            recorded.append(int(line))
            if len(recorded) == 7:
                os.kill(worker.pid, signal.SIGKILL)  # mid-session, wherever it is
                break
    finally:
        worker.kill()
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

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
        assert session.current not in saved
        assert json.dumps(phone.session)  # and the panel's view is whole
    finally:
        phone.close()
