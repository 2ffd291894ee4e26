"""The network status sheet: the virtual device's PDF, and the harness's reader of PDF text, OCR and page text."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from harness.clock import VirtualClock
from harness.device.statussheet import (
    OcrUnavailable,
    PopplerUnavailable,
    StatusSheetError,
    parse_status_sheet_image,
    parse_status_sheet_pdf,
    parse_status_sheet_text,
    render_pdf_page_png,
)
from harness.sim.device import DeviceIdentity, PendingSignIn, StoredSignIn, VirtualDevice
from harness.sim.resolver import Resolver
from harness.sim.settings import EmailServerSettings
from harness.sim.statussheet import OMIT_EMAIL_SECTION_DEFECT, render_status_sheet

EMAIL_KEYS = ("Authentication Method", "Email service", "Current Status", "Account", "Sender's Email Address",
              "SMTP Server Address", "SMTP Server Port Number", "Secure Connection", "Certificate Validation")
SECRETS = ("Basic-Pa55word!", "refresh-token-secret-value", "access-token-secret-value")


def make_device(*, capabilities: frozenset[str] = frozenset({"print", "status_sheet", "panel"}),
                defects: frozenset[str] = frozenset()) -> VirtualDevice:
    identity = DeviceIdentity(name="sheet", model="WF-C5790", serial="X5DJ004127", mac="64:EB:8C:3A:51:C7",
                              firmware="06.72.LW23O3", capabilities=capabilities, client_id="client",
                              ip_address="127.0.0.1")
    return VirtualDevice(identity, VirtualClock(1_700_000_000), Resolver(), defects=defects)


def stored(service: str = "Microsoft Exchange Online", account: str = "admin@epsonlab.onmicrosoft.com") -> StoredSignIn:
    return StoredSignIn(service=service, account=account, client_id="client",  # type: ignore[arg-type]
                        refresh_token=SECRETS[1], access_token=SECRETS[2], access_expires_at=0.0,
                        signed_in_at=0.0, last_used_at=0.0)


def oauth2(service: str = "Microsoft Exchange Online", **changes: object) -> EmailServerSettings:
    settings = EmailServerSettings(auth_method="OAuth2", sender="printer@epsonlab.onmicrosoft.com")
    return replace(settings.with_service(service), **changes)  # type: ignore[arg-type]


def pdftotext_layout(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


# --- the rendered PDF, read back through its text layer -------------------------------------------------

CASES = {
    "oauth2-exchange-signed-in": (oauth2(), stored(), dict(
        auth_method="OAuth2", email_service="Microsoft Exchange Online", current_status="Signed in",
        account="admin@epsonlab.onmicrosoft.com", sender="printer@epsonlab.onmicrosoft.com",
        smtp_server="smtp.office365.com", smtp_port=587, secure_connection="STARTTLS", certificate_validation=True)),
    "oauth2-outlook-signed-out": (oauth2("Outlook.com", cert_validation=False), None, dict(
        auth_method="OAuth2", email_service="Outlook.com", current_status="Signed out", account="",
        sender="printer@epsonlab.onmicrosoft.com", smtp_server="smtp-mail.outlook.com", smtp_port=587,
        secure_connection="STARTTLS", certificate_validation=False)),
    "oauth2-signed-in-other-service": (oauth2("Outlook.com"), stored("Microsoft Exchange Online"), dict(
        current_status="Signed out", account="")),
    "smtp-auth-ssl": (EmailServerSettings(auth_method="SMTP AUTH", account="scanner@example.com",
                                          password=SECRETS[0], sender="scanner@example.com",
                                          smtp_server="192.0.2.25", smtp_port=465, secure="SSL/TLS"), None, dict(
        auth_method="SMTP AUTH", email_service=None, current_status=None, account="scanner@example.com",
        smtp_server="192.0.2.25", smtp_port=465, secure_connection="SSL/TLS", certificate_validation=True)),
    "long-wrapped-sender": (oauth2(sender="scan.department.second.floor.east.wing.building.b@"
                                          "epsonlab.onmicrosoft.com"), stored(), dict(
        sender="scan.department.second.floor.east.wing.building.b@epsonlab.onmicrosoft.com")),
}


@pytest.mark.parametrize("case", CASES)
def test_sheet_pdf_round_trips_through_pdftotext(case: str) -> None:
    settings, signin, expected = CASES[case]
    device = make_device()
    device.update(email=settings)
    if signin is not None:
        device.save_signin("email", signin)

    sheet = parse_status_sheet_pdf(render_status_sheet(device))

    assert sheet.email is not None
    for attr, value in expected.items():
        assert getattr(sheet.email, attr) == value, attr
    assert sheet.unreadable == ()
    assert sheet.network.device_name == device.config.device_name
    assert sheet.network.mac_address == "64:EB:8C:3A:51:C7"
    assert sheet.network.ip_address == "127.0.0.1"
    assert sheet.network.serial_number == "X5DJ004127"
    assert sheet.network.firmware == "06.72.LW23O3"
    assert sheet.network.model == "WF-C5790"


def test_sheet_text_layer_has_sections_as_key_value_lines_and_no_secrets() -> None:
    device = make_device()
    device.update(email=EmailServerSettings(auth_method="SMTP AUTH", account="a@example.com", password=SECRETS[0],
                                            sender="a@example.com", smtp_server="mail.example.com"))
    device.save_signin("email", stored())
    text = pdftotext_layout(render_status_sheet(device))
    lines = [line.strip() for line in text.splitlines()]
    assert "Network Status" in lines and "Email Server Status" in lines
    assert any(re.fullmatch(r"SMTP Server Address\s+:\s+mail\.example\.com", line) for line in lines)
    for secret in SECRETS:
        assert secret not in text


def test_a_pending_signin_is_not_printed_as_signed_in() -> None:
    device = make_device()
    device.update(email=oauth2())
    device.pending["email"] = PendingSignIn(slot="email", service="Microsoft Exchange Online", user_code="ABCD",
                                            verification_uri="https://microsoft.com/devicelogin", message="",
                                            interval=1, expires_at=0.0, device_code="dc", state="signed_in",
                                            result=stored())
    sheet = parse_status_sheet_pdf(render_status_sheet(device))
    assert sheet.email is not None and sheet.email.current_status == "Signed out"


def test_extended_network_models_print_the_selection() -> None:
    device = make_device(capabilities=frozenset({"print", "status_sheet", "extended_network", "panel"}))
    device.update(network="extended")
    sheet = parse_status_sheet_pdf(render_status_sheet(device))
    assert sheet.network.other["Network Selection"] == "Extended Network"
    assert "Network Selection" not in parse_status_sheet_pdf(render_status_sheet(make_device())).network.other


def test_defect_omitting_the_email_section_is_visible_to_the_reader() -> None:
    device = make_device(defects=frozenset({OMIT_EMAIL_SECTION_DEFECT}))
    device.update(email=oauth2())
    sheet = parse_status_sheet_pdf(render_status_sheet(device))
    assert sheet.email is None
    assert set(EMAIL_KEYS) <= set(sheet.missing)
    assert sheet.network.device_name == device.config.device_name


@pytest.mark.slow
def test_sheet_rendered_to_an_image_reads_back_through_ocr() -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr)")
    device = make_device()
    device.update(email=oauth2(sender="scan.department.second.floor.east.wing.building.b@epsonlab.onmicrosoft.com"))
    device.save_signin("email", stored())
    pdf = render_status_sheet(device)

    from_text = parse_status_sheet_pdf(pdf)
    from_ocr = parse_status_sheet_image(render_pdf_page_png(pdf, dpi=150))

    assert from_ocr.unreadable == ()
    assert from_ocr.missing == from_text.missing == ()
    assert from_ocr.email == from_text.email
    assert from_ocr.email is not None and from_ocr.email.signed_in is True
    assert from_ocr.network.mac_address == from_text.network.mac_address
    assert from_ocr.network.ip_address == from_text.network.ip_address
    assert from_ocr.network.firmware == "06.72.LW23O3"  # OCR reads "LW2303"; the version's shape says O


# --- noisy text of our own making -------------------------------------------------------------------------

NOISY_OCR = """\
Network Status Sheet
Network Status
Device Name: EPSON3A51C7
Serial Number  X5DJ004127
IP Address : 127.O.O.l
Subnet Mask : 255.255.255.O
MAC Address : 64:EB:8C:3A:5l:C7
Firmware Version : O6.72.LW23O3

Email Server Status
Authentication Method ; 0Auth2
Emai1 service : 0utlook.corn
Current Status : Signed
in
Account : alice@epsonlab.onmicrosoft.com
Sender’s Emai1 Address :
printer@epsonlab.
onmicrosoft.com
SMTP Server Address : smtp-mail.outlook.com
SMTP Server P0rt Number : 5B7
Secure Connection : STARTTL5
Certificate Va1idation : Enab1e
"""


def test_ocr_confusions_and_split_lines_are_undone_where_the_type_is_certain() -> None:
    sheet = parse_status_sheet_text(NOISY_OCR)
    assert sheet.unreadable == ()
    assert sheet.network.device_name == "EPSON3A51C7"
    assert sheet.network.serial_number == "X5DJ004127"
    assert sheet.network.ip_address == "127.0.0.1"
    assert sheet.network.subnet_mask == "255.255.255.0"
    assert sheet.network.mac_address == "64:EB:8C:3A:51:C7"
    assert sheet.network.firmware == "06.72.LW23O3"
    email = sheet.email
    assert email is not None
    assert (email.auth_method, email.email_service, email.current_status) == ("OAuth2", "Outlook.com", "Signed in")
    assert email.account == "alice@epsonlab.onmicrosoft.com"
    assert email.sender == "printer@epsonlab.onmicrosoft.com"
    assert (email.smtp_server, email.smtp_port, email.secure_connection) == ("smtp-mail.outlook.com", 587, "STARTTLS")
    assert email.certificate_validation is True


@pytest.mark.parametrize("line", [
    "Current Status : Signed in",
    "Current Status: Signed in",
    "Current Status      Signed  in",
    "  Current  Status :   Signed   in  ",
    "Current Status :\nSigned in",
    "Current Status :\n\nSigned in",
    "Current Status : Signed\n   in",
    "Current Status : [ Signed in ]",
    "Current Status : Signedin",
    "Current 5tatus : 5igned 1n",
])
def test_current_status_is_read_however_it_is_spaced(line: str) -> None:
    sheet = parse_status_sheet_text(f"Authentication Method : OAuth2\n{line}\nSecure Connection : STARTTLS\n")
    assert sheet.email is not None
    assert sheet.email.current_status == "Signed in", sheet.values
    assert sheet.email.secure_connection == "STARTTLS"


def test_keys_it_cannot_read_are_reported_not_guessed() -> None:
    text = """\
Authentication Method : OAuth3
Current Status : Sighed in
Account : not an address
SMTP Server Address : smtp office365 com!
SMTP Server Port Number : 5#7
Secure Connection : STARTTLS
IP Address : 127.0.0.300
MAC Address : 64:EB:8C:3A:51
"""
    sheet = parse_status_sheet_text(text)
    assert sheet.email is not None
    assert set(sheet.unreadable) == {"Authentication Method", "Current Status", "Account", "SMTP Server Address",
                                     "SMTP Server Port Number", "IP Address", "MAC Address"}
    assert sheet.email.auth_method is None and sheet.email.current_status is None and sheet.email.smtp_port is None
    assert sheet.network.ip_address is None and sheet.network.mac_address is None
    assert sheet.email.secure_connection == "STARTTLS"
    assert {"Email service", "Sender's Email Address", "Certificate Validation", "Device Name"} <= set(sheet.missing)
    assert sheet.values["SMTP Server Port Number"] == "5#7"


def test_out_of_range_port_is_unreadable() -> None:
    sheet = parse_status_sheet_text("SMTP Server Port Number : 70000\n")
    assert sheet.unreadable == ("SMTP Server Port Number",)


def test_a_wrapped_value_is_joined_by_its_indentation_or_reported_ambiguous() -> None:
    text = ("  Account                  : alice@epsonlab.onmi\n"
            "                             crosoft.com\n"
            "  Secure Connection        : STARTTLS\n")
    sheet = parse_status_sheet_text(text)
    assert sheet.email is not None and sheet.email.account == "alice@epsonlab.onmicrosoft.com"
    # without the indentation, "alice@epsonlab.onmi" and "alice@epsonlab.onmicrosoft.com" both read as
    # addresses: the reader cannot tell which the sheet means, so it says so
    unindented = parse_status_sheet_text(text.replace("                             crosoft", "crosoft"))
    assert unindented.unreadable == ("Account",)
    assert unindented.email is not None and unindented.email.account is None


def test_a_complete_value_does_not_swallow_the_next_line() -> None:
    sheet = parse_status_sheet_text("Current Status : Signed out\nRefresh\nSecure Connection : None\n")
    assert sheet.email is not None
    assert sheet.email.current_status == "Signed out" and sheet.email.secure_connection == "None"


# Web Config's Network Status page (INFO_NWINFO) as a browser's inner text gives it: each key and its value on
# its own line, a second tab (Wi-Fi Direct) repeating keys, IPv6 values full of colons. Our own fixture.
NWINFO_TEXT = """\
WF-C5790 Series
Network Status
Wired LAN
Wi-Fi Direct
Device Name :
EPSON3A51C7
Connection Status :
Wired LAN-1000BASE-T Full Duplex
Obtain IP Address :
Manual
IP Address :
192.168.10.41
Subnet Mask :
255.255.255.0
Default Gateway :
192.168.10.1
IPv6 Link-Local Address :
fe80::66eb:8cff:fe3a:51c7/64
IPv6 Stateful Address :

MAC Address :
64:EB:8C:3A:51:C7
Device Name :
DIRECT-C7-EPSON-3A51C7
IP Address :
192.168.223.1
Refresh
"""


def test_webconfig_network_status_page_text_is_accepted() -> None:
    sheet = parse_status_sheet_text(NWINFO_TEXT)
    network = sheet.network
    assert network.device_name == "EPSON3A51C7"  # the first tab's, not Wi-Fi Direct's
    assert network.ip_address == "192.168.10.41"
    assert network.mac_address == "64:EB:8C:3A:51:C7"
    assert network.connection_status == "Wired LAN-1000BASE-T Full Duplex"
    assert network.other["Default Gateway"] == "192.168.10.1"
    assert network.other["IPv6 Link-Local Address"] == "fe80::66eb:8cff:fe3a:51c7/64"
    assert network.other["IPv6 Stateful Address"] == ""
    assert "fe80" not in network.other
    assert sheet.email is None and sheet.unreadable == ()


# --- tools and bad input ----------------------------------------------------------------------------------

def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(StatusSheetError, match="not a PDF"):
        parse_status_sheet_pdf(b"hello")
    with pytest.raises(StatusSheetError, match="pdftotext failed"):
        parse_status_sheet_pdf(b"%PDF-1.4\nbroken")
    assert parse_status_sheet_text("").missing  # nothing read: every key missing, no exception


def test_missing_tools_name_the_debian_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    pdf = render_status_sheet(make_device())
    with pytest.raises(PopplerUnavailable, match="apt-get install poppler-utils"):
        parse_status_sheet_pdf(pdf)
    with pytest.raises(OcrUnavailable, match="apt-get install tesseract-ocr"):
        parse_status_sheet_image(b"\x89PNG\r\n\x1a\n")
