"""Sending as the suites check it: Scan to Email from the panel, the job it leaves, the SMTP sessions it opened.

A send is judged where a QA engineer would look: the panel's result, the device's Job History (Web Config),
the recipient's mailbox and, with the built-in tier, the server's redacted SMTP transcripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harness.device.jobs import Job
from harness.device.panel import JobOutcome, Panel
from harness.device.webconfig import WebConfig
from harness.msft.control_client import TierControl

Transcript = dict[str, Any]


@dataclass(frozen=True)
class ScanSent:
    """One Scan to Email: what the panel said, and the job Web Config's Job History lists for it."""

    outcome: JobOutcome
    job: Job


def receipt_number(outcome: JobOutcome) -> int | None:
    """The ``Receipt No.`` the panel shows after a send, if it shows one."""
    for line in outcome.lines:
        key, _, value = line.partition(":")
        if key.strip() == "Receipt No." and value.strip().isdigit():
            return int(value.strip())
    return None


def scan_to_email(panel: Panel, webconfig: WebConfig, to: str) -> ScanSent:
    """Scan to Email to ``to`` from the panel; the job is found in Job History by its receipt number."""
    outcome = panel.scan_to_email(to)
    receipt = receipt_number(outcome)
    jobs = webconfig.job_history.jobs()
    if receipt is not None:
        job = next((j for j in jobs if j.receipt_no == receipt), None)
    else:  # a panel that shows no receipt number: the newest job to this recipient
        job = next((j for j in jobs if j.recipient.casefold() == to.casefold()), None)
    assert job is not None, (f"Job History lists no job {receipt or 'to ' + to} after the panel said: "
                             f"{' / '.join(outcome.lines)}")
    return ScanSent(outcome, job)


@contextmanager
def new_smtp_sessions(control: TierControl, address: str | None = None) -> Iterator[list[Transcript]]:
    """Collects the tier's SMTP session transcripts that began inside the block (only those concerning
    ``address`` if given: sessions that claimed, authenticated as, or mailed from or to it)."""
    before = {s["session_id"] for s in control.smtp_transcripts(address)}
    found: list[Transcript] = []
    yield found
    found.extend(s for s in control.smtp_transcripts(address) if s["session_id"] not in before)


def client_lines(session: Transcript) -> list[str]:
    return [line["text"] for line in session["lines"] if line["from"] == "client"]


def server_reply_to(session: Transcript, command: str) -> str | None:
    """The server's last reply line to the first client line starting with ``command`` (e.g. ``AUTH XOAUTH2``)."""
    lines = session["lines"]
    start = next((i for i, line in enumerate(lines)
                  if line["from"] == "client" and line["text"].upper().startswith(command.upper())), None)
    if start is None:
        return None
    reply = None
    for line in lines[start + 1:]:
        if line["from"] == "client" and reply is not None and not reply.startswith("334"):
            break
        if line["from"] == "server":
            reply = line["text"]
    return reply
