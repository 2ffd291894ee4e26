"""Mail submission to the tier's Exchange-compatible SMTP server with real clients (smtplib, msmtp)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from smtp_support import (
    ALICE,
    PRINTER,
    access_token,
    auth_xoauth2,
    client_context,
    connect,
    open_session,
    reply,
    scan_message,
    user_settings,
)

from harness.msft.tier import MicrosoftTier

EXTERNAL = "qa-archive@example.net"


def test_greeting_and_ehlo_have_exchanges_shape(tier: MicrosoftTier) -> None:
    client = connect(tier)
    assert re.fullmatch(r"smtp\.office365\.com Microsoft ESMTP MAIL Service ready at "
                        r"\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000 \[[0-9A-F]{16}\]", client.greeting.decode())
    code, before_tls = client.ehlo("printer.lab")
    assert code == 250
    assert before_tls.decode().splitlines() == [
        "smtp.office365.com Hello [127.0.0.1]", "SIZE 157286400", "PIPELINING", "ENHANCEDSTATUSCODES",
        "STARTTLS", "8BITMIME", "SMTPUTF8"]
    client.starttls(context=client_context(tier))
    code, after_tls = client.ehlo("printer.lab")
    assert "AUTH LOGIN XOAUTH2" in after_tls.decode().splitlines()
    assert "STARTTLS" not in after_tls.decode().splitlines()
    assert reply(*client.quit()) == "221 2.0.0 Service closing transmission channel"


def test_smtplib_delivers_a_scan_with_attachment_to_every_recipient(tier: MicrosoftTier) -> None:
    client, session_id = open_session(tier)
    assert auth_xoauth2(client, PRINTER, access_token(tier)) == (235, "2.7.0 Authentication successful")
    message = scan_message(PRINTER, [ALICE, EXTERNAL], subject="Scan to mail via smtplib")
    client.mail(PRINTER)
    client.rcpt(ALICE)
    client.rcpt(EXTERNAL)
    code, text = client.data(message.as_bytes())
    client.quit()
    assert code == 250
    assert re.fullmatch(r"2\.6\.0 <scan-0001@wf-c5790\.lab> \[InternalId=\d+, Hostname=smtp\.office365\.com\] "
                        r"\d+ bytes in [\d.]+, [\d.]+ KB/sec Queued mail for delivery", text.decode())

    for mailbox in (ALICE, EXTERNAL):
        stored = [m for m in tier.state.mail.messages(mailbox) if m.session_id == session_id]
        assert len(stored) == 1, mailbox
        got = stored[0]
        assert got.subject == "Scan to mail via smtplib"
        assert got.from_ == PRINTER and got.envelope_from == PRINTER and got.authenticated_as == PRINTER
        assert got.to == (ALICE, EXTERNAL) and got.envelope_to == (ALICE, EXTERNAL)
        assert got.date == "2026-11-30T10:15:00+00:00"
        assert got.body.strip() == "Scanned document attached."
        [attachment] = got.attachments
        assert (attachment.filename, attachment.content_type, attachment.size) == (
            "scan0001.pdf", "application/pdf", 9 + 256 * 8)


def test_xoauth2_after_an_empty_challenge(tier: MicrosoftTier) -> None:
    from harness.msft.smtp import xoauth2_blob

    client, _ = open_session(tier)
    assert reply(*client.docmd("AUTH", "XOAUTH2")) == "334 "
    assert reply(*client.docmd(xoauth2_blob(PRINTER, access_token(tier)))) == "235 2.7.0 Authentication successful"
    client.quit()


@pytest.mark.parametrize("header_from", [PRINTER, f"Lab Printer <{ALICE}>"])
@pytest.mark.parametrize("envelope_from", [PRINTER, ALICE])
def test_sending_as_anyone_else_is_refused_after_data(tier: MicrosoftTier, envelope_from: str,
                                                       header_from: str) -> None:
    client, session_id = open_session(tier)
    auth_xoauth2(client, PRINTER, access_token(tier))
    assert reply(*client.docmd("MAIL", f"FROM:<{envelope_from}>")) == "250 2.1.0 Sender OK"
    assert reply(*client.docmd("RCPT", f"TO:<{EXTERNAL}>")) == "250 2.1.5 Recipient OK"
    message = scan_message(PRINTER, [EXTERNAL])
    message.replace_header("From", header_from)
    code, text = client.data(message.as_bytes())
    client.quit()
    delivered = [m for m in tier.state.mail.messages(EXTERNAL) if m.session_id == session_id]
    if envelope_from == PRINTER and header_from == PRINTER:
        assert code == 250 and len(delivered) == 1
        return
    assert reply(code, text) == (
        f"554 5.2.252 SendAsDenied; {PRINTER} not allowed to send as {ALICE}; "
        "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process "
        "message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.")
    assert delivered == []


# --- msmtp, the Debian client --------------------------------------------------------------------------------
MSMTP = shutil.which("msmtp")


def run_msmtp(tier: MicrosoftTier, tmp_path: Path, upn: str, token: str, recipients: list[str],
              message: bytes) -> subprocess.CompletedProcess[str]:
    """Send ``message`` with msmtp: STARTTLS, the lab CA as only trust anchor, XOAUTH2 with ``token``."""
    token_file = tmp_path / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    config = tmp_path / "msmtprc"
    config.write_text(
        "account lab\n"
        f"host {tier.host}\n"
        f"port {tier.smtp_port}\n"
        "tls on\n"
        "tls_starttls on\n"
        f"tls_trust_file {tier.ca_bundle}\n"
        "tls_host_override smtp.office365.com\n"
        "auth xoauth2\n"
        f"user {upn}\n"
        f"from {upn}\n"
        f"passwordeval cat {token_file}\n"
        "timeout 10\n")
    config.chmod(0o600)
    return subprocess.run([str(MSMTP), "-C", str(config), "-a", "lab", *recipients], input=message.decode(),
                          capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.skipif(MSMTP is None, reason="needs Debian's msmtp (make setup installs it)")
def test_msmtp_delivers_with_xoauth2_over_starttls(tier: MicrosoftTier, tmp_path: Path) -> None:
    message = scan_message(PRINTER, [ALICE], subject="Scan to mail via msmtp")
    message.replace_header("Message-ID", "<scan-msmtp@wf-c5790.lab>")
    done = run_msmtp(tier, tmp_path, PRINTER, access_token(tier), [ALICE], message.as_bytes())
    assert done.returncode == 0, done.stderr
    [got] = [m for m in tier.state.mail.messages(ALICE) if m.subject == "Scan to mail via msmtp"]
    assert got.authenticated_as == PRINTER and got.attachments[0].filename == "scan0001.pdf"
    transcript = tier.smtp.transcript(got.session_id)
    assert transcript["tls"] and transcript["authenticated_as"] == PRINTER


@pytest.mark.skipif(MSMTP is None, reason="needs Debian's msmtp (make setup installs it)")
def test_msmtp_reports_exchanges_refusal(tier: MicrosoftTier, tmp_path: Path) -> None:
    message = scan_message(PRINTER, [ALICE], subject="never delivered").as_bytes()
    with user_settings(tier, PRINTER, smtp_auth_enabled=False):
        done = run_msmtp(tier, tmp_path, PRINTER, access_token(tier), [ALICE], message)
    assert done.returncode != 0
    assert "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox" in (
        done.stderr)
    done = run_msmtp(tier, tmp_path, PRINTER, access_token(tier, ALICE), [ALICE], message)
    assert done.returncode != 0 and "535 5.7.3 Authentication unsuccessful" in done.stderr
    assert not [m for m in tier.state.mail.messages(ALICE) if m.subject == "never delivered"]
