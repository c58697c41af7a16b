"""Both backends speak the whole protocol, capabilities included: the phone reads what a
backend can do from these, never from its class or its name."""

from __future__ import annotations

import inspect

import pytest

from twilio_widget import Backend, SandboxBackend, TwilioBackend

ACCOUNT = "AC" + "0" * 32


@pytest.fixture(params=["sandbox", "twilio"])
def backend(request):
    made = SandboxBackend() if request.param == "sandbox" else TwilioBackend.from_credentials(ACCOUNT, "0" * 32)
    yield made
    made.close()


def test_both_backends_are_backends(backend):
    assert isinstance(backend, Backend)


def test_what_each_backend_can_do(backend):
    sandbox = backend.mode == "sandbox"
    assert backend.in_memory is sandbox and backend.pushes_events is sandbox
    assert (backend.simulator is backend) if sandbox else backend.simulator is None
    assert (backend.client is None) if sandbox else backend.client is not None
    assert backend.own_number == ("+15005550006" if sandbox else "")


@pytest.mark.parametrize("method", [name for name, member in vars(Backend).items()
                                    if inspect.isfunction(member) and not name.startswith("_")])
def test_every_method_of_the_protocol_takes_the_protocols_arguments(backend, method):
    declared = inspect.signature(getattr(Backend, method)).parameters
    offered = inspect.signature(getattr(backend, method)).parameters
    assert [name for name in declared if name != "self"] == [name for name in offered if name in declared]
