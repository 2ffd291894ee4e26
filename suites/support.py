"""Steps the suites share: trusting the Microsoft service, signing in the way the guide says.

Suites see devices only through ``harness.device``, the inventory (``harness.lab``) and the Microsoft side
(``harness.lab.microsoft`` / ``harness.msft``), so they run unchanged against real printers.
"""

from __future__ import annotations

import hashlib
import ssl

from harness.device.signin import MsftPageFactory, SignInResult, sign_in_device
from harness.device.webconfig import EmailServerSettingsView, WebConfig
from harness.lab.microsoft import MicrosoftSide
from harness.lab.session import DeviceUnderTest

EXCHANGE = "Microsoft Exchange Online"
OUTLOOK = "Outlook.com"


def ca_fingerprint(pem: bytes) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.decode())).hexdigest().upper()


def trust_microsoft(wc: WebConfig, msft: MicrosoftSide) -> None:
    """Import the CA that validates the Microsoft service, unless the device has it (guide §7, CA Certificate)."""
    pem = msft.ca_certificate()
    if pem is None:
        return  # a real tenant: the device's built-in root certificates validate Microsoft's servers
    wanted = ca_fingerprint(pem)
    if all(c.fingerprint.replace(":", "").upper() != wanted for c in wc.certificates.certificates()):
        wc.certificates.import_certificate(pem, reload=False)  # on the list just read


def is_signed_in(view: EmailServerSettingsView, service: str, upn: str) -> bool:
    return (view.auth_method == "OAuth2" and view.email_service == service and view.signed_in
            and not view.signin_not_saved and (view.signed_in_account or "").casefold() == upn.casefold())


def ensure_signed_in(wc: WebConfig, msft: MicrosoftSide, pages: MsftPageFactory, *,
                     service: str = EXCHANGE) -> SignInResult | None:
    """The device signed in as the guide's administrator with organisation consent; None if it already was.

    A saved sign-in that passes Connection Test is kept as it is (the test reaches the service, so the device
    validates it); otherwise the device is made to trust the Microsoft service and signed in afresh.
    """
    view = wc.email_server.read()
    if is_signed_in(view, service, msft.admin.upn) and wc.email_server.test_connection().ok:
        return None
    trust_microsoft(wc, msft)
    return sign_in_device(wc.email_server, pages, msft.admin, service=service,  # type: ignore[arg-type]
                          consent_for_organization=True, sender=msft.admin.upn)


def device_label(device: DeviceUnderTest) -> str:
    return f"{device.name} ({device.model}, firmware {device.firmware})"
