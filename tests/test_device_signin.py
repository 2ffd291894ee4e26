"""The guide's §3 sign-in as one call (``sign_in_device``) on every virtual model, for Exchange Online and
Outlook.com, and for the fax server (§5); and how it fails: Microsoft refusing, the device's code expiring.

Each device first imports the lab CA through its CA Certificate page (as a real lab would); each test puts
the device's settings back by importing an export taken before. A saved sign-in cannot be removed through
Web Config, so it stays until the module's lab stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from device_webconfig_support import (  # noqa: F401 - module-scoped lab fixtures
    admin_webconfig,
    browser,
    context,
    info,
    lab,
    restored,
)
from playwright.sync_api import Browser, BrowserContext

from harness.device.errors import InfraError
from harness.device.signin import MicrosoftSignInRefused, complete_device_login, second_context, sign_in_device
from harness.device.webconfig import WebConfig, WebConfigRefused
from harness.lab.labfile import LabInfo, LabUser
from harness.sim.models import list_models

pytestmark = pytest.mark.browser

#: The default inventory's devices, one per catalogue model.
DEVICES = ("mfp-c5790", "a3-am-c4000", "ent-c21000", "scan-ds790")


def trusted_webconfig(context: BrowserContext, info: LabInfo, name: str) -> WebConfig:
    """Logged in to ``name``'s Web Config, with the lab CA imported (the tier's servers are trusted)."""
    wc = admin_webconfig(context, info.device(name))
    wc.certificates.import_certificate(Path(info.msft.ca_bundle))
    return wc


@contextmanager
def without_consent(info: LabInfo) -> Iterator[None]:
    """The app without any consent grant (so the permissions page asks), the grants put back afterwards."""
    with info.msft.control_client() as control:
        grants = control.consent(info.msft.client_id)
        control.revoke_consent(info.msft.client_id)
        try:
            yield
        finally:
            control.revoke_consent(info.msft.client_id)
            for grant in grants:
                control.grant_consent(info.msft.client_id, grant["principal"], grant["scopes"])


def test_the_lab_has_one_device_per_model(info: LabInfo) -> None:
    assert sorted(info.device(name).model for name in DEVICES) == sorted(m.model for m in list_models())


@pytest.mark.parametrize("name", DEVICES)
def test_exchange_online_sign_in_is_saved_on_every_model(name: str, info: LabInfo, browser: Browser,
                                                         context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device(name))
    with restored(wc):
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        admin = info.msft.admin()
        result = sign_in_device(wc.email_server, lambda: second_context(browser), admin,
                                service="Microsoft Exchange Online", consent_for_organization=True,
                                sender="printer@epsonlab.onmicrosoft.com")
        assert (result.service, result.account) == ("Microsoft Exchange Online", admin.upn)
        assert result.verification_uri == "https://microsoft.com/devicelogin"
        assert result.seconds > 0 and result.steps[:3] == ("code", "username", "password")
        assert result.settings.signed_in and not result.settings.signin_not_saved
        assert result.settings.sender == "printer@epsonlab.onmicrosoft.com"
        assert result.saved is not None and result.saved.signed_in and result.saved.account == admin.upn
        assert result.saved.smtp_server == "smtp.office365.com" and result.saved.smtp_port == 587
        assert wc.connection_test.run().ok  # the saved sign-in really authenticates to the tier's SMTP


def test_outlook_com_sign_in_as_a_mailbox_user(info: LabInfo, browser: Browser, context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("mfp-c5790"))
    with restored(wc):
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        user = info.msft.mailbox_user()
        result = sign_in_device(wc.email_server, lambda: second_context(browser), user, service="Outlook.com",
                                consent_for_organization=False)
        assert (result.service, result.account) == ("Outlook.com", user.upn)
        assert result.saved is not None and result.saved.email_service == "Outlook.com"
        assert result.settings.smtp_server == "smtp-mail.outlook.com"
        assert result.saved.signed_in


def test_fax_server_sign_in(info: LabInfo, browser: Browser, context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("a3-am-c4000"))
    with restored(wc):
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        admin = info.msft.admin()
        result = sign_in_device(wc.fax_server, lambda: second_context(browser), admin)
        assert result.saved is not None and result.saved.signed_in
        assert wc.network.read().fax == result.saved
        assert wc.fax_server.test_connection().ok


def test_microsoft_refusing_the_sign_in_is_reported_as_such(info: LabInfo, browser: Browser,
                                                            context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("ent-c21000"))
    with restored(wc):
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        admin = info.msft.admin()
        impostor = LabUser(upn=admin.upn, password="not-the-password")
        with pytest.raises(MicrosoftSignInRefused) as refused:
            sign_in_device(wc.email_server, lambda: second_context(browser), impostor)
        assert isinstance(refused.value, InfraError) and refused.value.outcome.status == "error"
        assert "not-the-password" not in str(refused.value)


def test_a_declined_sign_in_and_an_expired_code_show_on_the_device(info: LabInfo, browser: Browser,
                                                                   context: BrowserContext) -> None:
    wc = trusted_webconfig(context, info, "scan-ds790")
    with restored(wc), without_consent(info):
        screen = wc.email_server.open().start_sign_in("Microsoft Exchange Online")
        code = screen.start()
        outcome = complete_device_login(lambda: second_context(browser), code, info.msft.admin(), accept=False)
        assert outcome.status == "declined" and outcome.steps[-1] == "consent"
        with pytest.raises(WebConfigRefused) as declined:
            screen.wait_until_signed_in()
        assert declined.value.messages == ("The sign-in was declined.",)

        screen = wc.email_server.open().start_sign_in("Microsoft Exchange Online")
        screen.start()
        with info.msft.control_client() as control:
            control.advance_clock(16 * 60)  # past the code's 15 minutes
        with pytest.raises(WebConfigRefused) as expired:
            screen.wait_until_signed_in()
        assert expired.value.messages == ("The verification code has expired. Sign in again.",)
        after = wc.email_server.read()  # nothing was saved: the page falls back to the saved settings
        assert (after.auth_method, after.signin_error) == ("Off", expired.value.message)
