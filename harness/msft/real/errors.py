"""Typed refusals of Microsoft's identity platform, each quoting its AADSTS code, and the tenant being unreachable.

:class:`TenantUnreachable` is lab infrastructure (network, TLS, DNS); an :class:`IdentityError` is the tenant's
answer and says which setting refused (public client flows, consent, conditional access, a client secret, ...).
"""

from __future__ import annotations

import re
from typing import Any

_AADSTS = re.compile(r"AADSTS(\d+)")
_TRAILER = re.compile(r"\s*Trace ID:.*$", re.DOTALL)


class TenantUnreachable(RuntimeError):
    """The identity platform, Graph or the SMTP server could not be reached at all: infrastructure, not a finding."""


class IdentityError(RuntimeError):
    """Entra refused a request: OAuth ``error``, ``aadsts`` number (None if it gave none), its own ``description``."""

    def __init__(self, error: str, aadsts: int | None, description: str, *, suberror: str | None = None) -> None:
        self.error, self.aadsts, self.description, self.suberror = error, aadsts, description, suberror
        code = f"AADSTS{aadsts}" if aadsts is not None else "no AADSTS code"
        super().__init__(f"{code} ({error}): {description}" if description else f"{code} ({error})")


class PublicClientFlowsDisabled(IdentityError):
    """AADSTS7000218: the app registration does not allow public client flows (the device code flow)."""


class InvalidClientSecret(IdentityError):
    """AADSTS7000215: the app's client secret is wrong (or is the secret's id, not its value)."""


class ConsentRequired(IdentityError):
    """AADSTS65001: nobody has consented to the app's permissions (guide §3 step 11, §6)."""


class ConditionalAccessBlocked(IdentityError):
    """AADSTS53003: a conditional access policy blocks the sign-in (guide §7)."""


class SignInDeclined(IdentityError):
    """The person at the sign-in pages declined (``authorization_declined``)."""


class DeviceCodeExpired(IdentityError):
    """AADSTS70020: the device code expired before anyone signed in with it."""


class SignInTimedOut(IdentityError):
    """Nobody completed the sign-in before the harness stopped waiting (the tier still said pending)."""


_BY_CODE: dict[int, type[IdentityError]] = {
    7000218: PublicClientFlowsDisabled, 7000215: InvalidClientSecret, 65001: ConsentRequired,
    53003: ConditionalAccessBlocked, 70020: DeviceCodeExpired, 70000: SignInDeclined,
}
_BY_ERROR: dict[str, type[IdentityError]] = {
    "authorization_declined": SignInDeclined, "expired_token": DeviceCodeExpired,
    "authorization_pending": SignInTimedOut,
}


def aadsts_code(answer: dict[str, Any]) -> int | None:
    """The AADSTS number of an error answer: ``error_codes[0]``, else the one its description quotes."""
    codes = answer.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int):
        return codes[0]
    found = _AADSTS.search(str(answer.get("error_description", "")))
    return int(found.group(1)) if found else None


def description_of(answer: dict[str, Any]) -> str:
    """Entra's own words, without the ``AADSTSnnn:`` prefix and the trace/correlation trailer."""
    text = _TRAILER.sub("", str(answer.get("error_description", "")))
    return re.sub(r"^AADSTS\d+:\s*", "", text).strip()


def identity_error(answer: dict[str, Any]) -> IdentityError:
    """The typed error for an error answer of the token or device-code endpoint (as msal returns it)."""
    code = aadsts_code(answer)
    error = str(answer.get("error", "unknown_error"))
    kind = _BY_CODE.get(code) if code is not None else None
    kind = kind or _BY_ERROR.get(error, IdentityError)
    suberror = answer.get("suberror")
    return kind(error, code, description_of(answer), suberror=str(suberror) if suberror else None)
