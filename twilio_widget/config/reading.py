"""Reading the element's data-model JSON: each value checked for its type, errors naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ConfigError, check_names
from .items import PhoneSource, split_names

CALLER_KEYS = ("caller_id", "client_mail", "user_id", "numbers")
_SOURCE_KEYS = ("app_id", "field_id", "view_id")


def read_str(data: Mapping, key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(key, f"expected a string, got {type(value).__name__}")
    return str(value)


def read_flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return bool(int(value))
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(key, f"{value!r} is not a switch (expected 0 or 1)")


def read_list(data: Mapping, key: str) -> list:
    value = data.get(key) or []
    if not isinstance(value, list | tuple):
        raise ConfigError(key, f"expected a list, got {type(value).__name__}")
    return list(value)


def read_item(item: Any, where: str, keys: tuple[str, ...]) -> dict[str, str]:
    check_names(item, where, keys, noun="key", expected="a JSON object")
    return {key: read_str(item, key) for key in keys}


def read_source(item: Any, where: str) -> PhoneSource:
    values = read_item(item, where, _SOURCE_KEYS)
    return PhoneSource(app_id=values["app_id"], field_id=split_names(values["field_id"]), view_id=values["view_id"])
