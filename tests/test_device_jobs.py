"""Job history → typed jobs (the virtual device's real page and CSV download), and the error-code table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from webconfig_support import ServedDevice, served

from harness.clock import VirtualClock
from harness.device.errors import DeviceError
from harness.device.jobs import (
    ErrorCode,
    JobHistoryFormatError,
    UnknownErrorCode,
    default_error_codes,
    explain,
    firmware_family,
    load_error_codes,
    parse_jobs_csv,
    parse_jobs_page,
)
from harness.lab.yamlfile import InventoryError
from harness.sim.device import DeviceIdentity, VirtualDevice
from harness.sim.jobhistory import JobHistory
from harness.sim.models import get_model
from harness.sim.resolver import Resolver

#: The guide's table (§7), word for word.
GUIDE = {
    360: ("No connection to the cloud service or e-mail service.", "Connect to the cloud service or e-mail service."),
    361: ("The connection to the cloud service or e-mail service has expired.",
          "Connect to the cloud service or e-mail service."),
    370: ("You need to sign in to the cloud service again.", "Sign in to the cloud service."),
}
T0 = dt.datetime(2026, 3, 2, 9, 15, 0, tzinfo=dt.UTC).timestamp()
PRINTER = "printer@contoso.example"


def record_jobs(history: JobHistory) -> None:
    """Five jobs as the virtual device records them: a success, the guide's three codes, an SMTP refusal."""
    history.record(started=T0, completed=T0 + 4, type="Scan to Email", error_code=None, pages=2, sender=PRINTER,
                   recipient="alice@contoso.example", file_name="img-0001.pdf")
    for i, code in enumerate((360, 361, 370, 312), start=1):
        history.record(started=T0 + 60 * i, completed=T0 + 60 * i + 1, type="Email Notification", error_code=code,
                       pages=0, sender=PRINTER, recipient="bob@contoso.example",
                       detail="535 5.7.3 Authentication unsuccessful" if code == 312 else "")


def virtual_device() -> VirtualDevice:
    spec = get_model("WF-C5790")
    identity = DeviceIdentity(name="jobs", model=spec.model, serial=spec.default_serial, mac=spec.default_mac,
                              firmware=spec.firmware, capabilities=frozenset(str(c) for c in spec.capabilities),
                              client_id="00000000-0000-0000-0000-000000000000")
    return VirtualDevice(identity, VirtualClock(T0), Resolver())


@pytest.fixture
def web() -> Iterator[ServedDevice]:
    with served(virtual_device()) as device:
        yield device


# --- reading the history ---------------------------------------------------------------------------------
def test_csv_export_reads_into_typed_jobs(web: ServedDevice) -> None:
    record_jobs(web.device.jobs)
    admin = web.admin()
    page = admin.open("INFO_JOBHISTORY")
    answer = admin.http.post(admin.url("INFO_JOBHISTORY", "OUTPUT.CSV"),
                             data={"INPUTT_SETUPTOKEN": page.token, "INPUTD_HISTORYTYPE": "ALL"}, timeout=30)
    assert answer.headers["Content-Type"].startswith("text/csv")
    jobs = parse_jobs_csv(answer.content)
    assert [j.receipt_no for j in jobs] == [5, 4, 3, 2, 1], "newest first, as the device lists them"
    assert [j.error_code for j in jobs] == [312, 370, 361, 360, None]
    first = jobs[-1]
    assert first.started == dt.datetime(2026, 3, 2, 9, 15, 0) and first.completed == dt.datetime(2026, 3, 2, 9, 15, 4)
    assert (first.type, first.result, first.pages, first.sender, first.recipient, first.file_name) == (
        "Scan to Email", "Succeeded", 2, PRINTER, "alice@contoso.example", "img-0001.pdf")
    assert not first.failed and jobs[1].failed
    assert jobs[1].result == "Error code 370" and jobs[1].columns["Storage"] == ""


def test_page_lists_the_same_jobs_with_their_detail(web: ServedDevice) -> None:
    record_jobs(web.device.jobs)
    admin = web.admin()
    page_jobs = parse_jobs_page(admin.open("INFO_JOBHISTORY").html)
    token = admin.open("INFO_JOBHISTORY").token
    csv_jobs = parse_jobs_csv(admin.http.post(admin.url("INFO_JOBHISTORY", "OUTPUT.CSV"), timeout=30, data={
        "INPUTT_SETUPTOKEN": token, "INPUTD_HISTORYTYPE": "ALL"}).text)
    key = [(j.receipt_no, j.started, j.completed, j.type, j.result, j.error_code, j.pages, j.sender, j.recipient,
            j.file_name) for j in page_jobs]
    assert key == [(j.receipt_no, j.started, j.completed, j.type, j.result, j.error_code, j.pages, j.sender,
                    j.recipient, j.file_name) for j in csv_jobs]
    assert page_jobs[0].detail == "535 5.7.3 Authentication unsuccessful"


def test_an_empty_history_has_no_jobs_and_a_page_behind_the_login_is_an_error(web: ServedDevice) -> None:
    assert parse_jobs_page(web.admin().open("INFO_JOBHISTORY").html) == []
    with pytest.raises(JobHistoryFormatError, match="login form"):
        parse_jobs_page(web.client().open("INFO_JOBHISTORY").html)


def test_columns_are_found_by_header_whatever_their_order() -> None:
    html = ("<table><thead><tr><th>Result</th><th>Receipt No.</th><th>Type</th><th>Comment</th>"
            "<th>Date/Time</th></tr></thead><tbody>"
            "<tr><td>Error code: 361</td><td>0042</td><td>Scan to Email</td><td>x</td><td>2026/03/02 10:00</td></tr>"
            "<tr><td>Succeeded</td><td>0041</td><td>Print</td><td></td><td>03/01/2026 23:59:58</td></tr>"
            "</tbody></table>")
    jobs = parse_jobs_page(html)
    assert [(j.receipt_no, j.error_code, j.type) for j in jobs] == [(42, 361, "Scan to Email"), (41, None, "Print")]
    assert jobs[0].started == dt.datetime(2026, 3, 2, 10, 0) and jobs[1].started == dt.datetime(2026, 3, 1, 23, 59, 58)
    assert jobs[0].columns["Comment"] == "x" and jobs[0].pages is None and jobs[0].completed is None


def test_unreadable_histories_are_device_errors_that_say_why() -> None:
    with pytest.raises(JobHistoryFormatError, match="no job-history table"):
        parse_jobs_page("<html><body><table><tr><td>Device Name</td><td>x</td></tr></table></body></html>")
    with pytest.raises(JobHistoryFormatError, match="no column Result"):
        parse_jobs_csv("Receipt No.,Date/Time\r\n0001,2026-03-02 09:15:00\r\n")
    with pytest.raises(JobHistoryFormatError, match="empty"):
        parse_jobs_csv(b"\xef\xbb\xbf\r\n")
    assert issubclass(JobHistoryFormatError, DeviceError)


def test_a_csv_with_a_byte_order_mark_and_short_rows_still_reads() -> None:
    jobs = parse_jobs_csv("\ufeffReceipt No.,Type,Result\r\n0007,Scan to Email,Error code 360\r\n0008\r\n")
    assert [(j.receipt_no, j.error_code, j.result) for j in jobs] == [(7, 360, "Error code 360"), (8, None, "")]


# --- the error-code table ----------------------------------------------------------------------------------
def test_the_shipped_table_is_the_guides() -> None:
    table = default_error_codes()
    assert {code: (e.status, e.fix) for code, e in table.codes.items()} == GUIDE
    assert explain(370) == ErrorCode(370, *GUIDE[370])
    with pytest.raises(UnknownErrorCode, match="error code 312 is not in the table; it knows 360, 361, 370"):
        explain(312)
    assert table.get(312) is None


@pytest.mark.parametrize(("result", "code"), [
    ("Error code 370", 370), ("error code: 361", 361), ("Error (360)", 360), ("Error #370", 370),
    ("Succeeded", None), ("Canceled", None), ("Receipt 3601", None),
])
def test_the_default_pattern_finds_codes_in_result_cells(result: str, code: int | None) -> None:
    assert default_error_codes().code_in(result) == code


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_family_section_replaces_and_adds_codes_and_its_own_pattern(tmp_path: Path) -> None:
    base = (Path(__file__).parents[1] / "fixtures" / "error-codes.yaml").read_text(encoding="utf-8")
    path = write(tmp_path / "codes.yaml", base.replace("families: {}", """families:
  QA:
    result_pattern: '^E-(?P<code>\\d+)$'
    codes:
      370: {status: Sign in again., fix: Sign in from Web Config.}
      371: {status: The account is locked., fix: Ask the administrator.}
"""))
    qa = load_error_codes(path, family="QA")
    assert qa.explain(370) == ErrorCode(370, "Sign in again.", "Sign in from Web Config.")
    assert qa.explain(371).status == "The account is locked."
    assert qa.explain(360) == ErrorCode(360, *GUIDE[360]), "codes the family does not name stay"
    assert (qa.code_in("E-371"), qa.code_in("Error code 370")) == (371, None)
    assert parse_jobs_csv("Receipt No.,Result\r\n1,E-371\r\n", qa)[0].error_code == 371
    other = load_error_codes(path, family="LW")
    assert other.explain(370) == ErrorCode(370, *GUIDE[370]) and other.get(371) is None
    with pytest.raises(UnknownErrorCode, match="firmware family LW"):
        other.explain(371)


def test_an_override_file_applies_after_the_family_section(tmp_path: Path) -> None:
    override = write(tmp_path / "lab.yaml", "codes:\n  360:\n    status: Offline.\n    fix: Check the cable.\n")
    table = load_error_codes(override=override, family="LW")
    assert table.explain(360) == ErrorCode(360, "Offline.", "Check the cable.")
    assert table.explain(361) == ErrorCode(361, *GUIDE[361])
    assert table.code_in("Error code 360") == 360, "no pattern in the override: the base one stays"


@pytest.mark.parametrize(("text", "message"), [
    ("result_pattern: 'Error (\\d+)'\ncodes: {}\n", "result_pattern: the pattern needs a named group"),
    ("result_pattern: '(?P<code>'\ncodes: {}\n", "result_pattern: not a regular expression"),
    ("result_pattern: '(?P<code>\\d+)'\ncodes:\n  360: {status: x}\n", "codes[360].fix: Field required"),
    ("result_pattern: '(?P<code>\\d+)'\ncodes:\n  360: {status: x, fix: y, colour: red}\n",
     "codes[360].colour: Extra inputs are not permitted"),
    ("- just a list\n", "expected a mapping"),
])
def test_a_bad_table_file_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(InventoryError) as caught:
        load_error_codes(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_firmware_family_is_the_build_codes_first_two_letters() -> None:
    assert firmware_family("07.59.LW14NB") == "LW"
    assert firmware_family(get_model("AM-C4000").firmware) == "SY"
    assert firmware_family("1.0") is None and firmware_family("07.59.lw14nb") is None
