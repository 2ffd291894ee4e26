"""Guide §7 troubleshooting as the suites check it: a failed send's error code and status text, and its fix.

A failed Scan to Email is judged where the guide sends an administrator: the panel (the job's status text, and
"To use this function, you must sign in …"), Job History's page and its CSV export (the code). The code's
status and fix come from the harness's error-code table for the device's firmware family.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parseaddr

from scan_jobs import ScanSent, scan_to_email
from support import EXCHANGE, ensure_signed_in

from harness.device.jobs import ErrorCode, ErrorCodeTable, default_error_codes, firmware_family
from harness.device.panel import Panel
from harness.device.signin import MsftPageFactory, SignInResult, sign_in_device
from harness.device.webconfig import WebConfig
from harness.lab.microsoft import Message, MicrosoftSide, wait_for_message
from harness.lab.session import DeviceUnderTest

#: The guide's fixes (§7 table).
CONNECT_FIX = "Connect to the cloud service or e-mail service."
SIGN_IN_FIX = "Sign in to the cloud service."
#: What the device shows when it cannot send for want of a valid sign-in (§7 "Cannot send e-mail").
MUST_SIGN_IN = "To use this function, you must sign in to your email service. Please contact your administrator."


def error_table(device: DeviceUnderTest) -> ErrorCodeTable:
    """The error codes as the device's firmware family words them (the guide's table unless overridden)."""
    return default_error_codes(firmware_family(device.firmware))


def expect_job_error(panel: Panel, wc: WebConfig, to: str, code: int, table: ErrorCodeTable) -> tuple[ScanSent,
                                                                                                    ErrorCode]:
    """Scan to Email to ``to`` fails with job error ``code``: the panel shows the code's status text, and Job
    History's page and CSV export list the job with the code. Returns the send and the table's entry."""
    entry = table.explain(code)
    sent = scan_to_email(panel, wc, to)
    shown = " / ".join(sent.outcome.lines)
    assert not sent.outcome.sent and sent.outcome.error_code == code, f"the panel should report error {code}: {shown}"
    assert any(entry.status in line for line in sent.outcome.lines), \
        f"the panel does not show the status text of {code} ({entry.status!r}): {shown}"
    assert sent.job.error_code == code, f"Job History lists job {sent.job.receipt_no} as {sent.job.result!r}"
    exported = next((j for j in wc.job_history.csv_jobs(table, reload=False)  # from the page scan_to_email read
                     if j.receipt_no == sent.job.receipt_no), None)
    assert exported is not None, f"the Job History CSV export has no job {sent.job.receipt_no}"
    assert exported.error_code == code, f"the CSV export lists job {exported.receipt_no} as {exported.result!r}"
    return sent, entry


def expect_delivery(panel: Panel, wc: WebConfig, msft: MicrosoftSide, to: str) -> Message:
    """Scan to Email to ``to`` succeeds, and the scan arrives from the sender Job History names."""
    msft.clear(to)
    sent = scan_to_email(panel, wc, to)
    assert sent.outcome.sent and sent.job.error_code is None, \
        f"the send failed: {' / '.join(sent.outcome.lines)} (Job History: {sent.job.result})"
    sender = sent.job.sender.casefold()
    return wait_for_message(msft, to, lambda m: parseaddr(m["from"])[1].casefold() == sender
                            and any(a["filename"] == sent.job.file_name for a in m["attachments"]))


def panel_lines(panel: Panel) -> set[str]:
    """Every line and message the panel shows now."""
    screen = panel.screen()
    return {*screen.lines, *screen.messages}


def shows_must_sign_in(panel: Panel, sent: ScanSent) -> bool:
    """The device says it cannot send without a sign-in: on the job's result or on the panel afterwards."""
    return MUST_SIGN_IN in sent.outcome.lines or MUST_SIGN_IN in panel_lines(panel)


def sign_in_again(wc: WebConfig, msft: MicrosoftSide, pages: MsftPageFactory) -> SignInResult:
    """The administrator signs the device in again (§3 steps 3–12), as §7 says to fix a lost sign-in."""
    return sign_in_device(wc.email_server, pages, msft.admin, service=EXCHANGE,
                          consent_for_organization=True, sender=msft.admin.upn)


@contextmanager
def signed_in_again_on_failure(wc: WebConfig, msft: MicrosoftSide, pages: MsftPageFactory) -> Iterator[None]:
    """For a test that takes the device's sign-in away: if it fails before putting one back, sign in again."""
    try:
        yield
    except BaseException:
        ensure_signed_in(wc, msft, pages)
        raise
