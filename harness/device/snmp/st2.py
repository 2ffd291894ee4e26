"""Decoding Epson's binary ``@BDC ST2`` status record (from Epson's status OID or EPSON-CTRL ``st``).

Layout, as Epson's drivers and public tools read it: ``@BDC ST2\\r\\n``, a little-endian 16-bit body length,
then fields of ``type, length, data``. Decoded here: status (0x01), error (0x02), warnings (0x04), ink
(0x0F: entry size, then cartridge, colour, level per entry), maintenance boxes (0x37), serial (0x40). Other
fields are kept raw by type so nothing the device says is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["St2Error", "St2Ink", "St2Status", "parse_st2"]

HEADER = b"@BDC ST2\r\n"
FIELD_STATUS, FIELD_ERROR, FIELD_WARNING, FIELD_INK = 0x01, 0x02, 0x04, 0x0F
FIELD_MAINTENANCE_BOX, FIELD_SERIAL = 0x37, 0x40

STATUS_NAMES = {0x00: "error", 0x01: "self printing", 0x02: "busy", 0x03: "waiting", 0x04: "idle",
                0x05: "paused", 0x07: "cleaning", 0x08: "factory shipment", 0x0A: "shutdown",
                0x0F: "nozzle check", 0x11: "charging"}
#: Status bytes in which the device takes a job (waiting inside one, or idle).
READY_STATUSES = frozenset({0x03, 0x04})
ERROR_NAMES = {0x00: "fatal error", 0x01: "other interface selected", 0x02: "cover open", 0x04: "paper jam",
               0x05: "ink out", 0x06: "paper out", 0x0C: "paper size, type or path error",
               0x10: "ink overflow (waste ink pad counter)", 0x11: "waiting to return from tear-off",
               0x12: "double feed", 0x1A: "cartridge cover open", 0x1C: "cutter error", 0x1D: "cutter jam",
               0x22: "maintenance box missing", 0x25: "rear cover open", 0x29: "CD-R tray out",
               0x2A: "memory card loading error", 0x2B: "tray cover open", 0x2C: "ink cartridge overflow",
               0x47: "printing disabled", 0x4A: "maintenance box near end"}
WARNING_NAMES = {0x10: "ink low (black or yellow)", 0x11: "ink low (magenta)", 0x12: "ink low (yellow or cyan)",
                 0x13: "ink low (cyan or matte black)", 0x14: "ink low (photo black)", 0x15: "ink low (red)",
                 0x16: "ink low (blue)", 0x17: "ink low (gloss optimizer)", 0x44: "black print mode"}
CARTRIDGE_NAMES = {0x01: "black", 0x03: "cyan", 0x04: "magenta", 0x05: "yellow", 0x06: "light cyan",
                   0x07: "light magenta", 0x0A: "light black", 0x0B: "matte black", 0x0F: "light light black",
                   0x10: "orange", 0x11: "green"}
BOX_STATES = {0: "not full", 1: "near full", 2: "full"}


class St2Error(ValueError):
    """The bytes are not a well-formed ST2 record."""


@dataclass(frozen=True)
class St2Ink:
    """One ink entry: cartridge id and its name, colour id, level in percent."""

    cartridge: int
    name: str
    colour: int
    level: int


@dataclass(frozen=True)
class St2Status:
    """The decoded record; ``error_code`` is None when the device reports no error field."""

    status_code: int
    status: str
    error_code: int | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    inks: tuple[St2Ink, ...] = ()
    maintenance_boxes: tuple[str, ...] = ()
    serial: str | None = None
    #: Fields this decoder does not interpret: type → hex of the data.
    other: dict[int, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.status_code in READY_STATUSES


def parse_st2(record: bytes) -> St2Status:
    """Decode a record; a leading EPSON-CTRL zero byte or trailing form feed is tolerated."""
    start = record.find(HEADER)
    if start < 0 or start > 1:
        raise St2Error("not an @BDC ST2 record (no '@BDC ST2' header)")
    body = record[start + len(HEADER):]
    if len(body) < 2:
        raise St2Error("ST2 record without a length")
    length = int.from_bytes(body[:2], "little")
    fields_data = body[2:2 + length]
    if len(fields_data) != length:
        raise St2Error(f"ST2 record says {length} bytes but has {len(fields_data)}")
    fields = _fields(fields_data)
    if FIELD_STATUS not in fields or not fields[FIELD_STATUS]:
        raise St2Error("ST2 record without a status field")
    status_code = fields[FIELD_STATUS][0]
    error_code = fields[FIELD_ERROR][0] if fields.get(FIELD_ERROR) else None
    known = {FIELD_STATUS, FIELD_ERROR, FIELD_WARNING, FIELD_INK, FIELD_MAINTENANCE_BOX, FIELD_SERIAL}
    return St2Status(
        status_code=status_code, status=STATUS_NAMES.get(status_code, f"unknown (0x{status_code:02X})"),
        error_code=error_code,
        error=None if error_code is None else ERROR_NAMES.get(error_code, f"unknown (0x{error_code:02X})"),
        warnings=tuple(WARNING_NAMES.get(w, f"unknown (0x{w:02X})") for w in fields.get(FIELD_WARNING, b"")),
        inks=_inks(fields.get(FIELD_INK, b"")),
        maintenance_boxes=_boxes(fields.get(FIELD_MAINTENANCE_BOX, b"")),
        serial=fields[FIELD_SERIAL].decode("ascii", "replace") if FIELD_SERIAL in fields else None,
        other={kind: data.hex() for kind, data in fields.items() if kind not in known},
    )


def _fields(data: bytes) -> dict[int, bytes]:
    fields: dict[int, bytes] = {}
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise St2Error("truncated ST2 field header")
        kind, size = data[pos], data[pos + 1]
        chunk = data[pos + 2:pos + 2 + size]
        if len(chunk) != size:
            raise St2Error(f"truncated ST2 field 0x{kind:02X}")
        fields[kind] = chunk
        pos += 2 + size
    return fields


def _inks(data: bytes) -> tuple[St2Ink, ...]:
    if not data:
        return ()
    size = data[0]
    if size < 3:
        raise St2Error(f"ST2 ink entries of {size} bytes (at least 3 expected)")
    inks = []
    for pos in range(1, len(data) - size + 1, size):
        cartridge, colour, level = data[pos], data[pos + 1], data[pos + 2]
        inks.append(St2Ink(cartridge, CARTRIDGE_NAMES.get(cartridge, f"0x{cartridge:02X}"), colour, level))
    return tuple(inks)


def _boxes(data: bytes) -> tuple[str, ...]:
    if not data:
        return ()
    size = data[0]
    if size not in (1, 2):
        return ("unknown",)
    return tuple(BOX_STATES.get(data[pos], f"unknown ({data[pos]})") for pos in range(1, len(data), size))
