"""Entra-compatible identity provider: discovery, JWKS, device code and token endpoints, device-login pages."""

from harness.msft.identity.app import create_identity_app

__all__ = ["create_identity_app"]
