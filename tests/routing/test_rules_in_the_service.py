"""The routing service keeps the calling rules for what it places: the browser's outgoing calls
(TwiML) and texts; and a caller's own numbers are accepted as caller ID (local caller ID)."""

from __future__ import annotations

import pytest
from routing_helpers import ALICE, LEAD, Twilio, make_settings
from starlette.testclient import TestClient
from test_twiml_flows import outgoing_params, verbs, xml

from twilio_widget import SandboxBackend
from twilio_widget.backends.base import TwilioError
from twilio_widget.config.hours import CallingHours
from twilio_widget.config.rules import RulesSettings
from twilio_widget.routing import CallerRoute, Store, create_app, send_message
from twilio_widget.rules import CallingRules, DoNotCall


def serve(settings, store):
    return TestClient(create_app(settings, store), raise_server_exceptions=True)


def test_a_do_not_call_number_is_not_dialled(twilio: Twilio, settings, store) -> None:
    DoNotCall(settings.rules.do_not_call_path).block([LEAD], source="customer request")
    root = xml(twilio.post("/voice/outgoing", outgoing_params(LEAD)))
    assert verbs(root) == ["Say", "Hangup"]
    assert "on the do-not-call list (customer request)" in root[0].text


def test_a_number_outside_its_calling_hours_is_not_dialled(tmp_path) -> None:
    closed = CallingHours.parse({"default": "closed"})
    rules = RulesSettings(calling_hours=closed, do_not_call_path=str(tmp_path / "list.sqlite3"))
    settings = make_settings(tmp_path, rules=rules)
    with Store(settings.store_path) as store, serve(settings, store) as client:
        root = xml(Twilio(client).post("/voice/outgoing", outgoing_params(LEAD)))
    assert verbs(root) == ["Say", "Hangup"] and "This call is not allowed" in root[0].text


def test_a_callers_own_numbers_are_accepted_as_caller_id(tmp_path) -> None:
    local = "+13035550111"
    settings = make_settings(tmp_path, callers={"alice": CallerRoute("alice", ALICE, None, numbers=(local,))})
    with Store(settings.store_path) as store, serve(settings, store) as client:
        twilio = Twilio(client)
        assert xml(twilio.post("/voice/outgoing", outgoing_params(LEAD, CallerId=local)))[0].get("callerId") == local
        refused = xml(twilio.post("/voice/outgoing", outgoing_params(LEAD, CallerId="+13035550199")))
    assert verbs(refused) == ["Say", "Hangup"]


def test_texts_to_the_do_not_call_list_are_refused_before_sending(tmp_path) -> None:
    path = tmp_path / "service.sqlite3"
    backend = SandboxBackend(numbers=[LEAD], realtime=False)
    rules = CallingRules(CallingHours(), DoNotCall(path))
    rules.block(LEAD, source="outcome")
    with Store(path) as store:
        with pytest.raises(Exception, match="do-not-call list \\(outcome\\)") as refused:
            send_message(backend, store, LEAD, ALICE, "Hello", rules=rules)
        assert not isinstance(refused.value, TwilioError) and store.outbox_pending() == []
    rules.close()
    backend.close()
