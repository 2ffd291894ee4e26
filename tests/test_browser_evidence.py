"""Failure evidence of a watched browser context: screenshot, page source and trace; DOM snapshots only when asked."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from evidence_support import recording_test
from playwright.sync_api import Browser

from harness.reporting import evidence
from harness.reporting.browser_evidence import BrowserEvidence
from harness.reporting.record import Attachment, AttachmentKind
from harness.reporting.redaction import REDACTED

SECRET = "page-source-secret-2718"
PAGE = f"""<html><body><h1>Email Server &gt; Basic</h1>
<div id="note">typed in: {SECRET}</div>
<button onclick="document.getElementById('note').textContent += ' and clicked'">Go</button></body></html>"""

pytestmark = pytest.mark.browser


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    with recording_test(tmp_path, "suites/test_s4_status.py::test_status[printer-1]", SECRET) as recording:
        yield recording


def failed_test_evidence(browser: Browser, snapshots: bool) -> list[Attachment]:
    """Watch a context, click on its page, fail: the attachments the failed test keeps."""
    watcher = BrowserEvidence()
    watcher.snapshots = snapshots
    context = browser.new_context()
    try:
        watcher.watch(context, "Web Config of printer-1")
        page = context.new_page()
        page.set_content(PAGE)
        page.get_by_role("button", name="Go").click()
        watcher.keep_failure()
    finally:
        context.close()
    kept = evidence.finish_test()
    assert kept is not None
    return list(kept.attachments)


def trace_events(run_dir: Path, attachments: list[Attachment]) -> str:
    trace = next(a for a in attachments if a.kind is AttachmentKind.TRACE)
    with zipfile.ZipFile(run_dir / trace.path) as archive:
        return "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".trace"))


def test_a_failure_keeps_the_page_as_it_stands_redacted(run_dir: Path, tier_browser: Browser) -> None:
    attachments = failed_test_evidence(tier_browser, snapshots=False)
    kinds = {a.kind for a in attachments}
    assert {AttachmentKind.SCREENSHOT, AttachmentKind.PAGE_SOURCE, AttachmentKind.TRACE} <= kinds
    source = next(a for a in attachments if a.kind is AttachmentKind.PAGE_SOURCE)
    assert source.media_type == "text/html" and source.name.startswith("page source: Web Config of printer-1")
    html = (run_dir / source.path).read_text()
    assert f"typed in: {REDACTED} and clicked" in html  # the DOM after the page's own script, not the served HTML
    assert SECRET not in html


def test_traces_carry_actions_but_no_dom_snapshots_by_default(run_dir: Path, tier_browser: Browser) -> None:
    events = trace_events(run_dir, failed_test_evidence(tier_browser, snapshots=False))
    assert '"method":"click"' in events.replace(" ", "")
    assert "frame-snapshot" not in events


def test_trace_snapshots_when_asked(run_dir: Path, tier_browser: Browser) -> None:
    events = trace_events(run_dir, failed_test_evidence(tier_browser, snapshots=True))
    assert "frame-snapshot" in events
