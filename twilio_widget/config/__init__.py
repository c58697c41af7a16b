"""PhoneConfig: the Twilio Phone element's options, its data-model JSON, and their validation.

The element stores its settings as one JSON object (its "data model")::

    {"data_model": {"account_sid": ..., "auth_token": ..., "app_sid": ..., "callers": [...],
                    "fields_with_phones": [...], "interpretation": [], "multiple_value": 0,
                    "regular_expression": "\\\\.*$", "sip_domain": ..., "voice_mail_url": ...}}

:class:`PhoneConfig` reads and writes exactly that shape, validates every option with a
message naming it, and keeps the secrets (auth token, API key secret) out of reprs,
exceptions and exported JSON unless they are asked for. ``docs/element.md`` maps each
option to where it is used.

The modules, by concern: ``phone`` (:class:`PhoneConfig`, its data model and environment),
``items`` (callers and phone sources), ``smtp`` (the mail server), ``reading`` (the data
model's JSON, key by key), ``sources`` (the DataFrames the options name), ``secrets`` and
``errors``. The rules each option is checked with live in ``twilio_widget/checks.py``.
"""

from .errors import ConfigError
from .items import Caller, PhoneSource
from .phone import DATA_MODEL_KEYS, ENVIRONMENT, INTERPRETATIONS, PhoneConfig
from .secrets import MASK
from .smtp import SmtpSettings
from .sources import check_sources, contacts_from_config

__all__ = [
    "Caller",
    "ConfigError",
    "DATA_MODEL_KEYS",
    "ENVIRONMENT",
    "INTERPRETATIONS",
    "MASK",
    "PhoneConfig",
    "PhoneSource",
    "SmtpSettings",
    "check_sources",
    "contacts_from_config",
]
