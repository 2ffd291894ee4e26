"""The virtual lab's devices: each one's Web Config (HTTP) and SNMP agent served from one asyncio loop.

Devices reach the built-in tier by name through their own resolver (as a real lab's DNS would send them),
and a port nobody serves on a known Microsoft host answers "connection refused", as a firewall would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

from harness.asgi import AsgiService, LoopThread, bind_tcp
from harness.clock import Clock
from harness.lab.inventory import VirtualDeviceEntry
from harness.lab.yamlfile import InventoryError
from harness.sim.defects import NAMES as DEFECT_NAMES
from harness.sim.device import DeviceIdentity, VirtualDevice
from harness.sim.engine import DeviceEngine
from harness.sim.models import ModelSpec, ModelUnit, get_model
from harness.sim.panel import Panel
from harness.sim.resolver import Resolver
from harness.sim.snmp.agent import SnmpAgent
from harness.sim.status import DeviceStatus
from harness.sim.webconfig import create_webconfig_app

#: Microsoft's host names a device may be configured with, and the service port the tier answers on.
SMTP_HOSTS = ("smtp.office365.com", "smtp-mail.outlook.com", "outlook.office365.com")
IDENTITY_HOSTS = ("login.microsoftonline.com", "login.live.com")


@dataclass(frozen=True)
class TierAddress:
    """Where the devices find the built-in tier on loopback."""

    host: str
    identity_port: int
    smtp_port: int


class DeviceSnmpView:
    """What one device's SNMP agent reads: its catalogue unit (renamed as Web Config names it) and status."""

    def __init__(self, device: VirtualDevice, unit: ModelUnit) -> None:
        self._device = device
        self._unit = unit

    @property
    def identity(self) -> ModelUnit:
        name = self._device.config.device_name
        return self._unit if self._unit.name == name else replace(self._unit, name=name)

    @property
    def status(self) -> DeviceStatus:
        return self._device.status


@dataclass
class HostedDevice:
    """One running virtual device and the services that front it."""

    entry: VirtualDeviceEntry
    spec: ModelSpec
    device: VirtualDevice
    engine: DeviceEngine
    panel: Panel | None
    webconfig: AsgiService
    snmp: SnmpAgent

    def lab_entry(self, host: str) -> dict[str, Any]:
        """This device's entry in lab.json's ``devices``."""
        identity = self.device.identity
        return {
            "name": identity.name, "kind": "virtual", "model": identity.model, "serial": identity.serial,
            "mac": identity.mac, "firmware": identity.firmware, "webconfig": self.webconfig.url,
            "snmp": {"host": host, "port": self.snmp.port, "community": self.snmp.community},
            "admin_password": self.device.config.admin_password,
            "capabilities": sorted(identity.capabilities), "defects": sorted(self.device.defects),
        }

    def power_cycle(self) -> None:
        """Switch the device off and on: sign-ins in progress stop; saved settings and sign-ins stay."""
        self.engine.close()
        self.device.power_cycle()


def build_device(entry: VirtualDeviceEntry, index: int, clock: Clock, resolver: Resolver,
                 client_id: str) -> tuple[VirtualDevice, ModelSpec, ModelUnit]:
    """The device an inventory entry describes, with catalogue defaults; errors name the entry's keys."""
    where = f"devices[{index}]"
    try:
        spec = get_model(entry.model)
    except KeyError as exc:
        raise InventoryError(f"{where}.model: {exc.args[0]}") from None
    unknown = [d for d in entry.defects if d not in DEFECT_NAMES]
    if unknown:
        raise InventoryError(f"{where}.defects: unknown defect {unknown[0]!r} "
                             f"(expected one of: {', '.join(sorted(DEFECT_NAMES))})")
    try:
        unit = spec.unit(serial=entry.serial, mac=entry.mac, firmware=entry.firmware,
                         admin_password=entry.admin_password)
    except ValueError as exc:
        raise InventoryError(f"{where}: {exc}") from None
    identity = DeviceIdentity(name=entry.name, model=spec.model, serial=unit.serial, mac=unit.mac,
                              firmware=unit.firmware, capabilities=frozenset(str(c) for c in spec.capabilities),
                              client_id=client_id)
    device = VirtualDevice(identity, clock, resolver, admin_password=unit.admin_password,
                           defects=frozenset(entry.defects), status=DeviceStatus.for_model(spec))
    device.update(device_name=unit.name)
    return device, spec, unit


class DeviceFleet:
    """Every virtual device of an inventory, started and stopped together on one loop thread."""

    def __init__(self, entries: list[VirtualDeviceEntry], clock: Clock, client_id: str,
                 host: str = "127.0.0.1") -> None:
        self.entries = entries
        self.clock = clock
        self.client_id = client_id
        self.host = host
        self.devices: dict[str, HostedDevice] = {}
        self._loop: LoopThread | None = None
        self._closed_port: socket.socket | None = None

    def resolver_for(self, tier: TierAddress) -> Resolver:
        """A fresh resolver table sending Microsoft's names to the tier, other ports to a closed one."""
        assert self._closed_port is not None
        closed = (tier.host, int(self._closed_port.getsockname()[1]))
        resolver = Resolver()
        for name in SMTP_HOSTS:
            resolver.set(name, 587, (tier.host, tier.smtp_port))
            resolver.set(name, None, closed)
        for name in IDENTITY_HOSTS:
            resolver.set(name, 443, (tier.host, tier.identity_port))
            resolver.set(name, None, closed)
        return resolver

    def start(self, tier: TierAddress) -> None:
        """Build and serve every device; on any failure stop what started and raise."""
        self._closed_port = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._closed_port.bind((self.host, 0))  # bound, never listening: connections are refused
        self._loop = LoopThread("virtual-devices")
        try:
            for index, entry in enumerate(self.entries):
                device, spec, unit = build_device(entry, index, self.clock, self.resolver_for(tier), self.client_id)
                engine = DeviceEngine(device)
                panel = Panel(device, engine) if device.identity.has("panel") else None
                hosted = HostedDevice(entry, spec, device, engine, panel,
                                      AsgiService(create_webconfig_app(device, engine), bind_tcp(self.host)),
                                      SnmpAgent(DeviceSnmpView(device, unit)))
                self.devices[entry.name] = hosted
                self._loop.run(hosted.webconfig.start())
                self._loop.run(hosted.snmp.start(self.host, 0))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every device's services; idempotent."""
        loop, self._loop = self._loop, None
        if loop is not None:
            for hosted in self.devices.values():
                hosted.engine.close()
            # All at once: each server notices its stop on its own 0.1 s tick, which one after the other added up.
            stops = [stop() for hosted in self.devices.values() for stop in (hosted.snmp.stop, hosted.webconfig.stop)]
            with contextlib.suppress(Exception):
                loop.run(_all_settled(stops), timeout=10)
            loop.close()
        self.devices.clear()
        if self._closed_port is not None:
            self._closed_port.close()
            self._closed_port = None

    def get(self, name: str) -> HostedDevice:
        try:
            return self.devices[name]
        except KeyError:
            raise KeyError(f"no virtual device named {name!r}") from None

    def lab_entries(self) -> list[dict[str, Any]]:
        return [hosted.lab_entry(self.host) for hosted in self.devices.values()]


async def _all_settled(stops: list[Coroutine[Any, Any, Any]]) -> None:
    """Await every stop, even when some fail (each is stopped whatever the others do)."""
    await asyncio.gather(*stops, return_exceptions=True)
