"""Token issuing and checking for the built-in tier: RS256 access and ID tokens, opaque refresh tokens.

Access tokens are v1 Exchange tokens (aud ``https://outlook.office.com``, ``scp SMTP.Send``) and are not
revocable, as on Entra. Refresh tokens are opaque, each valid for the tenant's idle period from its own
issue; every use returns a new one (the old one stays valid until its own idle limit, as on Entra).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.clock import Clock, iso
from harness.msft import errors
from harness.msft.errors import GrantError
from harness.msft.tenant import SMTP_SEND, AppRegistration, SessionRevocations, Tenant, User
from harness.reporting.redaction import register_secret

EXCHANGE_AUDIENCE = "https://outlook.office.com"
SMTP_SCOPE_SHORT = "SMTP.Send"
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_info(user: User, tenant_id: str) -> str:
    """msal's ``client_info``: base64url JSON of uid (object id) and utid (tenant id)."""
    return b64url(json.dumps({"uid": user.object_id, "utid": tenant_id}).encode())


def resource_scopes(scopes: list[str]) -> list[str]:
    """The scopes that name a resource permission (not the OpenID Connect ones)."""
    return [s for s in scopes if s not in OIDC_SCOPES]


class InvalidToken(Exception):
    """An access token a resource server must refuse; ``reason`` says why (never the token itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AccessClaims:
    """What a resource server learns from a valid access token."""

    upn: str
    oid: str
    tid: str
    app_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class RefreshGrant:
    """The server-side record behind one opaque refresh token."""

    upn: str
    client_id: str
    scopes: list[str]
    issued_at: float
    auth_time: float


@dataclass
class TokenService:
    """Signs and checks the tier's tokens against the tenant and the lab clock."""

    tenant: Tenant
    clock: Clock
    revocations: SessionRevocations = field(default_factory=SessionRevocations)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = b64url(hashlib.sha256(str(uuid.uuid4()).encode()).digest()[:15])
        self._refresh: dict[str, RefreshGrant] = {}
        self._lock = threading.Lock()

    # --- keys -------------------------------------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        """The public signing keys in JWKS form (served at the discovery document's ``jwks_uri``)."""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256", "kty": "RSA"})
        return {"keys": [jwk]}

    def _sign(self, claims: dict[str, Any]) -> str:
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        register_secret(token)  # the tier runs in the test process: its tokens are this run's secrets
        return token

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign ``claims`` as a token of this tier (for token kinds issued outside this module, e.g. app-only)."""
        return self._sign(claims)

    def verified_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token this tier signed, checking the signature only; :class:`InvalidToken` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        if header.get("kid") != self.kid or header.get("alg") != "RS256":
            raise InvalidToken("unknown signing key")
        try:
            return jwt.decode(token, self._key.public_key(), algorithms=["RS256"],
                              options={"verify_signature": True, "verify_exp": False, "verify_aud": False,
                                       "verify_nbf": False, "verify_iat": False})
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"signature or claims invalid: {type(exc).__name__}") from None

    # --- issuing ----------------------------------------------------------------------------------------
    def issue(self, user: User, app: AppRegistration, scopes: list[str], issuer: str,
              auth_time: float | None = None) -> dict[str, Any]:
        """A full token response (access, refresh, ID token, client_info) for ``user`` through ``app``."""
        now = self.clock.now()
        tid = self.tenant.tenant_id
        settings = self.tenant.tokens
        lifetime = self.rng.randint(settings.access_token_lifetime_min,
                                    max(settings.access_token_lifetime_min, settings.access_token_lifetime_max))
        granted = resource_scopes(scopes) or [SMTP_SEND]
        short = " ".join(s.rsplit("/", 1)[-1] for s in granted)
        access = self._sign({
            "aud": EXCHANGE_AUDIENCE, "iss": f"https://sts.windows.net/{tid}/",
            "iat": int(now), "nbf": int(now), "exp": int(now) + lifetime,
            "appid": app.client_id, "app_displayname": app.display_name, "name": user.display_name,
            "oid": user.object_id, "scp": short, "sub": self._pairwise(user, app), "tid": tid,
            "unique_name": user.upn, "upn": user.upn, "ver": "1.0", "uti": b64url(secrets.token_bytes(16)),
        })
        id_token = self._sign({
            "aud": app.client_id, "iss": issuer, "iat": int(now), "nbf": int(now), "exp": int(now) + 3600,
            "name": user.display_name, "oid": user.object_id, "preferred_username": user.upn,
            "sub": self._pairwise(user, app), "tid": tid, "ver": "2.0",
        })
        refresh = self._new_refresh(RefreshGrant(user.upn, app.client_id, list(scopes), now, auth_time or now))
        scope_out = " ".join([*granted, *sorted(OIDC_SCOPES & set(scopes) - {"email"})])
        return {
            "token_type": "Bearer", "scope": scope_out, "expires_in": lifetime, "ext_expires_in": lifetime,
            "access_token": access, "refresh_token": refresh, "id_token": id_token,
            "client_info": client_info(user, tid),
        }

    def _pairwise(self, user: User, app: AppRegistration) -> str:
        return b64url(hashlib.sha256(f"{user.object_id}:{app.client_id}".encode()).digest()[:24])

    def _new_refresh(self, grant: RefreshGrant) -> str:
        token = "1.A" + b64url(secrets.token_bytes(96))
        register_secret(token)
        with self._lock:
            self._refresh[self._digest(token)] = grant
        return token

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    # --- refresh ----------------------------------------------------------------------------------------
    def refresh_owner(self, token: str) -> str | None:
        """The UPN a refresh token was issued to (valid or not), for the sign-in log; None if unknown."""
        with self._lock:
            grant = self._refresh.get(self._digest(token.strip()))
        return grant.upn if grant else None

    def redeem_refresh(self, token: str, client_id: str) -> RefreshGrant:
        """Check a refresh token for ``client_id``; raise :class:`GrantError` with Entra's code if it fails."""
        with self._lock:
            grant = self._refresh.get(self._digest(token.strip()))
        if grant is None or grant.client_id != client_id:
            raise GrantError(errors.BAD_REFRESH_TOKEN)
        now = self.clock.now()
        idle = now - grant.issued_at
        if idle > self.tenant.tokens.refresh_token_idle:
            raise GrantError(errors.REFRESH_IDLE_EXPIRED, issued=iso(grant.issued_at), days=str(int(idle // 86400)))
        if self.revocations.is_revoked(grant.upn, grant.issued_at):
            raise GrantError(errors.GRANT_REVOKED)
        return grant

    def revoke_user(self, upn: str) -> None:
        """Void every refresh token issued to ``upn`` so far (revokeSignInSessions)."""
        self.revocations.revoke(upn, self.clock.now())

    # --- checking (resource server side) ----------------------------------------------------------------
    def validate_access_token(self, token: str, audience: str = EXCHANGE_AUDIENCE,
                              scope: str = SMTP_SCOPE_SHORT) -> AccessClaims:
        """Check signature, audience, scope, expiry and tenant of an access token, as Exchange does."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        if header.get("kid") != self.kid or header.get("alg") != "RS256":
            raise InvalidToken("unknown signing key")
        try:
            claims = jwt.decode(token, self._key.public_key(), algorithms=["RS256"],
                                options={"verify_exp": False, "verify_aud": False, "verify_nbf": False,
                                         "verify_iat": False, "require": ["exp", "aud", "tid", "scp"]})
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"signature or claims invalid: {type(exc).__name__}") from None
        if claims.get("aud") != audience:
            raise InvalidToken("wrong audience")
        if scope not in str(claims.get("scp", "")).split():
            raise InvalidToken(f"scope {scope} not granted")
        if claims.get("tid") != self.tenant.tenant_id:
            raise InvalidToken("token from another tenant")
        if float(claims["exp"]) <= self.clock.now():
            raise InvalidToken("token expired")
        upn = str(claims.get("upn", "")).lower()
        return AccessClaims(upn=upn, oid=str(claims.get("oid", "")), tid=str(claims["tid"]),
                            app_id=str(claims.get("appid", "")), scopes=tuple(str(claims["scp"]).split()),
                            expires_at=float(claims["exp"]))
