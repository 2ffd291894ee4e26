"""One test session's view of the lab: its devices, the Microsoft side, leases and pre-flight checks.

For the virtual lab the session starts its own lab (each pytest-xdist worker its own, so one worker's time
travel never expires another's tokens) or attaches to one started by ``epson-hil lab up``. For a real lab the
devices come from the inventory and nothing is started.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from harness.device.errors import InfraError
from harness.device.snmp import Community, Credentials, UsmUser, probe_sync
from harness.lab.inventory import BuiltinMicrosoft, Inventory, RealDeviceEntry, load_inventory
from harness.lab.labfile import DeviceInfo, LabInfo, LabNotRunning, load_lab
from harness.lab.leases import Holder, Lease, SqliteLeaseStore
from harness.reporting.redaction import redactor, register_secret

#: What a virtual lab offers beyond the devices' own capabilities (``requires`` can ask for these).
VIRTUAL_LAB_FEATURES = frozenset({"virtual_clock", "tenant_control", "remote_panel"})


class PreflightMismatch(InfraError):
    """The device at the inventory's address is not the device the inventory names; it is not tested."""


@dataclass(frozen=True)
class DeviceUnderTest:
    """A device as the suites see it: who it should be, where to reach it, what it can do."""

    name: str
    kind: str
    model: str
    serial: str
    mac: str
    firmware: str
    capabilities: frozenset[str]
    webconfig_url: str
    snmp_host: str
    snmp_port: int
    snmp_credentials: Credentials = field(repr=False)
    admin_password: str = field(repr=False)
    locator_profile: str | None = None

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    @classmethod
    def from_lab(cls, info: DeviceInfo, locator_profile: str | None = None) -> DeviceUnderTest:
        return cls(name=info.name, kind=info.kind, model=info.model, serial=info.serial, mac=info.mac,
                   firmware=info.firmware, capabilities=frozenset(info.capabilities),
                   webconfig_url=info.webconfig, snmp_host=info.snmp.host, snmp_port=info.snmp.port,
                   snmp_credentials=Community(info.snmp.community), admin_password=info.admin_password,
                   locator_profile=locator_profile)

    @classmethod
    def from_inventory(cls, entry: RealDeviceEntry, where: str) -> DeviceUnderTest:
        snmp = entry.snmp
        credentials: Credentials
        if snmp.version == "3":
            credentials = UsmUser(snmp.user or "", snmp.auth_key.resolve(where) if snmp.auth_key else "",
                                  snmp.priv_key.resolve(where) if snmp.priv_key else "")
        else:
            credentials = Community(snmp.community, version=snmp.version)
        return cls(name=entry.name, kind="real", model=entry.model, serial=entry.serial, mac=entry.mac,
                   firmware=entry.firmware, capabilities=frozenset(entry.capabilities),
                   webconfig_url=entry.webconfig_url, snmp_host=entry.address, snmp_port=snmp.port,
                   snmp_credentials=credentials, admin_password=entry.admin_password.resolve(where),
                   locator_profile=entry.locator_profile)


@dataclass(frozen=True)
class PreflightResult:
    device: str
    ok: bool
    message: str
    #: What SNMP said the device is (None when it did not say).
    serial: str | None = None
    mac: str | None = None
    firmware: str | None = None


class LabSession:
    """Opened once per test process; closed at its end (leases released, an owned virtual lab stopped)."""

    def __init__(self, inventory_path: Path, work_dir: Path, *, state_dir: Path | None = None,
                 run_id: str | None = None, lease_ttl: float = 120.0, lease_wait: float = 0.0) -> None:
        self.inventory_path = Path(inventory_path)
        self.work_dir = Path(work_dir)
        self.state_dir = state_dir
        self.holder = Holder.current(run_id)
        self.lease_ttl, self.lease_wait = lease_ttl, lease_wait
        self.inventory: Inventory = load_inventory(self.inventory_path)
        self.lab: LabInfo | None = None
        self.devices: dict[str, DeviceUnderTest] = {}
        self._owned_lab: object | None = None
        self._leases: dict[str, Lease] = {}
        self._preflight: dict[str, PreflightResult] = {}
        self._lock = threading.Lock()
        self._store: SqliteLeaseStore | None = None

    @property
    def builtin(self) -> bool:
        return isinstance(self.inventory.msft, BuiltinMicrosoft)

    @property
    def features(self) -> frozenset[str]:
        return VIRTUAL_LAB_FEATURES if self.builtin else frozenset()

    def open(self) -> LabSession:
        """Start or attach to the lab and learn its devices."""
        profiles = {d.name: d.locator_profile for d in self.inventory.devices}
        if self.builtin:
            self.lab = self._attach_or_start()
            register_secret(self.lab.msft.control.token, *(u.password for u in self.lab.msft.users),
                            *(d.admin_password for d in self.lab.devices))
            self.devices = {d.name: DeviceUnderTest.from_lab(d, profiles.get(d.name)) for d in self.lab.devices}
        else:
            self.devices = {d.name: DeviceUnderTest.from_inventory(d, f"{self.inventory_path}: devices[{i}]")
                            for i, d in enumerate(self.inventory.devices) if isinstance(d, RealDeviceEntry)}
        redactor().allow(*(d.serial for d in self.devices.values()))
        lease_dir = self.state_dir or self.work_dir
        self._store = SqliteLeaseStore.in_state_dir(lease_dir)
        return self

    def _attach_or_start(self) -> LabInfo:
        if self.state_dir is not None:
            with contextlib.suppress(LabNotRunning):
                return load_lab(self.state_dir)
        from harness.lab.virtual import VirtualLab  # only a session that runs the virtual lab needs the simulator

        lab = VirtualLab(self.inventory_path, self.state_dir or self.work_dir / "lab")
        info = lab.start()
        self._owned_lab = lab
        return info

    def device(self, name: str) -> DeviceUnderTest:
        try:
            return self.devices[name]
        except KeyError:
            raise InfraError(f"device {name!r} is in the inventory but not in the running lab "
                             f"(have: {', '.join(self.devices)})") from None

    def lease(self, name: str) -> Lease:
        """This session's exclusive lease on ``name`` (taken once, kept alive by a heartbeat)."""
        with self._lock:
            lease = self._leases.get(name)
            if lease is None:
                assert self._store is not None, "open() the session first"
                key = f"{name}@{self.device(name).webconfig_url}"
                lease = self._store.acquire(key, self.holder, self.lease_ttl, wait=self.lease_wait)
                lease.start_heartbeat()
                self._leases[name] = lease
            lease.check()
            return lease

    def preflight(self, name: str) -> PreflightResult:
        """Serial, MAC and firmware over SNMP against the inventory; done once per device per session."""
        with self._lock:
            if name in self._preflight:
                return self._preflight[name]
        device = self.device(name)
        found = probe_sync(device.snmp_host, device.snmp_port, device.snmp_credentials, timeout=2.0, retries=2)
        ident = found.identity
        problems = []
        if (ident.serial or "").upper() != device.serial.upper():
            problems.append(f"serial {ident.serial!r} (inventory: {device.serial!r})")
        if device.mac and (ident.mac or "").upper() != device.mac.upper():
            problems.append(f"MAC {ident.mac!r} (inventory: {device.mac!r})")
        if ident.firmware and not device.firmware.upper().endswith(ident.firmware.upper()):
            problems.append(f"firmware {ident.firmware!r} (inventory: {device.firmware!r})")
        message = (f"{name}: identity confirmed over SNMP (serial {ident.serial}, firmware {ident.firmware})"
                   if not problems else
                   f"{name}: the device at {device.snmp_host}:{device.snmp_port} is not the one the inventory "
                   f"names: {'; '.join(problems)}")
        result = PreflightResult(name, not problems, message, ident.serial, ident.mac, ident.firmware)
        with self._lock:
            self._preflight[name] = result
        return result

    def preflighted(self, name: str) -> PreflightResult | None:
        """The pre-flight check of ``name`` if this session has done it."""
        with self._lock:
            return self._preflight.get(name)

    def close(self) -> None:
        with self._lock:
            leases, self._leases = list(self._leases.values()), {}
        for lease in leases:
            lease.stop_heartbeat()
            with contextlib.suppress(Exception):
                lease.release()
        lab, self._owned_lab = self._owned_lab, None
        if lab is not None:
            lab.stop()  # type: ignore[attr-defined]
