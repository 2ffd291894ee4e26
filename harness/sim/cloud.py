"""The device's HTTPS client to Microsoft's identity platform, through its resolver and its own CA store.

The connection goes to the address the device's resolver gives for ``login.microsoftonline.com:443``, but
TLS (SNI and the certificate check) and the ``Host`` header use the real host name, so trust is decided by
the CA certificates imported into the device, as on a real printer.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, SSLError

from harness.sim.castore import CaStore
from harness.sim.resolver import NameResolutionError, Resolver

LOGIN_HOST = "login.microsoftonline.com"
HTTPS_PORT = 443
TIMEOUT = urllib3.Timeout(connect=5.0, read=15.0)


class CloudUnreachable(Exception):
    """The identity platform could not be reached (name, connection or TLS); ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CloudResponse:
    """An answer from the identity platform: HTTP status and the JSON body (empty if it was not JSON)."""

    status: int
    body: dict[str, Any] = field(repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and bool(self.body)

    @property
    def error(self) -> str:
        return str(self.body.get("error", "")) if not self.ok else ""

    @property
    def aadsts(self) -> int:
        """The first AADSTS number of an error answer (0 when there is none)."""
        codes = self.body.get("error_codes")
        if isinstance(codes, list) and codes and isinstance(codes[0], int):
            return codes[0]
        return 0


class CloudClient:
    """POSTs forms to the identity platform the way the device's firmware would."""

    def __init__(self, resolver: Resolver, ca: CaStore, host: str = LOGIN_HOST, port: int = HTTPS_PORT) -> None:
        self.resolver = resolver
        self.ca = ca
        self.host = host
        self.port = port

    def post_form(self, path: str, fields: dict[str, str]) -> CloudResponse:
        """POST ``fields`` url-encoded to ``path``; raise :class:`CloudUnreachable` when there is no answer."""
        try:
            address, port = self.resolver.resolve(self.host, self.port)
        except NameResolutionError:
            raise CloudUnreachable(f"cannot resolve {self.host}") from None
        context = self.ca.client_context(verify=True)
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=TIMEOUT, retries=False, maxsize=1, ssl_context=context,
            server_hostname=self.host, assert_hostname=self.host,
        )
        headers = {"Host": self.host if self.port == HTTPS_PORT else f"{self.host}:{self.port}",
                   "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                   "User-Agent": "EPSON-Device/1.0"}
        try:
            response = pool.request("POST", path, body=urlencode(fields), headers=headers)
        except SSLError as exc:
            raise CloudUnreachable(f"TLS with {self.host} failed: {_tls_reason(exc)}") from None
        except NewConnectionError:
            raise CloudUnreachable(f"cannot connect to {self.host}:{self.port}") from None
        except (HTTPError, OSError) as exc:
            raise CloudUnreachable(f"no answer from {self.host}: {type(exc).__name__}") from None
        finally:
            pool.close()
        return CloudResponse(response.status, _json_object(response.data))


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _tls_reason(exc: BaseException) -> str:
    """Why a TLS handshake failed, in a few words (the certificate check, or something else)."""
    seen: BaseException | None = exc
    for _ in range(8):  # exception chains are short; the bound guards against cycles
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"certificate not trusted ({seen.verify_message})"
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = seen.__cause__ or seen.__context__ or inner
    return "handshake failed"
