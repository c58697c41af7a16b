"""Helpers for the contract tests (imported by conftest.py and the test modules).

Twilio-shaped error bodies are not in Twilio's OpenAPI description (it describes only
success responses): the tests write them with :func:`twilio_error_body`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

#: Sample credentials shaped like Twilio's (the spec's examples use this account SID).
ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "test-auth-token-never-shown-0123"
NUMBER = "+14155550100"
OTHER = "+14155550199"


def twilio_error_body(code: int, message: str, status: int) -> dict[str, Any]:
    """A Twilio-shaped error body, written by the tests (the spec has no error bodies)."""
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def assert_schema(frame: Any, kind: str) -> None:
    """``frame`` has exactly the columns and dtypes of the ``kind`` schema."""
    import pandas as pd

    from twilio_widget import frames

    assert list(frame.columns) == list(frames.SCHEMAS[kind])
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        c: str(pd.Series([], dtype=t).dtype) for c, t in frames.SCHEMAS[kind].items()}


def validate(openapi, method: str, url: str, params: Any = None, data: Any = None,
             headers: dict | None = None, auth: Any = None) -> None:
    """Fail the test if this request breaks Twilio's OpenAPI description."""
    from openapi_core.contrib.requests import RequestsOpenAPIRequest

    prepared = requests.Request(method.upper(), url, params=params, data=data,
                                headers=dict(headers or {}), auth=auth).prepare()
    try:
        openapi.validate_request(RequestsOpenAPIRequest(prepared))
    except Exception as exc:  # openapi-core's errors carry the reason in __cause__
        cause = exc.__cause__ or exc
        raise AssertionError(
            f"request violates Twilio's OpenAPI spec: {method} {prepared.url}\n"
            f"  {type(exc).__name__}: {exc}\n  cause: {cause}") from None


class Operation:
    """One operation of the spec matched by path template."""

    def __init__(self, method: str, template: str, op: dict[str, Any]) -> None:
        self.method = method
        self.template = template
        self.op = op
        self.regex = re.compile(
            "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")

    def example(self, name: str | None = None) -> tuple[int, Any]:
        for status, response in self.op["responses"].items():
            content = response.get("content", {}).get("application/json", {})
            examples = content.get("examples") or {}
            if not examples:
                continue
            chosen = examples[name] if name else next(iter(examples.values()))
            return int(status), json.loads(json.dumps(chosen["value"]))
        raise KeyError(f"no example for {self.method} {self.template}")


def operations(spec: dict[str, Any]) -> list[Operation]:
    ops = []
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "delete"):
                ops.append(Operation(method.upper(), template, op))
    # Literal paths before templated ones (Calls.json before Calls/{Sid}.json).
    ops.sort(key=lambda o: o.template.count("{"))
    return ops


# ---- an in-process Twilio that validates and answers with the spec's examples -------------


class SpecApi(HttpClient):
    """Plays api.twilio.com in-process (and insights.twilio.com once :meth:`serve` is given its
    spec): validates every request against the host's spec, then answers with a scripted
    response for that operation or the spec's example."""

    def __init__(self, openapi, spec: dict[str, Any]) -> None:
        super().__init__(logger=logging.getLogger("spec-api"), is_async=False)
        self.hosts: dict[str, tuple[Any, list[Operation]]] = {}
        self.serve("api.twilio.com", openapi, spec)
        self.requests: list[dict[str, Any]] = []
        self.scripts: dict[tuple[str, str], list[Any]] = {}
        self.handlers: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {}

    def serve(self, host: str, openapi, spec: dict[str, Any]) -> None:
        """Also play ``host``, as ``spec`` describes it."""
        self.hosts[host] = (openapi, operations(spec))

    def operation(self, method: str, path: str, host: str = "api.twilio.com") -> Operation:
        if host not in self.hosts:
            raise AssertionError(f"no spec for the host {host} (see SpecApi.serve)")
        for op in self.hosts[host][1]:
            if op.method == method and op.regex.match(path):
                return op
        raise AssertionError(f"no operation in the spec for {method} {host}{path}")

    def script(self, method: str, path_suffix: str, *answers: Any) -> None:
        """Queue answers (status, body[, headers]) for requests whose path ends so."""
        self.scripts.setdefault((method, path_suffix), []).extend(answers)

    def handle(self, method: str, path_suffix: str,
               handler: Callable[[dict[str, Any]], Any]) -> None:
        """Answer every such request with handler(request) -> (status, body[, headers])."""
        self.handlers[(method, path_suffix)] = handler

    def request(self, method, uri, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False) -> Response:
        split = urlsplit(uri)
        query = dict(parse_qsl(split.query))
        query.update({k: str(v) for k, v in (params or {}).items()})
        record = {"method": method, "url": uri, "host": split.netloc, "path": split.path,
                  "params": query,
                  "data": dict(data or {}), "headers": dict(headers or {}), "auth": auth}
        self.requests.append(record)
        op = self.operation(method, split.path, split.netloc)
        validate(self.hosts[split.netloc][0], method, uri, params=params, data=data,
                 headers=headers, auth=auth)
        answer = None
        for (m, suffix), queue in self.scripts.items():
            if m == method and split.path.endswith(suffix) and queue:
                answer = queue.pop(0)
                break
        if answer is None:
            for (m, suffix), handler in self.handlers.items():
                if m == method and split.path.endswith(suffix):
                    answer = handler(record)
                    break
        if answer is None:
            status, body = op.example()
            if isinstance(body, dict) and "next_page_uri" in body:
                # The spec's list examples link to a next page whose URI breaks the spec's
                # own date-time format (calls) or never ends (messages): serve them as the
                # last page. Paging is tested with scripted pages.
                body["next_page_uri"] = None
            answer = (status, body)
        status, body, *rest = answer
        text = body if isinstance(body, str) else json.dumps(body)
        return Response(status, text, rest[0] if rest else {"Content-Type": "application/json"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackHttpClient(TwilioHttpClient):
    """twilio-python's own HTTP client, sent to 127.0.0.1 instead of *.twilio.com.

    With ``openapi`` given, each request is validated against the spec first (as addressed
    to api.twilio.com)."""

    def __init__(self, base: str, openapi=None, **kwargs: Any) -> None:
        super().__init__(timeout=10, **kwargs)
        self.base = base.rstrip("/")
        self.openapi = openapi
        self.sent: list[tuple[str, str]] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False) -> Response:
        if self.openapi is not None:
            validate(self.openapi, method, url, params=params, data=data, headers=headers,
                     auth=auth)
        local = re.sub(r"^https://[a-z0-9.-]+\.twilio\.com", self.base, url)
        assert local.startswith("http://127.0.0.1:"), f"refusing to leave loopback: {url}"
        self.sent.append((method, local))
        return super().request(method, local, params=params, data=data, headers=headers,
                               auth=auth, timeout=timeout, allow_redirects=allow_redirects)


class ScriptedServer:
    """A loopback HTTP server answering queued (status, body, headers) per request, then
    ``default``; it records each request's method, path and query."""

    def __init__(self) -> None:
        self.queue: list[tuple[int, Any, dict[str, str]]] = []
        self.default: tuple[int, Any, dict[str, str]] = (200, {}, {})
        self.seen: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.seen.append((self.command, self.path))
                status, body, headers = server.queue.pop(0) if server.queue else server.default
                payload = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
