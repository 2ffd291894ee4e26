"""The PDF sign-off rendered from recorded runs, read back with poppler (pdftotext, pdfimages, pdffonts)."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from signoff_support import (
    E360,
    SETUP,
    failing_run,
    passing_run,
    pdf_images,
    pdf_text,
    replace,
    result,
    screenshot,
    write_run,
)

from harness.reporting.fonts import report_fonts
from harness.reporting.history import append_run
from harness.reporting.pdfdoc import CELL_PADDING, styles
from harness.reporting.record import Measurement, Outcome
from harness.reporting.signoff import SIGNOFF_NAME, write_signoff

DEVICE_WORDS = "État : « Connecté » — “Signed in” 認証に失敗しました。"


def row(*cells: str) -> re.Pattern[str]:
    """A line of a table as pdftotext -layout lays it out: the cells in order, separated by spaces."""
    return re.compile(r"^\s*" + r"\s+".join(re.escape(c) for c in cells) + r"\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run_dir = tmp_path_factory.mktemp("failing")
    write_run(run_dir, failing_run(run_dir))
    pdf = write_signoff(run_dir)
    return pdf, pdf_text(pdf)


def test_a_run_where_everything_expected_passed_is_ready(tmp_path: Path) -> None:
    pdf = write_signoff(write_run(tmp_path, passing_run()))
    assert pdf == tmp_path / SIGNOFF_NAME
    text = pdf_text(pdf)
    assert "READY FOR SIGN-OFF" in text and "NOT READY" not in text
    assert row("mfp-c5790", "pass 1/1", "pass 1/1", "skipped 1", "—", "pass 2/2").search(text)
    assert row("a3-am-c4000", "pass 1/1", "pass 1/1", "pass 1/1", "—", "pass 2/2").search(text)
    assert "Not part of the verdict, but to note: no test covers 361, s6-unchecked" in text
    assert pdf_images(pdf) == []


def test_the_cover_names_the_run_and_every_reason(failing: tuple[Path, str]) -> None:
    _, text = failing
    cover = text.split("\f")[0]
    assert "NOT READY" in cover and "READY FOR SIGN-OFF" not in cover
    for fact in ("WF-C5790, AM-C4000", "20250304T020000Z-a1b2c3", "2025-03-04 02:00:00 UTC", "3e6499b0c0ffee",
                 "built-in (virtual lab)"):
        assert fact in cover
    assert "• 1 device defect: test_s3_sign_in_with_the_device_code on mfp-c5790" in cover
    assert "• 1 harness error: test_s4_status_sheet_says_signed_in on a3-am-c4000" in cover
    assert "• 1 lab-infrastructure failure: test_s7_370_sign_in_again_after_the_grant_was_revoked on a3-am-c4000" \
        in cover
    assert re.search(r"• 1 expected test not run: test_s7_360_no_connection_when_the_server_name_does_not_resolve"
                     r"\s+on\s+mfp-c5790", cover)


def test_the_matrix_shows_each_device_per_section(failing: tuple[Path, str]) -> None:
    _, text = failing
    assert row("Device", "§3", "§4", "§5", "§6", "§7").search(text)
    assert row("mfp-c5790", "fail 1/1", "pass 1/1", "skipped 1", "—", "not run 1/2").search(text)
    assert row("a3-am-c4000", "pass 1/1", "fail 1/1", "pass 1/1", "—", "fail 1/2").search(text)


def test_traceability_lists_the_error_codes_first_then_each_claim(failing: tuple[Path, str]) -> None:
    _, text = failing
    trace = text[text.index("Traceability: the guide to the tests"):text.index("Failures\n")]
    assert trace.index("Error codes") < trace.index("360") < trace.index("361") < trace.index("370") \
        < trace.index("Claims of the guide")
    assert re.search(r"360\s+No connection to the cloud service or\s+test_s7_360_no_connection_whe\s+not run\s+pass",
                     trace)
    assert re.search(r"361\s+The connection to the cloud service\s+NO TEST covers this", trace)
    assert re.search(r"370\s+You need to sign in to the cloud\s+test_s7_370_sign_in_again_aft\s+pass\s+fail", trace)
    assert re.search(r"s3-sign-in\s+Sign In shows a code; after sign-in\s+test_s3_sign_in_with_the_devi\s+fail\s+pass",
                     trace)
    assert re.search(r"s4-status\s+The status sheet shows the OAuth\s+test_s4_status_sheet_says_sig\s+pass\s+fail",
                     trace)  # the catalogue names this test by its function only
    assert re.search(r"s5-fax \(§5\)\s+The fax server's e-mail settings sign\s+test_s5_fax_server_signs_in\s+"
                     r"skipped\s+pass", trace)
    assert "1 claim has no test: s6-unchecked." in trace
    assert re.search(r"s6-unchec\s+Each user signs in on the panel for\s+NO TEST covers this", trace)
    assert re.search(r"Code\s+Guide says\s+Test\s+mfp-c5790\s+a3-am-c4000\n", trace)  # names whole, not broken


def test_a_long_device_name_is_set_smaller_then_broken_after_its_hyphens() -> None:
    st = styles()

    def lines(name: str, width: float) -> list[str]:
        cell = st.fitted(name, width, st.cell_bold)
        cell.wrap(width - 2 * CELL_PADDING, 100)  # the cell's width less its padding
        return [("".join(line[1]) if isinstance(line, tuple) else "".join(f.text for f in line.words)).strip()
                for line in cell.blPara.lines]  # plain lines are (width, words); lines after <br/> are FragLines

    assert lines("dut", 15 * mm) == ["dut"]
    assert st.fitted("dut", 15 * mm, st.cell_bold).style.fontSize == st.cell_bold.fontSize
    assert lines("mfp-c5790", 19 * mm) == ["mfp-c5790"]  # smaller, on one line
    assert lines("mfp-c5790", 14 * mm) == ["mfp-", "c5790"]
    assert lines("ent-c21000-floor3", 15 * mm) == ["ent-", "c21000-", "floor3"]


def test_each_failure_shows_its_class_message_and_the_devices_own_words(failing: tuple[Path, str]) -> None:
    _, text = failing
    failures = text[text.index("Failures\n"):text.index("Expected tests not run")]
    assert failures.index("test_s3_sign_in_with_the_device_code on mfp-c5790") < failures.index("device defect")
    assert row("Device said", DEVICE_WORDS).search(failures)
    assert "AssertionError: Current Status is 'Signed in' but the token was not saved <after OK>" in failures
    assert row("Class", "harness error").search(failures) and row("Where", "error in setup").search(failures)
    assert "KeyError: 'status_sheet' & friends" in failures
    assert row("Class", "lab infrastructure").search(failures)
    assert "#1 failed (lab infrastructure); #2 failed (lab infrastructure)" in failures
    assert "Screenshot: failure screenshot setup-mfp.png" in failures
    assert row("Device said", "— (the harness read no message from the device)").search(failures)
    gaps = text[text.index("Expected tests not run"):]
    assert re.search(r"test_s7_360_no_connection_when_the_server_name_does_\s+mfp-c5790\s+no result in the record",
                     gaps)


def test_the_screenshot_is_embedded_on_the_failures_page(failing: tuple[Path, str]) -> None:
    pdf, text = failing
    failures_page = next(i for i, page in enumerate(text.split("\f"), 1) if "Device said" in page)
    assert pdf_images(pdf) == [(failures_page, 640, 400)]


def test_device_messages_in_japanese_are_set_in_an_embedded_cjk_font(failing: tuple[Path, str]) -> None:
    pdf, _ = failing
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True, text=True).stdout
    embedded = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:] if " yes " in line}
    assert {"DejaVuSans", "DejaVuSans-Bold", report_fonts().cjk} <= embedded


def test_measurements_are_charted_against_their_limits(failing: tuple[Path, str]) -> None:
    _, text = failing
    section = text[text.index("Measurements\n"):text.index("Devices\n")]
    assert "2 values of 1 measurement, 1 out of limits." in section
    assert "sign-in time, worst per device (s)" in section and "high 30 s" in section and "low 0 s" in section
    assert row("sign-in time", "mfp-c5790", "1", "41 s", "41 – 41 s", "0 – 30 s", "1 of 1 OUT OF LIMITS")\
        .search(section)
    assert row("sign-in time", "a3-am-c4000", "1", "7.9 s", "7.9 – 7.9 s", "0 – 30 s", "within").search(section)
    out = section[section.index("Out of limits"):]
    assert row("sign-in time", "test_s3_sign_in_with_the_device_code", "mfp-c5790", "41 s", "0 – 30 s").search(out)
    assert "a3-am-c4000" not in out


def test_a_full_runs_measurements_are_summed_up_per_device_not_listed_per_test(tmp_path: Path) -> None:
    """A nightly run measures on most tests: one bar and one row per device, not per test, keep it legible."""
    record = passing_run()
    values = [0.0123456, 3.23574, 5.4, 118.64, 119.2, 120.3]  # the last one just out of its 120 s limit
    tests = [result(f"suites/test_s3_setup.py::test_{i}", "mfp-c5790", measurements=[Measurement(
        name="sign-in time", value=v, unit="s", high=120.0, passed=v <= 120)]) for i, v in enumerate(values)]
    kept = [t.model_copy(update={"measurements": []}) for t in record.tests]
    record = record.model_copy(update={"tests": [*kept, *tests]})
    text = pdf_text(write_signoff(write_run(tmp_path, record)))
    section = text[text.index("Measurements\n"):text.index("Devices\n")]
    assert row("sign-in time", "mfp-c5790", "6", "62.02 s", "0.0123 – 120.3 s", "≤ 120 s", "1 of 6 OUT OF LIMITS")\
        .search(section)
    assert "mfp-c5790 (6)" in section and "120" in section  # the bar: the device's worst value, its count
    out = section[section.index("Out of limits"):]
    assert row("sign-in time", "test_5", "mfp-c5790", "120.3 s", "≤ 120 s").search(out)
    for within in ("test_0", "test_1", "test_4"):
        assert within not in section


def test_devices_their_firmware_and_the_signature_block(failing: tuple[Path, str]) -> None:
    _, text = failing
    assert re.search(r"mfp-c5790\s+WF-C5790\s+07\.59\.LW14NB\s+X5A1000123\s+64:EB:8C:00:00:01", text)
    assert re.search(r"a3-am-c4000\s+AM-C4000\s+10\.02\.AM31PA\s+X7B2000456", text)
    signoff = text[text.rindex("Sign-off\n"):]
    assert "The verdict of this run is NOT READY." in signoff
    assert row("Role", "Name", "Date", "Signature").search(signoff)
    for role in ("QA lead", "Firmware engineering", "Release manager"):
        assert row(role).search(signoff)


def test_every_page_has_the_run_id_and_its_number(failing: tuple[Path, str]) -> None:
    _, text = failing
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert row("epson-hil sign-off report", "run 20250304T020000Z-a1b2c3",
                   f"page {number} of {len(pages)}").search(page)


def test_a_screenshot_outside_the_run_directory_is_not_embedded(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    outside = screenshot(tmp_path, "secret.png")  # written to tmp_path/attachments, outside run_dir
    escaped = outside.model_copy(update={"path": "../attachments/secret.png"})
    failed = result(SETUP, "mfp-c5790", Outcome.FAILED, failure_class="device defect", attachments=[escaped])
    pdf = write_signoff(write_run(run_dir, replace(passing_run(), SETUP, "mfp-c5790", failed)))
    assert pdf_images(pdf) == []
    assert "(screenshot ../attachments/secret.png is not in the run directory)" in pdf_text(pdf)


def test_a_screenshot_named_as_one_is_captioned_once(tmp_path: Path) -> None:
    shot = screenshot(tmp_path, "basic.png").model_copy(update={"name": "screenshot: Web Config of mfp-c5790"})
    failed = result(SETUP, "mfp-c5790", Outcome.FAILED, failure_class="device defect", attachments=[shot],
                    device_words="Web Config Email Server > Basic showed: Setting failed.\nthe panel showed: Ready")
    text = pdf_text(write_signoff(write_run(tmp_path, replace(passing_run(), SETUP, "mfp-c5790", failed))))
    assert "Screenshot: Web Config of mfp-c5790" in text and "Screenshot: screenshot" not in text
    assert row("Device said", "Web Config Email Server > Basic showed: Setting failed.").search(text)
    assert row("the panel showed: Ready").search(text)  # one place a line


def test_with_a_history_the_trend_follows_with_the_regression(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    recent = datetime.now(UTC) - timedelta(days=2)  # inside the trend's window, whatever today is
    earlier = passing_run("earlier").model_copy(update={"started": recent, "finished": recent})
    latest = replace(passing_run("latest"), E360, "mfp-c5790",
                     result(E360, "mfp-c5790", Outcome.FAILED, failure_class="device defect"))
    latest = latest.model_copy(update={"started": recent + timedelta(days=1), "finished": recent + timedelta(days=1)})
    for record in (earlier, latest):
        append_run(record, url)
    text = pdf_text(write_signoff(write_run(tmp_path / "run", latest), history_url=url))
    trend = text[text.index("Nightly trend"):text.rindex("Sign-off\n")]
    regressions = trend[trend.index("Regressions since the previous run"):trend.index("Newly passing")]
    assert re.search(r"§7\s+test_s7_360_no_connection_when_the_server_n\S*\s+mfp-c5790\s+passed\s+failed\s+"
                     r"device defect", regressions)
    assert (tmp_path / "run" / "trend.png").is_file()
    cover = text[:text.index("\f")]
    assert "Since the previous run (earlier)" in cover  # the nightly reader sees regressions first
    assert re.search(r"newly failed: test_s7_360_no_connection\S* on mfp-c5790\s+\(device defect; was passed\)", cover)


def test_an_unreadable_history_still_gives_a_sign_off_saying_so(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path, passing_run())
    text = pdf_text(write_signoff(run_dir, history_url="nosuchdialect://history"))
    assert "READY FOR SIGN-OFF" in text
    assert "The trend could not be read from the history:" in text


def test_markup_escapes_xml_keeps_lines_shows_control_characters_and_switches_font_for_japanese() -> None:
    fonts = report_fonts()
    assert fonts.markup("a <b> & c\nd\x1b[0m") == "a &lt;b&gt; &amp; c<br/>d\\x1b[0m"
    assert fonts.markup("État 認証 OK") == f'État <font name="{fonts.cjk}">認証</font> OK'


def test_the_cover_counts_add_up_and_speak_of_one_device_in_the_singular(tmp_path: Path) -> None:
    record = passing_run()
    one = record.model_copy(update={
        "devices": record.devices[:1], "expected": [e for e in record.expected if e.device == "mfp-c5790"],
        "tests": [t for t in record.tests if t.device == "mfp-c5790"]
        + [result(SETUP, "mfp-c5790").model_copy(update={"nodeid": f"{SETUP}[mfp-c5790-again]"})]})
    cover = " ".join(pdf_text(write_signoff(write_run(tmp_path, one))).split("\f")[0].split())
    assert ("1 device, 4 expected tests. Per test and device: 4 pass, 0 fail, 0 not run, 1 skipped (6 results: a test "
            "with parameters has one per parameter and counts once, at its worst).") in cover


def test_the_cover_says_a_newly_failing_test_was_not_in_the_previous_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    recent = datetime.now(UTC) - timedelta(days=2)
    earlier = passing_run("earlier").model_copy(update={"started": recent, "finished": recent, "tests": [],
                                                         "expected": []})
    latest = replace(passing_run("latest"), E360, "mfp-c5790",
                     result(E360, "mfp-c5790", Outcome.FAILED, failure_class="device defect"))
    latest = latest.model_copy(update={"started": recent + timedelta(days=1), "finished": recent + timedelta(days=1)})
    for record in (earlier, latest):
        append_run(record, url)
    cover = pdf_text(write_signoff(write_run(tmp_path / "run", latest), history_url=url)).split("\f")[0]
    assert re.search(r"newly failed: test_s7_360_no_connection\S* on mfp-c5790\s+\(device defect; not in the "
                     r"previous\s+run\)", cover)
    assert "was not run" not in cover and "0 tests newly pass." in cover


def test_a_test_that_passed_only_on_a_retry_is_listed_but_counts_as_passed(tmp_path: Path) -> None:
    from harness.reporting.record import Attempt

    retried = result(E360, "mfp-c5790", Outcome.PASSED, attempts=[
        Attempt(attempt=1, outcome=Outcome.FAILED, failure_class="lab infrastructure",
                message="InfraError: tier unreachable"),
        Attempt(attempt=2, outcome=Outcome.PASSED)])
    text = pdf_text(write_signoff(write_run(tmp_path, replace(passing_run(), E360, "mfp-c5790", retried))))
    assert "READY FOR SIGN-OFF" in text and "NOT READY" not in text
    section = text[text.index("Passed on a retry"):text.index("Expected tests not run")]
    assert "1 test failed for the lab at first and passed on a retry" in section
    assert re.search(r"test_s7_360_no_connection\S*\s+mfp-c5790\s+2\s+lab infrastructure: InfraError: tier "
                     r"unreachable", section)
    assert "Passed on a retry" not in pdf_text(write_signoff(write_run(tmp_path / "plain", passing_run())))
