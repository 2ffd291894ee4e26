"""Guide §7: the job error codes 360, 361 and 370, each shown in Job History with the guide's status text, and
each cleared by the guide's fix."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from support import EXCHANGE, ca_fingerprint, is_signed_in, trust_microsoft
from troubleshooting import (
    CONNECT_FIX,
    MUST_SIGN_IN,
    SIGN_IN_FIX,
    error_table,
    expect_delivery,
    expect_job_error,
    shows_must_sign_in,
    sign_in_again,
    signed_in_again_on_failure,
)

from harness.device.panel import Panel
from harness.device.signin import MsftPageFactory
from harness.device.webconfig import EmailServerSettingsView, WebConfig
from harness.lab.microsoft import MicrosoftSide
from harness.lab.session import DeviceUnderTest

pytestmark = [pytest.mark.guide("§7"), pytest.mark.requires("oauth2_email", "scan_to_email")]

DAY = 86400
#: RFC 2606 reserves ``.invalid``: this name resolves on no network.
UNRESOLVABLE_SERVER = "smtp.epson-hil.invalid"
#: Past Entra's 90-day idle limit on refresh tokens.
PAST_IDLE_LIMIT = 91 * DAY
#: Entra's access tokens live 60–90 minutes (and cannot be revoked): two hours later the device must renew.
PAST_ACCESS_TOKEN_LIFETIME = 2 * 3600


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback TCP port that refuses connections: bound here, never listened on, for the block's duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def send_through_smtp_auth(wc: WebConfig, server: str, port: int, account: str) -> None:
    """Point the device at ``server:port`` with SMTP AUTH.

    With OAuth2 the device fixes the SMTP server (smtp.office365.com:587) and a real device offers no way to make
    it unreachable short of breaking its network; SMTP AUTH is how Web Config lets an administrator type a server,
    and the device connects (and fails to) before it authenticates, whatever the method.
    """
    wc.email_server.save(auth_method="SMTP AUTH", account=account, smtp_server=server, smtp_port=port,
                         secure="STARTTLS")


def put_back_oauth2(wc: WebConfig, before: EmailServerSettingsView, msft: MicrosoftSide) -> None:
    """The guide's fix for 360 here (and the restore): the OAuth2 settings again, with the sign-in the device kept."""
    wc.email_server.save(auth_method="OAuth2", email_service=before.email_service,
                         account=before.account)
    view = wc.email_server.read()
    assert is_signed_in(view, EXCHANGE, msft.admin.upn), \
        f"back on OAuth2 the device no longer has its sign-in: Current Status {view.current_status!r}"
    assert view.account == before.account


def test_s7_360_no_connection_when_the_server_name_does_not_resolve(
        signed_in: WebConfig, restore_email_settings: EmailServerSettingsView, panel: Panel, msft: MicrosoftSide,
        recipient: str, device: DeviceUnderTest) -> None:
    """§7 table: 360 "No connection to the cloud service or e-mail service." — fix: "Connect to the cloud service
    or e-mail service." Here the SMTP server's name does not resolve; the settings that reach Exchange Online
    again are the fix, and the next send succeeds."""
    before = restore_email_settings
    send_through_smtp_auth(signed_in, UNRESOLVABLE_SERVER, 587, msft.mailbox.upn)
    try:
        _, entry = expect_job_error(panel, signed_in, recipient, 360, error_table(device))
    finally:
        put_back_oauth2(signed_in, before, msft)
    assert entry.fix == CONNECT_FIX
    expect_delivery(panel, signed_in, msft, recipient)


def test_s7_360_no_connection_when_nothing_listens_on_the_port(
        signed_in: WebConfig, restore_email_settings: EmailServerSettingsView, panel: Panel, msft: MicrosoftSide,
        recipient: str, device: DeviceUnderTest) -> None:
    """§7 table: 360 "No connection to the cloud service or e-mail service." when the TCP connection is refused
    (the server's address is reachable, nothing listens on the port); the fix: settings that connect again."""
    before = restore_email_settings
    with closed_port() as port:
        send_through_smtp_auth(signed_in, "127.0.0.1", port, msft.mailbox.upn)
        try:
            _, entry = expect_job_error(panel, signed_in, recipient, 360, error_table(device))
        finally:
            put_back_oauth2(signed_in, before, msft)
    assert entry.fix == CONNECT_FIX
    expect_delivery(panel, signed_in, msft, recipient)


def test_s7_360_no_connection_when_the_server_certificate_cannot_be_validated(
        signed_in: WebConfig, restore_email_settings: EmailServerSettingsView, panel: Panel, msft: MicrosoftSide,
        recipient: str, device: DeviceUnderTest) -> None:
    """§7 table: 360 "No connection to the cloud service or e-mail service." when the TLS handshake fails: with
    Certificate Validation enabled and the CA that validates the service removed (§7: "The certificate is required
    to use a secure function of the email server … CA Certificate"). Importing the CA again is the fix."""
    pem = msft.ca_certificate()
    if pem is None:
        pytest.skip("the Microsoft service's certificate chains to the device's built-in roots: no lab CA to remove")
    if not restore_email_settings.cert_validation:
        signed_in.email_server.save(cert_validation=True)
    fingerprint = ca_fingerprint(pem)
    signed_in.certificates.delete(fingerprint)
    try:
        _, entry = expect_job_error(panel, signed_in, recipient, 360, error_table(device))
        assert entry.fix == CONNECT_FIX
        trust_microsoft(signed_in, msft)
        expect_delivery(panel, signed_in, msft, recipient)
    finally:
        trust_microsoft(signed_in, msft)
    assert fingerprint in {c.fingerprint for c in signed_in.certificates.certificates()}, "the CA is back"


@pytest.mark.requires("virtual_clock")
def test_s7_361_the_connection_has_expired_after_90_idle_days(
        signed_in: WebConfig, panel: Panel, msft: MicrosoftSide, microsoft_pages: MsftPageFactory, recipient: str,
        device: DeviceUnderTest) -> None:
    """§7 table: 361 "The connection to the cloud service or e-mail service has expired." — fix: "Connect to the
    cloud service or e-mail service." After 90 days without use the refresh token is invalid (§7 "about to
    expire"); connecting the device to the e-mail service again is a new administrator sign-in."""
    assert msft.control is not None
    msft.control.advance_clock(PAST_IDLE_LIMIT)
    with signed_in_again_on_failure(signed_in, msft, microsoft_pages):
        sent, entry = expect_job_error(panel, signed_in, recipient, 361, error_table(device))
        assert entry.fix == CONNECT_FIX
        assert shows_must_sign_in(panel, sent), f"the device does not say {MUST_SIGN_IN!r}"
        sign_in_again(signed_in, msft, microsoft_pages)
    expect_delivery(panel, signed_in, msft, recipient)


@pytest.mark.requires("virtual_clock", "tenant_control")
def test_s7_370_sign_in_again_after_the_grant_was_revoked(
        signed_in: WebConfig, panel: Panel, msft: MicrosoftSide, microsoft_pages: MsftPageFactory, recipient: str,
        device: DeviceUnderTest) -> None:
    """§7 table: 370 "You need to sign in to the cloud service again." — fix: "Sign in to the cloud service." —
    after an administrator revoked the account's sessions (Entra's revokeSignInSessions)."""
    assert msft.control is not None
    msft.control.revoke_sessions(msft.admin.upn)
    # The device notices when its access token needs renewing. Every other device signed in as this account in
    # the lab lost its grant too; with their tokens stale now, their next check signs them in again.
    msft.control.advance_clock(PAST_ACCESS_TOKEN_LIFETIME)
    with signed_in_again_on_failure(signed_in, msft, microsoft_pages):
        sent, entry = expect_job_error(panel, signed_in, recipient, 370, error_table(device))
        assert entry.fix == SIGN_IN_FIX
        assert shows_must_sign_in(panel, sent), f"the device does not say {MUST_SIGN_IN!r}"
        sign_in_again(signed_in, msft, microsoft_pages)
    expect_delivery(panel, signed_in, msft, recipient)


def test_s7_370_sign_in_again_when_no_sign_in_is_stored(
        signed_in: WebConfig, panel: Panel, msft: MicrosoftSide, microsoft_pages: MsftPageFactory, recipient: str,
        device: DeviceUnderTest) -> None:
    """§7 table: 370 "You need to sign in to the cloud service again." — fix: "Sign in to the cloud service." —
    when the device has no sign-in stored (signed out on Email Server > Basic)."""
    signed_in.email_server.sign_out()
    with signed_in_again_on_failure(signed_in, msft, microsoft_pages):
        assert signed_in.email_server.read().current_status == "Signed out"
        sent, entry = expect_job_error(panel, signed_in, recipient, 370, error_table(device))
        assert entry.fix == SIGN_IN_FIX
        assert shows_must_sign_in(panel, sent), f"the device does not say {MUST_SIGN_IN!r}"
        sign_in_again(signed_in, msft, microsoft_pages)
    expect_delivery(panel, signed_in, msft, recipient)
