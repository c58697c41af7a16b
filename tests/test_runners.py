"""Where the phone's backend work runs: in place, or on one worker thread, failures reported."""

from __future__ import annotations

import threading

import pytest

from twilio_widget import TwilioError, TwilioPhone
from twilio_widget.runners import Background, InlineRunner, WorkerRunner


def test_in_place_work_is_done_when_submit_returns():
    runner = InlineRunner()
    assert runner.in_place and runner.submit(lambda: 42).result(timeout=0) == 42
    failed = runner.submit(lambda: 1 / 0)
    assert failed.done() and isinstance(failed.exception(), ZeroDivisionError)


def test_the_worker_runs_work_in_order_off_the_callers_thread():
    runner = WorkerRunner()
    seen = []
    for i in range(5):
        runner.submit(lambda i=i: seen.append((i, threading.current_thread().name)))
    runner.wait_until_idle()
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    assert all(name.startswith("twilio-phone") for _, name in seen)
    runner.shutdown()


@pytest.mark.parametrize("runner", [InlineRunner, WorkerRunner])
def test_failures_are_reported_not_lost(runner):
    reported = []
    background = Background(runner(), reported.append)
    background.run(lambda: (_ for _ in ()).throw(TwilioError("Twilio said no", code=20429)))
    background.run(lambda: {}["missing"])  # a bug: reported with its kind
    background.wait_until_idle()
    assert [str(e) for e in reported] == ["Twilio error 20429: Twilio said no", "KeyError: 'missing'"]
    background.shutdown()


def test_a_phone_runs_its_work_where_it_is_told(leads, sandbox):
    in_place = TwilioPhone(leads, ["mobile"], backend=sandbox)  # the sandbox answers at once: no waiting
    in_place.selected_number = "+12125550199"
    assert {row["number"] for row in in_place.history} == {"+12125550199"}
    on_worker = TwilioPhone(leads, ["mobile"], backend=sandbox, runner=WorkerRunner())
    on_worker.selected_number = "+12125550199"
    on_worker.wait_until_idle()
    assert {row["number"] for row in on_worker.history} == {"+12125550199"}
    in_place.close()
    on_worker.close()
