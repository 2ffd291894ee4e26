"""Guide §7 (Cannot send e-mail): the CA certificate that validates the e-mail server, and Certificate Validation.

Each test deletes the lab CA on Network Security > CA Certificate and imports it again afterwards (checked
listed), and Email Server > Basic is put back as found. Against a real tenant the device's built-in root
certificates validate Microsoft's servers and cannot be removed by a test, so these tests skip there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scan_jobs import scan_to_email
from support import ca_fingerprint

from harness.device.jobs import explain, firmware_family
from harness.device.panel import Panel
from harness.device.webconfig import EmailServerSettingsView, WebConfig
from harness.lab.microsoft import MicrosoftSide
from harness.lab.session import DeviceUnderTest

pytestmark = [pytest.mark.guide("§7"), pytest.mark.requires("oauth2_email")]

#: The guide's §7 text of the warning on Email Server > Basic, and the pages it points to.
WARNING = ("The certificate is required to use a secure function of the email server. "
           "Make settings on the following page.")
WARNING_LINKS = ("CA Certificate", "Root Certificate Update")
CANNOT_REACH = 360


def listed(wc: WebConfig) -> set[str]:
    return {c.fingerprint for c in wc.certificates.certificates()}


@pytest.fixture
def lab_ca(msft: MicrosoftSide) -> bytes:
    pem = msft.ca_certificate()
    if pem is None:
        pytest.skip("the Microsoft side is a real tenant: the device's built-in roots validate it")
    return pem


@pytest.fixture
def without_the_ca(trusted: WebConfig, signed_in: WebConfig, lab_ca: bytes,
                   restore_email_settings: EmailServerSettingsView) -> Iterator[WebConfig]:
    """The signed-in device with the lab CA deleted (CA Certificate page); imported again after the test."""
    fingerprint = ca_fingerprint(lab_ca)
    assert signed_in.certificates.delete(fingerprint) == (signed_in.profile.messages.setup_complete,)
    assert fingerprint not in listed(signed_in), "the deleted CA certificate is still listed"
    yield signed_in
    if fingerprint not in listed(signed_in):
        signed_in.certificates.import_certificate(lab_ca, reload=False)
    assert fingerprint in listed(signed_in), "could not import the lab CA again"


def validating(wc: WebConfig, enabled: bool = True) -> EmailServerSettingsView:
    """Email Server > Basic with Certificate Validation ``enabled`` (saved with OK if it was not)."""
    if wc.email_server.read().cert_validation is not enabled:
        wc.email_server.save(reload=False, cert_validation=enabled)
    view = wc.email_server.read()
    assert view.cert_validation is enabled, view
    return view


def test_s7_validation_without_the_ca_warns_until_the_ca_is_imported(without_the_ca: WebConfig, lab_ca: bytes) -> None:
    """§7: with Certificate Validation enabled and no CA certificate for the server, Email Server > Basic shows
    "The certificate is required to use a secure function of the email server. Make settings on the following
    page. - CA Certificate - Root Certificate Update" and the device cannot connect (360). The fix the warning
    names — import the CA on the CA Certificate page — removes the warning and the device connects, still
    validating."""
    view = validating(without_the_ca)
    assert view.certificate_warning, "no certificate warning on Email Server > Basic"
    shown = " ".join(without_the_ca.email_server.lines("certificate_warning"))
    assert WARNING in shown and all(link in shown for link in WARNING_LINKS), shown
    test = without_the_ca.email_server.test_connection()
    assert not test.ok and test.error_code == CANNOT_REACH, test

    messages = without_the_ca.certificates.import_certificate(lab_ca)
    assert messages == (without_the_ca.profile.messages.setup_complete,), messages
    assert ca_fingerprint(lab_ca) in listed(without_the_ca)
    view = without_the_ca.email_server.read()
    assert view.cert_validation is True and not view.certificate_warning, view
    test = without_the_ca.email_server.test_connection()
    assert test.ok, test.message


@pytest.mark.requires("scan_to_email", "remote_panel")
def test_s7_a_send_without_the_ca_fails_with_360(without_the_ca: WebConfig, panel: Panel, msft: MicrosoftSide,
                                                 recipient: str, device: DeviceUnderTest) -> None:
    """§7 error codes: a send the device cannot secure fails with 360, "No connection to the cloud service or
    e-mail service.", on the panel and in Job History — nothing is sent to an unvalidated server."""
    validating(without_the_ca)
    failed = scan_to_email(panel, without_the_ca, recipient)
    status = explain(CANNOT_REACH, firmware_family(device.firmware)).status
    assert failed.outcome.error_code == CANNOT_REACH and status in failed.outcome.lines, failed.outcome.lines
    assert failed.job.error_code == CANNOT_REACH, failed.job
    assert not msft.messages(recipient), "a message reached the mailbox through an unvalidated connection"


def test_s7_validation_disabled_connects_without_the_ca(without_the_ca: WebConfig) -> None:
    """§7: "It will be connected without confirming the safety of the email server when the Certificate
    Validation is disabled." — no CA, validation off: no warning, and the device connects."""
    view = validating(without_the_ca, enabled=False)
    assert not view.certificate_warning, "the certificate warning shows with Certificate Validation disabled"
    test = without_the_ca.email_server.test_connection()
    assert test.ok, test.message
