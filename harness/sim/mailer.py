"""The device's mail engine: SMTP through its resolver, (START)TLS with its CA store, XOAUTH2, token refresh.

Each step that fails raises :class:`MailFailure` with the job error code of ``harness.sim.errorcodes`` and a
message that says why (the Connection Test page shows it). No password, token or XOAUTH2 blob is ever put in
a message, a log line or a job detail; the server's replies (which hold none) are kept verbatim.
"""

from __future__ import annotations

import base64
import logging
import poplib
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from harness.sim.cloud import CloudClient, CloudUnreachable
from harness.sim.device import Slot, StoredSignIn, VirtualDevice
from harness.sim.errorcodes import (
    CANNOT_REACH,
    SERVER_AUTH_FAILED,
    SERVER_REFUSED,
    SIGN_IN_AGAIN,
    SIGNIN_EXPIRED,
    code_for_aadsts,
    code_for_smtp_reply,
)
from harness.sim.resolver import NameResolutionError
from harness.sim.services import Attachment
from harness.sim.settings import EmailServerSettings, EmailService
from harness.sim.signin import REFRESH_GRANT, SCOPE, endpoint, signin_from_tokens

log = logging.getLogger(__name__)

#: The access token is refreshed when it has less than this many seconds left.
REFRESH_MARGIN = 300
TIMEOUT = 10.0

# Firmware defects this module can show (switched on per device from the inventory).
NO_REFRESH_DEFECT = "access_token_never_refreshed"
NO_ROTATION_DEFECT = "refresh_token_not_rotated"
IGNORE_VALIDATION_DEFECT = "certificate_validation_ignored"
SKIP_STARTTLS_DEFECT = "starttls_skipped"
WRONG_EXPIRY_CODE_DEFECT = "expired_signin_reported_as_370"

FailureKind = Literal["settings", "name", "connect", "certificate", "tls", "starttls", "signin", "auth", "refused",
                      "network"]


class MailFailure(Exception):
    """A mail step failed: job error ``code``, the page's ``message``, the server's reply in ``detail``."""

    def __init__(self, code: int, kind: FailureKind, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.kind = kind
        self.message = message
        self.detail = detail


def xoauth2_blob(user: str, token: str) -> str:
    """The base64 SASL XOAUTH2 initial response for ``user`` and bearer ``token``."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode("ascii")


def build_message(*, sender: str, to: str, subject: str, body: str, attachments: list[Attachment],
                  when: float) -> EmailMessage:
    """The MIME message the device sends: text body, attachments, Date from the lab clock."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(when, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(body)
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype or "octet-stream", filename=item.filename)
    return msg


def reply_text(code: int, text: bytes | str) -> str:
    """An SMTP reply as one line: ``535 5.7.139 Authentication unsuccessful, ...``."""
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(message.split())}"


class _ResolvedSmtp(smtplib.SMTP):
    """smtplib.SMTP that connects to the resolver's address while TLS and EHLO use the configured name."""

    def __init__(self, name: str, target: tuple[str, int], local_hostname: str) -> None:
        self._target = target
        super().__init__(local_hostname=local_hostname, timeout=TIMEOUT)
        self._host = name  # starttls() verifies the certificate against this name

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection(self._target, timeout)


class _ResolvedSmtpSsl(smtplib.SMTP_SSL):
    """smtplib.SMTP_SSL (implicit TLS) over the resolver's address, verified against the configured name."""

    def __init__(self, name: str, target: tuple[str, int], local_hostname: str, context: ssl.SSLContext) -> None:
        self._target = target
        super().__init__(local_hostname=local_hostname, timeout=TIMEOUT, context=context)
        self._host = name

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection(self._target, timeout)
        try:
            return self.context.wrap_socket(sock, server_hostname=self._host)
        except BaseException:
            sock.close()
            raise


class _ResolvedPop3(poplib.POP3):
    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        super().__init__(target[0], target[1], timeout=TIMEOUT)

    def _create_socket(self, timeout: float) -> socket.socket:
        return socket.create_connection(self._target, timeout)


@dataclass(frozen=True)
class Session:
    """An open, authenticated SMTP session and the sign-in it used (None without OAuth2)."""

    smtp: smtplib.SMTP
    signin: StoredSignIn | None


class Mailer:
    """Opens SMTP sessions for one device and submits messages; refreshes and saves its OAuth2 tokens."""

    def __init__(self, device: VirtualDevice, tenant_for: Callable[[EmailService], str]) -> None:
        self.device = device
        self.tenant_for = tenant_for

    # --- tokens -----------------------------------------------------------------------------------------
    def signin_for(self, slot: Slot) -> StoredSignIn:
        """The stored sign-in of ``slot`` with an access token good for 5 more minutes (refreshed if needed)."""
        signin = self.device.signin(slot)
        if signin is None:
            raise MailFailure(SIGN_IN_AGAIN, "signin", "Not signed in to the email service. Sign in on "
                                                       "Network > Email Server > Basic.")
        now = self.device.clock.now()
        if signin.access_expires_at - now > REFRESH_MARGIN or self.device.has_defect(NO_REFRESH_DEFECT):
            return signin
        return self._refresh(slot, signin, now)

    def _refresh(self, slot: Slot, signin: StoredSignIn, now: float) -> StoredSignIn:
        cloud = CloudClient(self.device.resolver, self.device.ca)
        try:
            response = cloud.post_form(endpoint(self.tenant_for(signin.service), "token"), {
                "grant_type": REFRESH_GRANT, "client_id": signin.client_id,
                "refresh_token": signin.refresh_token, "scope": SCOPE,
            })
        except CloudUnreachable as exc:
            raise MailFailure(CANNOT_REACH, "network",
                              f"Cannot connect to the sign-in service: {exc.reason}.") from None
        if not response.ok:
            description = str(response.body.get("error_description", "")).split(" Trace ID:", 1)[0]
            detail = description or f"HTTP {response.status} {response.error}".strip()
            if response.status >= 500 or not response.error:
                raise MailFailure(CANNOT_REACH, "network", "The sign-in service did not answer properly.", detail)
            code = code_for_aadsts(response.aadsts)
            if code == SIGNIN_EXPIRED and self.device.has_defect(WRONG_EXPIRY_CODE_DEFECT):
                code = SIGN_IN_AGAIN
            message = ("The sign-in has expired. Sign in again." if code == SIGNIN_EXPIRED
                       else "The sign-in is no longer valid. Sign in again.")
            log.info("%s: token refresh for %s refused (AADSTS%s)", self.device.identity.name, slot,
                     response.aadsts)
            raise MailFailure(code, "signin", message, detail)
        try:
            fresh = signin_from_tokens(response.body, signin.service, signin.client_id, now, previous=signin)
        except (KeyError, ValueError, TypeError):
            raise MailFailure(CANNOT_REACH, "network", "The sign-in service sent an unusable answer.") from None
        if self.device.has_defect(NO_ROTATION_DEFECT):
            fresh = replace(fresh, refresh_token=signin.refresh_token)
        self._replace_signin(slot, signin, fresh)
        log.info("%s: access token for %s refreshed", self.device.identity.name, slot)
        return fresh

    def _replace_signin(self, slot: Slot, old: StoredSignIn, new: StoredSignIn) -> None:
        """Save ``new`` unless the slot was signed out or signed in anew meanwhile."""
        with self.device.lock:
            if self.device.signins.get(slot) is old:
                self.device.save_signin(slot, new)

    def mark_used(self, slot: Slot, signin: StoredSignIn) -> None:
        """The sign-in just authenticated a session: its ``last_used_at`` is now."""
        self._replace_signin(slot, signin, replace(signin, last_used_at=self.device.clock.now()))

    # --- sessions ---------------------------------------------------------------------------------------
    def connect(self, settings: EmailServerSettings, *, verify: bool | None = None) -> smtplib.SMTP:
        """Resolve, connect, greet and secure a session as ``settings`` say (``verify`` overrides validation)."""
        name, port = settings.smtp_server, settings.smtp_port
        if not name:
            raise MailFailure(CANNOT_REACH, "settings", "The SMTP Server Address is not set.")
        try:
            target = self.device.resolver.resolve(name, port)
        except NameResolutionError:
            raise MailFailure(CANNOT_REACH, "name", f"Cannot resolve the SMTP Server Address {name}. "
                                                     "Check the DNS settings.") from None
        if verify is None:
            verify = settings.cert_validation and not self.device.has_defect(IGNORE_VALIDATION_DEFECT)
        context = self.device.ca.client_context(verify)
        local = self.device.config.device_name
        smtp: smtplib.SMTP | None = None
        try:
            if settings.secure == "SSL/TLS":
                smtp = _ResolvedSmtpSsl(name, target, local, context)
            else:
                smtp = _ResolvedSmtp(name, target, local)
            code, greeting = smtp.connect(name, port)
            if code != 220:
                raise MailFailure(SERVER_REFUSED, "refused", f"The SMTP server refused the connection: "
                                                             f"{reply_text(code, greeting)}",
                                  reply_text(code, greeting))
            self._hello(smtp)
            if settings.secure == "STARTTLS" and not self.device.has_defect(SKIP_STARTTLS_DEFECT):
                if not smtp.has_extn("starttls"):
                    raise MailFailure(CANNOT_REACH, "starttls", f"The SMTP server {name}:{port} does not offer "
                                                                "STARTTLS.")
                smtp.starttls(context=context)
                self._hello(smtp)
            return smtp
        except MailFailure:
            _close(smtp)
            raise
        except ssl.SSLCertVerificationError as exc:
            _close(smtp)
            raise MailFailure(CANNOT_REACH, "certificate", f"The certificate of the SMTP server {name} is not "
                              f"trusted ({exc.verify_message}). Import its CA certificate on Network Security > "
                              "CA Certificate.") from None
        except ssl.SSLError as exc:
            _close(smtp)
            raise MailFailure(CANNOT_REACH, "tls", f"The secure connection to the SMTP server {name} failed "
                                                   f"({exc.reason or 'handshake failed'}).") from None
        except ConnectionRefusedError:
            _close(smtp)
            raise MailFailure(CANNOT_REACH, "connect", f"Cannot connect to the SMTP server {name}:{port}: "
                                                       "connection refused.") from None
        except (OSError, smtplib.SMTPException) as exc:
            _close(smtp)
            raise MailFailure(CANNOT_REACH, "connect", f"Cannot connect to the SMTP server {name}:{port} "
                                                       f"({type(exc).__name__}).") from None

    @staticmethod
    def _hello(smtp: smtplib.SMTP) -> None:
        code, text = smtp.ehlo()
        if code != 250:
            raise MailFailure(SERVER_REFUSED, "refused", f"The SMTP server refused EHLO: {reply_text(code, text)}",
                              reply_text(code, text))

    def authenticate(self, smtp: smtplib.SMTP, settings: EmailServerSettings, slot: Slot) -> StoredSignIn | None:
        """Authenticate as ``settings`` say; returns the sign-in used for OAuth2."""
        method = settings.auth_method
        try:
            if method == "OAuth2":
                signin = self.signin_for(slot)
                code, text = smtp.docmd("AUTH", "XOAUTH2 " + xoauth2_blob(signin.account, signin.access_token))
                if code == 334:  # an error challenge: an empty response ends the exchange (RFC 7628)
                    code, text = smtp.docmd("")
                if code != 235:
                    self._auth_refused(code, text)
                self.mark_used(slot, signin)
                return signin
            if method == "SMTP AUTH":
                smtp.login(settings.account, settings.password)
        except smtplib.SMTPAuthenticationError as exc:
            self._auth_refused(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError:
            raise MailFailure(SERVER_AUTH_FAILED, "auth", "The SMTP server does not offer SMTP AUTH "
                                                          "(check Secure Connection).") from None
        except smtplib.SMTPException as exc:
            raise MailFailure(SERVER_AUTH_FAILED, "auth", f"Authentication failed ({type(exc).__name__}).") from None
        except OSError as exc:
            raise MailFailure(CANNOT_REACH, "network", f"The connection to the SMTP server was lost "
                                                       f"({type(exc).__name__}).") from None
        return None

    @staticmethod
    def _auth_refused(code: int, text: bytes | str) -> None:
        reply = reply_text(code, text)
        raise MailFailure(SERVER_AUTH_FAILED, "auth", f"Authentication failed: {reply}", reply)

    def pop_before_smtp(self, settings: EmailServerSettings) -> None:
        """Log in to the POP3 server once (POP before SMTP)."""
        try:
            target = self.device.resolver.resolve(settings.pop3_server, settings.pop3_port)
        except NameResolutionError:
            raise MailFailure(CANNOT_REACH, "name", f"Cannot resolve the POP3 Server Address "
                                                     f"{settings.pop3_server}.") from None
        try:
            pop = _ResolvedPop3(target)
        except OSError:
            raise MailFailure(CANNOT_REACH, "connect", f"Cannot connect to the POP3 server {settings.pop3_server}:"
                                                       f"{settings.pop3_port}.") from None
        try:
            pop.user(settings.account)
            pop.pass_(settings.password)
        except poplib.error_proto as exc:
            reply = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else ""
            raise MailFailure(SERVER_AUTH_FAILED, "auth", f"POP3 authentication failed: {reply}", reply) from None
        finally:
            try:
                pop.quit()
            except (OSError, poplib.error_proto):
                pop.close()

    @contextmanager
    def session(self, settings: EmailServerSettings, slot: Slot) -> Iterator[Session]:
        """An authenticated SMTP session for ``settings``, closed (QUIT) on exit."""
        if settings.auth_method == "OAuth2" and self.device.signin(slot) is None:
            raise MailFailure(SIGN_IN_AGAIN, "signin", "Not signed in to the email service. Sign in on "
                                                       "Network > Email Server > Basic.")
        if settings.auth_method == "POP before SMTP":
            self.pop_before_smtp(settings)
        smtp = self.connect(settings)
        try:
            signin = self.authenticate(smtp, settings, slot)
            yield Session(smtp, signin)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def submit(self, smtp: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str) -> None:
        """MAIL, RCPT and DATA for one message; a refusal is a :class:`MailFailure` with the server's reply."""
        try:
            smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._refused(code, text)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._refused(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            self._refused(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailFailure(SERVER_REFUSED, "network", f"The connection to the SMTP server was lost while "
                                                         f"sending ({type(exc).__name__}).") from None

    @staticmethod
    def _refused(code: int, text: bytes | str) -> None:
        reply = reply_text(code, text)
        raise MailFailure(code_for_smtp_reply(code), "refused", f"The SMTP server refused the message: {reply}",
                          reply)

    def verifies(self, settings: EmailServerSettings) -> bool | None:
        """Whether the device's CA store validates the configured server: True, False, or None if unreachable."""
        try:
            smtp = self.connect(settings, verify=True)
        except MailFailure as failure:
            return False if failure.kind == "certificate" else None
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
        return True


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()
