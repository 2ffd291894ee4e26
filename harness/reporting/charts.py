"""Measurement charts for the PDF: one bar per measured value, red when outside its limits, with the limits drawn
as dashed lines (reportlab graphics, so the chart is vector art in the PDF)."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors

from harness.reporting.fonts import Fonts

BAR_OK = colors.HexColor("#4f8a5b")
BAR_BAD = colors.HexColor("#c62828")
LIMIT = colors.HexColor("#b26a00")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    passed: bool


def measurement_chart(title: str, unit: str, bars: list[Bar], low: float | None, high: float | None,
                      fonts: Fonts, width: float, height: float = 150) -> Drawing:
    """A bar chart of ``bars`` in ``unit`` with the ``low``/``high`` limits as labelled dashed lines."""
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 42, 38
    chart.width, chart.height = width - 110, height - 62
    chart.data = [[b.value for b in bars]]
    chart.categoryAxis.categoryNames = [b.label for b in bars]
    chart.categoryAxis.labels.fontName = fonts.sans
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 20 if len(bars) > 4 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(bars) > 4 else "n"
    chart.valueAxis.labels.fontName = fonts.sans
    chart.valueAxis.labels.fontSize = 6.5
    top = max([b.value for b in bars] + [v for v in (low, high) if v is not None])
    bottom = min([0.0] + [b.value for b in bars] + [v for v in (low, high) if v is not None])
    chart.valueAxis.valueMin = bottom
    chart.valueAxis.valueMax = top * 1.15 if top > 0 else 1.0
    chart.barWidth = 10
    chart.groupSpacing = 10 if len(bars) > 3 else 30
    chart.bars.strokeColor = None
    for i, bar in enumerate(bars):
        chart.bars[(0, i)].fillColor = BAR_OK if bar.passed else BAR_BAD
    chart.barLabelFormat = "%.3g"
    chart.barLabels.fontName = fonts.sans
    chart.barLabels.fontSize = 6.5
    chart.barLabels.nudge = 6
    drawing.add(chart)
    span = chart.valueAxis.valueMax - chart.valueAxis.valueMin
    for name, value in (("low", low), ("high", high)):
        if value is None:
            continue
        y = chart.y + (value - chart.valueAxis.valueMin) / span * chart.height
        drawing.add(Line(chart.x, y, chart.x + chart.width, y, strokeColor=LIMIT, strokeWidth=1,
                         strokeDashArray=[4, 2]))
        drawing.add(String(chart.x + chart.width + 4, y - 2, f"{name} {value:g} {unit}", fontName=fonts.sans,
                           fontSize=6.5, fillColor=LIMIT))
    drawing.add(String(chart.x, height - 12, f"{title} ({unit})", fontName=fonts.bold, fontSize=8))
    return drawing
