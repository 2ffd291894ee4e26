"""Garbage on the wire never takes the SMTP server down: it answers in SMTP or hangs up, and serves the next client.

Property-based (hypothesis) over raw loopback sockets: random bytes, bad base64, huge lines, truncated sessions,
garbage instead of a TLS handshake.
"""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import ssl

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from smtp_support import ALICE, PRINTER, access_token, auth_xoauth2, client_context, open_session, scan_message

from harness.msft.smtp import xoauth2_blob
from harness.msft.tier import MicrosoftTier

REPLY_LINE = re.compile(rb"^[2-5]\d\d[ -]")
GARBAGE = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMMANDS = [b"EHLO x", b"HELO x", b"STARTTLS", b"AUTH XOAUTH2", b"AUTH LOGIN", b"MAIL FROM:<a@b.c>",
            b"RCPT TO:<a@b.c>", b"DATA", b"RSET", b"NOOP", b"HELP", b"VRFY a", b"EXPN a", b".", b""]


class Wire:
    """A raw client socket speaking (or not) SMTP to the tier, with bounded waits."""

    def __init__(self, tier: MicrosoftTier) -> None:
        self.tier = tier
        self.sock: socket.socket = socket.create_connection((tier.host, tier.smtp_port), timeout=5)
        self.pending = b""
        self.greeting = self.reply()

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:  # the server may hang up on garbage; that is allowed
            return False

    def reply(self) -> list[bytes]:
        """One (possibly multi-line) reply."""
        lines: list[bytes] = []
        while True:
            while b"\r\n" not in self.pending:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return lines
                self.pending += chunk
            line, self.pending = self.pending.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def command(self, line: bytes) -> list[bytes]:
        self.send(line + b"\r\n")
        return self.reply()

    def starttls(self) -> None:
        assert self.command(b"EHLO garbage.lab")[0].startswith(b"250")
        assert self.command(b"STARTTLS") == [b"220 2.0.0 SMTP server ready"]
        self.sock = client_context(self.tier).wrap_socket(self.sock, server_hostname=self.tier.host)
        assert self.command(b"EHLO garbage.lab")[0].startswith(b"250")

    def rest(self) -> list[bytes]:
        """Everything the server still says until it hangs up (after we stop sending)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        data = self.pending
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except (OSError, ssl.SSLError):
            pass
        return [line for line in data.split(b"\r\n") if line]

    def close(self, *, reset: bool = False) -> None:
        if reset:  # RST instead of FIN, as a device losing power mid-session
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()


def assert_smtp(lines: list[bytes]) -> None:
    """Every line is an SMTP reply, up to a STARTTLS go-ahead (after which the octets are TLS)."""
    for line in lines:
        if line == b"220 2.0.0 SMTP server ready":
            return
        assert REPLY_LINE.match(line), line
        assert b"Traceback" not in line and b"Error: (" not in line, line


def assert_serving(tier: MicrosoftTier) -> None:
    wire = Wire(tier)
    assert wire.greeting[0].startswith(b"220 smtp.office365.com Microsoft ESMTP MAIL Service ready")
    assert wire.command(b"NOOP") == [b"250 2.0.0 OK"]
    wire.close()


def assert_good_session_succeeds(tier: MicrosoftTier) -> None:
    client, session_id = open_session(tier)
    assert auth_xoauth2(client, PRINTER, access_token(tier))[0] == 235
    client.sendmail(PRINTER, [ALICE], scan_message(PRINTER, [ALICE], subject="after garbage").as_bytes())
    client.quit()
    assert [m for m in tier.state.mail.messages(ALICE) if m.session_id == session_id]


@GARBAGE
@given(payload=st.one_of(
    st.binary(max_size=3000),
    st.lists(st.one_of(st.sampled_from(COMMANDS), st.binary(max_size=120)), max_size=30).map(b"\r\n".join),
))
def test_random_bytes(tier: MicrosoftTier, payload: bytes) -> None:
    wire = Wire(tier)
    wire.send(payload)
    assert_smtp(wire.rest())
    wire.close()
    assert_serving(tier)


@GARBAGE
@given(argument=st.one_of(st.text(max_size=300).filter(lambda s: "\r" not in s and "\n" not in s),
                          st.binary(max_size=400).map(lambda b: base64.b64encode(b).decode())),
       inline=st.booleans())
def test_bad_base64_and_shapes_in_auth(tier: MicrosoftTier, argument: str, inline: bool) -> None:
    wire = Wire(tier)
    wire.starttls()
    if inline and argument.strip():
        answer = wire.command(b"AUTH XOAUTH2 " + argument.encode("utf-8", "surrogateescape"))
    else:
        assert wire.command(b"AUTH XOAUTH2") == [b"334 "]
        answer = wire.command(argument.encode("utf-8", "surrogateescape"))
    assert_smtp(answer)
    assert answer and answer[-1][:1] == b"5", answer  # never accepted, always a permanent error
    assert wire.command(b"NOOP") == [b"250 2.0.0 OK"]  # and the connection stays usable (RFC 4954)
    wire.close()


@settings(max_examples=8, deadline=None)
@given(size=st.integers(min_value=16_000, max_value=2_000_000), after_tls=st.booleans(),
       verb=st.sampled_from([b"AUTH XOAUTH2 ", b"MAIL FROM:<", b"", b"EHLO "]))
@example(size=16_000, after_tls=False, verb=b"EHLO ")  # fits the pre-EHLO AUTH allowance, not a greeting's limit
@example(size=16_000, after_tls=False, verb=b"HELO ")
def test_huge_lines(tier: MicrosoftTier, size: int, after_tls: bool, verb: bytes) -> None:
    wire = Wire(tier)
    if after_tls:
        wire.starttls()
    answer = wire.command(verb + b"Q" * size)
    assert_smtp(answer)
    assert answer and answer[-1].startswith(b"5"), answer
    assert wire.command(b"NOOP") == [b"250 2.0.0 OK"]
    wire.close()


def good_session_steps(tier: MicrosoftTier) -> list[bytes | None]:
    """The client side of a good submission; None marks where STARTTLS switches to TLS."""
    message = scan_message(PRINTER, [ALICE], subject="truncated").as_bytes().replace(b"\n", b"\r\n")
    return [b"EHLO printer.lab\r\n", b"STARTTLS\r\n", None, b"EHLO printer.lab\r\n",
            b"AUTH XOAUTH2 " + xoauth2_blob(PRINTER, access_token(tier)).encode() + b"\r\n",
            f"MAIL FROM:<{PRINTER}>\r\n".encode(), f"RCPT TO:<{ALICE}>\r\n".encode(), b"DATA\r\n",
            message + b".\r\n", b"QUIT\r\n"]


@GARBAGE
@given(data=st.data(), reset=st.booleans())
def test_truncated_sessions(tier: MicrosoftTier, data: st.DataObject, reset: bool) -> None:
    steps = good_session_steps(tier)
    cut = data.draw(st.integers(min_value=0, max_value=len(steps) - 1), label="cut before step")
    wire = Wire(tier)
    for step in steps[:cut]:
        if step is None:
            wire.sock = client_context(tier).wrap_socket(wire.sock, server_hostname=tier.host)
        else:
            wire.send(step)
            assert_smtp(wire.reply())
    partial = steps[cut]
    if partial is not None:
        wire.send(partial[: data.draw(st.integers(min_value=0, max_value=len(partial) - 1), label="octets")])
    wire.close(reset=reset)
    assert_serving(tier)


@GARBAGE
@given(noise=st.binary(min_size=1, max_size=2000), half_close=st.booleans())
def test_garbage_instead_of_tls(tier: MicrosoftTier, noise: bytes, half_close: bool) -> None:
    wire = Wire(tier)
    wire.command(b"EHLO x")
    assert wire.command(b"STARTTLS") == [b"220 2.0.0 SMTP server ready"]
    wire.send(noise)
    if half_close:
        wire.rest()  # whatever comes back is TLS alerts or nothing; the point is the server's health
    wire.close()
    assert_serving(tier)


def test_a_good_session_after_all_the_garbage(tier: MicrosoftTier) -> None:
    assert_good_session_succeeds(tier)


def test_tls_handshake_from_a_client_that_trusts_nothing_fails_cleanly(tier: MicrosoftTier) -> None:
    wire = Wire(tier)
    wire.command(b"EHLO x")
    wire.command(b"STARTTLS")
    try:
        ssl.create_default_context().wrap_socket(wire.sock, server_hostname="smtp.office365.com")
        raise AssertionError("the lab certificate must not verify without the lab CA")
    except ssl.SSLCertVerificationError:
        pass
    wire.close()
    assert_good_session_succeeds(tier)
