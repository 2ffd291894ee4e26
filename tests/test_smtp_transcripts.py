"""Every SMTP session leaves a transcript, secrets redacted; messages link to the session that sent them."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from smtp_support import ALICE, PRINTER, access_token, auth_xoauth2, open_session, scan_message

from harness.clock import VirtualClock
from harness.msft.smtp import xoauth2_blob
from harness.msft.smtp.transcript import (
    REDACTED,
    SessionTranscript,
    TranscriptStore,
    printable,
    redact_command,
    redact_secrets,
)
from harness.msft.tier import MicrosoftTier

PASSWORD = "Printer-Mailbox-Pa55!"


def test_transcript_of_a_submission_holds_no_secret(tier: MicrosoftTier, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = access_token(tier)
    blob = xoauth2_blob(PRINTER, token)
    login_user, login_password = (base64.b64encode(v.encode()).decode() for v in (PRINTER, PASSWORD))
    client, session_id = open_session(tier)
    client.docmd("AUTH", "LOGIN " + login_user)
    client.docmd(login_password)
    client.docmd("AUTH", "XOAUTH2")
    client.docmd(blob)
    client.sendmail(PRINTER, [ALICE], scan_message(PRINTER, [ALICE], subject="transcribed").as_bytes())
    client.quit()

    transcript = tier.smtp.transcript(session_id)
    assert transcript is not None
    text = json.dumps(transcript)
    assert "AUTH XOAUTH2" in caplog.text  # aiosmtpd did log the session's commands
    for secret in (token, blob, login_user, login_password, PASSWORD, token.split(".")[2]):
        assert secret not in text
        assert secret not in caplog.text
    lines = [(line["from"], line["text"]) for line in transcript["lines"]]
    assert ("client", "AUTH LOGIN [redacted]") in lines
    assert ("client", "AUTH XOAUTH2") in lines and ("server", "334 ") in lines
    assert lines.count(("client", REDACTED)) == 2  # the LOGIN password and the XOAUTH2 response
    assert ("server", "235 2.7.0 Authentication successful") in lines

    starttls = lines.index(("client", "STARTTLS"))
    assert lines[starttls + 1] == ("server", "220 2.0.0 SMTP server ready")
    assert lines[starttls + 2][0] == "event" and lines[starttls + 2][1].startswith("STARTTLS: TLS established")
    assert any(kind == "event" and text.startswith("message data: ") for kind, text in lines)
    assert "Scanned document attached." not in text  # message content is not transcribed
    assert transcript["tls"] and transcript["authenticated_as"] == PRINTER
    assert all(line["t"] >= 0 and line["at"] for line in transcript["lines"])

    [stored] = [m for m in tier.state.mail.messages(ALICE) if m.session_id == session_id]
    assert transcript["message_ids"] == [stored.id]
    assert session_id in [t["session_id"] for t in tier.smtp.transcripts(ALICE)]
    assert session_id in [t["session_id"] for t in tier.smtp.transcripts(PRINTER.upper())]
    assert session_id not in [t["session_id"] for t in tier.smtp.transcripts("bob@epsonlab.onmicrosoft.com")]


def test_failed_attempt_is_transcribed_with_its_reason(tier: MicrosoftTier) -> None:
    client, session_id = open_session(tier)
    auth_xoauth2(client, PRINTER, access_token(tier, ALICE))
    client.close()
    transcript = tier.smtp.transcript(session_id)
    assert transcript is not None and transcript["claimed_user"] == PRINTER and not transcript["authenticated_as"]
    texts = [line["text"] for line in transcript["lines"]]
    assert "535 5.7.3 Authentication unsuccessful" in texts
    assert "XOAUTH2 refused: user= is not the token's user" in texts


def test_redaction_rules() -> None:
    assert redact_command("AUTH XOAUTH2 dXNlcj1h") == "AUTH XOAUTH2 [redacted]"
    assert redact_command("auth plain AGEAYg==") == "auth plain [redacted]"
    assert redact_command("AUTH XOAUTH2") == "AUTH XOAUTH2"
    assert redact_command("AUTH " + "dXNlcj1h" * 8) == "AUTH [redacted]"
    assert redact_command("MAIL FROM:<printer@lab.example>") == "MAIL FROM:<printer@lab.example>"
    assert redact_command("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln") == REDACTED
    assert redact_secrets("stray user=a@b.c\x01auth=Bearer abc.def") == "stray user=a@b.c\x01[redacted]"
    assert redact_secrets("b'" + "QUJD" * 12 + "'") == "b'[redacted]'"
    assert printable(b"EHLO x\r\n") == "EHLO x"
    assert printable(b"\xff\xfeNOOP\r\n") == "\\xff\\xfeNOOP"
    assert printable(b"A" * 600 + b"\r\n") == "A" * 512 + "… [602 octets]"


def test_store_keeps_the_most_recent_sessions_and_bounds_each_one() -> None:
    clock = VirtualClock(start=1_800_000_000)
    store = TranscriptStore(capacity=3)
    for n in range(5):
        transcript = SessionTranscript(f"S{n}", "127.0.0.1:1", "smtp.office365.com", clock.now(), clock)
        transcript.authenticated_as = f"user{n}@lab.example"
        store.add(transcript)
    assert [t["session_id"] for t in store.sessions()] == ["S2", "S3", "S4"]
    assert store.get("S0") is None and store.get("S4") is not None
    assert [t["session_id"] for t in store.sessions("USER3@lab.example")] == ["S3"]
    busy = SessionTranscript("B", "127.0.0.1:2", "smtp.office365.com", clock.now(), clock)
    for n in range(1500):
        busy.client(f"NOOP {n}")
    shown = busy.as_dict()
    assert len(shown["lines"]) == 1000 and shown["dropped_lines"] == 500
