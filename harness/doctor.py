"""``epson-hil doctor``: proves a lab's whole OAuth 2.0 e-mail story with the real clients, one check a line.

msal runs the device flow, Chromium (Playwright) walks the sign-in pages as the administrator (consenting for
the organisation) and then as the printer's mailbox, smtplib submits a message with STARTTLS + XOAUTH2, and
the control API shows the delivered message and the SMTP transcript. The record (``doctor.json``) holds no
secret: every detail passes through a redactor that knows the run's passwords, tokens and codes.
"""

from __future__ import annotations

import io
import json
import secrets
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import msal
import requests

from harness.lab.labfile import LabUser, MsftInfo
from harness.msft.control_client import ControlApiError, TierControl
from harness.msft.smtp.xoauth2 import xoauth2_blob, xoauth2_response

#: Scopes msal adds by itself and refuses to be given.
MSAL_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


class CheckFailed(Exception):
    """A check's claim did not hold; the message says what was seen instead."""


@dataclass
class CheckResult:
    name: str
    title: str
    status: str
    detail: str
    seconds: float


@dataclass
class DoctorReport:
    run_id: str
    started_at: str
    finished_at: str = ""
    lab: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.status == PASS for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


class Redactor:
    """Replaces every known secret (and any long run of it) with ``[redacted]``."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *values: str | None) -> None:
        self._secrets.update(v for v in values if v and len(v) >= 4)

    def __call__(self, text: str) -> str:
        for value in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(value, "[redacted]")
        return text

    def leaks(self, text: str) -> list[str]:
        """Which kinds of secret ``text`` contains (whole, or a 24-character slice of a long one)."""
        found = []
        for value in self._secrets:
            probe = value if len(value) < 48 else value[len(value) // 2 - 12: len(value) // 2 + 12]
            if value in text or probe in text:
                found.append(f"{len(value)}-character secret")
        return found


def new_run_id() -> str:
    return f"doctor-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


class LabSMTP(smtplib.SMTP):
    """smtplib that dials the lab's address while naming (SNI, certificate check) the real server name."""

    def __init__(self, server_name: str, port: int, address: tuple[str, int], timeout: float = 20.0) -> None:
        self._lab_address = address
        super().__init__(server_name, port, local_hostname="epson-hil-doctor", timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection(self._lab_address, timeout, self.source_address)


def scan_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned document."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.drawString(72, 770, title)
    page.showPage()
    page.save()
    return buffer.getvalue()


class _DevicePoller(threading.Thread):
    """msal's blocking device-flow poll, run beside the browser as a device polls while a person signs in."""

    def __init__(self, app: msal.PublicClientApplication, flow: dict[str, Any]) -> None:
        super().__init__(name="doctor-device-poll", daemon=True)
        self.app, self.flow = app, flow
        self.result: dict[str, Any] = {}

    def run(self) -> None:
        self.result = self.app.acquire_token_by_device_flow(self.flow)

    def abandon(self) -> None:
        self.flow["expires_at"] = 0  # msal's documented way to end its polling loop
        self.join(10)

    def outcome(self, timeout: float) -> dict[str, Any]:
        self.join(timeout)
        if self.is_alive():
            self.abandon()
            raise CheckFailed(f"msal got no answer to its device-flow poll within {timeout:.0f} s")
        return self.result


class Doctor:
    """Runs the checks against one lab's built-in Microsoft tier."""

    def __init__(self, msft: MsftInfo, *, mailbox: str | None = None, admin: str | None = None,
                 echo: Callable[[str], None] = print) -> None:
        self.msft = msft
        self.echo = echo
        self.redact = Redactor()
        self.run_id = new_run_id()
        self.admin: LabUser = msft.user(admin) if admin else msft.admin()
        self.mailbox: LabUser = msft.user(mailbox) if mailbox else msft.mailbox_user()
        self.redact.add(*(u.password for u in msft.users), msft.control.token)
        self.control: TierControl = msft.control_client()
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = str(msft.ca_bundle)
        self.scopes = [s for s in msft.scopes if s not in MSAL_RESERVED_SCOPES]
        self.subject = f"epson-hil doctor {self.run_id}"
        self.attachment = scan_pdf(self.subject)
        self.attachment_name = f"scan-{self.run_id}.pdf"
        self._flow: dict[str, Any] = {}
        self._token: dict[str, Any] = {}
        self._delivered_id = ""
        self._playwright: Any = None
        self._browser: Any = None

    # --- running ----------------------------------------------------------------------------------------
    def checks(self) -> list[tuple[str, str, Callable[[], str]]]:
        return [
            ("discovery", "OpenID discovery document reachable over the lab CA", self.check_discovery),
            ("device-flow", "msal initiates the device flow", self.check_device_flow),
            ("admin-consent", f"{self.admin.upn} signs in and consents for the organisation",
             self.check_admin_consent),
            ("mailbox-sign-in", f"{self.mailbox.upn} signs in in the browser", self.check_mailbox_sign_in),
            ("token", "msal receives the mailbox's access token", self.check_token),
            ("smtp-send", "smtplib STARTTLS + AUTH XOAUTH2 submits a message with an attachment",
             self.check_smtp_send),
            ("mailbox", "the control API shows the message in the mailbox", self.check_mailbox),
            ("smtp-transcript", "the SMTP transcript shows STARTTLS, then XOAUTH2, and no secret",
             self.check_transcript),
        ]

    def run(self) -> DoctorReport:
        """Run every check in order; after a failure the rest are skipped (each needs the one before)."""
        report = DoctorReport(run_id=self.run_id, started_at=_now_iso(), lab={
            "authority": self.msft.authority, "client_id": self.msft.client_id,
            "smtp": self.msft.smtp.model_dump(), "control_url": self.msft.control.url,
            "admin": self.admin.upn, "mailbox": self.mailbox.upn,
        })
        from playwright.sync_api import sync_playwright

        failed = False
        with sync_playwright() as playwright:
            self._playwright = playwright
            try:
                for name, title, check in self.checks():
                    result = self._skip(name, title) if failed else self._run_one(name, title, check)
                    failed = failed or result.status != PASS
                    report.checks.append(result)
                    self.echo(f"{result.status} {name}: {result.detail}")
            finally:
                if self._browser is not None:
                    self._browser.close()
                    self._browser = None
                # Idle keep-alive connections would hold up the tier's graceful shutdown.
                self.http.close()
                self.control.close()
        report.finished_at = _now_iso()
        return report

    def _run_one(self, name: str, title: str, check: Callable[[], str]) -> CheckResult:
        started = time.monotonic()
        try:
            status, detail = PASS, check()
        except CheckFailed as exc:
            status, detail = FAIL, str(exc)
        except Exception as exc:  # a harness or lab error is a failed check too, reported, never hidden
            status, detail = FAIL, f"{type(exc).__name__}: {exc}"
        return CheckResult(name, title, status, self.redact(detail).splitlines()[0] if detail else "",
                           round(time.monotonic() - started, 3))

    @staticmethod
    def _skip(name: str, title: str) -> CheckResult:
        return CheckResult(name, title, SKIP, "not run: an earlier check failed", 0.0)

    # --- identity -------------------------------------------------------------------------------------------
    def check_discovery(self) -> str:
        url = f"{self.msft.authority}/v2.0/.well-known/openid-configuration"
        response = self.http.get(url, timeout=10)
        if response.status_code != 200:
            raise CheckFailed(f"GET {url} answered {response.status_code}")
        doc = response.json()
        missing = [k for k in ("issuer", "token_endpoint", "device_authorization_endpoint", "jwks_uri")
                   if not doc.get(k)]
        if missing:
            raise CheckFailed(f"discovery document lacks {', '.join(missing)}")
        return f"issuer {doc['issuer']}"

    def _msal_app(self) -> msal.PublicClientApplication:
        # A fresh app per flow: msal caches a 400 answer for 60 s (FIDELITY.md, library pitfalls).
        return msal.PublicClientApplication(self.msft.client_id, authority=self.msft.authority,
                                            instance_discovery=False, http_client=self.http)

    def _initiate(self) -> tuple[msal.PublicClientApplication, dict[str, Any]]:
        app = self._msal_app()
        flow = app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise CheckFailed(f"no device code: {_msal_error(flow)}")
        self.redact.add(flow["user_code"], flow.get("device_code"))
        return app, flow

    def check_device_flow(self) -> str:
        app, flow = self._initiate()
        self._flow = {"app": app, "flow": flow}
        if flow.get("verification_uri") != "https://microsoft.com/devicelogin":
            raise CheckFailed(f"verification_uri is {flow.get('verification_uri')!r}, "
                              "expected https://microsoft.com/devicelogin")
        return (f"user code issued ({len(flow['user_code'])} characters), verification at "
                f"{flow['verification_uri']}, poll every {flow.get('interval')} s")

    def _sign_in(self, user: LabUser, consent: bool, app: msal.PublicClientApplication,
                 flow: dict[str, Any]) -> dict[str, Any]:
        """Walk the sign-in pages as ``user`` while msal polls; return msal's token answer."""
        from harness.msft.signin_page import MicrosoftDeviceLogin

        poller = _DevicePoller(app, flow)
        poller.start()
        context = self._lab_browser().new_context()
        try:
            outcome = MicrosoftDeviceLogin(context.new_page()).complete(
                flow["verification_uri"], flow["user_code"], user.upn, user.password,
                consent_for_organization=consent)
        except BaseException:
            poller.abandon()
            raise
        finally:
            context.close()
        if not outcome.signed_in:
            poller.abandon()
            raise CheckFailed(f"the sign-in pages ended with: {outcome}")
        result = poller.outcome(timeout=float(flow.get("interval", 5)) * 3 + 30)
        if "access_token" not in result:
            raise CheckFailed(f"signed in on the pages, but msal got no token: {_msal_error(result)}")
        self.redact.add(result["access_token"], result.get("refresh_token"), result.get("id_token"))
        return result

    def _lab_browser(self) -> Any:
        if self._browser is None:
            from harness.browser import launch_browser, tier_resolution

            self._browser = launch_browser(self._playwright, resolve=tier_resolution(self.msft.identity.port),
                                           spki=[self.msft.identity.spki_sha256])
        return self._browser

    def check_admin_consent(self) -> str:
        self._sign_in(self.admin, True, self._flow["app"], self._flow["flow"])
        grants = self.control.consent(self.msft.client_id)
        if not any(g.get("principal") == "all" for g in grants):
            raise CheckFailed(f"signed in, but the tenant holds no organisation-wide consent: {grants}")
        return "signed in; organisation-wide consent recorded"

    def check_mailbox_sign_in(self) -> str:
        app, flow = self._initiate()
        self._token = self._sign_in(self.mailbox, False, app, flow)
        return "signed in without a consent prompt (the organisation's consent applies)"

    def check_token(self) -> str:
        claims = self._token.get("id_token_claims") or {}
        who = str(claims.get("preferred_username", "")).lower()
        if who != self.mailbox.upn.lower():
            raise CheckFailed(f"the token is for {who or 'nobody'}, expected {self.mailbox.upn}")
        scope = str(self._token.get("scope", ""))
        if "SMTP.Send" not in scope:
            raise CheckFailed(f"the token's scope is {scope!r}, without SMTP.Send")
        return f"access token for {who}, scope {scope}, expires in {self._token.get('expires_in')} s"

    # --- mail --------------------------------------------------------------------------------------------
    def check_smtp_send(self) -> str:
        upn = self.mailbox.upn
        token = self._token["access_token"]
        blob = xoauth2_response(upn, token).decode()
        self.redact.add(blob, xoauth2_blob(upn, token))
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = upn, upn, self.subject
        message["Date"], message["Message-ID"] = formatdate(), make_msgid(domain="epson-hil.lab")
        message.set_content("Scanned with OAuth 2.0 through the epson-hil lab.\n")
        message.add_attachment(self.attachment, maintype="application", subtype="pdf",
                               filename=self.attachment_name)
        smtp_info = self.msft.smtp
        context = ssl.create_default_context(cafile=str(self.msft.ca_bundle))
        with LabSMTP(smtp_info.server_name, 587, (smtp_info.host, smtp_info.port)) as smtp:
            smtp.ehlo()
            if smtp.has_extn("auth"):
                raise CheckFailed("the server offers AUTH before STARTTLS")
            smtp.starttls(context=context)
            smtp.ehlo()
            mechanisms = smtp.esmtp_features.get("auth", "").upper().split()
            if "XOAUTH2" not in mechanisms:
                raise CheckFailed(f"after STARTTLS the server offers AUTH {mechanisms}, without XOAUTH2")
            try:
                code, reply = smtp.auth("XOAUTH2", lambda challenge=None: blob, initial_response_ok=True)
                refused = smtp.send_message(message)
            except smtplib.SMTPResponseException as exc:
                raise CheckFailed(f"the server answered {exc.smtp_code} {_text(exc.smtp_error)}") from None
        if refused:
            raise CheckFailed(f"recipients refused: {refused}")
        return (f"{smtp_info.server_name} certificate verified, AUTH XOAUTH2 answered {code} {_text(reply)}; "
                "message accepted")

    def check_mailbox(self) -> str:
        found = [m for m in self.control.messages(self.mailbox.upn) if m.get("subject") == self.subject]
        if not found:
            raise CheckFailed(f"no message with subject {self.subject!r} in {self.mailbox.upn}")
        self._delivered_id = str(found[0].get("id", ""))
        attachments = found[0].get("attachments", [])
        wanted = {"filename": self.attachment_name, "content_type": "application/pdf",
                  "size": len(self.attachment)}
        if not any(all(a.get(k) == v for k, v in wanted.items()) for a in attachments):
            raise CheckFailed(f"the message's attachments are {attachments}, expected {wanted}")
        return f"delivered to {self.mailbox.upn} with {self.attachment_name} ({len(self.attachment)} bytes)"

    def check_transcript(self) -> str:
        try:
            transcripts = self.control.smtp_transcripts(self.mailbox.upn)
        except ControlApiError as exc:
            raise CheckFailed(f"no SMTP transcripts from the tier: {exc}") from None
        if not transcripts:
            raise CheckFailed(f"the tier holds no SMTP transcript for {self.mailbox.upn}")
        leaks = self.redact.leaks(json.dumps(transcripts))
        if leaks:
            raise CheckFailed(f"the SMTP transcripts contain secrets: {', '.join(sorted(set(leaks)))}")
        ours = next((t for t in transcripts if self._delivered_id in t.get("message_ids", [])), None)
        if ours is None:
            raise CheckFailed(f"no transcript names the delivered message among {len(transcripts)} session(s)")
        commands = [c.upper() for c in _client_lines(ours)]
        starttls = next((i for i, c in enumerate(commands) if c.startswith("STARTTLS")), None)
        xoauth2 = next((i for i, c in enumerate(commands) if c.startswith("AUTH XOAUTH2")), None)
        if starttls is None or xoauth2 is None or xoauth2 < starttls or not ours.get("tls"):
            raise CheckFailed(f"expected STARTTLS before AUTH XOAUTH2 in the client's lines, got {commands}")
        return (f"session {ours.get('session_id')}: STARTTLS then AUTH XOAUTH2 as {ours.get('authenticated_as')}; "
                f"no secret in {len(transcripts)} transcript(s)")


def _client_lines(transcript: dict[str, Any]) -> list[str]:
    """What the client said in one transcript (``harness.msft.smtp.transcript`` shape)."""
    return [str(line["text"]) for line in transcript.get("lines", []) if line.get("from") == "client"]


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _msal_error(answer: dict[str, Any]) -> str:
    description = str(answer.get("error_description", "")).split(" Trace ID:")[0]
    return f"{answer.get('error', 'no error code')}: {description}".strip()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_report(report: DoctorReport, out_dir: Path) -> Path:
    """Write ``<out_dir>/<run-id>/doctor.json``; return its path."""
    path = Path(out_dir) / report.run_id / "doctor.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    return path
