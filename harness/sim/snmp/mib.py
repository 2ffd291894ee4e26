"""The OID table a virtual Epson device answers: system, interfaces, Host Resources, Printer-MIB, Epson.

Built from the device's identity and a status snapshot; values that move by themselves (uptime, traffic
counters) are computed when read. Scanners (models without ``print``) have no Printer-MIB and no
hrPrinterTable, as on real network scanners.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pysnmp.proto import rfc1902

from harness.sim.models import ModelUnit
from harness.sim.snmp.bdc import status_record
from harness.sim.status import DetectedError, DeviceState, StatusSnapshot

Oid = tuple[int, ...]
#: A pysnmp value (rfc1902 type), or a function returning one at read time.
Value = Any
Lazy = Callable[[], Any]

MIB2 = (1, 3, 6, 1, 2, 1)
SYSTEM = (*MIB2, 1)
INTERFACES = (*MIB2, 2)
IF_ENTRY = (*INTERFACES, 2, 1)
HOST = (*MIB2, 25)
HR_DEVICE_ENTRY = (*HOST, 3, 2, 1)
HR_PRINTER_ENTRY = (*HOST, 3, 5, 1)
PRINTER_MIB = (*MIB2, 43)
PRT_GENERAL_ENTRY = (*PRINTER_MIB, 5, 1, 1)
PRT_INPUT_ENTRY = (*PRINTER_MIB, 8, 2, 1)
PRT_SUPPLIES_ENTRY = (*PRINTER_MIB, 11, 1, 1)
PRT_COLORANT_ENTRY = (*PRINTER_MIB, 12, 1, 1)
PRT_CONSOLE_ENTRY = (*PRINTER_MIB, 16, 5, 1)
PRT_ALERT_ENTRY = (*PRINTER_MIB, 18, 1, 1)
EPSON = (1, 3, 6, 1, 4, 1, 1248)
EPSON_MAC = (*EPSON, 1, 1, 3, 1, 1, 5)
EPSON_SHORT_NAME = (*EPSON, 1, 1, 3, 1, 3, 8)
EPSON_PRINTER_ENTRY = (*EPSON, 1, 2, 2, 1, 1, 1)  # .1 device ID, .2 model, .4 ST2 status, .5 serial

HR_DEVICE_PRINTER = (*HOST, 3, 1, 5)
HR_DEVICE_OTHER = (*HOST, 3, 1, 1)
HR_STORAGE_RAM = (*HOST, 2, 1, 2)

#: hrDeviceStatus and hrPrinterStatus for each state (RFC 2790 / RFC 3805 combinations).
HR_DEVICE_STATUS = {DeviceState.IDLE: 2, DeviceState.PRINTING: 2, DeviceState.WARNING: 3, DeviceState.DOWN: 5}
HR_PRINTER_STATUS = {DeviceState.IDLE: 3, DeviceState.PRINTING: 4, DeviceState.WARNING: 3, DeviceState.DOWN: 1}

SUPPLY_TYPE = {"toner": 3, "wasteToner": 4, "ink": 5, "inkCartridge": 6, "wasteInk": 8}
SUPPLY_CLASS_CONSUMED, SUPPLY_CLASS_FILLED = 3, 4
SUPPLY_UNIT_PERCENT = 19
INPUT_TYPE = {"sheetFeedAutoRemovableTray": 3, "sheetFeedAutoNonRemovableTray": 4, "sheetFeedManual": 5}
INPUT_LEVEL_UNKNOWN = -2
COLORANT_ROLE_PROCESS = 3
RAM_KB = 262144


@dataclass
class InterfaceTraffic:
    """Datagrams and octets the agent's socket has seen (the standard interface's counters)."""

    in_octets: int = 0
    in_packets: int = 0
    out_octets: int = 0
    out_packets: int = 0


class MibTable:
    """OID → value, ordered for GETNEXT; knows which objects exist to tell noSuchObject from noSuchInstance."""

    def __init__(self) -> None:
        self._values: dict[Oid, Value | Lazy] = {}
        self._objects: set[Oid] = set()
        self._order: list[Oid] = []

    def add(self, obj: Oid, index: Oid, value: Value | Lazy) -> None:
        oid = (*obj, *index)
        if oid in self._values:
            raise ValueError(f"duplicate OID {'.'.join(map(str, oid))}")
        self._values[oid] = value
        self._objects.add(obj)

    def scalar(self, obj: Oid, value: Value | Lazy) -> None:
        self.add(obj, (0,), value)

    def freeze(self) -> MibTable:
        self._order = sorted(self._values)
        return self

    def __len__(self) -> int:
        return len(self._values)

    def get(self, oid: Oid) -> Value | None:
        value = self._values.get(oid)
        return value() if callable(value) else value

    def names_object(self, oid: Oid) -> bool:
        """True if ``oid`` is an instance of a known object (the object exists, whatever the instance)."""
        return any(oid[:n] in self._objects for n in range(1, len(oid)))

    def after(self, oid: Oid) -> Iterator[tuple[Oid, Value]]:
        """Every (OID, value) strictly after ``oid``, in order."""
        for name in self._order[bisect.bisect_right(self._order, oid):]:
            value = self._values[name]
            yield name, value() if callable(value) else value


def build_mib(identity: ModelUnit, snap: StatusSnapshot, traffic: InterfaceTraffic) -> MibTable:
    """The whole table for this device in this state."""
    table = MibTable()
    _system(table, identity, snap)
    _interfaces(table, identity, traffic)
    _host_resources(table, identity, snap)
    if identity.model.prints:
        _printer_mib(table, identity, snap)
    _epson(table, identity, snap)
    return table.freeze()


def oid_of(dotted: str) -> Oid:
    return tuple(int(part) for part in dotted.strip(".").split("."))


def detected_error_octets(errors: DetectedError) -> bytes:
    """hrPrinterDetectedErrorState as sent: bit 0 is the most significant bit of the first octet."""
    value = int(errors)
    if not value:
        return b""
    size = (value.bit_length() + 7) // 8
    octets = bytearray(size)
    for bit in range(value.bit_length()):
        if value >> bit & 1:
            octets[bit // 8] |= 0x80 >> (bit % 8)
    return bytes(octets)


def _text(value: str) -> rfc1902.OctetString:
    return rfc1902.OctetString(value.encode("utf-8"))


def _mac(mac: str) -> rfc1902.OctetString:
    return rfc1902.OctetString(bytes.fromhex(mac.replace(":", "")))


def _counter(value: int) -> rfc1902.Counter32:
    return rfc1902.Counter32(value & 0xFFFF_FFFF)


def _system(table: MibTable, identity: ModelUnit, snap: StatusSnapshot) -> None:
    model = identity.model
    table.scalar((*SYSTEM, 1), _text(model.sys_descr))
    table.scalar((*SYSTEM, 2), rfc1902.ObjectIdentifier(oid_of(model.sys_object_id)))
    table.scalar((*SYSTEM, 3), lambda: rfc1902.TimeTicks(snap.uptime_ticks()))
    table.scalar((*SYSTEM, 4), _text(identity.contact))
    table.scalar((*SYSTEM, 5), _text(identity.name))
    table.scalar((*SYSTEM, 6), _text(identity.location))


def _interfaces(table: MibTable, identity: ModelUnit, traffic: InterfaceTraffic) -> None:
    interfaces = identity.model.network_interfaces
    table.scalar((*INTERFACES, 1), rfc1902.Integer32(len(interfaces)))
    for number, interface in enumerate(interfaces, start=1):
        idx = (number,)
        zero = _counter(0)
        live = number == 1  # the agent's socket is on the standard interface
        columns: dict[int, Value | Lazy] = {
            1: rfc1902.Integer32(number),
            2: _text(interface.descr),
            3: rfc1902.Integer32(6),  # ethernetCsmacd
            4: rfc1902.Integer32(1500),
            5: rfc1902.Gauge32(interface.speed),
            6: _mac(identity.interface_mac(number - 1)),
            7: rfc1902.Integer32(1),  # up
            8: rfc1902.Integer32(1),
            9: rfc1902.TimeTicks(0),
            10: (lambda: _counter(traffic.in_octets)) if live else zero,
            11: (lambda: _counter(traffic.in_packets)) if live else zero,
            12: zero, 13: zero, 14: zero, 15: zero,
            16: (lambda: _counter(traffic.out_octets)) if live else zero,
            17: (lambda: _counter(traffic.out_packets)) if live else zero,
            18: zero, 19: zero, 20: zero,
            21: rfc1902.Gauge32(0),
            22: rfc1902.ObjectIdentifier((0, 0)),
        }
        for column, value in columns.items():
            table.add((*IF_ENTRY, column), idx, value)


def _host_resources(table: MibTable, identity: ModelUnit, snap: StatusSnapshot) -> None:
    model = identity.model
    table.scalar((*HOST, 1, 1), lambda: rfc1902.TimeTicks(snap.uptime_ticks()))
    table.scalar((*HOST, 1, 5), rfc1902.Gauge32(0))
    table.scalar((*HOST, 1, 6), rfc1902.Gauge32(1))
    table.scalar((*HOST, 2, 2), rfc1902.Integer32(RAM_KB))
    storage = (*HOST, 2, 3, 1)
    for column, value in {1: rfc1902.Integer32(1), 2: rfc1902.ObjectIdentifier(HR_STORAGE_RAM),
                          3: _text("Storage RAM"), 4: rfc1902.Integer32(1024), 5: rfc1902.Integer32(RAM_KB),
                          6: rfc1902.Integer32(0), 7: _counter(0)}.items():
        table.add((*storage, column), (1,), value)
    name_oid = (len(model.model), *model.model.encode("ascii"))
    for number, device in enumerate(model.hr_devices, start=1):
        main = number == 1  # the first row is the function whose state the device reports
        state_code = HR_DEVICE_STATUS[snap.state] if main else 2
        columns = {
            1: rfc1902.Integer32(number),
            2: rfc1902.ObjectIdentifier(HR_DEVICE_PRINTER if device.type == "printer" else HR_DEVICE_OTHER),
            3: _text(f"EPSON {model.model}"),
            4: rfc1902.ObjectIdentifier((*EPSON, 1, device.epson_class, 1, *name_oid)),
            5: rfc1902.Integer32(state_code),
            6: _counter(0),
        }
        for column, value in columns.items():
            table.add((*HR_DEVICE_ENTRY, column), (number,), value)
    if model.prints:
        table.add((*HR_PRINTER_ENTRY, 1), (1,), rfc1902.Integer32(HR_PRINTER_STATUS[snap.state]))
        table.add((*HR_PRINTER_ENTRY, 2), (1,), rfc1902.OctetString(detected_error_octets(snap.errors)))


def _printer_mib(table: MibTable, identity: ModelUnit, snap: StatusSnapshot) -> None:
    model = identity.model
    table.add((*PRT_GENERAL_ENTRY, 17), (1,), _text(identity.serial))
    no_paper = bool(snap.errors & (DetectedError.NO_PAPER | DetectedError.INPUT_TRAY_EMPTY))
    for number, source in enumerate(model.inputs, start=1):
        idx = (1, number)
        table.add((*PRT_INPUT_ENTRY, 2), idx, rfc1902.Integer32(INPUT_TYPE[source.type]))
        table.add((*PRT_INPUT_ENTRY, 9), idx, rfc1902.Integer32(source.capacity))
        table.add((*PRT_INPUT_ENTRY, 10), idx, rfc1902.Integer32(0 if no_paper else INPUT_LEVEL_UNKNOWN))
        table.add((*PRT_INPUT_ENTRY, 13), idx, _text(source.name))
    colorant = 0
    for number, (supply, level) in enumerate(zip(model.supplies, snap.supply_levels, strict=True), start=1):
        idx = (1, number)
        if supply.colorant is not None:
            colorant += 1
            cidx = (1, colorant)
            table.add((*PRT_COLORANT_ENTRY, 2), cidx, rfc1902.Integer32(1))
            table.add((*PRT_COLORANT_ENTRY, 3), cidx, rfc1902.Integer32(COLORANT_ROLE_PROCESS))
            table.add((*PRT_COLORANT_ENTRY, 4), cidx, _text(supply.colorant))
            table.add((*PRT_COLORANT_ENTRY, 5), cidx, rfc1902.Integer32(256))
        columns = {
            2: rfc1902.Integer32(1),
            3: rfc1902.Integer32(colorant if supply.colorant is not None else 0),
            4: rfc1902.Integer32(SUPPLY_CLASS_FILLED if supply.is_waste else SUPPLY_CLASS_CONSUMED),
            5: rfc1902.Integer32(SUPPLY_TYPE[supply.type]),
            6: _text(supply.description),
            7: rfc1902.Integer32(SUPPLY_UNIT_PERCENT),
            8: rfc1902.Integer32(100),
            9: rfc1902.Integer32(level),
        }
        for column, value in columns.items():
            table.add((*PRT_SUPPLIES_ENTRY, column), idx, value)
    for line, text in enumerate(snap.display, start=1):
        table.add((*PRT_CONSOLE_ENTRY, 2), (1, line), _text(text))
    for alert in snap.alerts:
        idx = (1, alert.index)
        columns = {
            2: rfc1902.Integer32(alert.severity),
            3: rfc1902.Integer32(alert.training),
            4: rfc1902.Integer32(alert.group),
            5: rfc1902.Integer32(alert.group_index),
            6: rfc1902.Integer32(alert.location),
            7: rfc1902.Integer32(alert.code),
            8: _text(alert.description),
            9: rfc1902.TimeTicks(alert.time_ticks),
        }
        for column, value in columns.items():
            table.add((*PRT_ALERT_ENTRY, column), idx, value)


def _epson(table: MibTable, identity: ModelUnit, snap: StatusSnapshot) -> None:
    model = identity.model
    table.scalar(EPSON_MAC, _mac(identity.mac))
    table.scalar(EPSON_SHORT_NAME, _text(model.short_name))
    table.add((*EPSON_PRINTER_ENTRY, 1), (1,), _text(model.ieee1284_device_id))
    table.add((*EPSON_PRINTER_ENTRY, 2), (1,), _text(model.product_name))
    table.add((*EPSON_PRINTER_ENTRY, 4), (1,), rfc1902.OctetString(status_record(identity, snap)))
    table.add((*EPSON_PRINTER_ENTRY, 5), (1,), _text(identity.serial))
