"""Entra's client-credentials grant: app-only tokens for Microsoft Graph, for a confidential app registration.

The token endpoint is shared with the device code and refresh grants: :class:`TokenEndpoint` reads the form once
(bounded), answers ``grant_type=client_credentials`` itself and hands every other request, replayed unchanged,
to :class:`~harness.msft.identity.oauth.OAuthEndpoints`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import uuid
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive

from harness.msft import errors
from harness.msft.errors import Aadsts, GrantError
from harness.msft.graph import GRAPH_RESOURCE
from harness.msft.identity.oauth import OAuthEndpoints, entra_errors
from harness.msft.identity.wire import (
    MALFORMED,
    MAX_BODY,
    MULTI_TENANT,
    NO_STORE,
    Malformed,
    error_response,
    read_form,
    required,
    resolve_tenant,
)
from harness.msft.state import TierState
from harness.msft.tenant import AppRegistration
from harness.msft.tokens import b64url

CLIENT_CREDENTIALS_GRANT = "client_credentials"
#: Resources an app-only token can be issued for (lower-case → canonical), as ``<resource>/.default``.
APP_RESOURCES = {GRAPH_RESOURCE: GRAPH_RESOURCE, "00000003-0000-0000-c000-000000000000": GRAPH_RESOURCE}

INVALID_CLIENT_SECRET = Aadsts(
    7000215, "invalid_client",
    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not "
    "the client secret ID, for a secret added to app '{app_id}'.", status=401)
DEFAULT_SCOPE_REQUIRED = Aadsts(
    1002012, "invalid_scope",
    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
    "/.default suffixed to the resource identifier (application ID URI).")
UNKNOWN_RESOURCE = Aadsts(
    500011, "invalid_resource",
    "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the "
    "application has not been installed by the administrator of the tenant or consented to by any user in the "
    "tenant. You might have sent your authentication request to the wrong tenant.")


def _replay(body: bytes) -> Receive:
    """An ASGI ``receive`` that hands ``body`` over once more, so a second reader sees the request unchanged."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(client_id, secret) of an ``Authorization: Basic`` header (RFC 6749 §2.3.1 form-encodes both)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if colon else None


class TokenEndpoint:
    """``POST /{tenant}/oauth2/v2.0/token`` for every grant type this tier knows."""

    def __init__(self, state: TierState, oauth: OAuthEndpoints) -> None:
        self.state = state
        self.oauth = oauth

    async def token(self, request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return error_response(MALFORMED, self.state.clock.now())
        form_request = Request(request.scope, _replay(bytes(body)))
        try:
            grant_type = (await read_form(form_request)).get("grant_type", "").strip()
        except Malformed:
            grant_type = ""
        replayed = Request(request.scope, _replay(bytes(body)))
        if grant_type == CLIENT_CREDENTIALS_GRANT:
            return await self.client_credentials(replayed)
        return await self.oauth.token(replayed)

    @entra_errors
    async def client_credentials(self, request: Request) -> Response:
        tenant = self.state.tenant
        segment = resolve_tenant(tenant, request.path_params["tenant"])
        tenant_id = tenant.tenant_id if segment in MULTI_TENANT else segment
        form = await read_form(request)
        app = self._authenticated_client(form, request.headers.get("authorization", ""))
        resource = self._resource(required(form, "scope"), tenant.domain)
        return JSONResponse(self.issue(app, resource, tenant_id), headers=NO_STORE)

    def _authenticated_client(self, form: dict[str, str], authorization: str) -> AppRegistration:
        basic = basic_credentials(authorization)
        client_id = basic[0] if basic else required(form, "client_id")
        presented = basic[1] if basic else form.get("client_secret", "")
        app = self.state.tenant.app(client_id[:100])
        if app is None:
            raise GrantError(errors.UNKNOWN_CLIENT)
        if not presented:
            raise GrantError(errors.PUBLIC_CLIENT_OFF)  # Entra's answer when no client credential is given
        expected = app.client_secret or secrets.token_urlsafe(32)  # an app without a secret accepts none
        if not hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode()):
            raise GrantError(INVALID_CLIENT_SECRET, app_id=app.client_id)
        return app

    @staticmethod
    def _resource(scope: str, tenant_name: str) -> str:
        words = scope.split()
        if len(words) != 1 or not words[0].lower().endswith("/.default"):
            raise GrantError(DEFAULT_SCOPE_REQUIRED, scope=scope[:200])
        named = words[0][: -len("/.default")]
        resource = APP_RESOURCES.get(named.lower())
        if resource is None:
            raise GrantError(UNKNOWN_RESOURCE, resource=named[:200], tenant=tenant_name)
        return resource

    def issue(self, app: AppRegistration, resource: str, tenant_id: str) -> dict[str, Any]:
        """An app-only token response: a v1 access token for ``resource`` carrying the app's granted roles."""
        now = int(self.state.clock.now())
        lifetime = self.state.tenant.tokens.access_token_lifetime_min - 1  # Entra answers 3599
        service_principal = str(uuid.uuid5(uuid.NAMESPACE_URL, "sp:" + app.client_id))
        claims: dict[str, Any] = {
            "aud": resource, "iss": f"https://sts.windows.net/{tenant_id}/", "iat": now, "nbf": now,
            "exp": now + lifetime, "app_displayname": app.display_name, "appid": app.client_id, "appidacr": "1",
            "idp": f"https://sts.windows.net/{tenant_id}/", "idtyp": "app", "oid": service_principal,
            "sub": service_principal, "tid": tenant_id, "uti": b64url(secrets.token_bytes(16)), "ver": "1.0",
        }
        if app.app_roles:
            claims["roles"] = list(app.app_roles)
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": self.state.tokens.sign(claims)}
