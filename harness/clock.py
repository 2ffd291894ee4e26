"""One clock interface for the lab: real time, or virtual time that moves only when told.

The lab clock governs validity (token lifetimes, device-code expiry, idle periods). Pacing rules that
are about how fast a client talks (the device-code polling interval) use wall time, so a frozen virtual
clock does not make every poll look too early.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Seconds since the Unix epoch, as the lab sees them."""

    def now(self) -> float: ...


class RealClock:
    """The machine's wall clock."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "RealClock()"


class VirtualClock:
    """A clock frozen at a start instant that moves only through :meth:`advance` or :meth:`set`."""

    def __init__(self, start: float | None = None) -> None:
        self._now = float(time.time() if start is None else start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a virtual clock only moves forward; got {seconds} seconds")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> float:
        """Jump to ``when`` (epoch seconds), which must not be in this clock's past."""
        with self._lock:
            if when < self._now:
                raise ValueError("a virtual clock only moves forward")
            self._now = float(when)
            return self._now

    def __repr__(self) -> str:
        return f"VirtualClock({iso(self.now())})"


def iso(epoch: float) -> str:
    """ISO-8601 UTC text of an epoch instant, as Microsoft's JSON writes it."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
