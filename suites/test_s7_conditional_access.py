"""Guide §7 (Cannot sign in): "Entra ID may be blocked by a conditional access policy. Check the conditional access
policies in Entra ID."

A policy blocking the device code flow for the administrator is added through the tier's control API and
removed afterwards (checked gone); Email Server > Basic is put back as found.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import EXCHANGE

from harness.device.signin import MsftPageFactory, complete_device_login, sign_in_device
from harness.device.webconfig import EmailServerSettingsView, WebConfig, WebConfigRefused
from harness.lab.microsoft import MicrosoftSide
from harness.lab.session import DeviceUnderTest
from harness.msft.control_client import ControlApiError, TierControl
from harness.msft.errors import CONDITIONAL_ACCESS, PAGE_MESSAGES

pytestmark = [pytest.mark.guide("§7"), pytest.mark.requires("oauth2_email", "tenant_control")]


def policy_names(control: TierControl) -> set[str]:
    return {p["name"] for p in control.conditional_access()}


@pytest.fixture
def device_code_blocked(msft: MicrosoftSide, device: DeviceUnderTest) -> Iterator[str]:
    """A conditional access policy blocking the administrator's device code sign-ins; removed after the test."""
    control = msft.control
    assert control is not None
    name = f"epson-hil: block device code flow ({device.name})"
    control.add_conditional_access(name, users=[msft.admin.upn], applies_to="device_code")
    try:
        yield name
    finally:
        try:
            control.remove_conditional_access(name)
        except ControlApiError as exc:
            if exc.status != 404:  # the test removed it itself
                raise
        assert name not in policy_names(control), f"could not remove the conditional access policy {name!r}"


def test_s7_a_conditional_access_policy_blocks_the_sign_in(trusted: WebConfig, msft: MicrosoftSide,
                                                           microsoft_pages: MsftPageFactory, device_code_blocked: str,
                                                           restore_email_settings: EmailServerSettingsView) -> None:
    """§7: "Cannot sign in … Entra ID may be blocked by a conditional access policy" — Microsoft's page says the
    sign-in does not meet the criteria, the device's Sign In screen reports that it could not sign in, and
    nothing the device has saved changes (§3 step 12: only OK saves a sign-in, and none completed)."""
    saved = trusted.network.read().email
    screen = trusted.email_server.open().start_sign_in(EXCHANGE)  # type: ignore[arg-type]
    outcome = complete_device_login(microsoft_pages, screen.start(), msft.admin)
    assert outcome.status == "error", outcome
    assert PAGE_MESSAGES[CONDITIONAL_ACCESS.code] in outcome.message, outcome.message

    with pytest.raises(WebConfigRefused) as refused:
        screen.wait_until_signed_in()
    assert " ".join(refused.value.messages).strip(), "the Sign In screen shows an empty error"
    shown = screen.read()
    assert shown.error, shown
    if saved is None or not saved.signed_in:
        assert shown.current_status == "Signed out", shown
    basic = screen.back().read()
    assert not basic.signin_not_saved, "the page offers to save a sign-in that was blocked"
    assert trusted.network.read().email == saved, "the blocked sign-in changed what the device has saved"

    assert msft.control is not None
    last = msft.control.signins(msft.admin.upn)[-1]
    assert (last["status"], last["error_code"], last["policy"]) == ("failure", CONDITIONAL_ACCESS.code,
                                                                   device_code_blocked), last


def test_s7_removing_the_policy_lets_the_sign_in_succeed(trusted: WebConfig, msft: MicrosoftSide,
                                                         microsoft_pages: MsftPageFactory, device_code_blocked: str,
                                                         restore_email_settings: EmailServerSettingsView) -> None:
    """§7: "Check the conditional access policies in Entra ID" — with the blocking policy removed, the
    administrator's sign-in succeeds and the device connects."""
    assert msft.control is not None
    msft.control.remove_conditional_access(device_code_blocked)
    assert device_code_blocked not in policy_names(msft.control)
    result = sign_in_device(trusted.email_server, microsoft_pages, msft.admin, service=EXCHANGE,  # type: ignore[arg-type]
                            consent_for_organization=True, sender=msft.admin.upn)
    assert result.settings.signed_in and result.saved is not None and result.saved.signed_in, result
    assert trusted.email_server.test_connection().ok
