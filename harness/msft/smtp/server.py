"""Exchange Online's SMTP client submission endpoint for the built-in tier (aiosmtpd handler and factory)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import ssl
import time
import uuid
from dataclasses import dataclass, replace
from email.utils import getaddresses
from typing import Any

from aiosmtpd.smtp import Envelope, Session

from harness.msft.mailstore import parse_message
from harness.msft.smtp import replies
from harness.msft.smtp.protocol import ExchangeSmtpProtocol
from harness.msft.smtp.transcript import SessionTranscript, TranscriptStore
from harness.msft.smtp.xoauth2 import parse_xoauth2
from harness.msft.state import TierState
from harness.msft.tokens import AccessClaims, InvalidToken

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]{1,250}>)", re.IGNORECASE | re.MULTILINE)
_MAX_CLAIMED_USER = 256


@dataclass(frozen=True)
class AuthVerdict:
    """The outcome of one XOAUTH2 attempt: claims on success, else the reply and a reason for the transcript."""

    claims: AccessClaims | None
    reply: str
    reason: str = ""
    claimed_user: str = ""


class ExchangeSmtp:
    """STARTTLS, AUTH XOAUTH2 against the tier's tokens and tenant switches, delivery into the tier's mailboxes.

    ``protocol_factory`` goes to ``loop.create_server``; each connection's transcript is kept (bounded) for
    :meth:`transcripts`.
    """

    def __init__(self, state: TierState, tls_context: ssl.SSLContext, hostname: str = "smtp.office365.com", *,
                 max_transcripts: int = 500) -> None:
        self.state = state
        self.tls_context = tls_context
        self.hostname = hostname
        self._transcripts = TranscriptStore(max_transcripts)
        self._internal_ids = itertools.count(1)

    def protocol_factory(self) -> ExchangeSmtpProtocol:
        """A protocol for one new connection (called by the serving loop)."""
        return ExchangeSmtpProtocol(self, loop=asyncio.get_running_loop())

    # --- transcripts ----------------------------------------------------------------------------------------
    def transcripts(self, address: str | None = None) -> list[dict[str, Any]]:
        """Recent sessions' transcripts, oldest first; with ``address``, those of that user or mailbox."""
        return self._transcripts.sessions(address)

    def transcript(self, session_id: str) -> dict[str, Any] | None:
        return self._transcripts.get(session_id)

    def keep_transcript(self, transcript: SessionTranscript) -> None:
        self._transcripts.add(transcript)

    # --- authentication -------------------------------------------------------------------------------------
    def check_xoauth2(self, response: bytes) -> AuthVerdict:
        """Judge a decoded XOAUTH2 response as Exchange Online does: token, user, mailbox, SMTP AUTH switches."""
        credentials = parse_xoauth2(response)
        if credentials is None:
            return AuthVerdict(None, replies.AUTH_UNSUCCESSFUL, "not an XOAUTH2 response")
        claimed = credentials.user.strip().lower()[:_MAX_CLAIMED_USER]
        try:
            claims = self.state.tokens.validate_access_token(credentials.token)
        except InvalidToken as refused:
            return AuthVerdict(None, replies.AUTH_UNSUCCESSFUL, refused.reason, claimed)
        if claims.upn != claimed:
            return AuthVerdict(None, replies.AUTH_UNSUCCESSFUL, "user= is not the token's user", claimed)
        tenant = self.state.tenant
        user = tenant.user(claims.upn)
        if user is None or not user.mailbox or not user.enabled:
            return AuthVerdict(None, replies.AUTH_UNSUCCESSFUL, "no enabled mailbox for the token's user", claimed)
        blocked = tenant.smtp_auth_block(user.upn)
        if blocked is not None:
            return AuthVerdict(None, replies.SMTP_AUTH_BLOCKED[blocked], f"SMTP AUTH blocked ({blocked})", claimed)
        policy = tenant.blocking_policy(user.upn, "smtp")
        if policy is not None:
            return AuthVerdict(None, replies.CONDITIONAL_ACCESS, f"conditional access policy {policy.name!r}",
                               claimed)
        return AuthVerdict(claims, replies.AUTH_SUCCESSFUL, "", claimed)

    # --- aiosmtpd handler hooks -----------------------------------------------------------------------------
    async def handle_MAIL(self, server: ExchangeSmtpProtocol, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        # Exchange accepts any sender here and refuses a foreign one once the message is in (SendAsDenied).
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        if server.transcript is not None:
            server.transcript.envelope_senders.append(address.lower())
        return replies.SENDER_OK

    async def handle_RCPT(self, server: ExchangeSmtpProtocol, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        # Client submission relays to any recipient, inside the tenant or not; the tier keeps them all.
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        if server.transcript is not None:
            server.transcript.recipients.append(address.lower())
        return replies.RECIPIENT_OK

    async def handle_DATA(self, server: ExchangeSmtpProtocol, session: Session, envelope: Envelope) -> str:
        return self._submit(server, session, envelope)

    async def handle_RSET(self, server: ExchangeSmtpProtocol, session: Session, envelope: Envelope) -> str:
        return replies.RESETTING

    async def handle_NOOP(self, server: ExchangeSmtpProtocol, session: Session, envelope: Envelope,
                          arg: str) -> str:
        return replies.OK

    async def handle_QUIT(self, server: ExchangeSmtpProtocol, session: Session, envelope: Envelope) -> str:
        return replies.CLOSING

    # --- submission -----------------------------------------------------------------------------------------
    def _submit(self, server: ExchangeSmtpProtocol, session: Session, envelope: Envelope) -> str:
        claims = session.auth_data
        assert isinstance(claims, AccessClaims) and envelope.mail_from is not None
        raw = bytes(envelope.original_content or b"")
        recipients = [r.lower() for r in envelope.rcpt_tos]
        try:
            message = parse_message(raw, mailbox=recipients[0], received_at=self.state.clock.now(),
                                    envelope_from=envelope.mail_from, envelope_to=list(envelope.rcpt_tos),
                                    authenticated_as=claims.upn, session_id=server.session_id)
        except Exception as error:  # any parse failure is the client's content, not ours
            log.info("SMTP session %s: unparsable message (%s)", server.session_id, type(error).__name__)
            return replies.INVALID_CONTENT
        header_senders = [addr for _, addr in getaddresses([message.from_]) if addr]
        for sender in (envelope.mail_from, *header_senders):
            if sender.lower() != claims.upn:
                return replies.send_as_denied(claims.upn, sender)
        for index, mailbox in enumerate(recipients):
            copy = message if index == 0 else replace(message, id=str(uuid.uuid4()), mailbox=mailbox)
            self.state.mail.deliver(copy)
            if server.transcript is not None:
                server.transcript.message_ids.append(copy.id)
        elapsed = max(time.monotonic() - server.data_started, 1e-6)
        return replies.QUEUED.format(message_id=self._message_id(raw), internal_id=next(self._internal_ids),
                                     host=self.hostname, size=len(raw), seconds=elapsed,
                                     rate=len(raw) / 1024 / elapsed)

    def _message_id(self, raw: bytes) -> str:
        headers = raw.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(headers)
        if found is not None:
            return found.group(1).decode("ascii", "replace")
        return f"<{uuid.uuid4()}@{self.hostname}>"
