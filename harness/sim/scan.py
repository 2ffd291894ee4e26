"""A "scanned" document: a small real PDF (reportlab), named the way Epson devices name scan files."""

from __future__ import annotations

import io
import re
import time

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from harness.sim.services import Attachment

PDF = "application/pdf"
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page\b")


def scan_file_name(when: float, prefix: str = "img") -> str:
    """Epson's scan file name: prefix, date, ``_``, time and hundredths, e.g. ``img20250314_10543876.pdf``."""
    hundredths = int(when * 100) % 100
    return f"{prefix}{time.strftime('%Y%m%d_%H%M%S', time.gmtime(when))}{hundredths:02d}.pdf"


def scan_document(when: float, *, model: str, serial: str, pages: int = 1) -> Attachment:
    """A PDF of ``pages`` A4 pages, as scanned at lab time ``when`` by the device ``model``/``serial``."""
    if pages < 1:
        raise ValueError("a scan has at least one page")
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle("Scanned Document")
    pdf.setAuthor(f"EPSON {model}")
    pdf.setCreator(f"EPSON {model}")
    width, height = A4
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))
    for page in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 18)
        pdf.drawString(72, height - 96, "Scanned Document")
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, height - 124, f"Scanned by EPSON {model} (serial {serial}) at {stamp}")
        pdf.drawString(72, height - 142, f"Page {page} of {pages}")
        pdf.rect(72, 120, width - 144, height - 300)
        pdf.showPage()
    pdf.save()
    return Attachment(filename=scan_file_name(when), content_type=PDF, data=out.getvalue())


def page_count(attachment: Attachment) -> int:
    """Pages in a PDF attachment (0 for anything else)."""
    if attachment.content_type != PDF:
        return 0
    return len(_PAGE_OBJECT.findall(attachment.data))
