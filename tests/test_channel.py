"""The command channel: the panel's requests over custom messages, each answered by id."""

from __future__ import annotations

import logging

import pytest

from twilio_widget.channel import CommandChannel, commands_of, panel_command


def request(cmd, args=None, id="r1"):
    return {"type": "twp:request", "id": id, "cmd": cmd, "args": {} if args is None else args}


@pytest.fixture
def answered(phone, monkeypatch):
    """What the phone sends back over its comm, as the panel receives it."""
    sent = []
    monkeypatch.setattr(phone, "send", lambda content, buffers=None: sent.append(content))
    return sent


def test_a_request_is_answered_with_its_result(phone, answered):
    phone._handle_custom_msg(request("cmd_step_contact", {"step": 1}, id="a-1"), [])
    assert answered == [{"type": "twp:response", "id": "a-1", "ok": True, "result": {}}]
    assert phone.current == 102


def test_a_refusal_comes_back_as_an_error_payload(phone, answered):
    phone._handle_custom_msg(request("cmd_digits", {"digits": "x"}), [])
    [response] = answered
    assert response["ok"] is False and "digits" in response["error"]["message"]
    assert set(response) == {"type", "id", "ok", "error"}
    assert phone.error == response["error"]  # and the panel shows it


def test_the_result_carries_what_the_command_returned(phone, answered):
    phone._handle_custom_msg(request("cmd_call"), [])
    [response] = answered
    assert response["ok"] and response["result"]["call"]["status"] == "ringing"


@pytest.mark.parametrize("cmd", ["cmd_nope", "close", "_on_event", None])
def test_unknown_commands_are_answered_never_run(phone, answered, cmd):
    phone._handle_custom_msg(request(cmd), [])
    [response] = answered
    assert response["ok"] is False and "Unknown command" in response["error"]["message"]
    assert phone.comm is not None  # "close" was not run


def test_arguments_must_be_an_object(phone, answered):
    phone._handle_custom_msg(request("cmd_poll", ["not", "an", "object"]), [])
    assert answered[0]["ok"] is False and "arguments" in answered[0]["error"]["message"]


def test_a_bug_in_a_command_comes_back_as_an_error_not_silence(phone, answered, caplog):
    phone._handle_custom_msg(request("cmd_digits", {"keys": "12"}), [])  # a wrong argument name
    [response] = answered
    assert response["ok"] is False and "digits failed" in response["error"]["message"]


def test_other_custom_messages_are_left_alone(phone, answered):
    phone._handle_custom_msg({"type": "something-else", "id": "x"}, [])
    phone._handle_custom_msg("not a dict", [])
    assert answered == []


def test_a_handler_that_escapes_its_guard_is_still_answered(caplog):
    class Broken:
        error = None

        def __init__(self):
            self.sent = []

        def on_msg(self, callback):
            self.callback = callback

        def send(self, content):
            self.sent.append(content)

        @panel_command
        def cmd_boom(self):
            raise RuntimeError("boom")

        def report(self, exc):
            raise RuntimeError("the reporter is broken too")

    widget = Broken()
    channel = CommandChannel(widget)
    with caplog.at_level(logging.ERROR):
        widget.callback(widget, request("cmd_boom", id="b"), [])
    assert widget.sent == [{"type": "twp:response", "id": "b", "ok": False,
                            "error": {"message": "the reporter is broken too", "code": None, "more_info": None}}]
    assert commands_of(Broken) == {"cmd_boom": Broken.__dict__["cmd_boom"]}
    assert channel is not None


def test_every_command_the_panel_sends_is_one_the_phone_answers(phone):
    import pathlib
    import re

    js = pathlib.Path(__file__).parents[1] / "js" / "src"
    sent = {name for path in js.glob("*.ts") if not path.name.endswith(".test.ts")
            for name in re.findall(r"""["'](cmd_[a-z_]+)["']""", path.read_text())}
    assert sent and sent <= set(commands_of(type(phone)))
