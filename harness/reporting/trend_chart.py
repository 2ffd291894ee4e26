"""The trend as a PNG chart (matplotlib, Agg): pass rate per device, pass rate per guide section, run durations."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from harness.reporting.trend import Trend

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 9.0, 110
#: Above this many runs the x axis shows every n-th run's date only.
MAX_TICKS = 15
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
LINE_STYLES = ("-", "--", ":")


def render_trend_chart(trend: Trend, path: Path) -> Path:
    """Draw the three panels of the trend into ``path`` (PNG); a history with no runs gets a notice instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    if not trend.run_ids:
        figure.text(0.5, 0.5, f"No runs in the last {trend.days} days", ha="center", va="center", fontsize=16)
    else:
        by_device, by_section, durations = figure.subplots(3, 1, sharex=True)
        _rate_lines(by_device, trend.device_rates, "Pass rate by device")
        _rate_lines(by_section, trend.section_rates, "Pass rate by guide section")
        _duration_bars(durations, trend)
        _run_axis(durations, trend)
        figure.suptitle(f"Nightly trend: {len(trend.run_ids)} runs in the last {trend.days} days", fontsize=13)
    figure.savefig(path, format="png")
    return path


def _rate_lines(axes: Axes, rates: dict[str, tuple[float | None, ...]], title: str) -> None:
    for index, (name, series) in enumerate(rates.items()):
        values = [math.nan if rate is None else rate for rate in series]
        # Lines of equal rates lie on top of each other: vary the dash and marker so each stays visible.
        axes.plot(range(len(values)), values, linestyle=LINE_STYLES[index // 10 % len(LINE_STYLES)],
                  marker=MARKERS[index % len(MARKERS)], linewidth=2.4 - 0.3 * (index % 4), markersize=5, label=name)
    axes.set_title(title, loc="left", fontsize=11)
    axes.set_ylim(-0.05, 1.05)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    axes.grid(True, alpha=0.3)
    if rates:
        axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)


def _duration_bars(axes: Axes, trend: Trend) -> None:
    in_minutes = max(trend.durations, default=0.0) >= 120
    values = [d / 60 if in_minutes else d for d in trend.durations]
    axes.bar(range(len(values)), values, color="#4c72b0", width=0.6)
    axes.set_title("Run duration", loc="left", fontsize=11)
    axes.set_ylabel("minutes" if in_minutes else "seconds")
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
    axes.grid(True, axis="y", alpha=0.3)


def _run_axis(axes: Axes, trend: Trend) -> None:
    step = max(1, math.ceil(len(trend.run_ids) / MAX_TICKS))
    ticks = list(range(0, len(trend.run_ids), step))
    axes.set_xticks(ticks)
    axes.set_xticklabels([trend.started[i].strftime("%m-%d %H:%M") for i in ticks], rotation=35, ha="right",
                         fontsize=8)
    axes.set_xlim(-0.5, len(trend.run_ids) - 0.5)
    axes.set_xlabel("run started (UTC)")
