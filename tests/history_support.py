"""Run records for history and trend tests: four nightly runs of three suite tests on two devices.

Night 4 against night 3: ``test_sign_in`` fails on et-5850 (device defect), ``test_status_sheet`` fails on
wf-c879r (lab infrastructure), ``test_361`` did not run on et-5850 (missing) — three regressions;
``test_status_sheet`` on et-5850 passes again after a harness error — newly passing. ``test_fax`` is skipped on
et-5850 (no fax capability) every night and flips pass/fail/pass on wf-c879r (flaky).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.reporting.record import DeviceRecord, ExpectedTest, Outcome, RunRecord, TestRecord

ET, WF = "et-5850", "wf-c879r"
SIGN_IN = "suites/test_s3_setup.py::test_sign_in"
STATUS_SHEET = "suites/test_s4_status.py::test_status_sheet"
FAX = "suites/test_s5_fax_server.py::test_fax"
E361 = "suites/test_s7_error_codes.py::test_361"
SECTIONS = {SIGN_IN: "§3", STATUS_SHEET: "§4", FAX: "§5", E361: "§7"}
FIRST_NIGHT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
#: Noon after the fourth night: ``days=1`` keeps night 4 only, ``days=2`` nights 3 and 4.
NOW = FIRST_NIGHT + timedelta(days=3, hours=10)

DEVICE_DEFECT, HARNESS_ERROR, LAB_INFRA = "device defect", "harness error", "lab infrastructure"


def run_record(run_id: str, started: datetime, failures: dict[tuple[str, str], str] | None = None,
               missing: frozenset[tuple[str, str]] = frozenset(), minutes: float = 20.0) -> RunRecord:
    """Every test on both devices passes (fax skipped on et-5850) but ``failures`` ((test, device) -> class)
    and ``missing`` (expected, no result)."""
    failures = failures or {}
    tests, expected = [], []
    for device in (ET, WF):
        for test, section in SECTIONS.items():
            expected.append(ExpectedTest(test=test, device=device, section=section))
            if (test, device) in missing:
                continue
            failure = failures.get((test, device))
            if test == FAX and device == ET:
                outcome, reason = Outcome.SKIPPED, "requires fax-server"
            else:
                outcome, reason = (Outcome.FAILED if failure else Outcome.PASSED), None
            tests.append(TestRecord(nodeid=f"{test}[{device}]", test=test, device=device, section=section,
                                    outcome=outcome, skip_reason=reason, failure_class=failure,
                                    message="assert False" if failure else None, duration=12.5, started=started))
    return RunRecord(
        run_id=run_id, started=started, finished=started + timedelta(minutes=minutes), harness_version="0.1.0",
        git_revision="0123abcd", host="ci-1", inventory_path="fixtures/virtual-lab.yaml", inventory_digest="0" * 64,
        tier="builtin",
        devices=[DeviceRecord(name=ET, model="ET-5850", kind="virtual"),
                 DeviceRecord(name=WF, model="WF-C879R", kind="virtual", capabilities=["fax-server"])],
        tests=tests, expected=expected,
    )


def four_nights() -> list[RunRecord]:
    """The four nightly runs described above, oldest first."""
    night = [FIRST_NIGHT + timedelta(days=n) for n in range(4)]
    return [
        run_record("night-1", night[0], {(E361, WF): DEVICE_DEFECT}, minutes=18),
        run_record("night-2", night[1], {(FAX, WF): DEVICE_DEFECT}, minutes=19),
        run_record("night-3", night[2], {(STATUS_SHEET, ET): HARNESS_ERROR}, minutes=21),
        run_record("night-4", night[3], {(SIGN_IN, ET): DEVICE_DEFECT, (STATUS_SHEET, WF): LAB_INFRA},
                   missing=frozenset({(E361, ET)}), minutes=25),
    ]
