"""Administrator sessions, login lock-out and setup tokens of one device's Web Config.

Sessions and setup tokens belong to one power-on (``device.boot_id``): after a power cycle they are stale.
Lock-out counts failed logins in a row on the lab clock, so tests move through it by advancing virtual time.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

from harness.sim.device import VirtualDevice

MAX_FAILURES = 5
LOCKOUT_SECONDS = 300.0
MAX_SESSIONS = 16


class LoginOutcome(Enum):
    OK = "ok"
    INCORRECT = "incorrect"
    LOCKED = "locked"


@dataclass
class Session:
    """One logged-in administrator; ``setup_token`` is the value every settings form must send back."""

    session_id: str = field(repr=False)
    boot_id: int
    setup_token: str = field(repr=False)


class SessionStore:
    """Thread-safe store of sessions and the failed-login counter for one device."""

    def __init__(self, device: VirtualDevice) -> None:
        self._device = device
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._failures = 0
        self._locked_until = 0.0
        self._failures_boot = device.boot_id
        self._lock = threading.Lock()

    def login(self, username: str, password: str, *, admin: bool = True) -> tuple[LoginOutcome, Session | None]:
        """Check the administrator's credentials (blank user name, the admin password), honouring lock-out.

        ``admin`` False (a session type other than the administrator's) always fails and counts as a failure.
        """
        now = self._device.clock.now()
        with self._lock:
            if self._failures_boot != self._device.boot_id:
                self._failures, self._locked_until, self._failures_boot = 0, 0.0, self._device.boot_id
            if now < self._locked_until:
                return LoginOutcome.LOCKED, None
            if self._locked_until:
                self._failures, self._locked_until = 0, 0.0
            expected = self._device.config.admin_password
            correct = admin and username == "" and hmac.compare_digest(password.encode(), expected.encode())
            if not correct:
                self._failures += 1
                if self._failures >= MAX_FAILURES:
                    self._locked_until = now + LOCKOUT_SECONDS
                return LoginOutcome.INCORRECT, None
            self._failures = 0
            session = Session(secrets.token_hex(16), self._device.boot_id, secrets.token_hex(16))
            self._sessions[session.session_id] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
            return LoginOutcome.OK, session

    def get(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value, or None (unknown, or from before a power cycle)."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if session.boot_id != self._device.boot_id:
                del self._sessions[session_id]
                return None
            return session

    def logout(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def accept_token(self, session: Session, token: str | None) -> bool:
        """True if ``token`` is the session's current setup token; a used token is replaced by a new one."""
        with self._lock:
            if session.boot_id != self._device.boot_id or not token:
                return False
            if not hmac.compare_digest(token.encode(), session.setup_token.encode()):
                return False
            session.setup_token = secrets.token_hex(16)
            return True

    def check_token(self, session: Session, token: str | None) -> bool:
        """Like :meth:`accept_token` but keeps the token (for downloads that leave the page in place)."""
        with self._lock:
            return (session.boot_id == self._device.boot_id and bool(token)
                    and hmac.compare_digest((token or "").encode(), session.setup_token.encode()))
