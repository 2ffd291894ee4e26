"""What a virtual device shows of its condition: state, detected errors, alerts, supplies, panel text.

The device's parts (mailer, panel, print engine) change it; the SNMP agent and Web Config read it live
through :meth:`DeviceStatus.snapshot`, an immutable copy taken under the lock. Numbers follow the
Printer-MIB (RFC 3805) so the agent can report them unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum, IntFlag, StrEnum

from harness.sim.models import ModelSpec


class DeviceState(StrEnum):
    """The device's overall condition."""

    IDLE = "idle"
    PRINTING = "printing"  # a job is running (printing, scanning or sending)
    WARNING = "warning"  # working, but something needs attention (e.g. a mail job failed)
    DOWN = "down"  # stopped by an error (jam, cover open, no paper)


class DetectedError(IntFlag):
    """hrPrinterDetectedErrorState conditions; bit n is RFC 3805's bit n (bit 0 = lowPaper)."""

    NONE = 0
    LOW_PAPER = 1 << 0
    NO_PAPER = 1 << 1
    LOW_TONER = 1 << 2  # low ink on inkjets
    NO_TONER = 1 << 3  # ink out
    DOOR_OPEN = 1 << 4
    JAMMED = 1 << 5
    OFFLINE = 1 << 6
    SERVICE_REQUESTED = 1 << 7
    INPUT_TRAY_MISSING = 1 << 8
    OUTPUT_TRAY_MISSING = 1 << 9
    MARKER_SUPPLY_MISSING = 1 << 10
    OUTPUT_NEAR_FULL = 1 << 11
    OUTPUT_FULL = 1 << 12
    INPUT_TRAY_EMPTY = 1 << 13
    OVERDUE_PREVENT_MAINT = 1 << 14


class AlertSeverity(IntEnum):
    """prtAlertSeverityLevel."""

    OTHER = 1
    CRITICAL = 3
    WARNING = 4


class AlertTraining(IntEnum):
    """prtAlertTrainingLevel: who can clear the condition."""

    OTHER = 1
    UNTRAINED = 3
    TRAINED = 4
    FIELD_SERVICE = 5
    MANAGEMENT = 6
    NO_INTERVENTION = 7


class AlertGroup(IntEnum):
    """prtAlertGroup: the part of the device the alert is about."""

    OTHER = 1
    GENERAL_PRINTER = 5
    COVER = 6
    INPUT = 8
    OUTPUT = 9
    MARKER = 10
    MARKER_SUPPLIES = 11
    CHANNEL = 14


class AlertCode(IntEnum):
    """prtAlertCode (a subset of RFC 3805's list)."""

    OTHER = 1
    COVER_OPEN = 3
    CONFIGURATION_CHANGE = 7
    JAM = 8
    SUBUNIT_ALMOST_EMPTY = 12
    SUBUNIT_EMPTY = 13
    SUBUNIT_ALMOST_FULL = 14
    SUBUNIT_FULL = 15
    DOOR_OPEN = 501
    MARKER_INK_EMPTY = 1102
    MARKER_INK_ALMOST_EMPTY = 1105


@dataclass(frozen=True)
class Alert:
    """One row of the alert table; ``index`` only grows, ``time_ticks`` is the uptime when it was raised."""

    index: int
    description: str
    severity: AlertSeverity = AlertSeverity.WARNING
    training: AlertTraining = AlertTraining.MANAGEMENT
    group: AlertGroup = AlertGroup.GENERAL_PRINTER
    group_index: int = -1
    location: int = -1
    code: AlertCode = AlertCode.OTHER
    time_ticks: int = 0


@dataclass(frozen=True)
class StatusSnapshot:
    """An immutable view of the status at one moment; ``version`` grows with every change."""

    version: int
    state: DeviceState
    errors: DetectedError
    alerts: tuple[Alert, ...]
    supply_levels: tuple[int, ...]
    display: tuple[str, ...]
    booted_at: float  # time.monotonic() at power-on

    def uptime_ticks(self) -> int:
        """Hundredths of a second since power-on (sysUpTime)."""
        return int((time.monotonic() - self.booted_at) * 100)


class DeviceStatus:
    """The live, thread-safe status of one device."""

    #: Real devices keep a short alert table; the oldest alert goes when a new one would exceed it.
    MAX_ALERTS = 8

    def __init__(self, supply_levels: Sequence[int] = (), *, display: Sequence[str] = ("Ready",)) -> None:
        self._lock = threading.Lock()
        self._next_alert = 1
        self._snap = StatusSnapshot(
            version=1, state=DeviceState.IDLE, errors=DetectedError.NONE, alerts=(),
            supply_levels=tuple(_percent(level) for level in supply_levels), display=tuple(display),
            booted_at=time.monotonic(),
        )

    @classmethod
    def for_model(cls, model: ModelSpec) -> DeviceStatus:
        """A freshly powered device of ``model``: idle, supplies full, maintenance boxes empty."""
        return cls([100] * len(model.supplies))

    def snapshot(self) -> StatusSnapshot:
        with self._lock:
            return self._snap

    @property
    def version(self) -> int:
        return self.snapshot().version

    def set_state(self, state: DeviceState | str) -> None:
        self._change(state=DeviceState(state))

    def set_errors(self, errors: DetectedError) -> None:
        """Replace the detected error conditions (``DetectedError.NONE`` clears them)."""
        self._change(errors=DetectedError(errors))

    def set_display(self, *lines: str) -> None:
        """What the control panel shows, one string per line."""
        self._change(display=tuple(lines))

    def set_supply_level(self, index: int, percent: int) -> None:
        """Level of supply ``index`` (catalogue order): percent left, or free space for a maintenance box."""
        with self._lock:
            levels = list(self._snap.supply_levels)
            if not 0 <= index < len(levels):
                raise IndexError(f"supply {index} does not exist (this device has {len(levels)})")
            levels[index] = _percent(percent)
            self._bump(supply_levels=tuple(levels))

    def raise_alert(self, description: str, *, severity: AlertSeverity = AlertSeverity.WARNING,
                    code: AlertCode = AlertCode.OTHER, group: AlertGroup = AlertGroup.GENERAL_PRINTER,
                    training: AlertTraining = AlertTraining.MANAGEMENT) -> Alert:
        """Add an alert (the newest last) and return it."""
        with self._lock:
            alert = Alert(index=self._next_alert, description=description, severity=severity, code=code,
                          group=group, training=training, time_ticks=self._snap.uptime_ticks())
            self._next_alert += 1
            self._bump(alerts=(*self._snap.alerts, alert)[-self.MAX_ALERTS:])
            return alert

    def clear_alerts(self, code: AlertCode | None = None, *, prefix: str | None = None) -> None:
        """Remove every alert, or only those with ``code`` and/or whose description starts with ``prefix``."""
        with self._lock:
            kept = tuple(a for a in self._snap.alerts
                         if not ((code is None or a.code == code)
                                 and (prefix is None or a.description.startswith(prefix))))
            if kept != self._snap.alerts:
                self._bump(alerts=kept)

    def power_cycle(self) -> None:
        """Switch off and on: uptime restarts, alerts and transient errors go, supplies stay."""
        with self._lock:
            self._bump(state=DeviceState.IDLE, errors=DetectedError.NONE, alerts=(), booted_at=time.monotonic())

    def _change(self, **changes: object) -> None:
        with self._lock:
            self._bump(**changes)

    def _bump(self, **changes: object) -> None:
        # caller holds the lock
        self._snap = replace(self._snap, version=self._snap.version + 1, **changes)  # type: ignore[arg-type]


def _percent(value: int) -> int:
    if not 0 <= int(value) <= 100:
        raise ValueError(f"a supply level is a percentage 0-100, got {value}")
    return int(value)
