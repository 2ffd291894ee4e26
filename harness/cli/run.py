"""``epson-hil run``: the suites against a lab, with progress per device, JUnit and Allure results."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.lab.defaults import DEFAULT_INVENTORY

DEFAULT_SUITES = Path("suites")
DEFAULT_OUT = Path("reports")
#: Exit status of a run whose tests passed but whose verdict is NOT READY, with --require-ready.
NOT_READY = 3


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run the suites against the lab (default: the virtual lab)")
    run.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY, metavar="FILE",
                     help=f"lab inventory (default: {DEFAULT_INVENTORY}, started and stopped by the run)")
    run.add_argument("--device", action="append", default=[], metavar="NAME", help="only this device (repeatable)")
    run.add_argument("-n", "--workers", type=int, default=0, metavar="N",
                     help="parallel workers, one device at a time each (pytest-xdist; default: serial)")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                     help="results go to DIR/<run-id>/ (default: reports)")
    run.add_argument("--suites", type=Path, default=DEFAULT_SUITES, metavar="DIR", help="the suites (default: suites)")
    run.add_argument("--run-id", metavar="ID", help="this run's id (default: UTC time and a random suffix)")
    run.add_argument("--history", "--history-url", dest="history", metavar="URL",
                     help="history database (SQLAlchemy URL, e.g. a lab's shared PostgreSQL; "
                          "default: sqlite DIR/history.sqlite of --out)")
    run.add_argument("--require-ready", action="store_true",
                     help="exit 3 when the verdict is NOT READY though no test failed (gaps, a -k selection): "
                          "for release gates, where only a complete run may pass")
    run.add_argument("--trace-snapshots", action="store_true",
                     help="record DOM snapshots in the Playwright traces of failed tests (about 15%% more CPU; "
                          "a failure keeps its pages' screenshots and HTML either way)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="-- PYTEST ARGS",
                     help="anything after -- goes to pytest unchanged")
    run.set_defaults(func=run_suites)


#: Plugins installed for the harness's own tests that the suites never use. Hypothesis alone costs each test process
#: (every xdist worker, too) about 0.6 s of CPU to import.
UNUSED_PLUGINS = ("-p", "no:hypothesispytest")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def pytest_arguments(args: argparse.Namespace, run_id: str, out: Path) -> list[str]:
    """The pytest command line for one run."""
    argv = [str(args.suites), "--inventory", str(args.inventory), "--run-id", run_id, "--report-dir", str(out),
            f"--junitxml={out / 'junit.xml'}", f"--alluredir={out / 'allure-results'}",
            "-o", "junit_family=xunit2", "-q", "--no-header", "-p", "no:cacheprovider", *UNUSED_PLUGINS]
    for name in args.device:
        argv += ["--device", name]
    if args.workers > 0:
        argv += ["-n", str(args.workers), "--dist", "loadgroup"]
    if getattr(args, "trace_snapshots", False):
        argv.append("--trace-snapshots")
    extra = list(args.pytest_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    return argv + extra


def run_suites(args: argparse.Namespace) -> int:
    import pytest

    from harness.plugin.progress import DeviceProgress

    if not args.inventory.is_file():
        print(f"epson-hil run: --inventory: no such file: {args.inventory}", file=sys.stderr)
        return 2
    if not args.suites.is_dir():
        print(f"epson-hil run: --suites: no such directory: {args.suites}", file=sys.stderr)
        return 2
    run_id = args.run_id or new_run_id()
    out = args.out / run_id
    out.mkdir(parents=True, exist_ok=True)
    progress = DeviceProgress()
    print(f"epson-hil run {run_id}: suites {args.suites} against {args.inventory}; results in {out}", flush=True)
    code = pytest.main(pytest_arguments(args, run_id, out), plugins=[progress])
    print(f"\nrun {run_id}\n{progress.summary()}\nresults: {out}")
    history = record_history(out, args.out, args.history)
    ready = write_run_signoff(out, history)
    if code == pytest.ExitCode.OK and progress.ok:
        return NOT_READY if args.require_ready and not ready else 0
    return 1 if code in (pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.OK) else int(code)


def record_history(out: Path, reports_dir: Path, url: str | None) -> str | None:
    """Append the run's record to the history; the history's URL, or None when nothing was appended."""
    from harness.reporting.history import append_run, history_url
    from harness.reporting.record import RECORD_NAME, load_record

    if not (out / RECORD_NAME).is_file():
        return None
    try:
        append_run(load_record(out), url, reports_dir=reports_dir)
    except Exception as exc:  # the run's results stand; say why the history lacks it
        print(f"history: the run was not appended: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    return history_url(url, reports_dir)


def write_run_signoff(out: Path, history_url: str | None = None) -> bool:
    """The run's PDF sign-off and verdict, when the run left a record; whether the verdict is READY.

    A report that fails does not change the run's status; it counts as not ready.
    """
    from harness.reporting.record import RECORD_NAME, load_record
    from harness.reporting.signoff import write_signoff
    from harness.reporting.verdict import verdict

    if not (out / RECORD_NAME).is_file():
        print(f"no {RECORD_NAME} in {out}: no sign-off report", file=sys.stderr)
        return False
    try:
        print(f"sign-off: {write_signoff(out, history_url=history_url)}")
        found = verdict(load_record(out))
    except Exception as exc:  # the run's results stand; say why the report is missing
        print(f"sign-off report failed: {type(exc).__name__}: {exc} (retry with: epson-hil report {out})",
              file=sys.stderr)
        return False
    print("\n".join([f"verdict: {found.label}", *(f"  - {reason}" for reason in found.reasons)]))
    return found.ready
