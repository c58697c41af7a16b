"""Fixtures that hold TwilioBackend to Twilio's own API contract, without the network.

- ``spec`` / ``openapi``: Twilio's OpenAPI description of the 2010-04-01 API, found at
  ``$TWILIO_OAI_SPEC`` or ``../shared/twilio-oai/twilio_api_v2010.json`` beside the repo
  (never copied into it). Absent: the tests skip saying so, or fail under CI (``CI=true``).
- ``spec_api``: an in-process Twilio: every request the backend sends is validated with
  openapi-core against the spec (a violation fails the test), and answered with the spec's
  own response example for that operation, or with what a test scripted. ``insights_api``
  also plays insights.twilio.com, against Twilio's Voice Insights description
  (``twilio_insights_v1.json`` beside the other, or ``$TWILIO_OAI_INSIGHTS_SPEC``).
- ``prism``: Stoplight Prism (pinned in package.json here) serving the spec on loopback,
  started and stopped by the tests; requests are validated with openapi-core on the way out.
- ``loopback``: a plain HTTP server on 127.0.0.1 answering scripted statuses (429/503, then
  200) for the retry tests.

Twilio-shaped error bodies ({"code", "message", "more_info", "status"}) are not in the spec
(it describes only success responses): tests write them with :func:`twilio_error_body`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    LoopbackHttpClient,
    ScriptedServer,
    SpecApi,
    free_port,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_SPEC = REPO.parent / "shared" / "twilio-oai" / "twilio_api_v2010.json"
DEFAULT_INSIGHTS_SPEC = DEFAULT_SPEC.with_name("twilio_insights_v1.json")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip locally, fail under CI: a contract test that did not run is not a pass."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: contract tests must run, not skip)")
    pytest.skip(reason)


# ---- the spec ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spec_path() -> Path:
    path = Path(os.environ.get("TWILIO_OAI_SPEC") or DEFAULT_SPEC)
    if not path.is_file():
        unavailable(f"Twilio's OpenAPI description not found at {path} "
                    "(set TWILIO_OAI_SPEC to twilio_api_v2010.json)")
    return path


@pytest.fixture(scope="session")
def spec(spec_path: Path) -> dict[str, Any]:
    with spec_path.open(encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def openapi(spec: dict[str, Any]):
    from openapi_core import OpenAPI

    # from_file_path trips on an escape in the file; from_dict does not.
    return OpenAPI.from_dict(spec)


@pytest.fixture(scope="session")
def insights_spec() -> dict[str, Any]:
    """Twilio's OpenAPI description of Voice Insights (insights.twilio.com), found at
    ``$TWILIO_OAI_INSIGHTS_SPEC`` or beside the 2010 API's."""
    path = Path(os.environ.get("TWILIO_OAI_INSIGHTS_SPEC") or DEFAULT_INSIGHTS_SPEC)
    if not path.is_file():
        unavailable(f"Twilio's Voice Insights OpenAPI description not found at {path} "
                    "(set TWILIO_OAI_INSIGHTS_SPEC to twilio_insights_v1.json)")
    with path.open(encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def insights_openapi(insights_spec: dict[str, Any]):
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(insights_spec)


@pytest.fixture
def spec_api(openapi, spec) -> SpecApi:
    return SpecApi(openapi, spec)


@pytest.fixture
def insights_api(spec_api: SpecApi, insights_openapi, insights_spec) -> SpecApi:
    """``spec_api`` that also plays insights.twilio.com, validating against its spec."""
    spec_api.serve("insights.twilio.com", insights_openapi, insights_spec)
    return spec_api


@pytest.fixture
def spec_backend(spec_api: SpecApi):
    """A TwilioBackend whose client talks to the in-process, spec-validating Twilio."""
    from twilio.rest import Client

    from twilio_widget.backends.twilio import RetryPolicy, TwilioBackend

    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=spec_api)
    sleeps: list[float] = []
    backend = TwilioBackend(client, retry=RetryPolicy(), sleep=sleeps.append, progress=False,
                            cache_ttl=0)
    backend.sleeps = sleeps  # type: ignore[attr-defined]
    return backend


# ---- loopback plumbing ----------------------------------------------------------------------


@pytest.fixture
def loopback() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


# ---- Prism ---------------------------------------------------------------------------------


def _prism_binary() -> Path | None:
    binary = HERE / "node_modules" / ".bin" / "prism"
    return binary if binary.exists() else None


@pytest.fixture(scope="session")
def prism(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a Prism mock of the spec on 127.0.0.1, stopped after the session."""
    binary = _prism_binary()
    if binary is None:
        unavailable(f"Stoplight Prism is not installed in {HERE}: `make test-py` installs it "
                    "(npm ci, the version pinned in package-lock.json)")
    port = free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    log = log_path.open("w")  # closed below
    proc = subprocess.Popen([str(binary), "mock", "-h", "127.0.0.1", "-p", str(port),
                             str(spec_path)], stdout=log, stderr=subprocess.STDOUT, cwd=HERE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                unavailable(f"Prism exited early: {log_path.read_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    unavailable("Prism did not start listening within 60 s")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def prism_backend(prism: str, openapi):
    from twilio.rest import Client

    from twilio_widget.backends.twilio import TwilioBackend

    http = LoopbackHttpClient(prism, openapi)
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
    backend = TwilioBackend(client, sleep=lambda s: None, progress=False, cache_ttl=0)
    backend.loopback = http  # type: ignore[attr-defined]
    return backend
