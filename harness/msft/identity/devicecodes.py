"""Pending device authorizations, kept by the digest of their device code and user code, never in clear."""

from __future__ import annotations

import enum
import hashlib
import secrets
import string
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from harness.msft.errors import Aadsts
from harness.reporting.redaction import register_secret

USER_CODE_ALPHABET = string.ascii_uppercase + string.digits
USER_CODE_LENGTH = 9
#: A poll this much earlier than the interval is still accepted (network and scheduling jitter).
POLL_GRACE = 0.25
#: Oldest authorizations are dropped beyond this many, so a flood of requests cannot exhaust memory.
MAX_PENDING = 10_000


class Status(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    DENIED = "denied"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def normalise_user_code(text: str) -> str:
    """A user code as typed, in canonical form (case, spaces and dashes do not matter)."""
    return "".join(ch for ch in text[:64].upper() if ch not in " -\t")


@dataclass
class DeviceAuthorization:
    """One device code's server-side record (no secret in it)."""

    client_id: str
    scopes: list[str]
    issued_at: float
    expires_at: float
    interval: int
    device_digest: str
    user_digest: str
    status: Status = Status.PENDING
    upn: str = ""
    auth_time: float = 0.0
    denial: Aadsts | None = None
    #: time.monotonic() of the last poll: pacing is judged on wall time, not the lab clock.
    last_poll: float | None = field(default=None, repr=False)

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


class DeviceCodeStore:
    """Thread-safe store of device authorizations with Microsoft-shaped codes."""

    def __init__(self) -> None:
        self._by_device: OrderedDict[str, DeviceAuthorization] = OrderedDict()
        self._by_user: dict[str, DeviceAuthorization] = {}
        self._lock = threading.Lock()

    def create(self, client_id: str, scopes: list[str], now: float, lifetime: int,
               interval: int) -> tuple[str, str, DeviceAuthorization]:
        """A new authorization; returns (device_code, user_code, record). The codes are not kept."""
        device_code = "DAQABIQEAAAD" + secrets.token_urlsafe(144)
        with self._lock:
            while True:
                user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
                if digest(user_code) not in self._by_user:
                    break
            auth = DeviceAuthorization(client_id, list(scopes), now, now + lifetime, interval,
                                       digest(device_code), digest(user_code))
            self._by_device[auth.device_digest] = auth
            self._by_user[auth.user_digest] = auth
            while len(self._by_device) > MAX_PENDING:
                _, oldest = self._by_device.popitem(last=False)
                self._by_user.pop(oldest.user_digest, None)
        register_secret(device_code, user_code)
        return device_code, user_code, auth

    def by_device_code(self, device_code: str) -> DeviceAuthorization | None:
        with self._lock:
            return self._by_device.get(digest(device_code))

    def by_user_code(self, typed: str) -> DeviceAuthorization | None:
        with self._lock:
            return self._by_user.get(digest(normalise_user_code(typed)))

    def polled_too_soon(self, auth: DeviceAuthorization) -> bool:
        """Record a poll; True when it came sooner than the interval after the previous one."""
        now = time.monotonic()
        with self._lock:
            previous, auth.last_poll = auth.last_poll, now
        return previous is not None and now - previous < auth.interval - POLL_GRACE

    def approve(self, auth: DeviceAuthorization, upn: str, now: float) -> bool:
        """Mark signed in by ``upn``; False when the authorization was no longer pending."""
        with self._lock:
            if auth.status is not Status.PENDING:
                return False
            auth.status, auth.upn, auth.auth_time = Status.APPROVED, upn, now
            return True

    def refuse(self, auth: DeviceAuthorization, denial: Aadsts | None, upn: str = "") -> None:
        """Mark declined by the user (``denial`` None) or denied by the directory with ``denial``."""
        with self._lock:
            if auth.status is Status.PENDING:
                auth.status = Status.DECLINED if denial is None else Status.DENIED
                auth.denial, auth.upn = denial, upn

    def discard(self, auth: DeviceAuthorization) -> None:
        """Forget a redeemed authorization: its device code works only once."""
        with self._lock:
            self._by_device.pop(auth.device_digest, None)
            self._by_user.pop(auth.user_digest, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_device)
