"""The nightly trend, computed from the history: pass rates per device and per guide section, run durations,
tests newly failing or newly passing since the previous run (regressions first), and flaky tests.

Rendering lives apart: the PNG chart in ``trend_chart``, the PDF section in ``trend_section``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from harness.reporting.history import (
    BAD_OUTCOMES,
    DEFAULT_REPORTS_DIR,
    MISSING,
    History,
    HistoryResult,
    HistoryRun,
    load_history,
)
from harness.reporting.record import Outcome

TREND_PNG = "trend.png"
LAB_WIDE = "(lab-wide)"
NO_SECTION = "(no section)"
#: Regressions are listed in this order of failure class: a device defect is what a QA lead must see first.
CLASS_ORDER = ("device defect", MISSING, "harness error", "lab infrastructure")


@dataclass(frozen=True)
class Change:
    """A test whose outcome on a device changed between the previous run and the latest."""

    test: str
    device: str | None
    section: str | None
    before: str | None  # None: the test did not appear in the previous run
    after: str
    failure_class: str | None  # a regression's class now; for a test newly passing, the class it failed with


@dataclass(frozen=True)
class Flaky:
    """A test that went from passing to failing or back at least twice within the window."""

    test: str
    device: str | None
    section: str | None
    flips: int
    runs: int


@dataclass(frozen=True)
class Trend:
    """Everything the chart and the PDF section show; series are aligned with ``run_ids``, oldest first."""

    days: int
    run_ids: tuple[str, ...]
    started: tuple[datetime, ...]
    durations: tuple[float, ...]
    device_rates: dict[str, tuple[float | None, ...]]
    section_rates: dict[str, tuple[float | None, ...]]
    latest: str | None
    previous: str | None
    regressions: tuple[Change, ...]
    newly_passing: tuple[Change, ...]
    flaky: tuple[Flaky, ...]


def pass_rate(results: Iterable[HistoryResult]) -> float | None:
    """Passed over passed, failed, errored and missing; skipped tests count neither way. None when none count."""
    counted = [r for r in results if r.outcome == Outcome.PASSED.value or r.outcome in BAD_OUTCOMES]
    if not counted:
        return None
    return sum(r.outcome == Outcome.PASSED.value for r in counted) / len(counted)


def section_sort_key(section: str) -> tuple[int, tuple[int, ...], str]:
    """Sections in the guide's order: §2 before §10; names without a number last."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", section))
    return (0 if numbers else 1), numbers, section


def pass_rates_by(history: History, key: Callable[[HistoryResult], str],
                  sort_key: Callable[[str], Any] = str) -> dict[str, tuple[float | None, ...]]:
    """Pass rate per group and run; a group absent from a run has None there."""
    groups = sorted({key(r) for run in history.runs for r in run.results}, key=sort_key)
    rates: dict[str, tuple[float | None, ...]] = {}
    for group in groups:
        rates[group] = tuple(pass_rate(r for r in run.results if key(r) == group) for run in history.runs)
    return rates


def device_pass_rates(history: History) -> dict[str, tuple[float | None, ...]]:
    return pass_rates_by(history, lambda r: r.device or LAB_WIDE)


def section_pass_rates(history: History) -> dict[str, tuple[float | None, ...]]:
    return pass_rates_by(history, lambda r: r.section or NO_SECTION, sort_key=section_sort_key)


def changes_since(previous: HistoryRun | None,
                  latest: HistoryRun) -> tuple[tuple[Change, ...], tuple[Change, ...]]:
    """(regressions, newly passing) of ``latest`` against ``previous``; regressions by class, then section."""
    if previous is None:
        return (), ()
    before = {r.key: r for r in previous.results}
    regressions: list[Change] = []
    fixed: list[Change] = []
    for result in latest.results:
        earlier = before.get(result.key)
        was = earlier.outcome if earlier else None
        if result.outcome in BAD_OUTCOMES and was not in BAD_OUTCOMES:
            regressions.append(Change(test=result.test, device=result.device, section=result.section, before=was,
                                      after=result.outcome, failure_class=result.failure_class))
        elif earlier is not None and result.outcome == Outcome.PASSED.value and was in BAD_OUTCOMES:
            fixed.append(Change(test=result.test, device=result.device, section=result.section, before=was,
                                after=result.outcome, failure_class=earlier.failure_class))
    regressions.sort(key=lambda c: (_class_rank(c), *_place(c)))
    fixed.sort(key=_place)
    return tuple(regressions), tuple(fixed)


def flaky_tests(history: History, min_flips: int = 2) -> tuple[Flaky, ...]:
    """Tests whose outcome flipped between pass and fail at least ``min_flips`` times, most flips first."""
    series: dict[tuple[str, str | None], list[HistoryResult]] = defaultdict(list)
    for run in history.runs:
        for result in run.results:
            if result.outcome == Outcome.PASSED.value or result.outcome in BAD_OUTCOMES:
                series[result.key].append(result)
    flaky = []
    for (test, device), results in series.items():
        passes = [r.outcome == Outcome.PASSED.value for r in results]
        flips = sum(a != b for a, b in pairwise(passes))
        if flips >= min_flips:
            flaky.append(Flaky(test=test, device=device, section=results[-1].section, flips=flips,
                               runs=len(results)))
    flaky.sort(key=lambda f: (-f.flips, *_place(f)))
    return tuple(flaky)


def compute_trend(history: History) -> Trend:
    """The trend of a history; the latest run is compared with the one before it."""
    runs = history.runs
    latest = runs[-1] if runs else None
    previous = runs[-2] if len(runs) > 1 else None
    regressions, fixed = changes_since(previous, latest) if latest else ((), ())
    return Trend(
        days=history.days,
        run_ids=tuple(run.run_id for run in runs),
        started=tuple(run.started for run in runs),
        durations=tuple(run.duration for run in runs),
        device_rates=device_pass_rates(history),
        section_rates=section_pass_rates(history),
        latest=latest.run_id if latest else None,
        previous=previous.run_id if previous else None,
        regressions=regressions,
        newly_passing=fixed,
        flaky=flaky_tests(history),
    )


def load_trend(history_url: str | None, days: int, reports_dir: Path = DEFAULT_REPORTS_DIR,
               now: datetime | None = None) -> Trend:
    """The trend of the runs started in the last ``days`` days."""
    return compute_trend(load_history(history_url, days, reports_dir=reports_dir, now=now))


def write_trend(history_url: str | None, days: int, out_dir: Path, reports_dir: Path = DEFAULT_REPORTS_DIR,
                now: datetime | None = None) -> Path:
    """Render the trend of the last ``days`` days as ``out_dir/trend.png``; returns its path."""
    # Imported here so that computing a trend (and every CLI start) does not pay for importing matplotlib.
    from harness.reporting.trend_chart import render_trend_chart

    return render_trend_chart(load_trend(history_url, days, reports_dir, now), out_dir / TREND_PNG)


def trend_flowables(history_url: str | None, days: int, out_dir: Path, reports_dir: Path = DEFAULT_REPORTS_DIR,
                    now: datetime | None = None, styles: Any = None) -> list[Any]:
    """The trend as reportlab flowables for the PDF: regressions first, then newly passing, then the chart.

    The chart is written to ``out_dir/trend.png``; ``styles`` is the PDF's stylesheet (default: reportlab's).
    """
    from harness.reporting.trend_chart import render_trend_chart
    from harness.reporting.trend_section import trend_section

    trend = load_trend(history_url, days, reports_dir, now)
    chart = render_trend_chart(trend, out_dir / TREND_PNG)
    return trend_section(trend, chart, styles)


def _class_rank(change: Change) -> int:
    key = MISSING if change.after == MISSING else change.failure_class
    return CLASS_ORDER.index(key) if key in CLASS_ORDER else len(CLASS_ORDER)


def _place(item: Change | Flaky) -> tuple[tuple[int, tuple[int, ...], str], str, str]:
    return section_sort_key(item.section or NO_SECTION), item.device or "", item.test
