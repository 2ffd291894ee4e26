"""aiosmtpd's SMTP protocol speaking as Exchange Online's client submission endpoint; one per connection."""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, AnyStr, Literal

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, TLSSetupException

from harness.msft.smtp import replies
from harness.msft.smtp.transcript import REDACTED, SessionTranscript, printable, redact_command, redact_secrets
from harness.msft.smtp.xoauth2 import decode_initial_response

if TYPE_CHECKING:
    from harness.msft.smtp.server import ExchangeSmtp

log = logging.getLogger(__name__)

#: Longest command line accepted. RFC 4954 asks for 12288 octets for AUTH; real XOAUTH2 lines run 2–3.5 KB.
LONG_LINE = 16384
#: Exchange Online's advertised message size limit (150 MB).
MAX_MESSAGE_SIZE = 157_286_400
#: How much of one client line the transcript looks at (enough to redact and show it).
_HEAD = 4096

Mode = Literal["command", "auth", "data"]


class _RecordingReader:
    """The connection's StreamReader, showing every octet the protocol consumes to ``on_read``."""

    __slots__ = ("_inner", "_on_read")

    def __init__(self, inner: asyncio.StreamReader, on_read: Any) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_on_read", on_read)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        data = await self._inner.readuntil(separator)
        self._on_read(data)
        return data

    async def readline(self) -> bytes:
        data = await self._inner.readline()
        self._on_read(data)
        return data

    async def read(self, n: int = -1) -> bytes:
        data = await self._inner.read(n)
        self._on_read(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # aiosmtpd swaps the reader's transport after STARTTLS; that must reach the real reader.
        setattr(self._inner, name, value)


class ExchangeSmtpProtocol(SMTP):
    """One client connection: Exchange's replies, STARTTLS before anything else, AUTH XOAUTH2 only."""

    line_length_limit = LONG_LINE
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(self, exchange: ExchangeSmtp, loop: asyncio.AbstractEventLoop) -> None:
        self.exchange = exchange
        self.session_id = secrets.token_hex(8).upper()
        self.transcript: SessionTranscript | None = None
        self.data_started = 0.0
        self._mode: Mode = "command"
        self._verb: str | None = None
        self._head = bytearray()
        self._line_octets = 0
        self._data_octets = self._data_lines = 0
        self._data_partial = False
        self._last_auth_failure = ""
        super().__init__(
            exchange, hostname=exchange.hostname, loop=loop,
            ident=replies.greeting_text(exchange.state.clock.now(), self.session_id),
            tls_context=exchange.tls_context, require_starttls=True,
            auth_required=True, auth_require_tls=True, auth_exclude_mechanism=["PLAIN"],
            data_size_limit=MAX_MESSAGE_SIZE, enable_SMTPUTF8=True, decode_data=False,
        )
        # aiosmtpd keeps these limits in one dict shared by every SMTP instance; this connection gets its own.
        self.command_size_limits = collections.defaultdict(
            lambda: SMTP.command_size_limit, {"AUTH": LONG_LINE, "MAIL": SMTP.command_size_limit + 36})
        # Before EHLO aiosmtpd applies this one limit to every line; an AUTH line there must still be read
        # whole to be answered "Send hello first", as Exchange does.
        self.command_size_limit = LONG_LINE

    # --- connection life ---------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transcript is None:
            peer = transport.get_extra_info("peername")
            where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer)
            clock = self.exchange.state.clock
            self.transcript = SessionTranscript(self.session_id, where, self.hostname, clock.now(), clock)
            self.exchange.keep_transcript(self.transcript)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        transcript = self.transcript
        if transcript is not None and not transcript.closed:
            if self._line_octets:
                transcript.client(self._render_line(incomplete=True))
            elif self._mode == "data" and self._data_octets:
                transcript.event(f"message data cut off after {self._data_octets} octets")
            transcript.event("connection closed" + (f" ({type(error).__name__})" if error else ""))
            transcript.closed = True
        super().connection_lost(error)

    def _cb_client_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super()._cb_client_connected(_RecordingReader(reader, self._on_read), writer)  # type: ignore[arg-type]

    # --- transcript ---------------------------------------------------------------------------------------
    async def push(self, status: AnyStr) -> None:
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        text = replies.exchange_reply(text, self._verb)
        if self.transcript is not None:
            for line in text.split("\r\n"):
                self.transcript.server(line)
        await super().push(text)

    def _on_read(self, chunk: bytes) -> None:
        if not chunk or self.transcript is None:
            return
        if self._mode == "data":
            self._on_data(chunk, self.transcript)
            return
        if len(self._head) < _HEAD:
            self._head += chunk[: _HEAD - len(self._head)]
        self._line_octets += len(chunk)
        if chunk.endswith(b"\n"):
            self.transcript.client(self._render_line())

    def _render_line(self, incomplete: bool = False) -> str:
        head, octets = bytes(self._head), self._line_octets
        self._head.clear()
        self._line_octets = 0
        if self._mode == "auth":
            text = "*" if head.strip() == b"*" else REDACTED
        else:
            self._verb = head.rstrip(b"\r\n").partition(b" ")[0].upper().decode("ascii", "replace")
            text = redact_command(printable(head, total=octets))
        return f"{text} [incomplete line]" if incomplete else text

    def _on_data(self, chunk: bytes, transcript: SessionTranscript) -> None:
        if not self._data_partial and chunk == b".\r\n":
            transcript.event(f"message data: {self._data_octets} octets, {self._data_lines} lines")
            transcript.client(".")
            return
        self._data_octets += len(chunk)
        self._data_partial = not chunk.endswith(b"\r\n")
        self._data_lines += not self._data_partial

    # --- replies aiosmtpd makes itself --------------------------------------------------------------------
    async def check_helo_needed(self, helo: str = "HELO") -> bool:
        assert self.session is not None
        if not self.session.host_name:
            await self.push(replies.SEND_HELLO_FIRST)
            return True
        return False

    async def check_auth_needed(self, caller_method: str) -> bool:
        assert self.session is not None
        if self._auth_required and not self.session.authenticated:
            # Exchange names the failed AUTH that came before, if any.
            earlier = f" Error: {self._last_auth_failure}" if self._last_auth_failure else ""
            await self.push(replies.NOT_AUTHENTICATED + earlier)
            return True
        return False

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            log.info("SMTP session %s: TLS handshake failed", self.session_id)
            if self.transcript is not None:
                self.transcript.event("TLS handshake failed")
        else:
            log.warning("SMTP session %s: %s while handling a command", self.session_id, type(error).__name__)
        return replies.TEMPORARY_ERROR

    # --- commands -------------------------------------------------------------------------------------------
    async def smtp_EHLO(self, hostname: str) -> None:
        if await self._greeting_too_long("EHLO", hostname):
            return
        if not hostname:
            await self.push("501 5.5.4 Invalid domain name")
            return
        assert self.session is not None
        self._set_rset_state()
        self.session.extended_smtp = True
        self.session.host_name = hostname
        tls_or_auth = "AUTH " + " ".join(sorted(self._auth_methods)) if self._tls_protocol else "STARTTLS"
        features = [f"SIZE {MAX_MESSAGE_SIZE}", "PIPELINING", "ENHANCEDSTATUSCODES", tls_or_auth, "8BITMIME",
                    "SMTPUTF8"]
        lines = [f"{self.hostname} Hello [{self._peer_ip()}]", *features]
        await self.push("\r\n".join(f"250-{line}" for line in lines[:-1]) + f"\r\n250 {lines[-1]}")

    async def smtp_HELO(self, hostname: str) -> None:
        if await self._greeting_too_long("HELO", hostname):
            return
        if not hostname:
            await self.push("501 5.5.4 Invalid domain name")
            return
        assert self.session is not None
        self._set_rset_state()
        self.session.extended_smtp = False
        self.session.host_name = hostname
        await self.push(f"250 {self.hostname} Hello [{self._peer_ip()}]")

    async def _greeting_too_long(self, verb: str, hostname: str) -> bool:
        """Refuse a greeting longer than a command line may be; True when refused.

        Before the first EHLO every line is let through up to AUTH's length (see ``__init__``), so the greeting's
        own limit is checked here; after it aiosmtpd checks it before calling us.
        """
        if len(verb) + 1 + len(hostname.encode("utf-8", "surrogateescape")) <= self.command_size_limits[verb]:
            return False
        await self.push("500 Command line too long")
        return True

    async def smtp_HELP(self, arg: str) -> None:
        await self.push("\r\n".join(replies.HELP))

    async def smtp_STARTTLS(self, arg: str) -> None:
        assert self.session is not None
        if self._tls_protocol is not None:
            await self.push(replies.TLS_ALREADY_ACTIVE)
            return
        if not arg and not self.session.host_name:
            await self.push(replies.SEND_HELLO_FIRST)
            return
        await super().smtp_STARTTLS(arg)
        if self._tls_protocol is not None and self.transcript is not None and self.transport is not None:
            cipher = self.transport.get_extra_info("cipher") or ("?", "?", 0)
            self.transcript.tls = True
            self.transcript.event(f"STARTTLS: TLS established ({cipher[1]}, {cipher[0]})")

    async def smtp_AUTH(self, arg: str) -> None:
        # Mechanism names are case-insensitive (RFC 4422); aiosmtpd compares them as given.
        mechanism, space, rest = (arg or "").partition(" ")
        await super().smtp_AUTH(mechanism.upper() + space + rest if arg else arg)

    async def smtp_DATA(self, arg: str) -> None:
        self._mode = "data"
        self._data_octets = self._data_lines = 0
        self._data_partial = False
        self.data_started = time.monotonic()
        try:
            await super().smtp_DATA(arg)
        finally:
            self._mode = "command"

    # --- SASL -----------------------------------------------------------------------------------------------
    async def challenge_auth(self, challenge: str | bytes, encode_to_b64: bool = True,
                             log_client_response: bool = False) -> Any:
        self._mode = "auth"
        try:
            return await super().challenge_auth(challenge, encode_to_b64, log_client_response=False)
        except ValueError:  # the response overran the line limit; the reader dropped it
            if self.transcript is not None:
                self.transcript.event(f"AUTH response longer than {LONG_LINE} octets")
            await self.push(replies.AUTH_LINE_TOO_LONG)
            return MISSING
        finally:
            self._mode = "command"

    async def auth_XOAUTH2(self, _: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 1:
            response = await self.challenge_auth("")
            if response is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            response = decode_initial_response(args[1])
            if response is None:
                await self.push(replies.BAD_BASE64)
                return AuthResult(success=False, handled=True)
        verdict = self.exchange.check_xoauth2(response)
        assert self.transcript is not None
        self.transcript.claimed_user = verdict.claimed_user
        if verdict.claims is None:
            self._last_auth_failure = verdict.reply
            self.transcript.event(f"XOAUTH2 refused: {verdict.reason}")
            return AuthResult(success=False, handled=False, message=verdict.reply)
        self._last_auth_failure = ""
        self.transcript.authenticated_as = verdict.claims.upn
        return AuthResult(success=True, auth_data=verdict.claims, message=replies.AUTH_SUCCESSFUL)

    async def auth_LOGIN(self, _: SMTP, args: list[str]) -> AuthResult:
        """Basic authentication: read the user name and password as Exchange does, then refuse them."""
        if len(args) == 1:
            if await self.challenge_auth(self.AuthLoginUsernameChallenge) is MISSING:
                return AuthResult(success=False, handled=True)
        elif decode_initial_response(args[1]) is None:
            await self.push(replies.BAD_BASE64)
            return AuthResult(success=False, handled=True)
        if await self.challenge_auth(self.AuthLoginPasswordChallenge) is MISSING:
            return AuthResult(success=False, handled=True)
        self._last_auth_failure = replies.BASIC_AUTH_DISABLED
        return AuthResult(success=False, handled=False, message=replies.BASIC_AUTH_DISABLED)

    def _peer_ip(self) -> str:
        assert self.session is not None
        peer = self.session.peer
        return str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"


class _RedactingFilter(logging.Filter):
    """Keeps credential-shaped text out of aiosmtpd's own log records (it logs raw command lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Session.login_data is deprecated"):
            return False  # aiosmtpd warns about its own legacy attribute on every successful AUTH
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _install_log_filter() -> None:
    mail_log = logging.getLogger("mail.log")
    if not any(isinstance(f, _RedactingFilter) for f in mail_log.filters):
        mail_log.addFilter(_RedactingFilter())


_install_log_filter()
