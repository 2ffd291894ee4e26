"""The SASL XOAUTH2 client response: ``user=<upn>^Aauth=Bearer <token>^A^A`` (sent base64-encoded)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Xoauth2Credentials:
    """The user name and bearer token of one XOAUTH2 response (the token never shows in a repr)."""

    user: str
    token: str = field(repr=False)


def xoauth2_response(user: str, token: str) -> bytes:
    """The raw (not yet base64-encoded) XOAUTH2 response for ``user`` and ``token``."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def xoauth2_blob(user: str, token: str) -> str:
    """The base64 XOAUTH2 response as it goes on the wire."""
    return base64.b64encode(xoauth2_response(user, token)).decode("ascii")


def decode_initial_response(argument: str) -> bytes | None:
    """An initial response given with ``AUTH <mech> <arg>``: ``=`` is empty (RFC 4954); None if not base64."""
    if argument == "=":
        return b""
    try:
        return base64.b64decode(argument.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def parse_xoauth2(response: bytes) -> Xoauth2Credentials | None:
    """The credentials in a decoded XOAUTH2 response, or None when it is not of that shape."""
    try:
        text = response.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.endswith("\x01\x01"):
        return None
    fields: dict[str, str] = {}
    for part in text[:-2].split("\x01"):
        key, eq, value = part.partition("=")
        if not eq or key in fields:
            return None
        fields[key] = value
    user, auth = fields.get("user", "").strip(), fields.get("auth", "")
    scheme, _, token = auth.partition(" ")
    token = token.strip()
    if not user or scheme.lower() != "bearer" or not token or _WHITESPACE.search(token):
        return None
    return Xoauth2Credentials(user=user, token=token)
