"""The virtual device's network status sheet: a real PDF with a Network Status and an Email Server Status section.

The real sheet's layout is UNKNOWN (FIDELITY.md); this one prints ``Key : Value`` lines, a key column and a
value column, long values wrapped onto indented lines. The rows are also what the panel's status screens
show, so both come from :func:`network_rows` and :func:`email_server_rows`. Secrets are never printed.
"""

from __future__ import annotations

import io
import ipaddress
import threading
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from harness.sim.device import EMAIL_SLOT, Slot, VirtualDevice

Row = tuple[str, str]

TITLE = "Network Status Sheet"
NETWORK_SECTION = "Network Status"
EMAIL_SECTION = "Email Server Status"

#: Firmware defect: the printed sheet leaves out the Email Server Status section.
OMIT_EMAIL_SECTION_DEFECT = "status_sheet_omits_email_section"

_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_LOCK = threading.Lock()
_FONT_SIZE = 10
_LEADING = 15
_MARGIN = 20 * mm
_KEY_X = _MARGIN + 6 * mm
_COLON_X = _MARGIN + 78 * mm
_VALUE_X = _COLON_X + 4 * mm


def network_rows(device: VirtualDevice) -> list[Row]:
    """The Network Status rows (as Web Config's Network Status names them)."""
    identity = device.identity
    config = device.config
    address = ipaddress.IPv4Address(identity.ip_address)
    rows: list[Row] = [
        ("Device Name", config.device_name),
        ("Model", identity.model),
        ("Serial Number", identity.serial),
        ("Firmware Version", identity.firmware),
        ("Connection Status", "Wired LAN-1000BASE-T Full Duplex"),
        ("Obtain IP Address", "Manual"),
        ("IP Address", str(address)),
        ("Subnet Mask", "255.0.0.0" if address.is_loopback else "255.255.255.0"),
        ("MAC Address", identity.mac),
    ]
    if identity.has("extended_network"):
        rows.append(("Network Selection", "Extended Network" if config.network == "extended" else "Standard Network"))
    return rows


def email_server_rows(device: VirtualDevice, slot: Slot = EMAIL_SLOT) -> list[Row]:
    """The e-mail server settings as SAVED on the device (a sign-in still pending on Web Config does not count)."""
    with device.lock:
        settings = device.config.fax_email if slot == "fax" else device.config.email
        signin = device.signins.get(slot)
    rows: list[Row] = [("Authentication Method", settings.auth_method)]
    if settings.auth_method == "OAuth2":
        signed_in = signin is not None and signin.service == settings.email_service
        rows += [
            ("Email service", settings.email_service),
            ("Current Status", "Signed in" if signed_in else "Signed out"),
            ("Account", signin.account if signed_in and signin is not None else ""),
        ]
    elif settings.auth_method == "SMTP AUTH":
        rows.append(("Account", settings.account))
    rows += [
        ("Sender's Email Address", settings.sender),
        ("SMTP Server Address", settings.smtp_server),
        ("SMTP Server Port Number", str(settings.smtp_port)),
        ("Secure Connection", settings.secure),
        ("Certificate Validation", "Enable" if settings.cert_validation else "Disable"),
    ]
    if settings.auth_method == "POP before SMTP":
        rows += [("POP3 Server Address", settings.pop3_server), ("POP3 Server Port Number", str(settings.pop3_port))]
    return rows


def render_status_sheet(device: VirtualDevice) -> bytes:
    """The network status sheet the device prints, as PDF bytes with an extractable text layer."""
    regular, bold = _fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(TITLE)
    canvas.setAuthor("SEIKO EPSON")
    canvas.setCreator(f"EPSON {device.identity.model}")
    sections = [(NETWORK_SECTION, network_rows(device))]
    if not device.has_defect(OMIT_EMAIL_SECTION_DEFECT):
        sections.append((EMAIL_SECTION, email_server_rows(device)))

    page = _Page(canvas, regular)
    canvas.setFont(bold, 16)
    canvas.drawString(_MARGIN, page.y, TITLE)
    page.y -= 2 * _LEADING
    for heading, rows in sections:
        page.need(3 * _LEADING)
        canvas.setFont(bold, 12)
        canvas.drawString(_MARGIN, page.y, heading)
        page.y -= _LEADING * 1.3
        for key, value in rows:
            page.row(key, value)
        page.y -= _LEADING
    canvas.save()
    return buffer.getvalue()


class _Page:
    """Where the next line goes; starts a new page when the current one is full."""

    def __init__(self, canvas: Canvas, font: str) -> None:
        self.canvas = canvas
        self.font = font
        self.y = A4[1] - _MARGIN

    def need(self, height: float) -> None:
        if self.y - height < _MARGIN:
            self.canvas.showPage()
            self.y = A4[1] - _MARGIN

    def row(self, key: str, value: str) -> None:
        width = A4[0] - _MARGIN - _VALUE_X
        pieces = _wrap(value, self.font, _FONT_SIZE, width)
        self.need(_LEADING * len(pieces))
        self.canvas.setFont(self.font, _FONT_SIZE)
        self.canvas.drawString(_KEY_X, self.y, key)
        self.canvas.drawString(_COLON_X, self.y, ":")
        for piece in pieces:
            self.canvas.drawString(_VALUE_X, self.y, piece)
            self.y -= _LEADING


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Split ``text`` into lines that fit ``width``.

    Addresses have no spaces: break after a ``.`` or ``-`` or before the ``@`` where possible, so that no
    broken-off piece looks like a whole address to a reader that sees the lines without their indentation.
    """
    lines: list[str] = []
    current = ""
    for char in text:
        if current and pdfmetrics.stringWidth(current + char, font, size) > width:
            cut = max(current.rfind(".") + 1, current.rfind("-") + 1, current.rfind("@"))
            cut = cut if cut > 0 else len(current)
            lines.append(current[:cut])
            current = current[cut:]
        current += char
    return [*lines, current]


def _fonts() -> tuple[str, str]:
    """DejaVu Sans (renders every character of an address) when Debian's fonts-dejavu-core is there."""
    regular, bold = _DEJAVU_DIR / "DejaVuSans.ttf", _DEJAVU_DIR / "DejaVuSans-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        return "Helvetica", "Helvetica-Bold"
    with _FONT_LOCK:
        registered = pdfmetrics.getRegisteredFontNames()
        if "DejaVuSans" not in registered:
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        if "DejaVuSans-Bold" not in registered:
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
    return "DejaVuSans", "DejaVuSans-Bold"
