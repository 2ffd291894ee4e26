"""Guide §5: the fax server's e-mail settings with OAuth 2.0 (models that send faxes as e-mail)."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parseaddr

import pytest
from support import EXCHANGE

from harness.device.panel import Panel
from harness.device.signin import MsftPageFactory, SignInResult, sign_in_device
from harness.device.webconfig import EmailServerSettingsView, FaxServerPage, WebConfig
from harness.lab.microsoft import MicrosoftSide, wait_for_message

pytestmark = [pytest.mark.guide("§5"), pytest.mark.requires("oauth2_email", "fax_server_email")]


def restore_fax_server(page: FaxServerPage, before: EmailServerSettingsView) -> None:
    """Put Fax > Fax Server > Email Server Settings back as ``before``: its sign-in, then its fields; check it."""
    if page.read().sign_out_shown and not before.sign_out_shown:
        page.sign_out()
    fields: dict[str, object] = {"auth_method": before.auth_method, "sender": before.sender,
                                 "secure": before.secure, "cert_validation": before.cert_validation,
                                 "account": before.account}
    if before.auth_method == "OAuth2":
        fields["email_service"] = before.email_service
    else:
        fields |= {"smtp_server": before.smtp_server, "smtp_port": before.smtp_port}
    after = page.read()
    changed = {k: v for k, v in fields.items() if v is not None and getattr(after, k) != v}
    if changed:
        page.save(**changed)
    restored = page.read()
    wrong = {k: getattr(restored, k) for k, v in fields.items() if v is not None and getattr(restored, k) != v}
    if restored.sign_out_shown != before.sign_out_shown:
        wrong["signed in"] = restored.current_status
    assert not wrong, f"could not restore {page.title}: {wrong} (wanted {fields})"


@pytest.fixture
def fax_signed_in(trusted: WebConfig, msft: MicrosoftSide,
                  microsoft_pages: MsftPageFactory) -> Iterator[SignInResult]:
    """§5's procedure on a device that trusts Microsoft: OAuth2 on the fax server's page, signed in as the
    administrator; afterwards the page is put back as it was (signed out again if it was)."""
    page = trusted.fax_server
    before = page.read()
    try:
        yield sign_in_device(page, microsoft_pages, msft.admin, service=EXCHANGE,  # type: ignore[arg-type]
                             consent_for_organization=True, sender=msft.admin.upn)
    finally:
        restore_fax_server(page, before)  # its first read also leaves any Sign In screen's polling behind


def test_s5_fax_server_email_settings_sign_in_with_oauth2(fax_signed_in: SignInResult, trusted: WebConfig,
                                                          msft: MicrosoftSide) -> None:
    """§5: "Web Config tab Fax > Fax Server > Email Server Settings, set Authentication Method to OAuth2." The
    fax server's e-mail settings sign in like the device's own (§3) and are saved on the printer."""
    view = fax_signed_in.settings
    assert (view.auth_method, view.email_service, view.current_status) == ("OAuth2", EXCHANGE, "Signed in")
    assert (view.signed_in_account or "").casefold() == msft.admin.upn.casefold()
    saved = fax_signed_in.saved  # Status > Network Status, Fax Server pane
    assert saved is not None and (saved.auth_method, saved.current_status) == ("OAuth2", "Signed in"), saved
    assert fax_signed_in.verification_uri == "https://microsoft.com/devicelogin"
    test = trusted.fax_server.test_connection()
    assert test.ok, test.message


@pytest.mark.requires("panel")
def test_s5_a_fax_through_the_fax_server_arrives_by_email(fax_signed_in: SignInResult, panel: Panel,
                                                          msft: MicrosoftSide, recipient: str) -> None:
    """§5: "On models that send faxes as e-mail through an Internet fax provider's server: if that provider uses
    OAuth 2.0, set it on the device" — a fax sent from the panel then arrives as e-mail from the fax server's
    sender, with the fax attached."""
    sender = fax_signed_in.settings.sender
    outcome = panel.fax(recipient)
    assert outcome.sent, outcome.lines
    message = wait_for_message(msft, recipient, lambda m: parseaddr(m["from"])[1].casefold() == sender.casefold())
    assert message["attachments"], "the fax arrived without its pages attached"
    assert all(a["content_type"] == "application/pdf" and a["size"] > 0 for a in message["attachments"]), \
        message["attachments"]
