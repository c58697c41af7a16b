"""The payloads' two sides agree: each TypedDict in twilio_widget/payloads.py has the keys of the
interface of the same name in js/src/types.ts, required where the interface requires them."""

from __future__ import annotations

import pathlib
import re

import pytest

from twilio_widget import payloads

TYPES_TS = pathlib.Path(__file__).parents[1] / "js" / "src" / "types.ts"
PAYLOADS = ["NumberButton", "ContactCard", "DialpadCheck", "CallState", "IncomingCall", "HistoryRow", "ThreadRow",
            "PanelError", "AudioDevice", "BridgeOffer", "DeviceState", "DeviceEvent", "CallEvent", "Request",
            "Response", "DeviceRequest", "CallQuality", "RecordingConsent", "PreflightReport", "SessionLead",
            "OutcomeChoice", "SessionView"]


def typescript_keys(source: str) -> dict[str, dict[str, bool]]:
    """{interface: {key: required}} for each exported interface, and for ``type X = Partial<Y>``
    or ``Partial<Omit<Y, "a" | "b">>``."""
    found: dict[str, dict[str, bool]] = {}
    for match in re.finditer(r"export interface (\w+)\s*\{", source):
        depth, body, at = 1, [], match.end()
        while depth:  # the body up to its matching brace; keys are read at depth 1 only
            char = source[at]
            depth += {"{": 1, "}": -1}.get(char, 0)
            body.append(char if depth == 1 or char in "{}" else " ")
            at += 1
        text = re.sub(r"//[^\n]*", "", "".join(body))
        found[match.group(1)] = {key: not optional for key, optional in
                                 re.findall(r"^\s*(\w+)(\??):", text, flags=re.MULTILINE)}
    for name, base, omitted in re.findall(r'export type (\w+) = Partial<(?:Omit<)?(\w+)(?:, ([^>]+)>)?>;', source):
        left_out = set(re.findall(r'"(\w+)"', omitted))
        found[name] = {key: False for key in found[base] if key not in left_out}
    return found


def python_keys(typed_dict) -> dict[str, bool]:
    return {key: key in typed_dict.__required_keys__
            for key in typed_dict.__required_keys__ | typed_dict.__optional_keys__}


@pytest.fixture(scope="module")
def interfaces() -> dict[str, dict[str, bool]]:
    return typescript_keys(TYPES_TS.read_text())


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_python_and_typescript_payloads_have_the_same_keys(interfaces, name):
    assert name in interfaces, f"js/src/types.ts has no interface {name}"
    assert python_keys(getattr(payloads, name)) == interfaces[name]


def test_the_parser_reads_nested_types_and_optional_keys():
    parsed = typescript_keys("""
export interface Outer {
  plain: string;
  maybe?: number | null; // a comment: not: a key
  nested: { inner: string; other?: boolean }[];
}
export type Loose = Partial<Outer>;
export type Fewer = Partial<Omit<Outer, "maybe" | "nested">>;
""")
    assert parsed == {"Outer": {"plain": True, "maybe": False, "nested": True},
                      "Loose": {"plain": False, "maybe": False, "nested": False},
                      "Fewer": {"plain": False}}


def test_every_interface_the_kernel_sends_or_reads_is_checked(interfaces):
    # Those the panel keeps to itself (its model API, the command options) have no Python side.
    panel_only = {"State", "Model", "CommandResponse", "InvokeOptions"}
    assert set(interfaces) - panel_only == set(PAYLOADS)
