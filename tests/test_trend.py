"""The nightly trend from a history of four runs with regressions: what changed, pass rates, the PNG chart and
the PDF section."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from history_support import (
    DEVICE_DEFECT,
    E361,
    ET,
    FAX,
    HARNESS_ERROR,
    LAB_INFRA,
    NOW,
    SIGN_IN,
    STATUS_SHEET,
    WF,
    four_nights,
)
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

from harness.reporting.history import MISSING, append_run
from harness.reporting.trend import TREND_PNG, Trend, load_trend, trend_flowables, write_trend


@pytest.fixture
def history(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    for record in four_nights():
        append_run(record, url)
    return url


@pytest.fixture
def trend(history: str) -> Trend:
    return load_trend(history, days=30, now=NOW)


def test_regressions_since_the_previous_run_come_device_defects_first(trend: Trend) -> None:
    assert (trend.latest, trend.previous) == ("night-4", "night-3")
    assert [(c.test, c.device, c.before, c.after, c.failure_class) for c in trend.regressions] == [
        (SIGN_IN, ET, "passed", "failed", DEVICE_DEFECT),
        (E361, ET, "passed", MISSING, None),
        (STATUS_SHEET, WF, "passed", "failed", LAB_INFRA),
    ]
    assert [(c.test, c.device, c.before, c.after, c.failure_class) for c in trend.newly_passing] == [
        (STATUS_SHEET, ET, "failed", "passed", HARNESS_ERROR)]


def test_pass_rates_per_device_and_section_leave_skipped_tests_out_and_count_missing_ones(trend: Trend) -> None:
    assert trend.device_rates == {ET: (1.0, 1.0, 2 / 3, 1 / 3), WF: (3 / 4, 3 / 4, 1.0, 3 / 4)}
    assert list(trend.section_rates) == ["§3", "§4", "§5", "§7"]
    assert trend.section_rates["§3"] == (1.0, 1.0, 1.0, 0.5)
    assert trend.section_rates["§4"] == (1.0, 1.0, 0.5, 0.5)
    assert trend.section_rates["§5"] == (1.0, 0.0, 1.0, 1.0)  # et-5850 has no fax: skipped, not counted
    assert trend.section_rates["§7"] == (0.5, 1.0, 1.0, 0.5)
    assert trend.durations == (18 * 60, 19 * 60, 21 * 60, 25 * 60)


def test_flaky_tests_flip_at_least_twice(trend: Trend) -> None:
    assert [(f.test, f.device, f.flips, f.runs) for f in trend.flaky] == [(STATUS_SHEET, ET, 2, 4), (FAX, WF, 2, 4)]


def test_the_window_decides_what_the_previous_run_is(history: str) -> None:
    two = load_trend(history, days=2, now=NOW)
    assert two.run_ids == ("night-3", "night-4")
    assert two.flaky == ()
    assert [c.test for c in two.regressions] == [SIGN_IN, E361, STATUS_SHEET]

    one = load_trend(history, days=1, now=NOW)
    assert (one.run_ids, one.previous, one.regressions, one.newly_passing) == (("night-4",), None, (), ())


def test_night_two_against_night_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    for record in four_nights()[:2]:
        append_run(record, url)
    trend = load_trend(url, days=30, now=NOW)
    assert [(c.test, c.device) for c in trend.regressions] == [(FAX, WF)]
    assert [(c.test, c.device) for c in trend.newly_passing] == [(E361, WF)]


def _is_png(path: Path) -> tuple[int, int]:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        return image.size


def test_write_trend_renders_a_real_png(history: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = write_trend(history, 30, out, now=NOW)
    assert path == out / TREND_PNG
    width, height = _is_png(path)
    assert 800 <= width <= 2000 and 600 <= height <= 2000
    assert 20_000 < path.stat().st_size < 1_000_000
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # lines, bars, text: not a blank canvas


def test_an_empty_window_still_renders_a_chart_that_says_so(history: str, tmp_path: Path) -> None:
    path = write_trend(history, 1, tmp_path, now=NOW.replace(year=2027))
    _is_png(path)
    assert load_trend(history, 1, now=NOW.replace(year=2027)).run_ids == ()


def _pdf_text(flowables: list, path: Path) -> str:
    SimpleDocTemplate(str(path), pagesize=A4).build(flowables)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_flowables_render_the_regressions_first_into_a_pdf(history: str, tmp_path: Path) -> None:
    flowables = trend_flowables(history, 30, tmp_path, now=NOW)
    assert (tmp_path / TREND_PNG).is_file()
    text = _pdf_text(flowables, tmp_path / "trend.pdf")

    regressions = text.index("Regressions since the previous run")
    fixed = text.index("Newly passing since the previous run")
    assert text.index("Nightly trend") < regressions < fixed
    first_row = next(line for line in text[regressions:].splitlines() if "test_sign_in" in line)
    assert first_row.split() == ["§3", "test_sign_in", ET, "passed", "failed", "device", "defect"]
    rows = text[regressions:fixed]
    assert rows.index("test_sign_in") < rows.index("test_361") < rows.index("test_status_sheet")
    assert "lab infrastructure" in rows and re.search(r"missing\s+not run: a gap", rows)
    fixed_row = next(line for line in text[fixed:].splitlines() if "test_status_sheet" in line)
    assert fixed_row.split() == ["§4", "test_status_sheet", ET, "failed", "passed", "harness", "error"]
    assert "night-4" in text and "night-3" in text

    listing = subprocess.run(["pdfimages", "-list", str(tmp_path / "trend.pdf")], check=True, capture_output=True,
                             text=True).stdout.splitlines()[2:]
    assert [line.split()[3:5] for line in listing if line.split()[2] == "image"] == [["1100", "990"]]  # the chart


def test_flowables_for_a_single_run_say_there_is_nothing_to_compare(history: str, tmp_path: Path) -> None:
    text = _pdf_text(trend_flowables(history, 1, tmp_path, now=NOW), tmp_path / "one.pdf")
    assert text.count("No previous run to compare with.") == 2
