"""Helpers shared by the SMTP tests: tokens from the tier's token service, STARTTLS sessions, tenant switches."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from harness.msft.smtp import xoauth2_blob
from harness.msft.tier import SCOPES, MicrosoftTier

PRINTER = "printer@epsonlab.onmicrosoft.com"
ALICE = "alice@epsonlab.onmicrosoft.com"
SESSION_ID = re.compile(r"\[([0-9A-F]{16})\]$")


def issue_tokens(tier: MicrosoftTier, upn: str = PRINTER) -> dict[str, Any]:
    """A token response for ``upn`` through the printers' app, as the identity provider would hand it out."""
    tenant = tier.state.tenant
    user = tenant.user(upn)
    assert user is not None, upn
    return tier.state.tokens.issue(user, tenant.apps[0], list(SCOPES), issuer=f"{tier.authority}/v2.0")


def access_token(tier: MicrosoftTier, upn: str = PRINTER) -> str:
    return str(issue_tokens(tier, upn)["access_token"])


def client_context(tier: MicrosoftTier) -> ssl.SSLContext:
    """TLS client context trusting only the lab CA (as a device with the CA imported would)."""
    return ssl.create_default_context(cafile=str(tier.ca_bundle))


class GreetedSMTP(smtplib.SMTP):
    """smtplib's client, keeping the server's greeting (which carries Exchange's session id)."""

    greeting = b""

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        code, self.greeting = super().connect(host, port, source_address)
        return code, self.greeting


def connect(tier: MicrosoftTier) -> GreetedSMTP:
    """A client connected to the tier's SMTP port (certificate checked against its address, 127.0.0.1)."""
    return GreetedSMTP(tier.host, tier.smtp_port, local_hostname="printer.lab", timeout=10)


def open_session(tier: MicrosoftTier, *, starttls: bool = True) -> tuple[smtplib.SMTP, str]:
    """A connected client (after EHLO, STARTTLS and EHLO again unless ``starttls`` is False) and its session id."""
    client = connect(tier)
    found = SESSION_ID.search(client.greeting.decode())
    assert found, client.greeting
    client.ehlo("printer.lab")
    if starttls:
        client.starttls(context=client_context(tier))
        client.ehlo("printer.lab")
    return client, found.group(1)


def auth_xoauth2(client: smtplib.SMTP, upn: str, token: str) -> tuple[int, str]:
    """``AUTH XOAUTH2`` with the initial response inline; the reply as (code, text)."""
    code, text = client.docmd("AUTH", "XOAUTH2 " + xoauth2_blob(upn, token))
    return code, text.decode()


def reply(code: int, text: bytes | str) -> str:
    """A reply as it was on the wire (smtplib splits the code off)."""
    return f"{code} {text.decode() if isinstance(text, bytes) else text}"


def scan_message(sender: str, to: list[str], subject: str = "Scan from WF-C5790") -> EmailMessage:
    """A message like a scan-to-mail job's: short text and a PDF attachment."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = "Mon, 30 Nov 2026 10:15:00 +0000"
    message["Message-ID"] = "<scan-0001@wf-c5790.lab>"
    message.set_content("Scanned document attached.\n")
    message.add_attachment(b"%PDF-1.4\n" + bytes(range(256)) * 8, maintype="application", subtype="pdf",
                           filename="scan0001.pdf")
    return message


@contextmanager
def tenant_settings(tier: MicrosoftTier, **changes: Any) -> Iterator[None]:
    """Change tenant switches for the block, restoring them afterwards (the tier is shared by the session)."""
    tenant = tier.state.tenant
    saved = {name: getattr(tenant, name) for name in changes}
    try:
        for name, value in changes.items():
            setattr(tenant, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(tenant, name, value)


@contextmanager
def user_settings(tier: MicrosoftTier, upn: str, **changes: Any) -> Iterator[None]:
    """Change one user's settings (e.g. the mailbox's SMTP AUTH switch) for the block."""
    user = tier.state.tenant.user(upn)
    assert user is not None
    saved = {name: getattr(user, name) for name in changes}
    try:
        for name, value in changes.items():
            setattr(user, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(user, name, value)
