"""How the secrets (auth token, API key secret, SMTP password) show outside the kernel: not at all.

Reprs, messages and exported JSON carry :data:`MASK` in their place unless the secrets are
asked for; a configuration read back with :data:`MASK` knows the secret is set but withheld.
"""

from __future__ import annotations

#: What an exported secret looks like when it is set but not asked for.
MASK = "********"


def exported(secret: str | None, include_secrets: bool = False) -> str:
    """A secret as exports and reprs show it: "" when unset, else the secret only if asked for."""
    if not secret:
        return ""
    return secret if include_secrets else MASK


def usable(secret: str | None) -> bool:
    """Whether a secret can authenticate: set, and not withheld (:data:`MASK`)."""
    return bool(secret) and secret != MASK
