"""The run history: append run records to SQLite (and to a real PostgreSQL server when one is installed), load
a window of days back."""

from __future__ import annotations

import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from history_support import E361, ET, FAX, NOW, SIGN_IN, WF, four_nights, run_record

from harness.reporting.history import HISTORY_NAME, MISSING, append_run, history_url, load_history


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'h.sqlite'}"


def test_a_run_keeps_its_counts_and_every_result_with_missing_tests_as_missing(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    night4 = four_nights()[3]
    append_run(night4, url)

    [run] = load_history(url, days=7, now=NOW).runs
    assert (run.run_id, run.passed, run.failed, run.errors, run.skipped, run.missing) == ("night-4", 4, 2, 0, 1, 1)
    assert run.duration == 25 * 60
    assert (run.git_revision, run.host, run.tier) == ("0123abcd", "ci-1", "builtin")
    outcomes = {r.key: r.outcome for r in run.results}
    assert len(outcomes) == 8
    assert outcomes[(E361, ET)] == MISSING
    assert outcomes[(FAX, ET)] == "skipped"
    assert outcomes[(SIGN_IN, ET)] == "failed"
    failed = next(r for r in run.results if r.key == (SIGN_IN, ET))
    assert (failed.section, failed.failure_class, failed.duration) == ("§3", "device defect", 12.5)


def test_appending_a_run_again_replaces_it(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    night1 = four_nights()[0]
    append_run(night1, url)
    append_run(night1, url)
    [run] = load_history(url, days=7, now=NOW).runs
    assert len(run.results) == 8

    rerun = run_record("night-1", night1.started, {(SIGN_IN, WF): "harness error"})
    append_run(rerun, url)
    [run] = load_history(url, days=7, now=NOW).runs
    assert len(run.results) == 8
    assert (run.passed, run.failed) == (6, 1)
    assert next(r for r in run.results if r.outcome == "failed").key == (SIGN_IN, WF)


def test_days_window_counts_back_from_now_and_runs_come_oldest_first(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    nights = four_nights()
    for record in random.Random(6).sample(nights, len(nights)):
        append_run(record, url)

    def ids(days: int) -> list[str]:
        return [run.run_id for run in load_history(url, days=days, now=NOW).runs]

    assert ids(1) == ["night-4"]
    assert ids(2) == ["night-3", "night-4"]
    assert ids(30) == ["night-1", "night-2", "night-3", "night-4"]
    assert load_history(url, days=30, now=NOW + timedelta(days=100)).runs == ()


def test_start_times_in_any_zone_are_kept_as_utc(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    tokyo = timezone(timedelta(hours=9))
    record = run_record("tokyo", NOW.astimezone(tokyo) - timedelta(hours=1))
    append_run(record, url)
    [run] = load_history(url, days=1, now=NOW).runs
    assert run.started == NOW - timedelta(hours=1)
    assert run.started.utcoffset() == timedelta(0)


def test_default_store_is_history_sqlite_in_the_reports_dir(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    append_run(four_nights()[0], reports_dir=reports)
    assert (reports / HISTORY_NAME).is_file()
    assert history_url(None, reports) == f"sqlite:///{(reports / HISTORY_NAME).resolve()}"
    assert [r.run_id for r in load_history(None, days=30, reports_dir=reports, now=NOW).runs] == ["night-1"]
    assert history_url("postgresql+psycopg://lab@db/hil", reports) == "postgresql+psycopg://lab@db/hil"


def test_messages_never_reach_the_history(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    record = run_record("night-x", NOW, {(SIGN_IN, ET): "device defect"})
    leaky = record.tests[0].model_copy(update={"message": "refresh_token=M.C5xyzzy", "longrepr": "Bearer eyJ0e"})
    append_run(record.model_copy(update={"tests": [leaky, *record.tests[1:]]}), url)
    stored = (tmp_path / "h.sqlite").read_bytes()
    assert b"M.C5xyzzy" not in stored and b"eyJ0e" not in stored
    assert SIGN_IN.encode() in stored


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL server on 127.0.0.1 (as the postgres user when run as root); skips without one."""
    pytest.importorskip("psycopg", reason="psycopg (the PostgreSQL driver) is not installed")
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql to run this test")
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the PostgreSQL server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = Path(tempfile.mkdtemp(prefix="hil-pg-"))
    if as_user:
        shutil.chown(data, "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db")]
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "hil", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], **run)
        subprocess.run([*pg_ctl, "-o", f"-h 127.0.0.1 -p {port} -k {data} -c fsync=off", "-l", str(data / "log"),
                        "-w", "start"], **run)
        yield f"postgresql+psycopg://hil@127.0.0.1:{port}/postgres"
    finally:
        if (data / "db" / "postmaster.pid").exists():
            subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], **run)
        shutil.rmtree(data, ignore_errors=True)


def test_the_same_schema_works_on_postgresql(postgres_url: str) -> None:
    for record in four_nights():
        append_run(record, postgres_url)
    append_run(four_nights()[3], postgres_url)

    runs = load_history(postgres_url, days=2, now=NOW).runs
    assert [run.run_id for run in runs] == ["night-3", "night-4"]
    night4 = runs[-1]
    assert (night4.passed, night4.failed, night4.skipped, night4.missing) == (4, 2, 1, 1)
    assert night4.started == four_nights()[3].started
    assert {r.key: r.outcome for r in night4.results}[(E361, ET)] == MISSING
    assert len(load_history(postgres_url, days=30, now=NOW).runs) == 4
