"""The browser Device's network options: the edge (or edges, in order of preference) it connects
through and the audio codecs it prefers. The names are Twilio's (``vocabulary.VOICE_EDGES``,
``VOICE_CODECS``); a wrong one is refused here, by option, rather than by the SDK in the page."""

from __future__ import annotations

from typing import Any

from ..vocabulary import VOICE_CODECS, VOICE_EDGES


def as_list(value: Any) -> Any:
    """One name or a list of names as a list; anything else is left for the checks to name."""
    if isinstance(value, str):
        return [value] if value else []
    return list(value) if isinstance(value, tuple) else value


def edge_problems(edges: Any) -> list[tuple[str, str]]:
    return _names_problems("edge", edges, VOICE_EDGES)


def codec_problems(codecs: Any) -> list[tuple[str, str]]:
    found = _names_problems("codecs", codecs, VOICE_CODECS)
    if not found and isinstance(codecs, list) and not codecs:
        found.append(("codecs", f"name at least one of {', '.join(VOICE_CODECS)}"))
    return found


def _names_problems(option: str, names: Any, known: tuple[str, ...]) -> list[tuple[str, str]]:
    if not isinstance(names, list):
        return [(option, f"expected a name or a list of names, got {type(names).__name__}")]
    found = []
    for i, name in enumerate(names):
        if name not in known:
            found.append((f"{option}[{i}]", f"{name!r} is not one of {', '.join(known)}"))
        elif names.index(name) != i:
            found.append((f"{option}[{i}]", f"{name!r} is listed twice"))
    return found
