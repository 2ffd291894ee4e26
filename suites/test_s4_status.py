"""Guide §4: check the OAuth 2.0 status — the panel, the printed status sheet, Web Config and SNMP agree."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support import ensure_signed_in

from harness.device.jobs import default_error_codes, firmware_family
from harness.device.panel import Panel, read_status_sheet
from harness.device.signin import MsftPageFactory
from harness.device.snmp import SnmpProbe
from harness.device.statussheet import EmailServerStatus, StatusSheet
from harness.device.webconfig import EmailServerSettingsView, WebConfig
from harness.lab.microsoft import MicrosoftSide, wait_for_message
from harness.lab.session import DeviceUnderTest

pytestmark = [pytest.mark.guide("§4"), pytest.mark.requires("oauth2_email")]

Settings = dict[str, object]


def on_basic_page(view: EmailServerSettingsView) -> Settings:
    """The settings and status as Network > Email Server > Basic shows them, keyed by the status sheet's labels."""
    return {"Authentication Method": view.auth_method, "Email service": view.email_service,
            "Current Status": view.current_status, "Account": (view.signed_in_account or "").casefold(),
            "Sender's Email Address": view.sender, "SMTP Server Address": view.smtp_server,
            "SMTP Server Port Number": view.smtp_port, "Secure Connection": view.secure,
            "Certificate Validation": view.cert_validation}


def reported(status: EmailServerStatus | None) -> Settings:
    """The same keys as an Email Server Status section (panel, status sheet, Network Status) reports them."""
    assert status is not None, "no Email Server Status section"
    return {"Authentication Method": status.auth_method, "Email service": status.email_service,
            "Current Status": status.current_status, "Account": (status.account or "").casefold(),
            "Sender's Email Address": status.sender, "SMTP Server Address": status.smtp_server,
            "SMTP Server Port Number": status.smtp_port, "Secure Connection": status.secure_connection,
            "Certificate Validation": status.certificate_validation}


def disagreements(expected: Settings, sources: dict[str, Settings]) -> dict[str, dict[str, object]]:
    """Per source, each key whose value differs from Email Server > Basic's (empty when all agree)."""
    return {name: {key: f"{got[key]!r} (Basic: {want!r})" for key, want in expected.items() if got[key] != want}
            for name, got in sources.items() if got != expected}


def printed_sheet(panel: Panel) -> StatusSheet:
    """Settings > ... > Network Status > Print Status Sheet, parsed; unreadable keys fail the test."""
    printed = panel.print_status_sheet()
    assert printed is not None, "the panel offers no Print Status Sheet"
    sheet = read_status_sheet(printed)
    assert not sheet.unreadable, f"the status sheet has unreadable values: {sheet.unreadable}"
    return sheet


def signed_in_settings(wc: WebConfig) -> Settings:
    expected = on_basic_page(wc.email_server.read())
    assert expected["Authentication Method"] == "OAuth2" and expected["Current Status"] == "Signed in", expected
    return expected


@pytest.mark.requires("panel")
def test_s4_panel_email_server_status_shows_the_settings_and_signed_in(signed_in: WebConfig, panel: Panel) -> None:
    """§4: "From the control panel: Settings > General Settings > Network Settings > Network Status > Email Server
    Status shows the e-mail server settings." """
    expected = signed_in_settings(signed_in)
    differ = disagreements(expected, {"panel": reported(panel.email_server_status())})
    assert not differ, differ


@pytest.mark.requires("panel", "status_sheet")
def test_s4_status_sheet_shows_the_settings_and_signed_in(signed_in: WebConfig, panel: Panel,
                                                          device: DeviceUnderTest,
                                                          snmp: Callable[[], SnmpProbe]) -> None:
    """§4: "On the network status sheet: … Print Status Sheet; confirm the message and start printing. The sheet
    includes the e-mail server settings." The sheet's identity is the one SNMP reports."""
    expected = signed_in_settings(signed_in)
    sheet = printed_sheet(panel)
    differ = disagreements(expected, {"status sheet": reported(sheet.email)})
    assert not differ, differ
    identity = snmp().identity
    assert (sheet.network.serial_number, (sheet.network.mac_address or "").upper()) == \
        (identity.serial, (identity.mac or "").upper()) == (device.serial, device.mac.upper())
    assert sheet.network.firmware == device.firmware
    if identity.firmware:
        assert device.firmware.endswith(identity.firmware), (identity.firmware, device.firmware)


def test_s4_web_config_network_status_shows_the_saved_settings_and_signed_in(signed_in: WebConfig) -> None:
    """§4 (Web Config): Status > Network Status shows the e-mail server settings saved on the printer, the same
    rows as the status sheet, and they agree with Network > Email Server > Basic."""
    expected = signed_in_settings(signed_in)
    differ = disagreements(expected, {"Network Status": reported(signed_in.network.read().email)})
    assert not differ, differ


def test_s4_snmp_identity_matches_web_config_and_the_inventory(webconfig: WebConfig, device: DeviceUnderTest,
                                                               snmp: Callable[[], SnmpProbe]) -> None:
    """§4: the device whose status is checked is the one SNMP identifies: serial, MAC and firmware over SNMP
    match Web Config's Network Status and the inventory."""
    identity = snmp().identity
    network = webconfig.network.read().network
    assert identity.serial == network.get("Serial Number") == device.serial
    assert (identity.mac or "").upper() == network.get("MAC Address", "").upper() == device.mac.upper()
    assert network.get("Firmware Version") == device.firmware
    if identity.firmware:  # EPSON-CTRL "vi": the build code that ends the firmware version
        assert device.firmware.endswith(identity.firmware), (identity.firmware, device.firmware)


@pytest.mark.requires("panel", "scan_to_email")
def test_s4_snmp_shows_no_alert_or_warning_after_a_successful_send(signed_in: WebConfig, panel: Panel,
                                                                   device: DeviceUnderTest,
                                                                   snmp: Callable[[], SnmpProbe],
                                                                   msft: MicrosoftSide, recipient: str) -> None:
    """§4 with §7: a device whose status says Signed in sends, and afterwards SNMP shows it running, with no new
    alert and no e-mail error alert (an error code or the guide's status texts) left standing."""
    before = snmp()
    outcome = panel.scan_to_email(recipient)
    assert outcome.sent, outcome.lines
    wait_for_message(msft, recipient, lambda message: True)
    after = snmp()
    assert after.status.device_status_name == "running", after.status
    newest = max((alert.index for alert in before.alerts), default=0)
    assert not [a.description for a in after.alerts if a.index > newest], "the successful send raised an alert"
    codes = default_error_codes(firmware_family(device.firmware))
    # critical and warning alerts are conditions, removed when they clear (RFC 3805); binary change events are history
    standing = [a.description for a in after.alerts if a.severity in ("critical", "warning")
                and (codes.code_in(a.description) is not None
                     or any(entry.status in a.description for entry in codes.codes.values()))]
    assert not standing, "e-mail error alerts still stand after a successful send"


def test_s4_after_sign_out_every_status_says_signed_out(signed_in: WebConfig, device: DeviceUnderTest,
                                                        panel: Panel, msft: MicrosoftSide,
                                                        microsoft_pages: MsftPageFactory) -> None:
    """§4 and §7: "If there is no Current Status and a Sign In button is shown, sign in" — after Sign Out on
    Network > Email Server > Basic, the panel, the status sheet and Network Status all say Signed out again,
    with the other settings unchanged."""
    before = signed_in_settings(signed_in)
    signed_in.email_server.sign_out(reload=False)  # on the page just read
    try:
        expected = on_basic_page(signed_in.email_server.read())
        assert expected == before | {"Current Status": "Signed out", "Account": ""}, expected
        sources = {"Network Status": reported(signed_in.network.read().email)}
        if device.has("panel"):
            sources["panel"] = reported(panel.email_server_status())
        if device.has("status_sheet"):
            sources["status sheet"] = reported(printed_sheet(panel).email)
        differ = disagreements(expected, sources)
        assert not differ, differ
    finally:
        ensure_signed_in(signed_in, msft, microsoft_pages, service=str(before["Email service"]))
        if signed_in.email_server.read().sender != before["Sender's Email Address"]:
            signed_in.email_server.save(reload=False, sender=before["Sender's Email Address"])
        restored = on_basic_page(signed_in.email_server.read())
        assert restored == before, f"Email Server > Basic was not restored: {disagreements(before, {'now': restored})}"
