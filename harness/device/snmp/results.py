"""What the SNMP probe reports, typed: identity, status, alerts, supplies; and the MIB enumerations it names."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from harness.device.snmp.st2 import St2Status

__all__ = [
    "DETECTED_ERRORS", "PrinterAlert", "SnmpIdentity", "SnmpProbe", "SnmpStatus", "Supply", "decode_detected_errors",
    "parse_device_id",
]

#: hrDeviceStatus (RFC 2790).
HR_DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}
#: hrPrinterStatus (RFC 2790).
HR_PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}
#: hrPrinterDetectedErrorState bit names; bit 0 is the most significant bit of the first octet (RFC 3805).
DETECTED_ERRORS = ("lowPaper", "noPaper", "lowToner", "noToner", "doorOpen", "jammed", "offline",
                   "serviceRequested", "inputTrayMissing", "outputTrayMissing", "markerSupplyMissing",
                   "outputNearFull", "outputFull", "inputTrayEmpty", "overduePreventMaint")
#: prtAlertSeverityLevel, prtAlertTrainingLevel, prtAlertGroup and a subset of prtAlertCode (RFC 3805).
ALERT_SEVERITY = {1: "other", 3: "critical", 4: "warning", 5: "warningBinaryChangeEvent"}
ALERT_TRAINING = {1: "other", 2: "unknown", 3: "untrained", 4: "trained", 5: "fieldService", 6: "management",
                  7: "noInterventionRequired"}
ALERT_GROUP = {1: "other", 3: "hostResourcesMIBStorageTable", 4: "hostResourcesMIBDeviceTable", 5: "generalPrinter",
               6: "cover", 7: "localization", 8: "input", 9: "output", 10: "marker", 11: "markerSupplies",
               12: "markerColorant", 13: "mediaPath", 14: "channel", 15: "interpreter", 16: "consoleDisplayBuffer",
               17: "consoleLights", 18: "alert"}
ALERT_CODE = {1: "other", 2: "unknown", 3: "coverOpen", 4: "coverClosed", 5: "interlockOpen", 6: "interlockClosed",
              7: "configurationChange", 8: "jam", 9: "subunitMissing", 10: "subunitLifeAlmostOver",
              11: "subunitLifeOver", 12: "subunitAlmostEmpty", 13: "subunitEmpty", 14: "subunitAlmostFull",
              15: "subunitFull", 16: "subunitNearLimit", 17: "subunitAtLimit", 18: "subunitOpened",
              19: "subunitClosed", 20: "subunitTurnedOn", 21: "subunitTurnedOff", 22: "subunitOffline",
              501: "doorOpen", 502: "doorClosed", 503: "powerUp", 504: "powerDown", 801: "inputMediaTrayMissing",
              802: "inputMediaSizeChange", 808: "inputMediaSupplyLow", 809: "inputMediaSupplyEmpty",
              901: "outputMediaTrayMissing", 902: "outputMediaTrayAlmostFull", 903: "outputMediaTrayFull",
              1101: "markerTonerEmpty", 1102: "markerInkEmpty", 1104: "markerTonerAlmostEmpty",
              1105: "markerInkAlmostEmpty", 1107: "markerWasteTonerReceptacleFull",
              1108: "markerWasteInkReceptacleFull", 1111: "markerWasteInkReceptacleAlmostFull"}
#: prtMarkerSuppliesClass, prtMarkerSuppliesType and prtMarkerSuppliesSupplyUnit (the values devices use).
SUPPLY_CLASS = {1: "other", 3: "supplyThatIsConsumed", 4: "receptacleThatIsFilled"}
SUPPLY_TYPE = {1: "other", 2: "unknown", 3: "toner", 4: "wasteToner", 5: "ink", 6: "inkCartridge", 7: "inkRibbon",
               8: "wasteInk", 9: "opc", 10: "developer", 11: "fuserOil", 12: "solidWax", 13: "ribbonWax",
               14: "wasteWax", 15: "fuser", 16: "coronaWire", 17: "fuserOilWick", 18: "cleanerUnit",
               19: "fuserCleaningPad", 20: "transferUnit", 21: "tonerCartridge", 22: "fuserOiler", 23: "water",
               24: "wasteWater", 32: "staples"}
SUPPLY_UNIT = {3: "tenThousandthsOfInches", 4: "micrometers", 7: "impressions", 8: "sheets", 11: "hours",
               12: "thousandthsOfOunces", 13: "tenthsOfGrams", 14: "hundrethsOfFluidOunces",
               15: "tenthsOfMilliliters", 16: "feet", 17: "meters", 18: "items", 19: "percent"}


def named(table: dict[int, str], value: int | None) -> str | None:
    """The enumeration name of ``value`` (``other(7)``-style text for a number the table lacks)."""
    if value is None:
        return None
    return table.get(value, f"unknown({value})")


def parse_device_id(device_id: str | None) -> dict[str, str]:
    """The ``KEY:value`` pairs of an IEEE-1284 device ID (``MFG:EPSON;MDL:WF-C5790 Series;...``)."""
    pairs = (item.partition(":") for item in (device_id or "").split(";") if item)
    return {key.strip(): value for key, sep, value in pairs if sep}


def decode_detected_errors(octets: bytes) -> tuple[str, ...]:
    """hrPrinterDetectedErrorState octets → the names of the bits set (unnamed bits as ``bitN``)."""
    names = []
    for bit in range(len(octets) * 8):
        if octets[bit // 8] & (0x80 >> (bit % 8)):
            names.append(DETECTED_ERRORS[bit] if bit < len(DETECTED_ERRORS) else f"bit{bit}")
    return tuple(names)


@dataclass(frozen=True)
class SnmpIdentity:
    """Who the device says it is. ``firmware`` is the EPSON-CTRL ``vi`` build code (``LW23O3``, the end of
    Web Config's ``06.72.LW23O3``); ``network_firmware`` the version in ifDescr (``0.61``)."""

    model: str | None
    product_name: str | None
    serial: str | None
    firmware: str | None
    network_firmware: str | None
    mac: str | None
    sys_descr: str | None
    sys_object_id: str | None
    sys_name: str | None
    device_id: str | None
    if_descr: str | None = None

    @property
    def device_id_fields(self) -> dict[str, str]:
        """The IEEE-1284 device ID's ``KEY:value`` pairs."""
        return parse_device_id(self.device_id)

    @property
    def device_class(self) -> str | None:
        """``PRINTER`` or ``SCANNER`` (the device ID's CLS)."""
        return self.device_id_fields.get("CLS")


@dataclass(frozen=True)
class SnmpStatus:
    """Host Resources status with its names, the detected-error bits, and the panel's display lines."""

    device_status: int | None
    device_status_name: str | None
    printer_status: int | None
    printer_status_name: str | None
    detected_errors: tuple[str, ...]
    display: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrinterAlert:
    """One row of the Printer-MIB alert table."""

    index: int
    severity: str | None
    training: str | None
    group: str | None
    group_index: int | None
    location: int | None
    code: int | None
    code_name: str | None
    description: str
    time_ticks: int | None


@dataclass(frozen=True)
class Supply:
    """One marker supply; ``percent`` is computed only when the device gives a real level and capacity."""

    index: int
    description: str
    type: str | None
    supply_class: str | None
    unit: str | None
    max_capacity: int | None
    level: int | None

    @property
    def percent(self) -> int | None:
        if self.level is None or self.max_capacity is None or self.level < 0 or self.max_capacity <= 0:
            return None  # -1 other, -2 unknown, -3 "some remaining" (RFC 3805)
        return round(100 * self.level / self.max_capacity)


@dataclass(frozen=True)
class SnmpProbe:
    """Everything one probe read; ``st2`` is None if the device has no ST2 record (or a broken one)."""

    target: str
    version: str
    identity: SnmpIdentity
    status: SnmpStatus
    alerts: tuple[PrinterAlert, ...]
    supplies: tuple[Supply, ...]
    st2: St2Status | None
    #: Parts that could not be read and why (e.g. a malformed ST2 record); the rest is still reported.
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, with derived values (percent, ready, device class) spelled out."""
        data = asdict(self)
        data["identity"]["device_class"] = self.identity.device_class
        for supply, out in zip(self.supplies, data["supplies"], strict=True):
            out["percent"] = supply.percent
        if self.st2 is not None:
            data["st2"]["ready"] = self.st2.ready
            data["st2"]["other"] = {f"0x{k:02X}": v for k, v in self.st2.other.items()}
        return data
