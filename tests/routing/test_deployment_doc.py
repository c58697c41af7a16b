"""docs/deployment.md and the README name only what exists: the command's flags and commands,
the environment variables, the routes, the phone's methods, the imports in its examples."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from twilio_widget import TwilioPhone, cli
from twilio_widget.routing.server import ROUTES
from twilio_widget.routing.team import TeamApi

REPO = Path(__file__).resolve().parents[2]
DOCS = {name: (REPO / name).read_text() for name in ("docs/deployment.md", "README.md")}
#: Flags of other programs the deployment guide shows (certbot, createdb, cloudflared).
OTHER_PROGRAMS_FLAGS = {"--nginx", "--owner", "--url"}
SOURCE = "\n".join(p.read_text() for p in (REPO / "twilio_widget").rglob("*.py"))


def subcommands() -> dict[str, set[str]]:
    parser = cli.build_parser()
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return {name: {flag for a in sub._actions for flag in a.option_strings} for name, sub in action.choices.items()}


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_the_flags_and_commands_exist(doc: str) -> None:
    commands = subcommands()
    # The guide is about the service throughout; the README's other flags are Jupyter's and npm's.
    about_the_service = DOCS[doc] if doc.startswith("docs/") else " ".join(
        re.findall(r"twilio-widget serve[^`]*", DOCS[doc]))
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", about_the_service)) - OTHER_PROGRAMS_FLAGS
    assert flags <= commands["serve"], flags - commands["serve"]
    assert set(re.findall(r"twilio-widget (\w+) ", DOCS[doc])) <= set(commands)


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_the_environment_variables_are_read_by_the_package(doc: str) -> None:
    for name in set(re.findall(r"\bTWILIO_[A-Z_]+[A-Z]\b", DOCS[doc])):
        assert f'"{name}"' in SOURCE or f"'{name}'" in SOURCE or f'"{name.removeprefix("TWILIO_")}"' in SOURCE, name


def test_the_routes_exist(tmp_path) -> None:
    from routing_helpers import make_settings

    from twilio_widget.routing import Store

    with Store(tmp_path / "doc.sqlite3") as store:
        api = {route.path for route in TeamApi(make_settings(tmp_path, team_secret="x" * 16), store, None).routes()}
    known = set(ROUTES) | api | {"/healthz"}
    text = DOCS["docs/deployment.md"]
    named = set(re.findall(r"(?:PUBLIC|`)(/(?:api|voice|status|sms)/[a-z/-]*[a-z])", text))
    assert named and named <= known, named - known


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_the_phones_methods_exist(doc: str) -> None:
    for name in set(re.findall(r"\bphone\.(\w+)\(", DOCS[doc])):
        assert callable(getattr(TwilioPhone, name, None)), name


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_the_imports_in_the_examples_resolve(doc: str) -> None:
    for module, names in re.findall(r"^from (twilio_widget[\w.]*) import ([\w, ]+)$", DOCS[doc], re.MULTILINE):
        imported = importlib.import_module(module)
        for name in names.split(","):
            assert hasattr(imported, name.strip()), f"{module}.{name.strip()}"
