"""The virtual device's engine: device-code sign-in, sending mail, connection test, certificate warning.

Web Config and the panel call it (from ``asyncio.to_thread``); it talks to the real tier through the device's
resolver and CA store. Sign-ins in progress poll in worker threads; jobs and connection tests run one at a
time, as on a device.

"About to expire": a stored OAuth2 sign-in that has not been used (no successful SMTP authentication) for
:data:`ABOUT_TO_EXPIRE_AFTER` (60 days) gets the notice :func:`expiry_message` on the panel, 30 days before
Entra's 90-day idle limit on refresh tokens. It is checked whenever the device is looked at
(:meth:`DeviceEngine.expiry_notice`, :meth:`DeviceEngine.check_expiry`) or used, and goes when the sign-in is
used or replaced.

Authority: Microsoft Exchange Online signs in under ``organizations``, Outlook.com under ``consumers``; a
``tenant_hint`` other than ``organizations`` (e.g. the tenant GUID) is used for both instead.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from harness.sim.cloud import CloudClient
from harness.sim.device import (
    EMAIL_SLOT,
    FAX_SLOT,
    NOT_SIGNED_IN_MESSAGE,
    SERVERLESS_SUCCESS_MESSAGE,
    PendingSignIn,
    Slot,
    StoredSignIn,
    VirtualDevice,
    user_slot,
)
from harness.sim.errorcodes import SERVER_REFUSED, SIGN_IN_AGAIN, SIGNIN_EXPIRED, status_text
from harness.sim.jobhistory import Job
from harness.sim.mailer import Mailer, MailFailure, build_message
from harness.sim.scan import page_count, scan_document
from harness.sim.services import Attachment, ConnectionTestResult
from harness.sim.settings import EmailServerSettings, EmailService, ServerlessUser
from harness.sim.signin import SERVICE_TENANTS, DeviceCodePoller, request_device_code
from harness.sim.status import DeviceState

log = logging.getLogger(__name__)

DAY = 86400
ABOUT_TO_EXPIRE_AFTER = 60 * DAY
#: How long a certificate-warning verdict is reused (wall seconds) for the same server and CA store.
CERT_VERDICT_TTL = 60.0
USER_SLOT_PREFIX = "user:"

# Firmware defects this module can show (switched on per device from the inventory).
NOT_SAVED_ON_OK_DEFECT = "signin_not_saved_after_ok"
SAVED_WITHOUT_OK_DEFECT = "signin_saved_without_ok"

# Job types as the job history shows them.
SCAN_TO_EMAIL = "Scan to Email"
SCAN_TO_MY_EMAIL = "Scan to My Email"
FAX_SERVER = "Fax (Email Server)"
NOTIFICATION = "Email Notification"


class UnsupportedFunction(RuntimeError):
    """The device's model lacks the capability, or the function is not set up (the panel says so)."""


def expiry_message(slot: Slot) -> str:
    """The "about to expire" notice for ``slot``."""
    if slot == FAX_SLOT:
        return ("The sign-in to the fax server's email service is about to expire. Sign in again on Web Config: "
                "Fax > Fax Server > Email Server Settings.")
    if slot.startswith(USER_SLOT_PREFIX):
        return (f"The sign-in of user {slot[len(USER_SLOT_PREFIX):]} to the email service is about to expire. "
                "Sign in again from Scan to My Email.")
    return ("The sign-in to the email service is about to expire. Ask your administrator to sign in again on "
            "Web Config: Network > Email Server > Basic.")


#: How a failed mail job's alert begins (the job history's wording), so a later success can clear it.
MAIL_ALERT_PREFIX = "Error code "


class DeviceEngine:
    """Implements :class:`harness.sim.services.DeviceServices` for one :class:`VirtualDevice`."""

    def __init__(self, device: VirtualDevice, *, tenant_hint: str = "organizations") -> None:
        self.device = device
        self.tenant_hint = tenant_hint
        self.status = device.status
        self.mailer = Mailer(device, self.tenant_for)
        self._pollers: dict[Slot, DeviceCodePoller] = {}
        self._pollers_lock = threading.Lock()
        self._job_lock = threading.Lock()
        self._cert_verdicts: dict[tuple[object, ...], tuple[bool, float]] = {}
        self._cert_lock = threading.Lock()

    def tenant_for(self, service: EmailService) -> str:
        """The authority's tenant segment for ``service``."""
        if self.tenant_hint != "organizations":
            return self.tenant_hint
        return SERVICE_TENANTS[service]

    # --- sign-in ----------------------------------------------------------------------------------------
    def start_signin(self, slot: Slot, service: EmailService) -> PendingSignIn:
        """Ask for a device code and poll for it in the background; a refusal is a failed pending sign-in."""
        self._stop_poller(slot)
        cloud = CloudClient(self.device.resolver, self.device.ca)
        tenant = self.tenant_for(service)
        pending = request_device_code(cloud, tenant, self.device.identity.client_id, slot, service,
                                      self.device.clock)
        with self.device.lock:
            self.device.pending[slot] = pending
        if pending.state == "polling":
            poller = DeviceCodePoller(self.device, cloud, tenant, pending, on_success=self._signin_completed)
            with self._pollers_lock:
                self._pollers[slot] = poller
            poller.start()
        log.info("%s: sign-in for %s started (%s)", self.device.identity.name, slot, pending.state)
        return pending

    def _signin_completed(self, pending: PendingSignIn) -> None:
        if self.device.has_defect(SAVED_WITHOUT_OK_DEFECT) and pending.result is not None:
            self.device.save_signin(pending.slot, pending.result)
        if pending.slot.startswith(USER_SLOT_PREFIX):
            self.device.post_panel_message(SERVERLESS_SUCCESS_MESSAGE)

    def pending_signin(self, slot: Slot) -> PendingSignIn | None:
        with self.device.lock:
            return self.device.pending.get(slot)

    def cancel_signin(self, slot: Slot) -> None:
        """Forget the sign-in in progress of ``slot`` (nothing stored changes)."""
        self._stop_poller(slot)
        with self.device.lock:
            self.device.pending.pop(slot, None)

    def confirm_signin(self, slot: Slot) -> StoredSignIn | None:
        """OK: store the completed sign-in of ``slot``, replacing whatever was stored there."""
        with self.device.lock:
            pending = self.device.pending.get(slot)
            if pending is None or pending.state != "signed_in" or pending.result is None:
                return None
            if self.device.has_defect(NOT_SAVED_ON_OK_DEFECT):
                return pending.result  # the page goes on showing "Signed in"; nothing is stored
            self.device.save_signin(slot, pending.result)
            del self.device.pending[slot]
            stored = pending.result
        self._stop_poller(slot)
        for message in (NOT_SIGNED_IN_MESSAGE, expiry_message(slot)):
            self.device.clear_panel_message(message)
        if slot.startswith(USER_SLOT_PREFIX):
            self.device.clear_panel_message(SERVERLESS_SUCCESS_MESSAGE)
        log.info("%s: sign-in for %s saved (%s)", self.device.identity.name, slot, stored.account)
        return stored

    def sign_out(self, slot: Slot) -> None:
        """Sign Out: remove the saved sign-in of ``slot`` and stop any in progress; its expiry notice goes too."""
        self._stop_poller(slot)
        self.device.sign_out(slot)
        self.device.clear_panel_message(expiry_message(slot))
        log.info("%s: signed out of %s", self.device.identity.name, slot)

    def _stop_poller(self, slot: Slot) -> None:
        with self._pollers_lock:
            poller = self._pollers.pop(slot, None)
        if poller is not None:
            poller.stop()

    def close(self) -> None:
        """Stop every sign-in poller."""
        with self._pollers_lock:
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for poller in pollers:
            poller.stop()

    # --- settings per slot ------------------------------------------------------------------------------
    def settings_for(self, slot: Slot) -> EmailServerSettings:
        """The e-mail server settings a slot sends with (a Serverless user: OAuth2 from their own address)."""
        config = self.device.config
        if slot == FAX_SLOT:
            return config.fax_email
        if slot.startswith(USER_SLOT_PREFIX):
            user = self._serverless_user(slot[len(USER_SLOT_PREFIX):])
            return replace(config.email, auth_method="OAuth2", sender=user.email)
        return config.email

    def _serverless_user(self, user_id: str) -> ServerlessUser:
        for user in self.device.config.serverless.users:
            if user.user_id == user_id:
                return user
        raise UnsupportedFunction(f"no registered Serverless user {user_id!r}")

    # --- connection test and certificate warning --------------------------------------------------------
    def connection_test(self, slot: Slot = EMAIL_SLOT) -> ConnectionTestResult:
        """Really connect and authenticate (no message is sent); the message says why it failed."""
        settings = self.settings_for(slot)
        with self._job_lock:
            try:
                with self.mailer.session(settings, slot):
                    pass
            except MailFailure as failure:
                self._after_failure(failure, post_alert=False)
                return ConnectionTestResult(False, f"Connection test failed. {failure.message}", failure.code)
        self._after_success(slot)
        return ConnectionTestResult(True, "Connection test was successful.")

    def certificate_warning(self, slot: Slot = EMAIL_SLOT) -> bool:
        """True when Certificate Validation is on and no imported CA validates the configured server."""
        settings = self.settings_for(slot)
        if not settings.cert_validation or settings.secure == "None" or not settings.smtp_server:
            return False
        fingerprints = tuple(sorted(c.fingerprint for c in self.device.ca.certificates()))
        if not fingerprints:
            return True
        try:
            target = self.device.resolver.resolve(settings.smtp_server, settings.smtp_port)
        except OSError:
            return True
        key = (settings.smtp_server.lower(), settings.smtp_port, settings.secure, target, fingerprints)
        with self._cert_lock:
            cached = self._cert_verdicts.get(key)
        if cached is not None and time.monotonic() - cached[1] < CERT_VERDICT_TTL:
            return cached[0]
        verified = self.mailer.verifies(settings)
        if verified is None:  # unreachable: nothing validates it now, and the next look tries again
            return True
        now = time.monotonic()
        with self._cert_lock:
            self._cert_verdicts = {k: v for k, v in self._cert_verdicts.items() if now - v[1] < CERT_VERDICT_TTL}
            self._cert_verdicts[key] = (not verified, now)
        return not verified

    # --- sending ----------------------------------------------------------------------------------------
    def send(self, kind: str, to: str, subject: str, body: str, attachments: list[Attachment],
             slot: Slot = EMAIL_SLOT) -> Job:
        """Send one e-mail job and record it in the job history (errors as codes, with the reason)."""
        clock = self.device.clock
        started = clock.now()
        settings = self.settings_for(slot)
        signin = self.device.signin(slot) if settings.auth_method == "OAuth2" else None
        sender = settings.sender or (signin.account if signin else settings.account)
        failure: MailFailure | None = None
        self._set_busy(True)
        try:
            with self._job_lock:
                if not sender and settings.auth_method != "OAuth2":
                    raise MailFailure(SERVER_REFUSED, "settings", "The Sender's Email Address is not set.")
                with self.mailer.session(settings, slot) as session:
                    sender = sender or (session.signin.account if session.signin else "")
                    message = build_message(sender=sender, to=to, subject=subject, body=body,
                                            attachments=attachments, when=clock.now())
                    self.mailer.submit(session.smtp, message, sender, to)
        except MailFailure as exc:
            failure = exc
        finally:
            self._set_busy(False)
        job = self.device.jobs.record(
            started=started, completed=clock.now(), type=kind, error_code=failure.code if failure else None,
            pages=sum(page_count(a) for a in attachments), sender=sender, recipient=to,
            file_name=", ".join(a.filename for a in attachments),
            detail=(failure.detail or failure.message) if failure else "",
        )
        if failure is None:
            self._after_success(slot)
        else:
            self._after_failure(failure)
            log.info("%s: %s job %d failed with %d: %s", self.device.identity.name, kind, job.receipt_no,
                     failure.code, failure.message)
        return job

    def scan_to_email(self, to: str, pages: int = 1) -> Job:
        """Scan to Email: a scanned PDF to ``to`` from the device's sender."""
        self._require("scan_to_email")
        return self._send_scan(SCAN_TO_EMAIL, to, pages, EMAIL_SLOT)

    def scan_to_my_email(self, user_id: str, pages: int = 1) -> Job | PendingSignIn:
        """Serverless Scan to My Email; a user who must sign in first gets the sign-in (the panel shows it)."""
        self._require("serverless")
        serverless = self.device.config.serverless
        if not serverless.enabled:
            raise UnsupportedFunction("Epson Print Admin Serverless is not enabled")
        user = self._serverless_user(user_id)
        if serverless.sender_mode == "device":
            return self._send_scan(SCAN_TO_MY_EMAIL, user.email, pages, EMAIL_SLOT)
        slot = user_slot(user_id)
        if self.device.signin(slot) is None:
            pending = self.pending_signin(slot)
            if pending is not None and pending.state in ("polling", "signed_in"):
                return pending
            return self.start_signin(slot, self.device.config.email.email_service)
        return self._send_scan(SCAN_TO_MY_EMAIL, user.email, pages, slot)

    def fax_via_server(self, to: str, pages: int = 1) -> Job:
        """Send a fax as e-mail through the fax provider's server (Fax > Fax Server > Email Server Settings)."""
        self._require("fax_server_email")
        return self._send_scan(FAX_SERVER, to, pages, FAX_SLOT, subject="Fax")

    def notify(self, to: str, text: str) -> Job:
        """An e-mail notification from the device."""
        subject = f"EPSON {self.device.identity.model}: Notification"
        return self.send(NOTIFICATION, to, subject, text, [], EMAIL_SLOT)

    def _send_scan(self, kind: str, to: str, pages: int, slot: Slot, subject: str = "Scanned Document") -> Job:
        identity = self.device.identity
        scan = scan_document(self.device.clock.now(), model=identity.model, serial=identity.serial, pages=pages)
        body = f"Scanned by {self.device.config.device_name} (EPSON {identity.model}).\n"
        return self.send(kind, to, subject, body, [scan], slot)

    def _require(self, capability: str) -> None:
        if not self.device.identity.has(capability):
            raise UnsupportedFunction(f"{self.device.identity.model} has no {capability} function")

    # --- aftermath: panel, status, expiry ---------------------------------------------------------------
    def _after_success(self, slot: Slot) -> None:
        self.device.clear_panel_message(NOT_SIGNED_IN_MESSAGE)
        self.device.clear_panel_message(expiry_message(slot))
        # A warning alert describes a standing condition (RFC 3805): once mail goes out again it is gone.
        self.status.clear_alerts(prefix=MAIL_ALERT_PREFIX)

    def _after_failure(self, failure: MailFailure, *, post_alert: bool = True) -> None:
        if failure.code in (SIGN_IN_AGAIN, SIGNIN_EXPIRED):
            self.device.post_panel_message(NOT_SIGNED_IN_MESSAGE)
        if post_alert:
            self.status.raise_alert(f"{MAIL_ALERT_PREFIX}{failure.code}: {status_text(failure.code)}")
            self.status.set_state(DeviceState.WARNING)

    def _set_busy(self, busy: bool) -> None:
        state = self.status.snapshot().state
        if busy and state in (DeviceState.IDLE, DeviceState.WARNING):
            self.status.set_state(DeviceState.PRINTING)
        elif not busy and state is DeviceState.PRINTING:
            self.status.set_state(DeviceState.IDLE)

    def expiry_notice(self, slot: Slot = EMAIL_SLOT) -> str | None:
        """The "about to expire" text when ``slot``'s sign-in has gone unused too long (also posted to the panel)."""
        signin = self.device.signin(slot)
        if signin is None:
            return None
        if not slot.startswith(USER_SLOT_PREFIX) and self.settings_for(slot).auth_method != "OAuth2":
            return None
        if self.device.clock.now() - signin.last_used_at < ABOUT_TO_EXPIRE_AFTER:
            return None
        text = expiry_message(slot)
        self.device.post_panel_message(text)
        return text

    def check_expiry(self) -> list[str]:
        """Every stored sign-in's notice that is due (posted to the panel)."""
        with self.device.lock:
            slots = list(self.device.signins)
        notices = []
        for slot in slots:
            try:
                text = self.expiry_notice(slot)
            except UnsupportedFunction:  # a user removed from the Serverless list
                continue
            if text:
                notices.append(text)
        return notices
