"""The PDF reports' document: A4 pages with a footer (title, run id, page N of M), outline entries for headings,
paragraph styles in Unicode fonts, status colours, and helpers for text and tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, StyleSheet1
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from harness.reporting.fonts import Fonts, report_fonts
from harness.reporting.verdict import Status

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN  # the frame's width
CELL_PADDING = 3  # points, left and right of a table cell

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
HEADER_BG = colors.HexColor("#e4e7eb")
READY = colors.HexColor("#1b7f3b")
NOT_READY = colors.HexColor("#b3261e")
#: Cell backgrounds per status; the legend and the matrix use the same.
STATUS_BG = {
    Status.PASS: colors.HexColor("#c8e6c9"),
    Status.FAIL: colors.HexColor("#ffcdd2"),
    Status.NOT_RUN: colors.HexColor("#ffe0b2"),
    Status.SKIPPED: colors.HexColor("#eceff1"),
    Status.NONE: colors.white,
}
STATUS_MEANING = {
    Status.PASS: "every test ran and passed",
    Status.FAIL: "a test failed (any class)",
    Status.NOT_RUN: "an expected test has no result",
    Status.SKIPPED: "the device lacks the capability (the test was not expected of it)",
    Status.NONE: "no test of this section for the device",
}


class Styles:
    """The paragraph styles, built on the registered fonts."""

    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        base = dict(fontName=fonts.sans, textColor=INK)
        self.body = ParagraphStyle("body", fontSize=9, leading=12, spaceAfter=4, **base)
        self.small = ParagraphStyle("small", fontSize=7.5, leading=9.5, **base)
        self.cell = ParagraphStyle("cell", fontSize=7.5, leading=9, **base)
        self.cell_bold = ParagraphStyle("cell-bold", parent=self.cell, fontName=fonts.bold)
        self.mono = ParagraphStyle("mono", parent=self.cell, fontName=fonts.mono, fontSize=7, leading=8.5)
        self.muted = ParagraphStyle("muted", parent=self.body, textColor=MUTED)
        self.h1 = ParagraphStyle("Heading1", fontName=fonts.bold, fontSize=15, leading=19, spaceBefore=6,
                                 spaceAfter=8, textColor=INK)
        self.h2 = ParagraphStyle("Heading2", fontName=fonts.bold, fontSize=11, leading=14, spaceBefore=8,
                                 spaceAfter=4, textColor=INK)
        self.subhead = ParagraphStyle("subhead", parent=self.h2)
        self.title = ParagraphStyle("title", fontName=fonts.bold, fontSize=22, leading=27, spaceAfter=4,
                                    textColor=INK)
        self.verdict = ParagraphStyle("verdict", fontName=fonts.bold, fontSize=26, leading=32,
                                      alignment=TA_CENTER, textColor=colors.white)

    def sheet(self) -> StyleSheet1:
        """The styles under reportlab's sample names (BodyText, Heading1, Heading2), for other rooms' sections."""
        sheet = StyleSheet1()
        for name, style in (("BodyText", self.body), ("Heading1", self.h1), ("Heading2", self.h2)):
            sheet.add(ParagraphStyle(name, parent=style))
        return sheet

    def fitted(self, value: str, width: float, style: ParagraphStyle, smallest: float = 6.5) -> Paragraph:
        """``value`` (a device name) in a cell ``width`` points wide, padding included: its font shrunk as far as
        ``smallest`` points, then broken after hyphens rather than mid-word."""
        room = width - 2 * CELL_PADDING
        size = style.fontSize
        while size > smallest and stringWidth(value, style.fontName, size) > room:
            size -= 0.5
        fitted = ParagraphStyle(f"{style.name}-{size}", parent=style, fontSize=size, leading=size * 1.2)
        lines: list[str] = []
        for part in re.findall(r"[^-]+-?|-", value):
            if lines and stringWidth(lines[-1] + part, style.fontName, size) <= room:
                lines[-1] += part
            else:
                lines.append(part)
        return self.markup("<br/>".join(self.fonts.markup(line) for line in lines), fitted)

    def text(self, value: object, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of plain text (escaped; Japanese runs in the CJK font)."""
        return Paragraph(self.fonts.markup("" if value is None else str(value)), style or self.body)

    def markup(self, markup: str, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of markup the caller has built (and escaped) itself."""
        return Paragraph(markup, style or self.body)


def grid(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = True,
         extra: Sequence[tuple[Any, ...]] = ()) -> Table:
    """A table with thin rules, a shaded repeated header row and ``extra`` style commands."""
    table = Table([list(r) for r in rows], colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_BG))
    table.setStyle(TableStyle([*style, *extra]))
    return table


class ReportDoc(SimpleDocTemplate):
    """A4 with margins; every Heading1/Heading2 paragraph becomes an outline entry."""

    def __init__(self, path: Path, *, title: str, subject: str) -> None:
        super().__init__(str(path), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                         bottomMargin=MARGIN + 4 * mm, title=title, subject=subject, author="epson-hil")
        self._outline = 0

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Paragraph) and flowable.style.name in ("Heading1", "Heading2"):
            self._outline += 1
            key = f"h{self._outline}"
            self.canv.bookmarkPage(key)
            level = 0 if flowable.style.name == "Heading1" else 1
            self.canv.addOutlineEntry(flowable.getPlainText(), key, level=level, closed=level > 0)


def footer_canvas(left: str, right: str, fonts: Fonts) -> type[Canvas]:
    """A canvas class that writes ``left`` and ``right`` (the run id) and "page N of M" at each page's foot."""

    class FooterCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = fonts.sans
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self._footer(number, len(self._pages))
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.line(MARGIN, MARGIN, A4[0] - MARGIN, MARGIN)
            self.setFillColor(MUTED)
            self.setFont(fonts.sans, 7.5)
            y = MARGIN - 4 * mm
            self.drawString(MARGIN, y, left)
            self.drawCentredString(A4[0] / 2, y, right)
            self.drawRightString(A4[0] - MARGIN, y, f"page {number} of {total}")
            self.restoreState()

    return FooterCanvas


def styles() -> Styles:
    return Styles(report_fonts())
