"""Guide §7: how the device's sign-in ages — access tokens renewed silently, a sign-in in use kept alive, an idle
one "about to expire", and after 90 idle days expired until an administrator signs in again (virtual clock).

Each test moves the lab's clock forward and leaves it there; every test (this module's and later ones) sets up
its own state through ``signed_in``, which signs the device in again when its sign-in no longer works.
"""

from __future__ import annotations

import pytest
from support import EXCHANGE, is_signed_in
from troubleshooting import (
    CONNECT_FIX,
    MUST_SIGN_IN,
    error_table,
    expect_delivery,
    expect_job_error,
    panel_lines,
    shows_must_sign_in,
    sign_in_again,
    signed_in_again_on_failure,
)

from harness.device.panel import Panel
from harness.device.signin import MsftPageFactory
from harness.device.webconfig import WebConfig
from harness.lab.microsoft import MicrosoftSide
from harness.lab.session import DeviceUnderTest

pytestmark = [pytest.mark.guide("§7"), pytest.mark.requires("oauth2_email", "scan_to_email", "virtual_clock")]

HOUR, DAY = 3600, 86400
#: Entra's access tokens live 60–90 minutes: two hours on, the device's token is past its lifetime.
PAST_ACCESS_TOKEN_LIFETIME = 2 * HOUR
#: Refresh tokens expire after 90 days without use; a device used every 46 days never reaches that.
REGULAR_USE_INTERVAL = 46 * DAY
#: Long enough without use for the device to warn (it must warn before the 90-day limit).
IDLE_UNTIL_ABOUT_TO_EXPIRE = 61 * DAY
IDLE_UNTIL_EXPIRED = 91 * DAY
ABOUT_TO_EXPIRE = "about to expire"
REFRESH_FLOW = "refresh_token"


def about_to_expire_notices(panel: Panel) -> set[str]:
    return {line for line in panel_lines(panel) if ABOUT_TO_EXPIRE in line.casefold()}


def test_s7_an_access_token_past_its_lifetime_is_renewed_silently(signed_in: WebConfig, panel: Panel,
                                                                  msft: MicrosoftSide, recipient: str) -> None:
    """§7 "the access token and the refresh token become invalid" only when the printer goes unused for a long
    time: an access token past its own lifetime (about an hour) is renewed with the refresh token, with nobody
    signing in, and the send succeeds."""
    assert msft.control is not None
    moved_to = msft.control.advance_clock(PAST_ACCESS_TOKEN_LIFETIME)["now"]
    expect_delivery(panel, signed_in, msft, recipient)
    renewals = [e for e in msft.control.signins(msft.admin.upn) if e["flow"] == REFRESH_FLOW
                and e["app_id"] == msft.client_id and e["time"] >= moved_to]
    assert renewals and all(e["status"] == "success" for e in renewals), f"the device's token renewals: {renewals}"
    assert MUST_SIGN_IN not in panel_lines(panel)
    assert is_signed_in(signed_in.email_server.read(), EXCHANGE, msft.admin.upn)


def test_s7_a_sign_in_in_regular_use_does_not_expire(signed_in: WebConfig, panel: Panel, msft: MicrosoftSide,
                                                     recipient: str) -> None:
    """§7: the tokens become invalid "if a printer using OAuth 2.0 is unused for a long time, or its e-mail
    function is unused" — used every 46 days, the device keeps sending well past 90 days after its sign-in
    (each renewal brings a new refresh token, whose 90 days start afresh)."""
    assert msft.control is not None
    for _ in range(2):
        msft.control.advance_clock(REGULAR_USE_INTERVAL)
        expect_delivery(panel, signed_in, msft, recipient)


def test_s7_about_to_expire_message_after_the_idle_period(signed_in: WebConfig, panel: Panel,
                                                          msft: MicrosoftSide, recipient: str) -> None:
    """§7: "An 'about to expire' message is shown: a certain time has passed since sign-in without the e-mail
    function being used." Not while the sign-in is in use; after 61 idle days it is, and the sign-in still works
    (it is about to expire, not expired)."""
    assert msft.control is not None
    shown_before = about_to_expire_notices(panel)  # other sign-ins' notices (fax server, users) may already show
    msft.control.advance_clock(IDLE_UNTIL_ABOUT_TO_EXPIRE)
    new = about_to_expire_notices(panel) - shown_before
    assert new, f"no 'about to expire' message after 61 idle days; the panel shows: {sorted(panel_lines(panel))}"
    expect_delivery(panel, signed_in, msft, recipient)


def test_s7_after_90_idle_days_sending_fails_until_an_administrator_signs_in_again(
        signed_in: WebConfig, panel: Panel, msft: MicrosoftSide, microsoft_pages: MsftPageFactory, recipient: str,
        device: DeviceUnderTest) -> None:
    """§7: after 90 days unused "the access token and the refresh token become invalid": sending fails with 361
    "The connection to the cloud service or e-mail service has expired." in Job History, the device shows "To use
    this function, you must sign in to your email service. Please contact your administrator.", and "the
    administrator signs in again" fixes it."""
    assert msft.control is not None
    msft.control.advance_clock(IDLE_UNTIL_EXPIRED)
    with signed_in_again_on_failure(signed_in, msft, microsoft_pages):
        sent, entry = expect_job_error(panel, signed_in, recipient, 361, error_table(device))
        assert entry.fix == CONNECT_FIX
        assert shows_must_sign_in(panel, sent), f"the device does not say {MUST_SIGN_IN!r}"
        sign_in_again(signed_in, msft, microsoft_pages)
    assert MUST_SIGN_IN not in panel_lines(panel), "the new sign-in clears the message"
    expect_delivery(panel, signed_in, msft, recipient)
