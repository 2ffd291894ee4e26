"""One SMTP AUTH XOAUTH2 attempt as a device makes it (STARTTLS on 587, EHLO again, AUTH), without sending mail.

Exchange answers an attempt with its verdict on the tenant's switches: ``235`` when SMTP AUTH is allowed, or a
``535 5.7.139`` text naming what blocks it. The token and the XOAUTH2 blob never leave this module's locals.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.msft.real.errors import TenantUnreachable
from harness.msft.smtp.xoauth2 import xoauth2_blob

if TYPE_CHECKING:
    from harness.lab.labfile import MsftInfo

EXCHANGE_ONLINE = "smtp.office365.com"
SUBMISSION_PORT = 587


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where a device submits mail: ``server_name`` (TLS name) and port; ``address`` dials elsewhere when the
    lab resolves the name to the built-in tier."""

    server_name: str = EXCHANGE_ONLINE
    port: int = SUBMISSION_PORT
    address: tuple[str, int] | None = None
    ca_bundle: Path | None = None

    @classmethod
    def from_lab(cls, msft: MsftInfo) -> SmtpEndpoint:
        return cls(msft.smtp.server_name, SUBMISSION_PORT, (msft.smtp.host, msft.smtp.port), Path(msft.ca_bundle))

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_bundle) if self.ca_bundle else None)


@dataclass(frozen=True)
class SmtpAttempt:
    """The server's answer to AUTH XOAUTH2 (``code``, ``reply`` as on the wire, e.g. ``535 5.7.139 ...``)."""

    code: int
    reply: str

    @property
    def accepted(self) -> bool:
        return self.code == 235


class _DialingSMTP(smtplib.SMTP):
    """smtplib that dials ``address`` while naming ``server_name`` for SNI and the certificate check."""

    def __init__(self, endpoint: SmtpEndpoint, timeout: float) -> None:
        self._address = endpoint.address or (endpoint.server_name, endpoint.port)
        super().__init__(endpoint.server_name, endpoint.port, local_hostname="epson-hil-preflight", timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection(self._address, timeout, self.source_address)


def try_xoauth2(endpoint: SmtpEndpoint, upn: str, token: str, *, timeout: float = 20.0) -> SmtpAttempt:
    """EHLO, STARTTLS (certificate checked), EHLO, AUTH XOAUTH2 as ``upn``; QUIT without sending anything."""
    where = f"{endpoint.server_name}:{endpoint.port}"
    try:
        with _DialingSMTP(endpoint, timeout) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise TenantUnreachable(f"{where} does not offer STARTTLS: not an Exchange Online submission server")
            smtp.starttls(context=endpoint.tls_context())
            smtp.ehlo()
            code, text = smtp.docmd("AUTH", "XOAUTH2 " + xoauth2_blob(upn, token))
            if code == 334:  # a challenge after a failed XOAUTH2: the client answers with an empty line
                code, text = smtp.docmd("")
    except (OSError, smtplib.SMTPException) as exc:  # ssl.SSLError and socket errors are OSErrors
        raise TenantUnreachable(f"{where}: {type(exc).__name__}: {exc}") from None
    return SmtpAttempt(code, f"{code} {text.decode('utf-8', 'replace')}")
