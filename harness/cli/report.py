"""``epson-hil report``: the PDF sign-off (and Allure HTML) of a run, or the nightly trend chart."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.cli.run import DEFAULT_OUT

TREND = "trend"
DEFAULT_DAYS = 30


def register(sub: Any) -> None:
    report = sub.add_parser(
        "report", help="write a run's PDF sign-off report (or, as `report trend`, the nightly trend chart)",
        description="epson-hil report [RUN_DIR] writes RUN_DIR/signoff.pdf from RUN_DIR/run.json; "
                    "epson-hil report trend writes the trend chart of the history.")
    report.add_argument("run_dir", nargs="?", metavar="RUN_DIR",
                        help=f"a run's directory (default: the newest under {DEFAULT_OUT}/ with a run.json); "
                             f"`{TREND}` renders the trend instead (a directory named so: ./{TREND})")
    report.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"where runs are (default: {DEFAULT_OUT}); the trend chart is written here")
    report.add_argument("--html", action="store_true", help="also render the Allure HTML report")
    report.add_argument("--history", metavar="URL",
                        help="history database URL (SQLAlchemy; default: history.sqlite beside the runs); "
                             "with a run, the PDF gets the trend section when a history exists")
    report.add_argument("--days", type=int, default=DEFAULT_DAYS, metavar="N",
                        help=f"with `{TREND}`: the last N days (default: {DEFAULT_DAYS})")
    report.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    if args.run_dir == TREND:
        return _trend(args)
    run_dir = Path(args.run_dir) if args.run_dir else newest_run(args.out)
    if run_dir is None:
        return _fail(f"no run under {args.out}/ has a run.json; run `epson-hil run` first or name RUN_DIR")
    from harness.reporting.fonts import FontsMissing
    from harness.reporting.record import RECORD_NAME
    from harness.reporting.signoff import write_signoff

    if not (run_dir / RECORD_NAME).is_file():
        return _fail(f"{run_dir}: no {RECORD_NAME} here (is it a run directory?)")
    try:
        print(write_signoff(run_dir, history_url=args.history or local_history(run_dir.parent)))
    except ValidationError as exc:
        return _fail(f"{run_dir / RECORD_NAME} is not a valid run record:\n{_errors(exc)}")
    except ValueError as exc:  # not JSON at all
        return _fail(f"{run_dir / RECORD_NAME} cannot be read: {exc}")
    except FontsMissing as exc:
        return _fail(str(exc))
    if args.html:
        return _html(run_dir)
    return 0


def local_history(reports_dir: Path) -> str | None:
    """The history beside the run (``reports/history.sqlite``, where ``epson-hil run`` appends), if there is one."""
    from harness.reporting.history import HISTORY_NAME, history_url

    return history_url(None, reports_dir) if (reports_dir / HISTORY_NAME).is_file() else None


def newest_run(out: Path) -> Path | None:
    """The run directory under ``out`` whose run.json was written last."""
    records = [p for p in out.glob("*/run.json") if p.is_file()] if out.is_dir() else []
    return max(records, key=lambda p: p.stat().st_mtime).parent if records else None


def _html(run_dir: Path) -> int:
    try:
        from harness.reporting.allure_html import AllureHtmlError, render_html
    except ImportError as exc:
        return _fail(f"the Allure HTML report is not available in this harness ({exc})")
    try:
        print(render_html(run_dir))
    except AllureHtmlError as exc:
        return _fail(str(exc))
    return 0


def _trend(args: argparse.Namespace) -> int:
    if args.days <= 0:
        return _fail("--days must be positive")
    try:
        from harness.reporting.trend import write_trend
    except ImportError as exc:
        return _fail(f"the trend is not available in this harness ({exc})")
    args.out.mkdir(parents=True, exist_ok=True)
    print(write_trend(args.history, args.days, args.out, reports_dir=args.out))
    return 0


def _errors(exc: ValidationError) -> str:
    return "\n".join(f"  {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors())


def _fail(message: str) -> int:
    print(f"epson-hil report: {message}", file=sys.stderr)
    return 2
