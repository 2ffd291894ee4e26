"""The run record as pytest runs write it: outcomes, failure classes, attempts, gaps, evidence, xdist, devices."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.reporting.record import Outcome, RunRecord, load_record

pytest_plugins = ["pytester"]

# Two virtual devices; no test here asks for the lab, so none is started (only device_name is used).
INVENTORY = """
msft:
  kind: builtin
  tenant: {}
devices:
  - name: mfp-c5790
    model: WF-C5790
  - name: a3-am-c4000
    model: AM-C4000
"""

SUITE = '''
import pytest
from harness.device.errors import InfraError
from harness.device.webconfig.errors import WebConfigRefused
from harness.reporting import evidence
from harness.reporting.record import AttachmentKind
from harness.reporting.redaction import register_secret

pytestmark = pytest.mark.guide("§3")
SECRET = "worker-only-Secret-4711"
ATTEMPTS = {}


def test_pass(device_name):
    """The device
    signs in.

    More words that are not the title.
    """
    register_secret(SECRET)
    evidence.measure("sign-in time", 2.5, "s")
    evidence.attach("transcript", f"AUTH XOAUTH2 as {device_name}; password {SECRET}", AttachmentKind.LOG,
                    media_type="text/plain", extension="txt")
    print(f"stdout carries {SECRET}")


def test_refused(device_name):
    """Web Config refuses."""
    raise WebConfigRefused(["Setting failed.", "Check the SMTP server."], page="Email Server > Basic")


def test_leaky_assertion(device_name):
    register_secret(SECRET)
    assert SECRET == "something else"


def test_flaky_infra(device_name):
    ATTEMPTS[device_name] = ATTEMPTS.get(device_name, 0) + 1
    if ATTEMPTS[device_name] == 1:
        raise InfraError("the lab switch dropped the link")


def test_not_run_for_preflight(device_name):
    pytest.skip("pre-flight identity check failed, device not tested: serial differs")


@pytest.mark.requires("serverless")
def test_serverless_only(device_name):
    pass


def test_deselected(device_name):
    pass


@pytest.fixture
def broken():
    raise KeyError("a harness bug in a fixture")


def test_setup_error(device_name, broken):
    pass


def test_lab_wide():
    pass
'''

CLAIMS = """
claims:
  - id: s3-sign-in
    section: "§3"
    text: Sign in with the code.
    tests: [test_suite.py::test_pass, test_suite.py::test_refused]
"""


def run_suite(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, RunRecord, Path]:
    inventory = pytester.makefile(".yaml", inventory=INVENTORY)
    pytester.makepyfile(test_suite=SUITE)
    (pytester.path / "suites").mkdir(exist_ok=True)
    (pytester.path / "suites" / "guide-claims.yaml").write_text(CLAIMS)
    report_dir = pytester.path / "reports" / "run-1"
    result = pytester.runpytest_subprocess("--inventory", str(inventory), "--report-dir", str(report_dir),
                                           "--run-id", "run-1", f"--junitxml={report_dir / 'junit.xml'}",
                                           "-p", "no:cacheprovider", "-k", "not deselected", *args)
    return result, load_record(report_dir), report_dir


def by_key(record: RunRecord) -> dict[tuple[str, str | None], object]:
    return {(t.test.split("::")[1], t.device): t for t in record.tests}


def assert_no_secret_under(report_dir: Path, secret: str) -> None:
    for path in report_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_the_record_of_a_run_on_one_device(pytester: pytest.Pytester) -> None:
    result, record, report_dir = run_suite(pytester, "--device", "mfp-c5790")
    result.assert_outcomes(passed=4, failed=2, skipped=1, errors=1, deselected=1)
    tests = by_key(record)
    dev = "mfp-c5790"

    ok = tests[("test_pass", dev)]
    assert (ok.outcome, ok.section, ok.title, ok.claims) == (Outcome.PASSED, "§3", "The device signs in.",
                                                             ["s3-sign-in"])
    assert [(m.name, m.value, m.high, m.passed) for m in ok.measurements] == [("sign-in time", 2.5, 120, True)]
    [attachment] = ok.attachments
    kept = report_dir / attachment.path
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == attachment.sha256 and attachment.size == kept.stat().st_size
    assert "password [redacted]" in kept.read_text()

    refused = tests[("test_refused", dev)]
    assert (refused.outcome, refused.failure_class, refused.phase) == (Outcome.FAILED, "device defect", "call")
    assert refused.device_words == "Setting failed. | Check the SMTP server."
    assert "Setting failed." in (refused.message or "") and "WebConfigRefused" in (refused.longrepr or "")

    flaky = tests[("test_flaky_infra", dev)]
    assert flaky.outcome is Outcome.PASSED
    assert [(a.outcome, a.failure_class) for a in flaky.attempts] == [
        (Outcome.FAILED, "lab infrastructure"), (Outcome.PASSED, None)]

    error = tests[("test_setup_error", dev)]
    assert (error.outcome, error.phase, error.failure_class) == (Outcome.ERROR, "setup", "harness error")
    preflight = tests[("test_not_run_for_preflight", dev)]
    assert preflight.outcome is Outcome.SKIPPED and preflight.attempts == []
    assert (preflight.skip_reason or "").startswith("pre-flight identity check failed")
    lab_wide = tests[("test_lab_wide", None)]
    assert lab_wide.outcome is Outcome.PASSED and lab_wide.section == "§3"

    # Expected: the device's capabilities decide, not -k; --device chose the run's scope (one device).
    expected = {(e.test.split("::")[1], e.device) for e in record.expected}
    assert {e.device for e in record.expected} == {dev} and ("test_serverless_only", dev) not in expected
    assert ("test_lab_wide", None) not in expected and ("test_not_run_for_preflight", dev) in expected
    missing = {(e.test.split("::")[1], e.device) for e in record.missing()}
    assert missing == {("test_deselected", dev)}

    assert record.run_id == "run-1" and record.tier == "builtin" and record.exit_status == 1
    assert [d.name for d in record.devices] == [dev]
    assert [c.id for c in record.claims] == ["s3-sign-in"]
    junit = (report_dir / "junit.xml").read_text()
    assert "hil_record" not in junit and "failure_class" in junit
    assert_no_secret_under(report_dir, "worker-only-Secret-4711")


def test_xdist_workers_records_are_merged(pytester: pytest.Pytester) -> None:
    result, record, report_dir = run_suite(pytester, "-n", "2", "--dist", "loadgroup", "--infra-retries", "0")
    result.assert_outcomes(passed=5, failed=6, skipped=2, errors=2)  # workers deselect, unreported
    tests = by_key(record)
    for dev in ("mfp-c5790", "a3-am-c4000"):
        ok = tests[("test_pass", dev)]
        assert ok.measurements[0].name == "sign-in time" and ok.title == "The device signs in."
        assert (report_dir / ok.attachments[0].path).read_text().endswith(f"{dev}; password [redacted]")
        assert tests[("test_refused", dev)].device_words == "Setting failed. | Check the SMTP server."
        # the secret was registered in the worker only; the controller still removes it from the message
        leaky = tests[("test_leaky_assertion", dev)]
        assert leaky.failure_class == "device defect" and "[redacted]" in (leaky.message or "")
    assert ("test_serverless_only", "a3-am-c4000") in tests
    assert {(e.test.split("::")[1], e.device) for e in record.missing()} == {
        ("test_deselected", "mfp-c5790"), ("test_deselected", "a3-am-c4000")}
    assert_no_secret_under(report_dir, "worker-only-Secret-4711")


def test_no_report_dir_writes_no_record(pytester: pytest.Pytester) -> None:
    inventory = pytester.makefile(".yaml", inventory=INVENTORY)
    pytester.makepyfile(test_one="def test_one(device_name):\n    pass\n")
    result = pytester.runpytest_subprocess("--inventory", str(inventory), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert not list(pytester.path.rglob("run.json"))


def test_device_facts_come_from_the_lab_and_pre_flight(pytester: pytest.Pytester, inventory_path: Path) -> None:
    pytester.makepyfile(test_facts="def test_identity(device):\n    pass\n")
    report_dir = pytester.path / "out"
    result = pytester.runpytest_subprocess("--inventory", str(inventory_path), "--report-dir", str(report_dir),
                                           "--device", "scan-ds790", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    record = load_record(report_dir)
    scanner = next(d for d in record.devices if d.name == "scan-ds790")
    assert (scanner.kind, scanner.model) == ("virtual", "DS-790WN")
    assert scanner.serial and scanner.mac and scanner.firmware and scanner.address
    assert "scan_to_email" in scanner.capabilities and "virtual_clock" not in scanner.capabilities
    assert [d.name for d in record.devices] == ["scan-ds790"]  # --device: the others are not under test
    admin_password = scanner.serial  # a virtual device's default admin password is its (public) serial
    assert admin_password in (report_dir / "run.json").read_text()


def test_epson_hil_run_asks_for_the_record_and_appends_it_to_the_history(tmp_path: Path) -> None:
    import argparse
    from datetime import UTC, datetime

    from harness.cli.run import pytest_arguments, record_history
    from harness.reporting.collector import write_record

    args = argparse.Namespace(suites=Path("suites"), inventory=Path("inv.yaml"), device=[], workers=2, pytest_args=[])
    argv = pytest_arguments(args, "r1", tmp_path / "r1")
    assert argv[argv.index("--report-dir") + 1] == str(tmp_path / "r1")
    assert "--trace-snapshots" not in argv
    args.trace_snapshots = True
    assert "--trace-snapshots" in pytest_arguments(args, "r1", tmp_path / "r1")
    out = tmp_path / "r1"
    assert record_history(out, tmp_path, None) is None  # no record, nothing appended
    out.mkdir()
    write_record(RunRecord(run_id="r1", started=datetime.now(UTC), harness_version="0", inventory_path="inv.yaml",
                           inventory_digest="0" * 64, tier="builtin"), out)
    assert (out / "run.json").stat().st_mode & 0o777 == 0o644  # readable like the rest of the report, not 0600
    url = record_history(out, tmp_path, None)
    assert url is not None and url.endswith("history.sqlite") and (tmp_path / "history.sqlite").is_file()


SAID_SUITE = '''
from harness.device.errors import InfraError
from harness.reporting import evidence


def test_asserts_on_what_the_panel_showed(device_name):
    evidence.said("Web Config CA Certificate", ["Setup complete."])
    evidence.said("the panel", ["Sending complete.", "", "Result : Succeeded"])
    evidence.said("Web Config Connection Test", ["Connection test failed."])
    evidence.said("Web Config Connection Test", ["Connection test was successful."])
    try:
        assert False, "the send should have failed with 360"
    finally:  # clean-up reads the device after the failing reading
        evidence.said("Web Config CA Certificate", ["Setup complete."])


def test_lab_failure_after_the_device_spoke(device_name):
    evidence.said("the panel", ["Sending complete."])
    raise InfraError("the lab switch dropped the link")


def test_nothing_shown_in_this_test(device_name):
    assert False
'''


def test_a_device_defect_quotes_what_the_device_showed_last(pytester: pytest.Pytester) -> None:
    """Suites assert on values the harness read; the device's words come from that reading, in that test only."""
    inventory = pytester.makefile(".yaml", inventory=INVENTORY)
    pytester.makepyfile(test_said=SAID_SUITE)
    report_dir = pytester.path / "reports" / "run-1"
    result = pytester.runpytest_subprocess("--inventory", str(inventory), "--report-dir", str(report_dir),
                                           "--device", "mfp-c5790", "--infra-retries", "0", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    tests = {t.test.split("::")[1]: t for t in load_record(report_dir).tests}
    assert tests["test_asserts_on_what_the_panel_showed"].device_words == \
        "Web Config CA Certificate showed: Setup complete.\nWeb Config Connection Test showed: Connection test was " \
        "successful.\nthe panel showed: Sending complete. | Result : Succeeded"
    assert tests["test_lab_failure_after_the_device_spoke"].device_words is None  # the lab failed, not the device
    assert tests["test_nothing_shown_in_this_test"].device_words is None
