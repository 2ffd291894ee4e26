"""Guide §3: set up OAuth 2.0 for the e-mail server in Web Config, for Exchange Online and Outlook.com."""

from __future__ import annotations

import pytest
from support import EXCHANGE, OUTLOOK, ensure_signed_in, is_signed_in, trust_microsoft

from harness.device.signin import MicrosoftSignInRefused, MsftPageFactory, sign_in_device
from harness.device.webconfig import WebConfig, WebConfigRefused
from harness.lab.microsoft import MicrosoftSide

pytestmark = [pytest.mark.guide("§3"), pytest.mark.requires("oauth2_email")]

SERVERS = {EXCHANGE: "smtp.office365.com", OUTLOOK: "smtp-mail.outlook.com"}


# Exchange Online last: the device is left signed in as the tests after this one start (no extra sign-in).
@pytest.mark.parametrize("service", [OUTLOOK, EXCHANGE])
def test_s3_web_config_procedure_signs_the_device_in(webconfig: WebConfig, msft: MicrosoftSide,
                                                     microsoft_pages: MsftPageFactory, service: str) -> None:
    """§3 steps 3–12: "Choose OAuth2 as Authentication Method. Choose Microsoft Exchange Online as Email service
    (for personal use choose Outlook.com). Click Sign In, then Sign in with Microsoft … tick Consent on behalf
    of your organization, click Accept … Click OK to send the OAuth 2.0 settings to the printer." """
    trust_microsoft(webconfig, msft)
    result = sign_in_device(webconfig.email_server, microsoft_pages, msft.admin, service=service,  # type: ignore[arg-type]
                            consent_for_organization=True, sender=msft.admin.upn)
    view = result.settings
    assert (view.auth_method, view.email_service, view.current_status) == ("OAuth2", service, "Signed in")
    assert (view.smtp_server, view.smtp_port, view.secure) == (SERVERS[service], 587, "STARTTLS")
    assert (view.signed_in_account or "").casefold() == msft.admin.upn.casefold()
    assert result.verification_uri == "https://microsoft.com/devicelogin"
    assert result.saved is not None and result.saved.signed_in and result.saved.email_service == service
    assert webconfig.email_server.test_connection().ok


def test_s3_sign_in_is_not_saved_until_ok(signed_in: WebConfig, msft: MicrosoftSide,
                                          microsoft_pages: MsftPageFactory) -> None:
    """§3 step 12 and §7: "If Current Status is Signed in, the sign-in may still not be saved on the printer:
    click OK to send the settings to the printer." """
    from harness.device.signin import complete_device_login

    basic = signed_in.email_server.open()
    screen = basic.start_sign_in(OUTLOOK)
    outcome = complete_device_login(microsoft_pages, screen.start(), msft.admin)
    assert outcome.signed_in, outcome.message
    screen.wait_until_signed_in()
    pending = screen.back().read()
    assert pending.email_service == OUTLOOK and pending.current_status == "Signed in"
    assert pending.signin_not_saved, "the page must say OK is still needed"
    saved = signed_in.network.read().email
    assert saved is not None and saved.email_service == EXCHANGE and saved.signed_in, \
        f"before OK the device keeps its earlier sign-in, nothing new is saved (it shows {saved})"
    signed_in.email_server.open().ok()
    saved = signed_in.network.read().email
    assert saved is not None and saved.email_service == OUTLOOK and saved.signed_in


def test_s3_signing_in_to_another_service_signs_out_the_first(webconfig: WebConfig, msft: MicrosoftSide,
                                                              microsoft_pages: MsftPageFactory) -> None:
    """§3 step 6: the page says "Any other email services signed in will be signed out automatically"."""
    # Either service can be the first: a device already signed in to one (the test before this leaves Outlook.com)
    # is signed in to the other, which spares two sign-ins; otherwise it signs in to Exchange Online first.
    view = webconfig.email_server.read()
    first = next((s for s in (OUTLOOK, EXCHANGE) if is_signed_in(view, s, msft.admin.upn)), EXCHANGE)
    ensure_signed_in(webconfig, msft, microsoft_pages, service=first)
    second = OUTLOOK if first == EXCHANGE else EXCHANGE
    screen = webconfig.email_server.open().start_sign_in(second)
    assert "Any other email services signed in will be signed out automatically" in screen.read().notice
    webconfig.page.go_back()
    sign_in_device(webconfig.email_server, microsoft_pages, msft.admin, service=second,  # type: ignore[arg-type]
                   sender=msft.admin.upn)
    other = webconfig.email_server.open().start_sign_in(first).read()
    assert other.current_status == "Signed out", f"{first} was signed out when {second} signed in"
    saved = webconfig.network.read().email
    assert saved is not None and saved.email_service == second and saved.signed_in


@pytest.mark.requires("extended_network")
def test_s3_extended_network_refuses_oauth2(webconfig: WebConfig, restore_email_settings: object) -> None:
    """§3 caution: "on models with an additional (extended) network, set the device to the standard network:
    the extended network does not support OAuth 2.0." """
    webconfig.email_server.save(auth_method="Off")
    webconfig.interface.choose("Extended Network")
    try:
        with pytest.raises(WebConfigRefused) as refused:
            webconfig.email_server.save(auth_method="OAuth2")
        assert any("extended network" in m for m in refused.value.messages)
        assert webconfig.email_server.read().auth_method == "Off", "the refused setting changed nothing"
    finally:
        webconfig.interface.choose("Standard Network")


@pytest.mark.requires("tenant_control")
def test_s3_only_an_administrator_can_consent_for_the_organization(trusted: WebConfig, msft: MicrosoftSide,
                                                                   microsoft_pages: MsftPageFactory) -> None:
    """§3 step 9: "Use an account with global administrator rights" — an ordinary user cannot give the
    organisation's consent, so the sign-in fails until an administrator has consented."""
    assert msft.control is not None and msft.users
    grants = msft.control.consent(msft.client_id)
    msft.control.revoke_consent(msft.client_id)
    try:
        with pytest.raises(MicrosoftSignInRefused) as refused:
            sign_in_device(trusted.email_server, microsoft_pages, msft.users[0], consent_for_organization=True)
        assert "admin approval" in refused.value.outcome.message
    finally:
        for grant in grants:
            msft.control.grant_consent(msft.client_id, grant["principal"], grant["scopes"])
        # The refused sign-in stays in progress on the device (its code lives 15 minutes, and Email Server shows
        # its service meanwhile): the administrator signs in, as the guide's fix, so the next test starts clean.
        sign_in_device(trusted.email_server, microsoft_pages, msft.admin, sender=msft.admin.upn)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sender", "printer(lab)@example.com", "Sender's Email Address"),
    ("sender", ".printer@example.com", "Sender's Email Address"),
    ("smtp_port", "70000", "SMTP Server Port Number"),
    ("smtp_server", "smtp_office365!com", "SMTP Server Address"),
])
def test_s3_invalid_values_are_refused_and_nothing_changes(webconfig: WebConfig, field: str, value: str,
                                                           message: str) -> None:
    """§3 (Web Config): a value outside the field's limits is refused with the page's message and saves nothing."""
    before = webconfig.email_server.read()
    changes: dict[str, object] = {field: value}
    if field in ("smtp_port", "smtp_server"):
        changes["auth_method"] = "SMTP AUTH"  # OAuth2 fixes server and port; SMTP AUTH lets them be typed
        changes["account"] = "printer@example.com"
    with pytest.raises(WebConfigRefused) as refused:
        webconfig.email_server.save(reload=False, **changes)  # the page `before` was just read from
    assert any(message in m for m in refused.value.messages), refused.value.messages
    after = webconfig.email_server.read()
    assert (after.auth_method, after.sender, after.smtp_server, after.smtp_port) == \
        (before.auth_method, before.sender, before.smtp_server, before.smtp_port)
