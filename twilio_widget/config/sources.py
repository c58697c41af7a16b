"""The DataFrames the options name: checked to exist, and made into the phone book."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from ..contacts import Contacts
from .errors import ConfigError
from .phone import PhoneConfig


def _column(df, name: str) -> Hashable | None:
    """The column called ``name``; column labels that are not strings match by str()."""
    if name in df.columns:
        return name
    return next((col for col in df.columns if str(col) == name), None)


def check_sources(config: PhoneConfig, sources: Mapping[str, Any]) -> None:
    """Raise ConfigError naming every app_id or column in fields_with_phones that is missing."""
    found: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, source in enumerate(config.fields_with_phones):
        where = f"fields_with_phones[{i}]"
        if source.app_id in seen:
            found.append((f"{where}.app_id", f"{source.app_id!r} is already listed in "
                          f"fields_with_phones[{seen[source.app_id]}]; list all its fields there"))
            continue
        seen[source.app_id] = i
        if source.app_id not in sources:
            known = ", ".join(map(repr, sources)) or "none given"
            found.append((f"{where}.app_id", f"no DataFrame named {source.app_id!r} (sources: {known})"))
            continue
        df = sources[source.app_id]
        for option, names in (("field_id", source.field_id), ("view_id", source.view_columns)):
            for name in names:
                if _column(df, name) is None:
                    found.append((f"{where}.{option}", f"{source.app_id!r} has no column {name!r} "
                                  f"(columns: {', '.join(map(str, df.columns))})"))
    if found:
        raise ConfigError(found)


def contacts_from_config(
    config: PhoneConfig,
    sources: Mapping[str, Any],
    region: str = "US",
    *,
    names: Mapping[str, str] | None = None,
):
    """The phone book that ``fields_with_phones`` describes.

    One source gives keys that are its row labels; several give (app_id, label) keys.
    ``names`` optionally maps an app_id to the column that names its contacts. Numbers
    are displayed with ``config.regular_expression``.
    """
    check_sources(config, sources)
    if not config.fields_with_phones:
        raise ConfigError("fields_with_phones", "no source of phone numbers is configured")
    names = names or {}
    parts = []
    for source in config.fields_with_phones:
        df = sources[source.app_id]
        view = [_column(df, name) for name in source.view_columns] or None
        parts.append(Contacts.from_dataframe(
            df,
            [_column(df, name) for name in source.field_id],
            name=names.get(source.app_id),
            region=region,
            view=view,
            display=config.regular_expression,
            source=source.app_id,
        ))
    return parts[0] if len(parts) == 1 else Contacts.combine(parts)
