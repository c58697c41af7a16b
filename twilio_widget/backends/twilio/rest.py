"""One account's REST API: its URLs, one request at a time through the retrying HTTP layer,
answers as text or JSON, failures as :class:`TwilioError` with no secret in them."""

from __future__ import annotations

import json
from typing import Any

from twilio.base.exceptions import TwilioException

from ..base import TwilioError
from .errors import as_twilio_error, error_from_response
from .retries import RetryingHttpClient

__all__ = ["API_VERSION", "RestApi"]

API_VERSION = "2010-04-01"


class RestApi:
    """Requests to ``client``'s account; ``http`` is the retrying layer installed on it."""

    def __init__(self, client: Any, http: RetryingHttpClient, account_sid: str) -> None:
        self.client = client
        self.http = http
        self.account_sid = account_sid

    @property
    def base_url(self) -> str:
        return self.client.api.base_url.rstrip("/")

    def url_for(self, path: str, *, account: bool = False) -> str:
        if account:
            return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}.json"
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/{path}"

    def insights_url(self, path: str) -> str:
        """A Voice Insights URL (its own host, no account in the path)."""
        return self.client.insights.base_url.rstrip("/") + path

    def send(self, method: str, url: str, *, params: dict | None = None,
             data: dict | None = None, what: str) -> str:
        """One request (retried by the HTTP layer); the body of a 2xx answer, else
        :class:`TwilioError` with Twilio's code."""
        headers = {"Accept": "application/json"}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = self.client.request(method, url, params=params, data=data, headers=headers)
        except TwilioError:
            raise
        except TwilioException as exc:
            raise self._scrubbed(as_twilio_error(exc, self.http.last_response)) from None
        if not 200 <= response.status_code < 300:
            raise self._scrubbed(error_from_response(response, what))
        return response.text

    def json(self, method: str, url: str, *, params: dict | None = None,
             data: dict | None = None, what: str) -> dict[str, Any]:
        text = self.send(method, url, params=params, data=data, what=what)
        try:
            payload = json.loads(text)
        except ValueError:
            raise TwilioError(f"{what}: Twilio answered with unreadable JSON") from None
        if not isinstance(payload, dict):
            raise TwilioError(f"{what}: Twilio answered with unexpected JSON")
        return payload

    def _scrubbed(self, error: TwilioError) -> TwilioError:
        """The error with the account's secret masked, should Twilio's answer echo it."""
        secret = getattr(self.client, "password", None)
        if secret and secret in error.message:
            error.message = error.message.replace(secret, "***")
        error.args = (error.message,)
        return error
