"""Sending (guide §1): scan to e-mail over OAuth 2.0 arrives from the configured sender, with the scan attached,
over STARTTLS and XOAUTH2 and never with a password."""

from __future__ import annotations

import base64
import re
from email.utils import parseaddr

import pytest
from scan_jobs import client_lines, new_smtp_sessions, scan_to_email, server_reply_to

from harness.device.panel import Panel
from harness.device.webconfig import WebConfig
from harness.lab.microsoft import MicrosoftSide, wait_for_message

pytestmark = [pytest.mark.guide("§1"), pytest.mark.requires("oauth2_email", "scan_to_email", "remote_panel")]

#: Anything a token could look like in a transcript line: a JWT, an XOAUTH2 payload, a bearer value.
TOKEN_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+|auth=Bearer|dXNlcj1")


def test_s1_scan_to_email_arrives_from_the_configured_sender_with_the_scan_attached(
        signed_in: WebConfig, panel: Panel, msft: MicrosoftSide, recipient: str) -> None:
    """§1: "Printers and scanners that send e-mail (scan-to-email, e-mail notifications) must therefore use
    OAuth 2.0" — a scan sent from the panel reaches the recipient's mailbox from the Sender's Email Address set
    on Email Server > Basic, with the scanned document attached as a PDF."""
    sender = signed_in.email_server.read().sender
    assert sender, "the sign-in set a Sender's Email Address"
    sent = scan_to_email(panel, signed_in, recipient)
    assert sent.outcome.sent and sent.outcome.error_code is None, sent.outcome.lines
    job = sent.job
    assert job.error_code is None and job.recipient.casefold() == recipient.casefold(), job
    assert job.sender.casefold() == sender.casefold(), job
    assert job.file_name.lower().endswith(".pdf") and (job.pages or 0) >= 1, job

    message = wait_for_message(msft, recipient,
                               lambda m: any(a["filename"] == job.file_name for a in m["attachments"]))
    assert parseaddr(message["from"])[1].casefold() == sender.casefold(), message["from"]
    assert message["envelope_from"].casefold() == sender.casefold(), message["envelope_from"]
    assert recipient.casefold() in (address.casefold() for address in message["to"]), message["to"]
    [attachment] = message["attachments"]
    assert attachment["content_type"] == "application/pdf" and attachment["size"] > 0, attachment


@pytest.mark.requires("tenant_control")
def test_s1_the_device_sends_over_starttls_with_xoauth2_and_no_password(signed_in: WebConfig, panel: Panel,
                                                                        msft: MicrosoftSide, recipient: str) -> None:
    """§1 (OAuth 2.0 replaces Basic Authentication) on port 587: the device upgrades the connection with STARTTLS,
    greets again, then authenticates with AUTH XOAUTH2 — never with a password, which the session never carries."""
    assert msft.control is not None
    with new_smtp_sessions(msft.control) as sessions:
        sent = scan_to_email(panel, signed_in, recipient)
    assert len(sessions) == 1, f"one scan, one SMTP session: {[s['session_id'] for s in sessions]}"
    [session] = sessions

    commands = [line.split(" ", 1)[0].upper() for line in client_lines(session)]
    assert "STARTTLS" in commands and "AUTH" in commands, commands
    starttls, auth = commands.index("STARTTLS"), commands.index("AUTH")
    assert starttls < auth, f"AUTH came before STARTTLS: {commands}"
    assert "EHLO" in commands[starttls + 1:auth], f"no EHLO after STARTTLS: {commands}"
    assert session["tls"], "the session was never upgraded to TLS"
    auths = [line for line in client_lines(session) if line.upper().startswith("AUTH")]
    assert len(auths) == 1 and auths[0].upper().startswith("AUTH XOAUTH2"), auths
    assert server_reply_to(session, "AUTH XOAUTH2") == "235 2.7.0 Authentication successful"
    assert session["authenticated_as"].casefold() == msft.admin.upn.casefold(), session["authenticated_as"]

    text = "\n".join(line["text"] for line in session["lines"])
    for account in (msft.admin, msft.mailbox):
        for secret in (account.password, base64.b64encode(account.password.encode()).decode()):
            assert secret not in text, f"the SMTP session carries {account.upn}'s password"
    assert not TOKEN_SHAPED.search(text), "the SMTP transcript shows something shaped like a token"

    assert sent.outcome.sent, sent.outcome.lines
    message = wait_for_message(msft, recipient,
                               lambda m: any(a["filename"] == sent.job.file_name for a in m["attachments"]))
    assert message["session_id"] == session["session_id"], "the mail arrived through another session"
