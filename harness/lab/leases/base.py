"""Device leases: a run holds each device it drives exclusively, for a time-to-live that a heartbeat extends.

A backend (:class:`LeaseStore`) implements four atomic operations: try to take, renew, release, list. Waiting,
the heartbeat and the holder's identity live here, so a shared backend (PostgreSQL, Redis) can follow the one-host
SQLite one. Times are wall-clock seconds (``time.time()``): leases are about real processes, not the lab's clock.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

from harness.device.errors import InfraError

POLL_FIRST = 0.05  # seconds between tries while waiting for a busy device; doubles up to POLL_MAX
POLL_MAX = 0.5

_PROCESS_RUN_ID = uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: the run, and the host, process and pytest-xdist worker acting for it."""

    run_id: str
    host: str
    pid: int
    worker: str = ""

    @classmethod
    def current(cls, run_id: str | None = None) -> Holder:
        """This process, for ``run_id`` (default: xdist's test-run id shared by its workers, else one per process)."""
        run = run_id or os.environ.get("PYTEST_XDIST_TESTRUNUID") or _PROCESS_RUN_ID
        return cls(run, socket.gethostname(), os.getpid(), os.environ.get("PYTEST_XDIST_WORKER", ""))

    def __str__(self) -> str:
        worker = f", worker {self.worker}" if self.worker else ""
        return f"run {self.run_id} (host {self.host}, pid {self.pid}{worker})"


@dataclass(frozen=True)
class Holding:
    """A live lease as the store records it."""

    device: str
    holder: Holder
    expires_at: float


def _at(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S")


class LeaseError(InfraError):
    """A lease could not be taken or kept: the lab's problem, not the device's."""


class LeaseBusy(LeaseError):
    """Another holder has the device (after waiting, if the caller chose to wait)."""

    def __init__(self, device: str, holder: Holder, expires_at: float, waited: float = 0.0) -> None:
        super().__init__(device, holder, expires_at, waited)
        self.device, self.holder, self.expires_at, self.waited = device, holder, expires_at, waited

    def __str__(self) -> str:
        left = max(0.0, self.expires_at - time.time())
        gave_up = f"; gave up after waiting {self.waited:g} s" if self.waited else ""
        return (f"device {self.device!r} is leased to {self.holder} until {_at(self.expires_at)} "
                f"({left:.1f} s left unless renewed){gave_up}")


class LeaseLost(LeaseError):
    """A lease this run held is no longer its own: it expired and was taken, or could not be renewed in time."""

    def __init__(self, device: str, holder: Holder | None = None, reason: str = "") -> None:
        super().__init__(device, holder, reason)
        self.device, self.holder, self.reason = device, holder, reason

    def __str__(self) -> str:
        if self.reason:
            why = self.reason
        elif self.holder is not None:
            why = f"it expired and {self.holder} took it"
        else:
            why = "it is no longer recorded (released, or expired, taken and released since)"
        return f"lease on device {self.device!r} was lost: {why}"


class LeaseStoreError(LeaseError):
    """The lease store itself cannot be used (unreadable, corrupted, or locked too long)."""


class Lease:
    """One held lease. As a context manager it heartbeats while the block runs and releases the device after it.

    The heartbeat renews every ``ttl / 3``; if a renewal shows the lease was lost, or the store stays unusable until
    the lease expires, ``lost`` is set and ``lost_reason`` says why (``check()`` raises it).
    """

    def __init__(self, store: LeaseStore, device: str, holder: Holder, ttl: float, token: str,
                 expires_at: float) -> None:
        self.store, self.device, self.holder, self.ttl = store, device, holder, ttl
        self.token = token  # identifies this acquisition: the same holder taking the device again gets a new one
        self.expires_at = expires_at
        self.lost = threading.Event()
        self.lost_reason: LeaseLost | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Lease({self.device!r}, {self.holder}, ttl={self.ttl:g}, lost={self.lost.is_set()})"

    def renew(self) -> None:
        self.store.renew(self)

    def release(self) -> None:
        """Stop the heartbeat and give the device back; a lease already lost is left to its new holder."""
        self.stop_heartbeat()
        self.store.release(self)

    def check(self) -> None:
        """Raise :class:`LeaseLost` if the heartbeat found the lease lost."""
        if self.lost_reason is not None:
            raise self.lost_reason

    def start_heartbeat(self) -> None:
        if self._heartbeat is None:
            self._stop.clear()
            self._heartbeat = threading.Thread(target=self._beat, name=f"lease heartbeat {self.device}", daemon=True)
            self._heartbeat.start()

    def stop_heartbeat(self) -> None:
        thread, self._heartbeat = self._heartbeat, None
        if thread is not None:
            self._stop.set()
            if thread is not threading.current_thread():
                thread.join()  # a renewal in flight is bounded by the store's own timeout

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.store.renew(self)
            except LeaseLost as exc:
                self._mark_lost(exc)
                return
            except Exception as exc:
                # A store failure is retried while the lease is still ours; a harness bug is not.
                if isinstance(exc, InfraError) and time.time() < self.expires_at:
                    continue
                self._mark_lost(LeaseLost(self.device, reason=f"could not renew it before it expired: {exc}"))
                return

    def _mark_lost(self, reason: LeaseLost) -> None:
        self.lost_reason = reason
        self.lost.set()

    def __enter__(self) -> Self:
        self.start_heartbeat()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.release()
        except LeaseStoreError:
            # The block's own error matters more; the lease then expires by itself after its TTL.
            if exc is None:
                raise


class LeaseStore(ABC):
    """Where leases live. Backends implement the atomic operations; waiting is shared."""

    def acquire(self, device: str, holder: Holder, ttl: float, wait: float = 0.0) -> Lease:
        """Take ``device`` for ``ttl`` seconds, polling up to ``wait`` seconds while another holder has it.

        Raises :class:`LeaseBusy` naming the holder if it is still taken when the wait is over.
        """
        if ttl <= 0:
            raise ValueError(f"lease ttl must be positive, not {ttl!r}")
        if wait < 0:
            raise ValueError(f"lease wait must not be negative, not {wait!r}")
        deadline = time.monotonic() + wait
        delay = POLL_FIRST
        while True:
            taken = self.try_acquire(device, holder, ttl)
            if isinstance(taken, Lease):
                return taken
            left = deadline - time.monotonic()
            if left <= 0:
                raise LeaseBusy(device, taken.holder, taken.expires_at, waited=wait)
            time.sleep(min(delay, left))
            delay = min(delay * 2, POLL_MAX)

    @abstractmethod
    def try_acquire(self, device: str, holder: Holder, ttl: float) -> Lease | Holding:
        """Atomically take ``device`` if it is free or its lease expired; otherwise return the live holding."""

    @abstractmethod
    def renew(self, lease: Lease) -> None:
        """Extend ``lease`` by its ttl from now and update ``lease.expires_at``; raise :class:`LeaseLost` if it is
        no longer this acquisition's (an expired lease nobody took is renewed)."""

    @abstractmethod
    def release(self, lease: Lease) -> None:
        """Free the device if ``lease`` still holds it; otherwise do nothing."""

    @abstractmethod
    def holders(self) -> dict[str, Holding]:
        """The live (unexpired) leases, by device."""
