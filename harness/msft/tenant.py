"""The virtual Microsoft 365 tenant: users, app registrations, consent, policies, SMTP AUTH, sign-in log.

Loaded from the inventory's ``msft.tenant`` section and changed at run time through the control API.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.lab.yamlfile import load_yaml, section, validate

GLOBAL_ADMIN = "Global Administrator"
#: Roles that may consent on behalf of the organisation (Entra's admin-consent roles).
CONSENT_ADMIN_ROLES = frozenset(
    {GLOBAL_ADMIN, "Privileged Role Administrator", "Cloud Application Administrator", "Application Administrator"}
)
SMTP_SEND = "https://outlook.office.com/SMTP.Send"
DAY = 86400


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class User(_Model):
    """A tenant user; ``password`` is a test identity's, only ever for the virtual tenant."""

    upn: str
    password: str
    display_name: str
    roles: list[str] = Field(default_factory=list)
    mailbox: bool = True
    #: SMTP AUTH for this mailbox: None inherits the organisation's switch; an explicit value wins.
    smtp_auth_enabled: bool | None = None
    enabled: bool = True
    #: Entra object id; stable for a UPN unless the inventory gives one, so restarts keep accounts.
    object_id: str = ""

    @model_validator(mode="before")
    @classmethod
    def _stable_object_id(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("object_id") and isinstance(data.get("upn"), str):
            data = {**data, "object_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "upn:" + data["upn"].lower()))}
        return data

    @field_validator("upn")
    @classmethod
    def _upn_shape(cls, v: str) -> str:
        local, at, domain = v.partition("@")
        if not (local and at and "." in domain):
            raise ValueError("expected a user principal name like name@contoso.onmicrosoft.com")
        return v.lower()

    @property
    def is_consent_admin(self) -> bool:
        return bool(CONSENT_ADMIN_ROLES.intersection(self.roles))


class AppRegistration(_Model):
    """An app registration: the devices' public client, or a confidential one (``client_secret``) such as the
    lab's mail reader, which gets app-only tokens carrying its granted ``app_roles`` (e.g. ``Mail.Read``)."""

    client_id: str
    display_name: str
    allow_public_client_flows: bool = True
    publisher: str = "Seiko Epson Corporation"
    #: A test identity's secret, only ever for the virtual tenant; never shown in a dump or a repr.
    client_secret: str | None = Field(None, repr=False, exclude=True)
    #: Application permissions granted with admin consent (Microsoft Graph's app roles).
    app_roles: list[str] = Field(default_factory=list)

    @field_validator("client_id")
    @classmethod
    def _guid(cls, v: str) -> str:
        return str(uuid.UUID(v))


class ConsentGrant(_Model):
    """Delegated permission granted to an app, for one user or (``principal='all'``) the organisation."""

    client_id: str
    scopes: list[str] = Field(default_factory=lambda: [SMTP_SEND])
    principal: str = "all"


class ConditionalAccessPolicy(_Model):
    """A blocking policy for a set of users (``all`` or UPNs), on every sign-in or only the device code flow."""

    name: str
    users: list[str] = Field(default_factory=lambda: ["all"])
    applies_to: Literal["all", "device_code"] = "all"
    enabled: bool = True

    def targets(self, upn: str) -> bool:
        return self.enabled and ("all" in self.users or upn.lower() in (u.lower() for u in self.users))


class TokenSettings(_Model):
    """Lifetimes and pacing; Microsoft's values by default, shortened interval allowed for virtual labs."""

    device_code_interval: int = Field(5, ge=1, le=60)
    device_code_lifetime: int = Field(900, ge=60, le=3600)
    access_token_lifetime_min: int = Field(3600, ge=300)
    access_token_lifetime_max: int = Field(5400, ge=300)
    refresh_token_idle: int = Field(90 * DAY, ge=3600)


class Tenant(_Model):
    """The tenant's configuration and mutable switches."""

    tenant_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    domain: str
    display_name: str = "epson-hil Lab"
    security_defaults: bool = False
    #: Organisation-wide SMTP AUTH (Set-TransportConfig -SmtpClientAuthenticationDisabled is the inverse).
    smtp_auth_enabled: bool = True
    users: list[User]
    apps: list[AppRegistration]
    consent_grants: list[ConsentGrant] = Field(default_factory=list)
    conditional_access: list[ConditionalAccessPolicy] = Field(default_factory=list)
    tokens: TokenSettings = Field(default_factory=TokenSettings)

    @field_validator("tenant_id")
    @classmethod
    def _tid(cls, v: str) -> str:
        return str(uuid.UUID(v))

    def user(self, upn: str) -> User | None:
        upn = upn.strip().lower()
        return next((u for u in self.users if u.upn == upn), None)

    def app(self, client_id: str) -> AppRegistration | None:
        return next((a for a in self.apps if a.client_id == client_id.strip().lower()), None)

    def smtp_auth_block(self, upn: str) -> Literal["security_defaults", "tenant", "mailbox"] | None:
        """Why SMTP AUTH is refused for ``upn``'s mailbox, or None when it is allowed."""
        if self.security_defaults:
            return "security_defaults"
        user = self.user(upn)
        if user is not None and user.smtp_auth_enabled is not None:
            return None if user.smtp_auth_enabled else "mailbox"
        return None if self.smtp_auth_enabled else "tenant"

    def blocking_policy(self, upn: str, flow: str) -> ConditionalAccessPolicy | None:
        """The first enabled conditional access policy that blocks ``upn`` signing in through ``flow``."""
        for policy in self.conditional_access:
            if policy.targets(upn) and (policy.applies_to == "all" or policy.applies_to == flow):
                return policy
        return None

    def has_consent(self, client_id: str, upn: str, scopes: list[str]) -> bool:
        wanted = {s for s in scopes if s.startswith("https://")}
        granted: set[str] = set()
        for g in self.consent_grants:
            if g.client_id == client_id and (g.principal == "all" or g.principal == upn.lower()):
                granted.update(g.scopes)
        return wanted <= granted

    def grant_consent(self, client_id: str, scopes: list[str], upn: str, on_behalf_of_org: bool) -> None:
        resource = [s for s in scopes if s.startswith("https://")]
        principal = "all" if on_behalf_of_org else upn.lower()
        for g in self.consent_grants:
            if g.client_id == client_id and g.principal == principal:
                g.scopes = sorted(set(g.scopes) | set(resource))
                return
        self.consent_grants.append(ConsentGrant(client_id=client_id, scopes=resource, principal=principal))

    def revoke_consent(self, client_id: str) -> None:
        self.consent_grants = [g for g in self.consent_grants if g.client_id != client_id]


@dataclass
class SignInEvent:
    """One entry of the sign-in log (what Entra's sign-in logs show an administrator)."""

    time: float
    upn: str
    app_id: str
    app_name: str
    flow: str
    status: Literal["success", "failure", "interrupted"]
    error_code: int = 0
    failure_reason: str = ""
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    policy: str = ""


class SignInLog:
    """Append-only, thread-safe sign-in log."""

    def __init__(self) -> None:
        self._events: list[SignInEvent] = []
        self._lock = threading.Lock()

    def record(self, event: SignInEvent) -> SignInEvent:
        with self._lock:
            self._events.append(event)
        return event

    def events(self, upn: str | None = None) -> list[SignInEvent]:
        with self._lock:
            return [e for e in self._events if upn is None or e.upn == upn.lower()]

    def as_dicts(self, upn: str | None = None) -> list[dict[str, object]]:
        return [asdict(e) for e in self.events(upn)]


@dataclass
class SessionRevocations:
    """Per-user instants from which earlier refresh tokens are void (revokeSignInSessions, password reset)."""

    revoked_at: dict[str, float] = field(default_factory=dict)

    def revoke(self, upn: str, now: float) -> None:
        self.revoked_at[upn.lower()] = now

    def is_revoked(self, upn: str, issued_at: float) -> bool:
        when = self.revoked_at.get(upn.lower())
        return when is not None and issued_at <= when


def load_tenant(path: Path) -> Tenant:
    """Load the ``msft.tenant`` section of an inventory file."""
    data = load_yaml(path)
    msft = section(data, "msft", path)
    tenant = section(msft, "tenant", path, parent="msft")
    return validate(Tenant, tenant, path, prefix="msft.tenant")
