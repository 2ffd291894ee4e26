"""The identity provider's ASGI application: routes of the OAuth endpoints and the device-login pages."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from harness.msft.graph import graph_routes
from harness.msft.identity.clientcreds import TokenEndpoint
from harness.msft.identity.devicecodes import DeviceCodeStore
from harness.msft.identity.oauth import OAuthEndpoints
from harness.msft.identity.signin import SignInPages
from harness.msft.state import TierState


def create_identity_app(state: TierState) -> Starlette:
    """An Entra-compatible identity provider over ``state`` (served over HTTPS by the tier), with Graph's mail
    endpoints under ``/v1.0``."""
    codes = DeviceCodeStore()
    oauth = OAuthEndpoints(state, codes)
    signin = SignInPages(state, codes)
    return Starlette(routes=[
        Route("/{tenant}/v2.0/.well-known/openid-configuration", oauth.discovery, methods=["GET"]),
        Route("/{tenant}/discovery/v2.0/keys", oauth.jwks, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/devicecode", oauth.devicecode, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/token", TokenEndpoint(state, oauth).token, methods=["POST"]),
        Route("/devicelogin", signin.devicelogin, methods=["GET"]),
        Route("/common/oauth2/deviceauth", signin.deviceauth, methods=["GET"]),
        Route("/common/oauth2/deviceauth", signin.submit_code, methods=["POST"]),
        Route("/common/login", signin.submit_login, methods=["POST"]),
        *graph_routes(state),
    ])
