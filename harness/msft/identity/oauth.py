"""Entra's OAuth 2.0 endpoints: discovery, JWKS, device authorization and the token endpoint.

Every URL handed out is built from the request's own host, so clients that reach the tier as
``login.microsoftonline.com`` or as ``localhost:PORT`` each get addresses that work for them.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from harness.msft import errors
from harness.msft.errors import GrantError
from harness.msft.identity.audit import DEVICE_CODE_FLOW, REFRESH_FLOW, record_signin
from harness.msft.identity.devicecodes import DeviceCodeStore, Status
from harness.msft.identity.wire import (
    MALFORMED,
    MULTI_TENANT,
    NO_STORE,
    Malformed,
    error_response,
    read_form,
    request_origin,
    required,
    resolve_tenant,
)
from harness.msft.state import TierState
from harness.msft.tenant import SMTP_SEND, AppRegistration
from harness.msft.tokens import OIDC_SCOPES

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
VERIFICATION_URI = "https://microsoft.com/devicelogin"
DEVICE_CODE_MESSAGE = ("To sign in, use a web browser to open the page {uri} and enter the code {code} "
                       "to authenticate.")
#: Resource permissions this tier can issue tokens for (lower-case name -> canonical spelling).
RESOURCE_SCOPES = {SMTP_SEND.lower(): SMTP_SEND}
MAX_SCOPES = 32

Handler = Callable[[Any, Request], Awaitable[Response]]


def entra_errors(handler: Handler) -> Handler:
    """Turn refusals into Entra's JSON error answers."""

    @functools.wraps(handler)
    async def wrapped(self: OAuthEndpoints, request: Request) -> Response:
        try:
            return await handler(self, request)
        except GrantError as exc:
            return error_response(exc.err, self.state.clock.now(), **exc.fmt)
        except Malformed:
            return error_response(MALFORMED, self.state.clock.now())

    return wrapped


def parse_scopes(text: str) -> list[str]:
    """The requested scopes, canonicalised; AADSTS70011 for anything this tier cannot grant."""
    words = text.split()
    if len(words) > MAX_SCOPES:
        raise GrantError(errors.INVALID_SCOPE, detail="Too many scopes were requested.")
    scopes: list[str] = []
    for word in words:
        lowered = word.lower()
        scope = lowered if lowered in OIDC_SCOPES else RESOURCE_SCOPES.get(lowered)
        if scope is None:
            raise GrantError(errors.INVALID_SCOPE, detail=f"The scope '{word[:200]}' does not exist.")
        if scope not in scopes:
            scopes.append(scope)
    return scopes


class OAuthEndpoints:
    """The JSON endpoints of the identity provider over one tier's state."""

    def __init__(self, state: TierState, codes: DeviceCodeStore) -> None:
        self.state = state
        self.codes = codes

    # --- discovery --------------------------------------------------------------------------------------
    @entra_errors
    async def discovery(self, request: Request) -> Response:
        segment = resolve_tenant(self.state.tenant, request.path_params["tenant"])
        origin = request_origin(request)
        base = f"{origin}/{segment}"
        issuer_tenant = "{tenantid}" if segment in MULTI_TENANT else segment
        # authorization_endpoint is advertised because msal requires the key; the lab offers no
        # interactive auth-code flow, devices use the device code flow.
        return JSONResponse({
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{origin}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username",
                                 "name", "tid", "ver", "oid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        })

    @entra_errors
    async def jwks(self, request: Request) -> Response:
        resolve_tenant(self.state.tenant, request.path_params["tenant"])
        return JSONResponse(self.state.tokens.jwks())

    # --- device authorization ---------------------------------------------------------------------------
    @entra_errors
    async def devicecode(self, request: Request) -> Response:
        tenant = self.state.tenant
        resolve_tenant(tenant, request.path_params["tenant"])
        form = await read_form(request)
        app = self._known_client(form)
        scopes = parse_scopes(required(form, "scope"))
        settings = tenant.tokens
        device_code, user_code, _ = self.codes.create(
            app.client_id, scopes, self.state.clock.now(), settings.device_code_lifetime,
            settings.device_code_interval)
        return JSONResponse({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": VERIFICATION_URI,
            "expires_in": settings.device_code_lifetime,
            "interval": settings.device_code_interval,
            "message": DEVICE_CODE_MESSAGE.format(uri=VERIFICATION_URI, code=user_code),
        }, headers=NO_STORE)

    # --- token ------------------------------------------------------------------------------------------
    @entra_errors
    async def token(self, request: Request) -> Response:
        tenant_id = resolve_tenant(self.state.tenant, request.path_params["tenant"])
        form = await read_form(request)
        grant_type = required(form, "grant_type")
        if grant_type not in (DEVICE_CODE_GRANT, REFRESH_GRANT):
            raise GrantError(errors.UNSUPPORTED_GRANT, name=grant_type[:200])
        app = self._known_client(form)
        if not app.allow_public_client_flows:
            raise GrantError(errors.PUBLIC_CLIENT_OFF)
        if tenant_id in MULTI_TENANT:
            tenant_id = self.state.tenant.tenant_id
        issuer = f"{request_origin(request)}/{tenant_id}/v2.0"
        if grant_type == DEVICE_CODE_GRANT:
            body = self._redeem_device_code(form, app, issuer)
        else:
            body = self._redeem_refresh_token(form, app, issuer)
        return JSONResponse(body, headers=NO_STORE)

    def _known_client(self, form: dict[str, str]) -> AppRegistration:
        client_id = required(form, "client_id")
        app = self.state.tenant.app(client_id[:100])
        if app is None:
            raise GrantError(errors.UNKNOWN_CLIENT)
        return app

    def _redeem_device_code(self, form: dict[str, str], app: AppRegistration, issuer: str) -> dict[str, Any]:
        auth = self.codes.by_device_code(required(form, "device_code"))
        if auth is None or auth.client_id != app.client_id:
            raise GrantError(errors.BAD_VERIFICATION_CODE)
        if auth.expired(self.state.clock.now()):
            raise GrantError(errors.EXPIRED_TOKEN)
        too_soon = self.codes.polled_too_soon(auth)
        if auth.status is Status.PENDING:  # slow_down is a variant of pending (RFC 8628 section 3.5)
            raise GrantError(errors.SLOW_DOWN if too_soon else errors.AUTHORIZATION_PENDING)
        if auth.status is not Status.APPROVED:
            raise GrantError(auth.denial or errors.AUTHORIZATION_DECLINED)
        user = self.state.tenant.user(auth.upn)
        self.codes.discard(auth)
        if user is None or not user.enabled:
            record_signin(self.state, auth.upn, app.client_id, DEVICE_CODE_FLOW, errors.ACCOUNT_DISABLED)
            raise GrantError(errors.ACCOUNT_DISABLED)
        return self.state.tokens.issue(user, app, auth.scopes, issuer, auth_time=auth.auth_time)

    def _redeem_refresh_token(self, form: dict[str, str], app: AppRegistration, issuer: str) -> dict[str, Any]:
        token = required(form, "refresh_token")
        upn = self.state.tokens.refresh_owner(token)
        try:
            grant = self.state.tokens.redeem_refresh(token, app.client_id)
            tenant = self.state.tenant
            user = tenant.user(grant.upn)
            if user is None:
                raise GrantError(errors.UNKNOWN_USER)
            if not user.enabled:
                raise GrantError(errors.ACCOUNT_DISABLED)
            policy = tenant.blocking_policy(user.upn, REFRESH_FLOW)
            if policy is not None:
                record_signin(self.state, user.upn, app.client_id, REFRESH_FLOW, errors.CONDITIONAL_ACCESS,
                              policy=policy.name)
                raise GrantError(errors.CONDITIONAL_ACCESS)
            scope_text = form.get("scope", "").strip()
            scopes = parse_scopes(scope_text) if scope_text else grant.scopes
            if not tenant.has_consent(app.client_id, user.upn, scopes):
                raise GrantError(errors.CONSENT_REQUIRED)
        except GrantError as exc:
            already_logged = exc.err is errors.CONDITIONAL_ACCESS
            if upn is not None and not already_logged:
                record_signin(self.state, upn, app.client_id, REFRESH_FLOW, exc.err, **exc.fmt)
            raise
        body = self.state.tokens.issue(user, app, scopes, issuer, auth_time=grant.auth_time)
        record_signin(self.state, user.upn, app.client_id, REFRESH_FLOW)
        return body
