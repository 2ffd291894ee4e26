"""The two e-mail server settings a device may have (Network > Email Server, Fax > Fax Server) and what
their Current Status is: saved sign-in, sign-in in progress, or signed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.sim.device import EMAIL_SLOT, FAX_SLOT, PendingSignIn, VirtualDevice
from harness.sim.settings import EmailServerSettings

SIGNED_IN = "Signed in"
SIGNED_OUT = "Signed out"


@dataclass(frozen=True)
class MailSlot:
    """Where one e-mail server's settings live on the device and under which pages Web Config shows them."""

    slot: str
    config_field: Literal["email", "fax_email"]
    basic_page: str
    signin_page: str
    test_page: str
    basic_title: str
    test_title: str
    capability: str | None = None

    def settings(self, device: VirtualDevice) -> EmailServerSettings:
        value: EmailServerSettings = getattr(device.config, self.config_field)
        return value


EMAIL = MailSlot(EMAIL_SLOT, "email", "NW_EMAIL_BASIC", "NW_EMAIL_SIGNIN", "NW_EMAIL_CONNECTTEST",
                 "Email Server > Basic", "Email Server > Connection Test")
FAX = MailSlot(FAX_SLOT, "fax_email", "FAX_SERVER_EMAIL", "FAX_EMAIL_SIGNIN", "FAX_SERVER_CONNECTTEST",
               "Fax Server > Email Server Settings", "Fax Server > Connection Test", capability="fax_server_email")
SLOTS: tuple[MailSlot, ...] = (EMAIL, FAX)


@dataclass(frozen=True)
class SignInView:
    """Current Status of one slot for one e-mail service, as the pages and the status JSON show it."""

    service: str
    state: Literal["none", "polling", "signed_in", "failed"]
    saved: bool
    account: str
    pending: PendingSignIn | None

    @property
    def current_status(self) -> str:
        return SIGNED_IN if self.state == "signed_in" or (self.saved and self.state != "polling") else SIGNED_OUT

    @property
    def error(self) -> str:
        return self.pending.error if self.pending is not None and self.state == "failed" else ""

    def public(self) -> dict[str, object]:
        """The status JSON: no codes, no tokens."""
        return {"service": self.service, "state": self.state, "current_status": self.current_status,
                "saved": self.saved, "account": self.account if self.current_status == SIGNED_IN else "",
                "error": self.error}


def signin_view(device: VirtualDevice, slot: MailSlot, service: str | None = None) -> SignInView:
    """The slot's status for ``service`` (default: the sign-in in progress, else the configured service).

    A completed sign-in that the administrator has not confirmed with OK shows Signed in although the device
    has saved nothing yet (the guide, §7).
    """
    with device.lock:
        pending = device.pending.get(slot.slot)
        stored = device.signins.get(slot.slot)
        chosen = service or (pending.service if pending is not None else slot.settings(device).email_service)
        if pending is not None and pending.service != chosen:
            pending = None
        saved = stored is not None and stored.service == chosen
        account = stored.account if saved and stored is not None else ""
        if pending is None:
            return SignInView(chosen, "none", saved, account, None)
        if pending.state == "signed_in" and pending.result is not None:
            account = pending.result.account
        return SignInView(chosen, pending.state, saved, account, pending)
