"""The sign-off verdict and the matrix from run records: what makes a run READY, and every reason it is not."""

from __future__ import annotations

from signoff_support import E360, E370, FAX, SETUP, STATUS, passing_run, replace, result

from harness.reporting.record import Attempt, ExpectedTest, Outcome
from harness.reporting.verdict import LAB_ROW, Status, matrix, sections_of, verdict


def test_every_expected_test_passed_is_ready_even_with_a_capability_skip() -> None:
    record = passing_run()
    found = verdict(record)
    assert found.ready and found.reasons == [] and found.label == "READY FOR SIGN-OFF"
    m = matrix(record)
    assert m.cell("mfp-c5790", "§5").status is Status.SKIPPED
    assert m.cell("mfp-c5790", "§5").text == "skipped 1"
    assert m.cell("a3-am-c4000", "§7").text == "pass 2/2"
    assert m.cell("a3-am-c4000", "§6").status is Status.NONE  # §6 is named only by a claim


def test_an_expected_test_that_was_skipped_is_not_run() -> None:
    record = replace(passing_run(), FAX, "a3-am-c4000",
                     result(FAX, "a3-am-c4000", Outcome.SKIPPED, skip_reason="fax line busy"))
    found = verdict(record)
    assert not found.ready
    assert found.reasons == ["1 expected test not run: test_s5_fax_server_signs_in on a3-am-c4000"]
    assert matrix(record).cell("a3-am-c4000", "§5").text == "not run 1/1"


def test_a_missing_result_is_a_gap_not_a_pass() -> None:
    record = replace(replace(passing_run(), E360, "mfp-c5790", None), E370, "mfp-c5790", None)
    found = verdict(record)
    assert found.reasons == ["2 expected tests not run: "
                             "test_s7_360_no_connection_when_the_server_name_does_not_resolve on mfp-c5790, "
                             "test_s7_370_sign_in_again_after_the_grant_was_revoked on mfp-c5790"]
    assert matrix(record).cell("mfp-c5790", "§7").text == "not run 2/2"


def test_each_failure_class_is_its_own_reason_in_a_fixed_order() -> None:
    record = passing_run()
    record = replace(record, E370, "a3-am-c4000",
                     result(E370, "a3-am-c4000", Outcome.FAILED, failure_class="lab infrastructure"))
    record = replace(record, STATUS, "mfp-c5790",
                     result(STATUS, "mfp-c5790", Outcome.ERROR, failure_class="harness error", phase="setup"))
    record = replace(record, SETUP, "a3-am-c4000",
                     result(SETUP, "a3-am-c4000", Outcome.FAILED, failure_class="device defect"))
    record = replace(record, SETUP, "mfp-c5790", result(SETUP, "mfp-c5790", Outcome.FAILED))
    assert verdict(record).reasons == [
        "1 device defect: test_s3_sign_in_with_the_device_code on a3-am-c4000",
        "1 harness error: test_s4_status_sheet_says_signed_in on mfp-c5790",
        "1 lab-infrastructure failure: test_s7_370_sign_in_again_after_the_grant_was_revoked on a3-am-c4000",
        "1 unclassified failure: test_s3_sign_in_with_the_device_code on mfp-c5790",
    ]
    assert matrix(record).cell("a3-am-c4000", "§7").text == "fail 1/2"


def test_an_infrastructure_retry_that_passed_leaves_no_reason() -> None:
    retried = result(E360, "mfp-c5790", attempts=[
        Attempt(attempt=1, outcome=Outcome.FAILED, failure_class="lab infrastructure"),
        Attempt(attempt=2, outcome=Outcome.PASSED)])
    assert verdict(replace(passing_run(), E360, "mfp-c5790", retried)).ready


def test_a_repeated_result_counts_its_worst() -> None:
    record = passing_run()
    again = result(SETUP, "mfp-c5790", Outcome.FAILED, failure_class="device defect", nodeid="other[x]")
    record = record.model_copy(update={"tests": [*record.tests, again]})
    assert not verdict(record).ready
    assert matrix(record).cell("mfp-c5790", "§3").status is Status.FAIL


def test_a_lab_wide_failure_is_named_without_a_device_and_gets_its_own_row() -> None:
    lab_test = "suites/test_s2_prerequisites.py::test_s2_tenant_allows_smtp_auth"
    record = passing_run()
    failed = result(lab_test, None, Outcome.FAILED, failure_class="device defect", section="§2")
    record = record.model_copy(update={"tests": [*record.tests, failed]})
    assert verdict(record).reasons == ["1 device defect: test_s2_tenant_allows_smtp_auth"]
    m = matrix(record)
    assert m.devices[-1] == LAB_ROW and m.cell(LAB_ROW, "§2").text == "fail 1/1"
    assert m.sections[0] == "§2"


def test_many_names_are_cut_short() -> None:
    record = passing_run()
    extra = [ExpectedTest(test=f"suites/test_s3_setup.py::test_step_{i}", device="mfp-c5790", section="§3")
             for i in range(7)]
    found = verdict(record.model_copy(update={"expected": [*record.expected, *extra]}))
    assert found.reasons == ["7 expected tests not run: test_step_0 on mfp-c5790, test_step_1 on mfp-c5790, "
                             "test_step_2 on mfp-c5790, test_step_3 on mfp-c5790, test_step_4 on mfp-c5790 "
                             "and 2 more"]


def test_a_run_that_cannot_show_it_is_complete_is_not_ready() -> None:
    record = passing_run().model_copy(update={"expected": [], "finished": None, "exit_status": 3})
    assert verdict(record).reasons == [
        "the record lists no expected tests, so the run cannot show it is complete",
        "the run did not finish",
        "the run exited with status 3 although no test failed",
    ]


def test_sections_follow_the_guide_order() -> None:
    record = passing_run()
    odd = [result(f"suites/x.py::test_{s}", "mfp-c5790", section=s) for s in ("§10", "§7.2", "annex")]
    record = record.model_copy(update={"tests": [*record.tests, *odd]})
    assert sections_of(record) == ["§3", "§4", "§5", "§6", "§7", "§7.2", "§10", "annex"]
