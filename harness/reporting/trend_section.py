"""The trend as a section of the PDF (reportlab platypus): regressions first, newly passing, the chart, flaky tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, Paragraph, Spacer, Table, TableStyle

from harness.reporting.history import MISSING

if TYPE_CHECKING:
    from harness.reporting.trend import Change, Flaky, Trend

CHART_WIDTH = 16 * cm
CHANGE_COLUMNS = ("Section", "Test", "Device", "Before", "Now", "Failure class")
FIXED_CLASS_COLUMN = "Failed as"
CHANGE_WIDTHS = (1.6 * cm, 7.2 * cm, 2.6 * cm, 1.5 * cm, 1.5 * cm, 2.6 * cm)
FLAKY_COLUMNS = ("Section", "Test", "Device", "Flips", "Runs")
FLAKY_WIDTHS = (1.6 * cm, 8.6 * cm, 3.0 * cm, 1.4 * cm, 1.4 * cm)
REGRESSION_TINT = colors.HexColor("#fbe3e3")
FIXED_TINT = colors.HexColor("#e3f4e3")
HEADER_TINT = colors.HexColor("#d9d9d9")


def trend_section(trend: Trend, chart: Path, styles: StyleSheet1 | None = None) -> list[Flowable]:
    """Heading, summary, the regressions table, the newly passing table, the chart, then flaky tests if any."""
    styles = styles or getSampleStyleSheet()
    cell = ParagraphStyle("TrendCell", parent=styles["BodyText"], fontSize=8, leading=10)
    story: list[Flowable] = [Paragraph("Nightly trend", styles["Heading1"]), Paragraph(_summary(trend),
                                                                                      styles["BodyText"])]
    story.append(Paragraph("Regressions since the previous run", styles["Heading2"]))
    story.append(_changes_table(trend.regressions, cell, REGRESSION_TINT, CHANGE_COLUMNS) if trend.regressions
                 else Paragraph(_nothing(trend, "No test newly fails."), styles["BodyText"]))
    story.append(Paragraph("Newly passing since the previous run", styles["Heading2"]))
    story.append(_changes_table(trend.newly_passing, cell, FIXED_TINT, (*CHANGE_COLUMNS[:-1], FIXED_CLASS_COLUMN))
                 if trend.newly_passing
                 else Paragraph(_nothing(trend, "No test newly passes."), styles["BodyText"]))
    story += [Spacer(1, 0.4 * cm), _chart_image(chart)]
    if trend.flaky:
        story.append(Paragraph("Flaky tests", styles["Heading2"]))
        story.append(_flaky_table(trend.flaky, cell))
    return story


def _summary(trend: Trend) -> str:
    if not trend.run_ids:
        return f"No runs in the last {trend.days} days."
    text = (f"{len(trend.run_ids)} runs in the last {trend.days} days. Latest run <b>{escape(trend.latest or '')}"
            f"</b> ({trend.started[-1]:%Y-%m-%d %H:%M} UTC)")
    if trend.previous:
        text += f", compared with the previous run <b>{escape(trend.previous)}</b>"
    return text + "."


def _nothing(trend: Trend, none: str) -> str:
    return none if trend.previous else "No previous run to compare with."


def _test_cell(test: str, style: ParagraphStyle) -> Paragraph:
    """The test function on top, its module beneath in small grey type, so long names stay legible."""
    module, _, function = test.rpartition("::")
    text = escape(function or test)
    if module:
        text += f'<br/><font size="6.5" color="#666666">{escape(module)}</font>'
    return Paragraph(text, style)


def _changes_table(changes: tuple[Change, ...], cell: ParagraphStyle, tint: colors.Color,
                   columns: tuple[str, ...]) -> Table:
    rows: list[list[Any]] = [list(columns)]
    for change in changes:
        rows.append([change.section or "", _test_cell(change.test, cell), Paragraph(escape(change.device or ""), cell),
                     change.before or "(absent)", change.after, Paragraph(escape(_class_text(change)), cell)])
    return _table(rows, CHANGE_WIDTHS, cell, tint)


def _class_text(change: Change) -> str:
    if change.after == MISSING:
        return "not run: a gap"
    return change.failure_class or ""


def _flaky_table(flaky: tuple[Flaky, ...], cell: ParagraphStyle) -> Table:
    rows: list[list[Any]] = [list(FLAKY_COLUMNS)]
    for item in flaky:
        rows.append([item.section or "", _test_cell(item.test, cell), Paragraph(escape(item.device or ""), cell),
                     str(item.flips), str(item.runs)])
    return _table(rows, FLAKY_WIDTHS, cell, None)


def _table(rows: list[list[Any]], widths: tuple[float, ...], cell: ParagraphStyle,
           tint: colors.Color | None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), cell.fontName),  # the stylesheet's font, which renders "§"
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_TINT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ]
    if tint is not None:
        commands.append(("BACKGROUND", (0, 1), (-1, -1), tint))
    table.setStyle(TableStyle(commands))
    return table


def _chart_image(chart: Path) -> Image:
    width, height = ImageReader(str(chart)).getSize()
    return Image(str(chart), width=CHART_WIDTH, height=CHART_WIDTH * height / width)
