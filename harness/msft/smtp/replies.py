"""Exchange Online's SMTP reply texts, and the translation of aiosmtpd's own replies into them.

Texts follow replies captured from smtp.office365.com; Exchange appends a bracketed front-end server name to
some of them, which the tier leaves out so that a text compares equal to the one in the spec.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime

AUTH_SUCCESSFUL = "235 2.7.0 Authentication successful"
AUTH_UNSUCCESSFUL = "535 5.7.3 Authentication unsuccessful"
BASIC_AUTH_DISABLED = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
SMTP_AUTH_DISABLED = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
                      "{scope}. Visit https://aka.ms/smtp_auth_disabled for more information.")
SECURITY_DEFAULTS = ("535 5.7.139 Authentication unsuccessful, user is locked by your organization's security "
                     "defaults policy. Contact your administrator.")
CONDITIONAL_ACCESS = ("535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
                      "authenticated successfully. Contact your administrator.")
UNRECOGNIZED_AUTH = "504 5.7.4 Unrecognized authentication type"
BAD_BASE64 = "501 5.5.2 Cannot Base64-decode Client responses"
AUTH_CANCELLED = "501 5.7.0 Client initiated Authentication Exchange"
ALREADY_AUTHENTICATED = "503 5.5.2 Already authenticated"
AUTH_LINE_TOO_LONG = "500 5.5.6 Authentication Exchange line is too long"
NOT_AUTHENTICATED = "530 5.7.57 Client not authenticated to send mail."
STARTTLS_FIRST = "530 5.7.0 Must issue a STARTTLS command first"
SEND_HELLO_FIRST = "503 5.5.2 Send hello first"
TLS_READY = "220 2.0.0 SMTP server ready"
TLS_ALREADY_ACTIVE = "503 5.5.1 Bad sequence of commands"
SENDER_OK = "250 2.1.0 Sender OK"
RECIPIENT_OK = "250 2.1.5 Recipient OK"
START_MAIL_INPUT = "354 Start mail input; end with <CRLF>.<CRLF>"
OK = "250 2.0.0 OK"
RESETTING = "250 2.0.0 Resetting"
CLOSING = "221 2.0.0 Service closing transmission channel"
INVALID_ARGUMENTS = "501 5.5.4 Invalid arguments"
INVALID_ADDRESS = "501 5.1.7 Invalid address"
TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
INVALID_CONTENT = "554 5.6.0 Invalid message content"
TEMPORARY_ERROR = "451 4.7.0 Temporary server error. Please try again later."
SEND_AS_DENIED = ("554 5.2.252 SendAsDenied; {upn} not allowed to send as {sender}; "
                  "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process "
                  "message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.")
QUEUED = ("250 2.6.0 {message_id} [InternalId={internal_id}, Hostname={host}] {size} bytes in {seconds:.3f}, "
          "{rate:.3f} KB/sec Queued mail for delivery")
HELP = ("214-This server supports the following commands:",
        "214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH NOOP")

#: What the tenant's SMTP AUTH verdict (``Tenant.smtp_auth_block``) answers.
SMTP_AUTH_BLOCKED: dict[str, str] = {
    "security_defaults": SECURITY_DEFAULTS,
    "tenant": SMTP_AUTH_DISABLED.format(scope="Tenant"),
    "mailbox": SMTP_AUTH_DISABLED.format(scope="Mailbox"),
}


def greeting_text(when: float, session_id: str) -> str:
    """The greeting after ``220 <host>``: ``Microsoft ESMTP MAIL Service ready at <RFC 5322 date> [<id>]``."""
    date = format_datetime(datetime.fromtimestamp(when, UTC)).replace("-0000", "+0000")
    return f"Microsoft ESMTP MAIL Service ready at {_unpadded_day(date)} [{session_id}]"


def _unpadded_day(date: str) -> str:
    # Exchange writes "Sun, 3 Nov 2025", email.utils writes "Sun, 03 Nov 2025".
    return re.sub(r"^(\w{3}), 0(\d)", r"\1, \2", date)


def send_as_denied(upn: str, sender: str) -> str:
    return SEND_AS_DENIED.format(upn=upn, sender=sender)


# aiosmtpd's built-in replies, as Exchange words them. Keys are exact texts or regular expressions.
_EXACT: dict[str, str] = {
    "500 Command line too long": "500 5.5.2 Command line too long",
    "500 Error: bad syntax": "500 5.5.2 Syntax error, command unrecognized",
    "500 Error: strict ASCII mode": "500 5.5.2 Syntax error, command unrecognized",
    "500 Error: Cannot describe error": TEMPORARY_ERROR,
    "502 5.5.1 Too many unrecognized commands, goodbye.":
        "421 4.7.0 Too many errors on this connection, closing transmission channel",
    "554 Command refused due to lack of security": STARTTLS_FIRST,
    "500 Error: command 'AUTH' not recognized": SEND_HELLO_FIRST,
    "538 5.7.11 Encryption required for requested authentication mechanism": UNRECOGNIZED_AUTH,
    "503 Already authenticated": ALREADY_AUTHENTICATED,
    "501 Not enough value": INVALID_ARGUMENTS,
    "501 Too many values": INVALID_ARGUMENTS,
    "504 5.5.4 Unrecognized authentication type": UNRECOGNIZED_AUTH,
    "501 5.7.0 Auth aborted": AUTH_CANCELLED,
    "501 5.5.2 Can't decode base64": BAD_BASE64,
    "501 5.5.2 Can't split auth value": BAD_BASE64,
    "535 5.7.8 Authentication credentials invalid": AUTH_UNSUCCESSFUL,
    "220 Ready to start TLS": TLS_READY,
    "454 TLS not available": "454 4.7.0 TLS not available due to temporary reason",
    "221 Bye": CLOSING,
    "250 OK": OK,
    "553 5.1.3 Error: malformed address": INVALID_ADDRESS,
    "503 Error: nested MAIL command": "503 5.5.2 Sender already specified",
    "503 Error: need MAIL command": "503 5.5.2 Need mail command",
    "503 Error: need RCPT command": "503 5.5.2 Need rcpt command",
    "501 Error: BODY can only be one of 7BIT, 8BITMIME": "501 5.5.4 Invalid arguments",
    "501 Error: SMTPUTF8 takes no arguments": INVALID_ARGUMENTS,
    "501 Error: SMTPUTF8 disabled": INVALID_ARGUMENTS,
    "552 Error: message size exceeds fixed maximum message size": TOO_BIG,
    "552 Error: Too much mail data": TOO_BIG,
    "555 MAIL FROM parameters not recognized or not implemented": "501 5.5.4 Unrecognized parameter",
    "555 RCPT TO parameters not recognized or not implemented": "501 5.5.4 Unrecognized parameter",
    "354 End data with <CR><LF>.<CR><LF>": START_MAIL_INPUT,
    "500 Line too long (see RFC5321 4.5.3.1.6)": "500 5.5.2 Line too long",
    "502 EXPN not implemented": "502 5.3.3 Command not implemented",
    "252 Cannot VRFY user, but will accept message and attempt delivery":
        "252 2.1.5 Cannot VRFY user, but will accept message for delivery",
}
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r'500 Error: command "(.*)" not recognized'), r"500 5.3.3 Unrecognized command '\1'"),
    (re.compile(r"501 Syntax: (HELO|EHLO) hostname"), "501 5.5.4 Invalid domain name"),
    (re.compile(r"501 Syntax: .*"), INVALID_ARGUMENTS),
    (re.compile(r"503 Error: send (HELO|EHLO) first"), SEND_HELLO_FIRST),
    (re.compile(r"502 Could not VRFY .*"), INVALID_ADDRESS),
    (re.compile(r"500 Error: \(\w+\) .*"), TEMPORARY_ERROR),
    (re.compile(r"421 4\.7\.0 \w+ sent too many times"),
     "421 4.7.0 Too many errors on this connection, closing transmission channel"),
)
_ENHANCED = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}\b")
#: Replies RFC 2034 exempts from enhanced status codes: greeting, HELO/EHLO, AUTH continuation, DATA go-ahead.
_EXEMPT_CODES = frozenset({"220", "214", "334", "354"})


def exchange_reply(status: str, command: str | None) -> str:
    """Exchange's wording of ``status``, a reply aiosmtpd may have produced itself for ``command``."""
    if status == "500 Command line too long" and command == "AUTH":
        return AUTH_LINE_TOO_LONG
    if status == "530 Must issue a STARTTLS command first":
        if command == "AUTH":
            return UNRECOGNIZED_AUTH
        return NOT_AUTHENTICATED if command in {"MAIL", "RCPT", "DATA"} else STARTTLS_FIRST
    exact = _EXACT.get(status)
    if exact is not None:
        return exact
    for pattern, replacement in _PATTERNS:
        if pattern.fullmatch(status):
            return pattern.sub(replacement, status)
    return _with_enhanced_code(status, command)


def _with_enhanced_code(status: str, command: str | None) -> str:
    """Add a generic enhanced status code where a reply lacks one, as ENHANCEDSTATUSCODES promises."""
    code = status[:3]
    if (len(status) < 4 or status[3] != " " or not code.isdigit() or code in _EXEMPT_CODES
            or command in {"EHLO", "HELO"} or _ENHANCED.match(status) or code[0] not in "245"):
        return status
    return f"{code} {code[0]}.0.0 {status[4:]}"
