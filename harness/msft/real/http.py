"""HTTP plumbing shared by the real-tenant clients: a session that trusts what the lab says, authority facts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import requests
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

from harness.msft.real.errors import TenantUnreachable


@contextlib.contextmanager
def reaching(what: str) -> Iterator[None]:
    """Turn network and TLS failures into :class:`TenantUnreachable` naming ``what`` was being reached."""
    try:
        yield
    except requests.RequestException as exc:
        raise TenantUnreachable(f"{what}: {type(exc).__name__}: {exc}") from None


def client_session(ca_bundle: Path | str | None = None) -> requests.Session:
    """A session that ignores proxy and CA environment variables (they override ``verify``, FIDELITY.md) and
    trusts ``ca_bundle`` when given, else the system's store."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_bundle) if ca_bundle is not None else True
    return session


def is_microsoft_authority(authority: str) -> bool:
    """Whether ``authority`` is one of Microsoft's own login hosts (msal may then use instance discovery)."""
    return (urlsplit(authority).hostname or "").lower() in WELL_KNOWN_AUTHORITY_HOSTS


def check_authority(authority: str) -> str:
    """``authority`` without a trailing slash; ValueError unless it is an https URL with a tenant segment."""
    parts = urlsplit(authority)
    if parts.scheme != "https" or not parts.hostname or not parts.path.strip("/"):
        raise ValueError(f"authority must be https://<host>/<tenant>, got {authority!r}")
    return authority.rstrip("/")
