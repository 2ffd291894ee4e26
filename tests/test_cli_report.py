"""``epson-hil report``: the sign-off of a named or the newest run, the trend chart, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from cli_support import epson_hil
from signoff_support import failing_run, passing_run, pdf_text, write_run

from harness.cli import main
from harness.cli.run import write_run_signoff
from harness.reporting.history import append_run


def test_the_console_script_writes_the_sign_off_of_the_named_run(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run-1", failing_run(tmp_path / "run-1"))
    done = subprocess.run(epson_hil("report", str(run_dir)), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run_dir / "signoff.pdf")
    assert "NOT READY" in pdf_text(run_dir / "signoff.pdf")


def test_without_a_run_dir_the_newest_run_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    older = write_run(tmp_path / "b-older", passing_run("older"))
    newer = write_run(tmp_path / "a-newer", passing_run("newer"))
    (tmp_path / "no-record").mkdir()
    os.utime(older / "run.json", (1_000_000, 1_000_000))
    os.utime(newer / "run.json", (2_000_000, 2_000_000))
    assert main(["report", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(newer / "signoff.pdf")
    assert not (older / "signoff.pdf").exists()
    assert "run newer" in pdf_text(newer / "signoff.pdf")


def test_no_run_at_all_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path / "empty")]) == 2
    assert "no run under" in capsys.readouterr().err


def test_a_directory_without_a_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert f"{tmp_path}: no run.json here" in capsys.readouterr().err


def test_an_invalid_record_names_the_bad_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(passing_run().model_dump_json())
    data["tier"] = None
    data["tests"][0]["outcome"] = "exploded"
    (tmp_path / "run.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a valid run record" in err and "  tier:" in err and "  tests.0.outcome:" in err
    assert not (tmp_path / "signoff.pdf").exists()


def test_a_record_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run.json").write_text("{ half a record", encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 2
    assert "is not a valid run record" in capsys.readouterr().err


def test_trend_writes_the_chart_of_the_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    append_run(passing_run("one"), url)
    assert main(["report", "trend", "--days", "36500", "--history", url, "--out", str(tmp_path)]) == 0
    png = Path(capsys.readouterr().out.strip())
    assert png.parent == tmp_path and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trend_needs_a_positive_number_of_days(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "trend", "--days", "0", "--out", str(tmp_path)]) == 2
    assert "--days must be positive" in capsys.readouterr().err


def test_a_run_ends_with_its_sign_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run_signoff(write_run(tmp_path, passing_run()))
    assert capsys.readouterr().out.strip() == f"sign-off: {tmp_path / 'signoff.pdf'}\nverdict: READY FOR SIGN-OFF"
    assert "READY FOR SIGN-OFF" in pdf_text(tmp_path / "signoff.pdf")


def test_a_run_without_a_record_says_there_is_no_sign_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run_signoff(tmp_path)
    assert f"no run.json in {tmp_path}: no sign-off report" in capsys.readouterr().err
    assert not (tmp_path / "signoff.pdf").exists()


def test_html_without_the_allure_command_line_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = write_run(tmp_path / "run-1", passing_run("html"))
    (run_dir / "allure-results").mkdir()
    (run_dir / "allure-results" / "0-result.json").write_text("{}")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert main(["report", str(run_dir), "--html"]) == 2
    err = capsys.readouterr().err
    assert "npm install -g allure" in err and "Traceback" not in err
    assert (run_dir / "signoff.pdf").is_file()


def test_the_run_prints_the_verdict_with_its_reasons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = write_run(tmp_path / "run-1", failing_run(tmp_path / "run-1"))
    write_run_signoff(run_dir)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "verdict: NOT READY"
    assert any(line.startswith("  - ") and "device defect" in line for line in lines[2:]), lines


def test_the_sign_off_of_a_run_has_the_trend_of_the_history_beside_it(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = write_run(tmp_path / "run-1", passing_run("beside"))
    assert main(["report", str(run_dir)]) == 0
    assert "Nightly trend" not in pdf_text(run_dir / "signoff.pdf")  # no history yet: no trend section
    append_run(passing_run("beside"), reports_dir=tmp_path)
    assert main(["report", str(run_dir)]) == 0
    assert "Nightly trend" in pdf_text(run_dir / "signoff.pdf")


def test_the_run_says_whether_the_verdict_is_ready(tmp_path: Path) -> None:
    assert write_run_signoff(write_run(tmp_path / "ok", passing_run())) is True
    assert write_run_signoff(write_run(tmp_path / "not", failing_run(tmp_path / "not"))) is False
    assert write_run_signoff(tmp_path / "no-record") is False


def test_require_ready_fails_a_run_whose_tests_passed_but_left_gaps(tmp_path: Path) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "test_tiny.py").write_text(
        "import pytest\n\n"
        "pytestmark = pytest.mark.guide('§3')\n\n"
        "def test_chosen(device_name):\n    pass\n\n"
        "def test_left_out(device_name):\n    pass\n")

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(epson_hil("run", "--suites", str(suites), "--device", "scan-ds790", "--out",
                                        str(tmp_path / "reports"), *extra, "--", "-k", "chosen"),
                              capture_output=True, text=True, check=False)

    lenient = run("--run-id", "lenient")
    assert lenient.returncode == 0, lenient.stdout[-3000:] + lenient.stderr[-2000:]
    assert "verdict: NOT READY" in lenient.stdout and "test_left_out on scan-ds790" in lenient.stdout
    gate = run("--run-id", "gate", "--require-ready")
    assert gate.returncode == 3, gate.stdout[-3000:] + gate.stderr[-2000:]
