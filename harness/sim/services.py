"""What Web Config and the panel ask of a device's engine: sign-in, sending, connection test, certificates.

``harness.sim.engine.DeviceEngine`` implements this over the real network (the tier's identity provider and
SMTP server, through the device's resolver); the front ends depend only on this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from harness.sim.device import PendingSignIn, Slot, StoredSignIn
from harness.sim.jobhistory import Job
from harness.sim.settings import EmailService


@dataclass(frozen=True)
class ConnectionTestResult:
    """Email Server > Connection Test's verdict and the page's message."""

    ok: bool
    message: str
    error_code: int | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


class DeviceServices(Protocol):
    """The device's network-facing behaviour, as its front ends (Web Config, panel) invoke it."""

    def start_signin(self, slot: Slot, service: EmailService) -> PendingSignIn:
        """Ask the identity provider for a device code and poll for the sign-in in the background."""
        ...

    def confirm_signin(self, slot: Slot) -> StoredSignIn | None:
        """The administrator clicked OK: save the completed sign-in of ``slot`` (None if none completed)."""
        ...

    def sign_out(self, slot: Slot) -> None:
        """The administrator clicked Sign Out: forget ``slot``'s saved sign-in and stop any in progress."""
        ...

    def connection_test(self, slot: Slot) -> ConnectionTestResult:
        """Really connect to the configured SMTP server (STARTTLS, XOAUTH2) and say why it failed."""
        ...

    def certificate_warning(self, slot: Slot) -> bool:
        """True when Certificate Validation is on and no imported CA validates the configured server."""
        ...

    def send(self, kind: str, to: str, subject: str, body: str, attachments: list[Attachment],
             slot: Slot = "email") -> Job:
        """Send one e-mail job (scan to e-mail, fax via server, notification) and record it in the history."""
        ...
