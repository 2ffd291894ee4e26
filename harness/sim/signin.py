"""The device-code sign-in as the device's firmware runs it: ask for a code, then poll in the background.

Pacing (the interval, plus 5 s after each ``slow_down``) is wall time, as on the wire; the code's expiry is
judged on the lab clock, so advancing virtual time expires a sign-in in progress. A completed sign-in only
fills ``PendingSignIn.result``: saving it is the administrator's OK (``DeviceEngine.confirm_signin``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import jwt

from harness.clock import Clock
from harness.sim.cloud import CloudClient, CloudResponse, CloudUnreachable
from harness.sim.device import PendingSignIn, Slot, StoredSignIn, VirtualDevice
from harness.sim.errorcodes import CANNOT_REACH
from harness.sim.settings import EmailService

log = logging.getLogger(__name__)

SCOPE = "https://outlook.office.com/SMTP.Send offline_access openid profile"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
SLOW_DOWN_STEP = 5
#: Tenant path segment of each e-mail service's authority (work accounts, or personal Microsoft accounts).
SERVICE_TENANTS: dict[str, str] = {"Microsoft Exchange Online": "organizations", "Outlook.com": "consumers"}
#: Polls that may fail to reach the identity platform in a row before the sign-in is given up.
MAX_UNREACHABLE_POLLS = 3
EXPIRED_CODE = 70020

#: Short texts for a sign-in that ended without tokens, by AADSTS number (Web Config shows them).
FAILURE_TEXTS: dict[int, str] = {
    70000: "The sign-in was declined.",
    70020: "The verification code has expired. Sign in again.",
    53003: "The sign-in was blocked by a conditional access policy.",
    65001: "Administrator consent is required for this application.",
    7000218: "The application does not allow public client flows.",
    700016: "The application is not registered in the directory.",
    90002: "The sign-in service does not know this tenant.",
    50057: "The account is disabled.",
}


def endpoint(tenant: str, name: str) -> str:
    """Path of an OAuth 2.0 endpoint (``devicecode`` or ``token``) under ``tenant``."""
    return f"/{tenant}/oauth2/v2.0/{name}"


def failure_text(response: CloudResponse) -> str:
    """What the device says about a refused request: a known short text, else the OAuth error and AADSTS."""
    code = response.aadsts
    if code in FAILURE_TEXTS:
        return FAILURE_TEXTS[code]
    error = response.error or f"HTTP {response.status}"
    return f"The sign-in failed ({error}{f', AADSTS{code}' if code else ''})."


def request_device_code(cloud: CloudClient, tenant: str, client_id: str, slot: Slot, service: EmailService,
                        clock: Clock) -> PendingSignIn:
    """Ask for a device code; a refusal comes back as a failed :class:`PendingSignIn` (unreachable: 360)."""
    try:
        response = cloud.post_form(endpoint(tenant, "devicecode"), {"client_id": client_id, "scope": SCOPE})
    except CloudUnreachable as exc:
        return _failed(slot, service, clock, f"Cannot connect to the sign-in service: {exc.reason}.", CANNOT_REACH)
    body = response.body
    try:
        if not response.ok:
            raise ValueError
        return PendingSignIn(
            slot=slot, service=service, user_code=str(body["user_code"]),
            verification_uri=str(body["verification_uri"]), message=str(body.get("message", "")),
            interval=max(1, int(body.get("interval", 5))), expires_at=clock.now() + int(body["expires_in"]),
            device_code=str(body["device_code"]),
        )
    except (KeyError, ValueError, TypeError):
        return _failed(slot, service, clock, failure_text(response), response.aadsts)


def _failed(slot: Slot, service: EmailService, clock: Clock, text: str, code: int) -> PendingSignIn:
    return PendingSignIn(slot=slot, service=service, user_code="", verification_uri="", message="", interval=0,
                         expires_at=clock.now(), device_code="", state="failed", error=text, error_code=code)


def signin_from_tokens(body: dict[str, Any], service: EmailService, client_id: str, now: float,
                       previous: StoredSignIn | None = None) -> StoredSignIn:
    """A :class:`StoredSignIn` from a token response; a refresh keeps the account and sign-in time."""
    access = str(body["access_token"])
    refresh = str(body.get("refresh_token") or (previous.refresh_token if previous else ""))
    if not refresh:
        raise ValueError("the token response has no refresh token")
    account = previous.account if previous else _account(body)
    return StoredSignIn(
        service=service, account=account, client_id=client_id, refresh_token=refresh, access_token=access,
        access_expires_at=now + int(body.get("expires_in", 3600)),
        signed_in_at=previous.signed_in_at if previous else now, last_used_at=now,
    )


def _account(body: dict[str, Any]) -> str:
    """The signed-in account's user name, from the ID token (the device trusts its TLS peer for it)."""
    claims = jwt.decode(str(body.get("id_token", "")), options={"verify_signature": False})
    account = claims.get("preferred_username") or claims.get("upn") or claims.get("email")
    if not account:
        raise ValueError("the ID token names no account")
    return str(account).lower()


class DeviceCodePoller:
    """Polls the token endpoint for one pending sign-in until it succeeds, fails, expires or is dropped."""

    def __init__(self, device: VirtualDevice, cloud: CloudClient, tenant: str, pending: PendingSignIn,
                 on_success: Callable[[PendingSignIn], None] | None = None) -> None:
        self.device = device
        self.cloud = cloud
        self.tenant = tenant
        self.pending = pending
        self.on_success = on_success
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"signin-{device.identity.name}-{pending.slot}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _current(self) -> bool:
        """Still the slot's sign-in in progress (not replaced, cancelled or lost in a power cycle)."""
        with self.device.lock:
            return self.device.pending.get(self.pending.slot) is self.pending and self.pending.state == "polling"

    def _run(self) -> None:
        unreachable = 0
        while not self._stop.wait(self.pending.interval):
            if not self._current():
                return
            if self.device.clock.now() >= self.pending.expires_at:
                self._fail(FAILURE_TEXTS[EXPIRED_CODE], EXPIRED_CODE)
                return
            try:
                response = self.cloud.post_form(endpoint(self.tenant, "token"), {
                    "grant_type": DEVICE_CODE_GRANT, "client_id": self.device.identity.client_id,
                    "device_code": self.pending.device_code,
                })
            except CloudUnreachable as exc:
                unreachable += 1
                if unreachable >= MAX_UNREACHABLE_POLLS:
                    self._fail(f"Cannot connect to the sign-in service: {exc.reason}.", CANNOT_REACH)
                    return
                continue
            unreachable = 0
            if self._handle(response):
                return

    def _handle(self, response: CloudResponse) -> bool:
        """Act on one poll's answer; True when the sign-in is over."""
        if response.ok:
            try:
                result = signin_from_tokens(response.body, self.pending.service, self.device.identity.client_id,
                                            self.device.clock.now())
            except (KeyError, ValueError, TypeError, jwt.PyJWTError):
                self._fail("The sign-in service sent an unusable answer.", 0)
                return True
            with self.device.lock:
                if not self._current():
                    return True
                self.pending.result = result
                self.pending.state = "signed_in"
            log.info("%s: sign-in for %s completed as %s (not saved until OK)", self.device.identity.name,
                     self.pending.slot, result.account)
            if self.on_success is not None:
                self.on_success(self.pending)
            return True
        if response.error == "authorization_pending":
            return False
        if response.error == "slow_down":
            with self.device.lock:
                self.pending.interval += SLOW_DOWN_STEP
            return False
        self._fail(failure_text(response), response.aadsts)
        return True

    def _fail(self, text: str, code: int) -> None:
        with self.device.lock:
            if self.device.pending.get(self.pending.slot) is self.pending:
                self.pending.state = "failed"
                self.pending.error = text
                self.pending.error_code = code
        log.info("%s: sign-in for %s failed: %s", self.device.identity.name, self.pending.slot, text)
