"""The page objects' Sign Out (Email Server > Basic and the fax server's page) against the virtual lab, in a real
Chromium: after a real sign-in (guide §3) the page shows Sign Out, signing out waits for the device's
``Setup complete.`` and Current Status ``Signed out``, and Network Status agrees; a stale token and the device's
own refusal are typed; a page without a saved sign-in shows no Sign Out.

Each test puts the device's settings back (Export before, Import after) and leaves it signed out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from device_webconfig_support import (  # noqa: F401 - module-scoped lab fixtures
    TIMEOUT_MS,
    admin_webconfig,
    browser,
    context,
    info,
    lab,
    restored,
)
from playwright.sync_api import Browser, BrowserContext

from harness.device.signin import second_context, sign_in_device
from harness.device.webconfig import StaleSetupToken, WebConfig, WebConfigRefused
from harness.lab.labfile import LabInfo

pytestmark = pytest.mark.browser

SETUP_COMPLETE = ("Setup complete.",)


def test_sign_out_after_a_sign_in_and_its_refusals(info: LabInfo, browser: Browser, context: BrowserContext) -> None:
    device = info.device("mfp-c5790")
    wc = admin_webconfig(context, device)
    with restored(wc):
        assert not wc.email_server.read().sign_out_shown
        with pytest.raises(LookupError, match="no Sign Out button"):
            wc.email_server.sign_out()
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        admin = info.msft.admin()
        sign_in_device(wc.email_server, lambda: second_context(browser), admin)
        view = wc.email_server.read()
        assert view.signed_in and view.sign_out_shown and view.signed_in_account == admin.upn

        # A token used up by another page of the same session: its own error, and nothing changed.
        basic = wc.email_server.open()
        other = WebConfig(context.new_page(), device.webconfig, timeout_ms=TIMEOUT_MS)
        assert other.email_server.save(sender=view.sender) == SETUP_COMPLETE
        with pytest.raises(StaleSetupToken):
            basic.sign_out(reload=False)
        assert wc.email_server.read().signed_in

        # Another administrator signs out first: this page's Sign Out is refused by the device, quoted.
        basic = wc.email_server.open()
        with browser.new_context() as second:
            assert admin_webconfig(second, device).email_server.sign_out() == SETUP_COMPLETE
        with pytest.raises(WebConfigRefused) as refused:
            basic.sign_out(reload=False)
        assert refused.value.messages == ("No sign-in is saved on the printer.",)
        assert not isinstance(refused.value, StaleSetupToken)

        after = wc.email_server.read()
        assert (after.auth_method, after.email_service, after.current_status) == (
            "OAuth2", "Microsoft Exchange Online", "Signed out")
        assert after.signed_in_account is None and not after.sign_out_shown
        saved = wc.network.read().email
        assert saved is not None and saved.current_status == "Signed out" and not saved.signed_in
        result = wc.email_server.test_connection()  # nothing stored: the administrator must sign in again
        assert not result.ok and result.error_code == 370


def test_the_page_object_signs_out_and_waits_for_signed_out(info: LabInfo, browser: Browser,
                                                            context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("a3-am-c4000"))
    with restored(wc):
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        sign_in_device(wc.fax_server, lambda: second_context(browser), info.msft.admin())
        assert wc.fax_server.read().sign_out_shown
        assert not wc.email_server.read().sign_out_shown  # the device's own settings are another slot
        fax = wc.fax_server.open()
        assert fax.sign_out(reload=False) == SETUP_COMPLETE
        shown = fax.read(reload=False)  # the device's answer page, as sign_out left it
        assert (shown.messages, shown.current_status, shown.sign_out_shown) == (SETUP_COMPLETE, "Signed out", False)
        saved = wc.network.read().fax
        assert saved is not None and saved.auth_method == "OAuth2" and saved.current_status == "Signed out"
        with pytest.raises(LookupError):
            wc.fax_server.sign_out()
