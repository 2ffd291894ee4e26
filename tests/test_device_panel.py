"""The panel driver: RemotePanel against a running VirtualLab over its control API, OperatorPanel with scripted
answers.

A device's e-mail settings and stored sign-in are put straight into the lab's virtual device (tests of the
panel, not of signing in; Web Config sign-in has its own tests) and restored afterwards. Mail sent from the
panel is read back through Microsoft Graph with the lab's mail-reader app.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sim_engine_support import ALICE, PRINTER, oauth2_settings, seeded_signin

from harness.browser import launch_browser, tier_resolution
from harness.device.panel import (
    EMAIL_SERVER_STATUS,
    ActionUnavailable,
    AdminLoginRefused,
    JobOutcome,
    OperatorPanel,
    PanelError,
    PanelSignIn,
    PanelUnreachable,
    RemotePanel,
    read_status_sheet,
)
from harness.device.statussheet import render_pdf_page_png
from harness.lab.inventory import SecretRef
from harness.lab.labfile import LabInfo
from harness.lab.virtual import VirtualLab
from harness.msft.real import GraphMailbox, MailMessage
from harness.msft.signin_page import DeviceLoginOutcome, MicrosoftDeviceLogin
from harness.msft.tenant import SMTP_SEND
from harness.sim.device import VirtualDevice
from harness.sim.settings import ServerlessSettings, ServerlessUser

MFP, A3, SCANNER = "mfp-c5790", "a3-am-c4000", "scan-ds790"
SECRET_ENV = "EPSON_HIL_TEST_PANEL_READER_SECRET"


@pytest.fixture(scope="module")
def lab(inventory_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualLab]:
    with VirtualLab(inventory_path, tmp_path_factory.mktemp("panel-lab")) as running:
        assert running.tier is not None
        yield running


@pytest.fixture(scope="module")
def info(lab: VirtualLab) -> LabInfo:
    assert lab.info is not None
    return lab.info


@pytest.fixture
def panel(info: LabInfo) -> Iterator[RemotePanel]:
    remote = RemotePanel.from_lab(info, MFP)
    yield remote
    remote.close()


def virtual(lab: VirtualLab, name: str) -> VirtualDevice:
    assert lab.fleet is not None
    return lab.fleet.get(name).device


@contextmanager
def configured(lab: VirtualLab, name: str, *, slots: tuple[str, ...] = ("email",),
               serverless: ServerlessSettings | None = None) -> Iterator[VirtualDevice]:
    """``name`` set up for OAuth2 with Exchange Online, the lab CA imported, ``slots`` signed in as the printer's
    mailbox; everything put back afterwards."""
    assert lab.tier is not None
    device = virtual(lab, name)
    saved = device.config
    if not device.ca.certificates():
        device.ca.add(lab.tier.ca_bundle.read_bytes())
    device.update(email=oauth2_settings(), fax_email=oauth2_settings(), serverless=serverless or saved.serverless)
    for slot in slots:
        device.save_signin(slot, seeded_signin(lab.tier, PRINTER))
    try:
        yield device
    finally:
        device.update(email=saved.email, fax_email=saved.fax_email, serverless=saved.serverless)
        for slot in list(device.signins):
            device.sign_out(slot)


def reader(lab: VirtualLab, info: LabInfo, monkeypatch: pytest.MonkeyPatch) -> GraphMailbox:
    assert lab.tier is not None
    app = next(a for a in lab.tier.state.tenant.apps if a.client_secret)
    monkeypatch.setenv(SECRET_ENV, app.client_secret or "")
    return GraphMailbox.from_lab(info.msft, app.client_id, SecretRef(env=SECRET_ENV), poll_interval=0.2)


# --- RemotePanel: reading -----------------------------------------------------------------------------------

def test_email_server_status_is_read_through_the_lock(lab: VirtualLab, info: LabInfo, panel: RemotePanel) -> None:
    requests_ok = panel.control.request("POST", f"/devices/{MFP}/power-cycle")  # the lock icon is back
    assert requests_ok["name"] == MFP
    assert panel.screen().locked
    unconfigured = panel.email_server_status()
    assert unconfigured.auth_method == "Off" and unconfigured.current_status is None  # no OAuth2 keys shown
    assert not panel.screen().locked  # it logged in as administrator on the way
    with configured(lab, MFP):
        status = panel.email_server_status()
    assert (status.auth_method, status.email_service, status.current_status) == (
        "OAuth2", "Microsoft Exchange Online", "Signed in")
    assert (status.account, status.smtp_server, status.smtp_port) == (PRINTER, "smtp.office365.com", 587)
    assert status.secure_connection == "STARTTLS" and status.certificate_validation is True
    sheet = panel.email_server_sheet()  # the device's settings restored: the panel shows them again
    assert sheet.unreadable == () and sheet.email == unconfigured


def test_a_locked_panel_needs_the_right_admin_password(info: LabInfo, panel: RemotePanel) -> None:
    panel.control.request("POST", f"/devices/{MFP}/power-cycle")
    without = RemotePanel(info.msft.control.url, info.msft.control.token, info.msft.ca_bundle, MFP)
    with pytest.raises(AdminLoginRefused, match="no administrator password"):
        without.email_server_status()
    wrong = RemotePanel(info.msft.control.url, info.msft.control.token, info.msft.ca_bundle, MFP,
                        admin_password="not-the-serial")
    with pytest.raises(AdminLoginRefused, match=r"The password is incorrect\."):
        wrong.email_server_status()
    assert "not-the-serial" not in repr(wrong)
    assert panel.email_server_status().auth_method is not None  # the refused attempt left the panel usable
    for remote in (without, wrong):
        remote.close()


def test_print_status_sheet_gives_the_pdf_the_panel_printed(lab: VirtualLab, info: LabInfo,
                                                           panel: RemotePanel) -> None:
    with configured(lab, MFP):
        pdf = panel.print_status_sheet()
        shown = panel.email_server_status()
    assert pdf is not None and pdf.startswith(b"%PDF")
    sheet = read_status_sheet(pdf)
    assert sheet.email == shown and shown.current_status == "Signed in"
    assert sheet.network.serial_number == info.device(MFP).serial
    scanner = RemotePanel.from_lab(info, SCANNER)
    try:
        assert scanner.print_status_sheet() is None  # a scanner has no status sheet to print
    finally:
        scanner.close()


# --- RemotePanel: sending -----------------------------------------------------------------------------------

def test_scan_to_email_from_the_panel_arrives_in_the_tiers_mailbox(
        lab: VirtualLab, info: LabInfo, panel: RemotePanel, monkeypatch: pytest.MonkeyPatch) -> None:
    assert lab.tier is not None
    mailbox = reader(lab, info, monkeypatch)
    since = lab.tier.state.clock.now()
    with configured(lab, MFP):
        with pytest.raises(PanelError, match=r"Enter a valid email address\."):
            panel.scan_to_email("not an address")
        outcome = panel.scan_to_email(ALICE)
    assert outcome == JobOutcome(True, "Succeeded", None, outcome.lines) and outcome.lines[0] == "Sending complete."

    def from_the_mfp(message: MailMessage) -> bool:
        return message.sender == PRINTER and any(a.content_type == "application/pdf" for a in message.attachments)

    received = mailbox.wait_for(ALICE, from_the_mfp, timeout=15, since=since)
    assert received.to == (ALICE,)


def test_a_send_without_a_signin_shows_error_370(lab: VirtualLab, info: LabInfo) -> None:
    remote = RemotePanel.from_lab(info, A3)
    try:
        with configured(lab, A3, slots=()):
            outcome = remote.scan_to_email(ALICE)
            assert remote.screen().actions[0] == "Settings"  # back at home after OK
    finally:
        remote.close()
    assert not outcome.sent and outcome.error_code == 370 and outcome.result == "Error code 370"


def test_fax_through_the_fax_server_and_models_without_one(lab: VirtualLab, info: LabInfo) -> None:
    assert lab.tier is not None
    before = len(lab.tier.state.mail.messages(ALICE))
    a3, scanner = RemotePanel.from_lab(info, A3), RemotePanel.from_lab(info, SCANNER)
    try:
        with configured(lab, A3, slots=("fax",)):
            assert a3.fax(ALICE).sent
        with pytest.raises(ActionUnavailable, match="'Fax' is not on the"):
            scanner.fax(ALICE)
    finally:
        a3.close()
        scanner.close()
    assert len(lab.tier.state.mail.messages(ALICE)) == before + 1


def sign_in_in_a_thread(info: LabInfo, signin: PanelSignIn, upn: str) -> DeviceLoginOutcome:
    """A person at the sign-in pages, in Chromium driven from a thread of its own: no Playwright loop stays in
    the main thread for later tests that run asyncio there."""
    outcomes: list[DeviceLoginOutcome | BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as driver:
                browser = launch_browser(driver, resolve=tier_resolution(info.msft.identity.port),
                                         spki=[info.msft.identity.spki_sha256])
                try:
                    outcomes.append(MicrosoftDeviceLogin(browser.new_page()).complete(
                        signin.verification_uri, signin.user_code, upn, info.msft.user(upn).password))
                finally:
                    browser.close()
        except BaseException as exc:  # handed to the test's thread
            outcomes.append(exc)

    worker = threading.Thread(target=run, name="panel-test-browser")
    worker.start()
    worker.join(120)
    assert not worker.is_alive() and outcomes, "the browser did not finish within 120 s"
    if isinstance(outcomes[0], BaseException):
        raise outcomes[0]
    return outcomes[0]


@pytest.mark.browser
def test_scan_to_my_email_reads_the_sign_in_code_and_saves_the_sign_in(lab: VirtualLab, info: LabInfo) -> None:
    assert lab.tier is not None
    users = (ServerlessUser("alice", "Alice", ALICE),)
    remote = RemotePanel.from_lab(info, A3)
    try:
        with lab.tier.state.restoring() as tenant, \
                configured(lab, A3, serverless=ServerlessSettings(sender_mode="user", users=users)) as device:
            tenant.grant_consent(info.msft.client_id, [SMTP_SEND], ALICE, on_behalf_of_org=True)
            with pytest.raises(PanelError, match=r"The user is not registered\."):
                remote.scan_to_my_email("nobody")
            signin = remote.scan_to_my_email("alice")
            assert isinstance(signin, PanelSignIn), signin
            assert signin.verification_uri == "https://microsoft.com/devicelogin"
            assert signin.service == "Microsoft Exchange Online" and signin.user_code not in repr(signin)
            assert signin.user_code in signin.message
            outcome = sign_in_in_a_thread(info, signin, ALICE)
            assert outcome.signed_in, outcome
            remote.finish_sign_in(timeout=30)
            assert device.signin("user:alice") is not None
            sent = remote.scan_to_my_email("alice")
            assert isinstance(sent, JobOutcome) and sent.sent, sent
    finally:
        remote.close()


# --- RemotePanel: errors ------------------------------------------------------------------------------------

def test_remote_panel_errors_are_typed(info: LabInfo, panel: RemotePanel) -> None:
    with pytest.raises(ActionUnavailable, match="No Such Button"):
        panel.press("No Such Button")
    unknown = RemotePanel.from_lab(info, MFP)
    unknown.device_name = "no-such-device"
    with pytest.raises(PanelError, match="404"):
        unknown.screen()
    unknown.close()
    bad_token = RemotePanel(info.msft.control.url, "wrong-token", info.msft.ca_bundle, MFP)
    with pytest.raises(PanelUnreachable, match="credentials"):
        bad_token.screen()
    bad_token.close()
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        closed = RemotePanel(f"https://localhost:{unused.getsockname()[1]}", "t", info.msft.ca_bundle, MFP)
        with pytest.raises(PanelUnreachable):
            closed.screen()
        closed.close()


# --- OperatorPanel ------------------------------------------------------------------------------------------

class Operator:
    """Scripted answers for OperatorPanel; records every line shown to the operator."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.shown: list[str] = []

    def prompt(self, text: str) -> str:
        self.shown.append(text)
        if not self.answers:
            raise AssertionError(f"the panel asked more than the script answers: {text!r}")
        return self.answers.pop(0)

    def out(self, text: str) -> None:
        self.shown.append(text)

    def panel(self) -> OperatorPanel:
        return OperatorPanel(self.prompt, self.out, device="WF-C5790 (3F east)")


SIGNED_IN_SCREEN = ["Authentication Method : OAuth2", "Email service : Microsoft Exchange Online",
                    "Current Status : Signed in", f"Account : {PRINTER}", "SMTP Server Address : smtp.office365.com",
                    "SMTP Server Port Number : 587", "Secure Connection : STARTTLS", "Certificate Validation : Enable"]


def sheet_pdf(lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    text = page.beginText(60, 780)
    text.setFont("Helvetica", 12)
    for line in ["Network Status Sheet", "Email Server Status", *lines]:
        text.textLine(line)
    page.drawText(text)
    page.save()
    return buffer.getvalue()


def test_operator_types_the_email_server_status() -> None:
    operator = Operator("", *SIGNED_IN_SCREEN, "")
    status = operator.panel().email_server_status()
    assert status.signed_in is True and status.account == PRINTER and status.smtp_port == 587
    said = "\n".join(operator.shown)
    assert " > ".join(EMAIL_SERVER_STATUS) in said and "lock icon" in said and "WF-C5790 (3F east)" in said


def test_operator_gives_a_pdf_or_a_photo_of_the_sheet(tmp_path: Path) -> None:
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(sheet_pdf(SIGNED_IN_SCREEN))
    assert Operator("", f"'{pdf}'", "").panel().email_server_status().current_status == "Signed in"
    photo = tmp_path / "sheet.png"
    photo.write_bytes(render_pdf_page_png(pdf.read_bytes(), dpi=200))
    printed = Operator("", "", str(tmp_path / "missing.png"), str(photo)).panel().print_status_sheet()
    assert printed == photo.read_bytes()
    read = read_status_sheet(printed)  # OCR of the photo
    assert read.email is not None and read.email.smtp_server == "smtp.office365.com"
    assert Operator("", "", "").panel().print_status_sheet() is None  # the device printed none


def test_operator_reports_a_send_and_what_the_panel_lacks() -> None:
    failed = Operator("", "Sending failed.", "You need to sign in to the cloud service again.",
                      "Result : Error code 370", "").panel().scan_to_email(ALICE)
    assert (failed.sent, failed.error_code, failed.result) == (False, 370, "Error code 370")
    done = Operator("", "Sending complete.", "").panel().fax(ALICE)
    assert done.sent and done.error_code is None
    with pytest.raises(ActionUnavailable, match="does not offer"):
        Operator("no").panel().press("Fax", to=ALICE)
    operator = Operator("", "Sign in to your email service.", "URL : https://microsoft.com/devicelogin",
                        "Code : ABCD2345X", "")
    signin = operator.panel().scan_to_my_email("alice")
    assert signin == PanelSignIn("https://microsoft.com/devicelogin", "ABCD2345X", "", "")


def test_operator_screen_reading_and_unreadable_keys() -> None:
    screen = Operator("Email Server Status", "Current Status : Signed  in", "SMTP Server Port Number : 5B7", "") \
        .panel().screen()
    assert screen.values()["Current Status"] == "Signed  in"
    sheet = Operator("", "Current Status : Signed  in", "SMTP Server Port Number : 5x7", "").panel() \
        .email_server_sheet()
    assert sheet.email is not None and sheet.email.current_status == "Signed in"
    assert sheet.unreadable == ("SMTP Server Port Number",)  # said, not guessed
    with pytest.raises(PanelError, match="no Email Server Status keys"):
        Operator("", "Ready", "").panel().email_server_status()
