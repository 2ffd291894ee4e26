"""The device code flow against a tenant through msal, as a device does it: a code to show, then the outcome.

Works the same against Microsoft's real tenant and the built-in tier (which speaks the same protocol). Each
flow gets a fresh msal application, because msal caches a 400 answer for 60 s. Codes and tokens never show in a
``repr``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msal
import requests

from harness.msft.real.errors import IdentityError, SignInTimedOut, identity_error
from harness.msft.real.http import check_authority, client_session, is_microsoft_authority, reaching
from harness.msft.tenant import SMTP_SEND
from harness.reporting.redaction import register_secret

if TYPE_CHECKING:
    from harness.lab.labfile import MsftInfo

#: What a device asks for; msal adds the reserved scopes (openid, profile, offline_access) itself.
SMTP_SCOPES: tuple[str, ...] = (SMTP_SEND,)
MSAL_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
_PENDING = frozenset({"authorization_pending", "slow_down"})


@dataclass(frozen=True)
class SignInResult:
    """A completed sign-in: who, for which scopes, and the tokens (never in a repr)."""

    upn: str
    tenant_id: str
    scopes: tuple[str, ...]
    expires_in: int
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> SignInResult:
        claims = answer.get("id_token_claims") or {}
        register_secret(answer.get("access_token"), answer.get("refresh_token"), answer.get("id_token"))
        return cls(upn=str(claims.get("preferred_username", "")).lower(), tenant_id=str(claims.get("tid", "")),
                   scopes=tuple(str(answer.get("scope", "")).split()), expires_in=int(answer.get("expires_in", 0)),
                   access_token=str(answer["access_token"]), refresh_token=answer.get("refresh_token"))


class DeviceFlow:
    """One device code: ``user_code`` and ``verification_uri`` to show, then :meth:`poll` or :meth:`wait`."""

    def __init__(self, app: msal.PublicClientApplication, flow: dict[str, Any], authority: str) -> None:
        self._app, self._flow, self._authority = app, flow, authority
        self.user_code: str = flow["user_code"]
        register_secret(self.user_code, flow.get("device_code"))
        self.verification_uri: str = flow["verification_uri"]
        self.message: str = flow.get("message", "")
        self.expires_in: int = int(flow.get("expires_in", 0))
        self.interval: int = int(flow.get("interval", 5))

    def __repr__(self) -> str:
        return f"DeviceFlow(verification_uri={self.verification_uri!r}, expires_in={self.expires_in})"

    def poll(self) -> SignInResult | None:
        """Ask the token endpoint once: the result, None while the sign-in is pending, or a typed refusal."""
        with reaching(self._authority):
            answer = self._app.acquire_token_by_device_flow(self._flow, exit_condition=lambda flow: True)
        if answer.get("error") in _PENDING:
            return None
        return self._outcome(answer)

    def wait(self, timeout: float) -> SignInResult:
        """Poll at the flow's interval (msal's loop) until the sign-in completes or is refused, or ``timeout``."""
        expires_at = self._flow["expires_at"]
        self._flow["expires_at"] = min(expires_at, time.time() + timeout)  # msal's documented way to stop early
        try:
            with reaching(self._authority):
                answer = self._app.acquire_token_by_device_flow(self._flow)
        finally:
            self._flow["expires_at"] = expires_at
        if answer.get("error") in _PENDING:
            raise SignInTimedOut(str(answer["error"]), 70016,
                                 f"nobody completed the sign-in within {timeout:.0f} s; the tenant still answers "
                                 f"{answer['error']}")
        return self._outcome(answer)

    def cancel(self) -> None:
        """Stop any :meth:`wait` in another thread (the code itself simply expires at the tenant)."""
        self._flow["expires_at"] = 0

    @staticmethod
    def _outcome(answer: dict[str, Any]) -> SignInResult:
        if "access_token" in answer:
            return SignInResult.from_answer(answer)
        raise identity_error(answer)


class RealTenant:
    """A tenant's identity platform as a device uses it: ``authority`` is ``https://<login host>/<tenant>``."""

    def __init__(self, authority: str, client_id: str, *, ca_bundle: Path | str | None = None,
                 http: requests.Session | None = None, scopes: tuple[str, ...] = SMTP_SCOPES) -> None:
        self.authority = check_authority(authority)
        self.client_id = client_id
        self.http = http or client_session(ca_bundle)
        self.scopes = [s for s in scopes if s not in MSAL_RESERVED_SCOPES]

    @classmethod
    def from_lab(cls, msft: MsftInfo) -> RealTenant:
        """The built-in tier of a running lab, reached through its lab.json ``msft`` section."""
        return cls(msft.authority, msft.client_id, ca_bundle=msft.ca_bundle, scopes=tuple(msft.scopes))

    def __repr__(self) -> str:
        return f"RealTenant({self.authority!r}, {self.client_id!r})"

    def public_app(self) -> msal.PublicClientApplication:
        """A fresh msal public client (msal caches 400 answers per application for 60 s)."""
        with reaching(self.authority):
            try:
                return msal.PublicClientApplication(
                    self.client_id, authority=self.authority, http_client=self.http,
                    instance_discovery=None if is_microsoft_authority(self.authority) else False)
            except ValueError as exc:  # msal's words for a failed discovery; the tenant's own are better
                raise self.discovery_error(exc) from None

    def discovery_error(self, exc: ValueError) -> IdentityError:
        """Why discovery failed, in the tenant's words (e.g. AADSTS90002 for an unknown tenant) when it gave any."""
        url = f"{self.authority}/v2.0/.well-known/openid-configuration"
        with reaching(self.authority):
            response = self.http.get(url, timeout=30)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and "error" in answer:
            return identity_error(answer)
        return IdentityError("invalid_authority", None, f"{url} answered {response.status_code}: {exc}")

    def start_device_flow(self) -> DeviceFlow:
        """Ask for a device code, as a device's Sign In button does."""
        app = self.public_app()
        with reaching(self.authority):
            flow = app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise identity_error(flow)
        return DeviceFlow(app, flow, self.authority)
