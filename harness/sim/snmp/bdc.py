"""Epson's binary ``@BDC ST2`` status record, built from a device's live status.

Layout (as Epson drivers and public tools parse it): the header ``@BDC ST2\\r\\n``, a little-endian 16-bit
length, then fields of ``type, length, data``. The simulator writes the fields those tools decode: status
(0x01), error (0x02, only when stopped), ink levels (0x0f), maintenance box (0x37) and serial number (0x40).
"""

from __future__ import annotations

from harness.sim.models import ModelUnit
from harness.sim.status import DetectedError, DeviceState, StatusSnapshot

ST2_HEADER = b"@BDC ST2\r\n"

FIELD_STATUS = 0x01
FIELD_ERROR = 0x02
FIELD_INK = 0x0F
FIELD_MAINTENANCE_BOX = 0x37
FIELD_SERIAL = 0x40

#: Status byte per state: 0x04 idle (ready), 0x03 waiting (inside a job), 0x00 error.
STATUS_BYTE: dict[DeviceState, int] = {
    DeviceState.IDLE: 0x04,
    DeviceState.PRINTING: 0x03,
    DeviceState.WARNING: 0x04,
    DeviceState.DOWN: 0x00,
}

#: Error byte for the first matching condition (in this order); 0x00 is Epson's "fatal error".
ERROR_BYTE: tuple[tuple[DetectedError, int], ...] = (
    (DetectedError.DOOR_OPEN, 0x02),
    (DetectedError.JAMMED, 0x04),
    (DetectedError.NO_TONER, 0x05),
    (DetectedError.NO_PAPER | DetectedError.INPUT_TRAY_EMPTY, 0x06),
)

#: Colorant → (cartridge id, ink colour id) as the ST2 ink field numbers them.
INK_IDS: dict[str, tuple[int, int]] = {
    "black": (0x01, 0x00),
    "cyan": (0x03, 0x01),
    "magenta": (0x04, 0x02),
    "yellow": (0x05, 0x03),
}

_INK_ENTRY_LEN = 3


def status_record(identity: ModelUnit, snap: StatusSnapshot) -> bytes:
    """The complete ``@BDC ST2`` record for this device now."""
    fields: list[tuple[int, bytes]] = [(FIELD_STATUS, bytes([STATUS_BYTE[snap.state]]))]
    if snap.state is DeviceState.DOWN:
        fields.append((FIELD_ERROR, bytes([error_byte(snap.errors)])))
    supplies = identity.model.supplies
    inks = bytearray([_INK_ENTRY_LEN])
    boxes = bytearray([1])  # one byte per box: 0 not full, 1 near full, 2 full
    for supply, level in zip(supplies, snap.supply_levels, strict=True):
        if supply.colorant is not None:
            inks += bytes([*INK_IDS[supply.colorant], level])
        else:
            boxes.append(2 if level == 0 else 1 if level <= 10 else 0)
    if len(inks) > 1:
        fields.append((FIELD_INK, bytes(inks)))
    if len(boxes) > 1:
        fields.append((FIELD_MAINTENANCE_BOX, bytes(boxes)))
    fields.append((FIELD_SERIAL, identity.serial.encode("ascii")))
    body = b"".join(bytes([kind, len(data)]) + data for kind, data in fields)
    return ST2_HEADER + len(body).to_bytes(2, "little") + body


def error_byte(errors: DetectedError) -> int:
    for condition, code in ERROR_BYTE:
        if errors & condition:
            return code
    return 0x00


def parse_status_record(record: bytes) -> dict[int, bytes]:
    """The fields of an ST2 record by type (for tests and diagnostics); raises ValueError if malformed."""
    if not record.startswith(ST2_HEADER):
        raise ValueError("not an @BDC ST2 record")
    body = record[len(ST2_HEADER):]
    if len(body) < 2 or int.from_bytes(body[:2], "little") != len(body) - 2:
        raise ValueError("ST2 length does not match the record")
    fields: dict[int, bytes] = {}
    pos = 2
    while pos < len(body):
        if pos + 2 > len(body):
            raise ValueError("truncated ST2 field header")
        kind, size = body[pos], body[pos + 1]
        data = body[pos + 2:pos + 2 + size]
        if len(data) != size:
            raise ValueError("truncated ST2 field")
        fields[kind] = data
        pos += 2 + size
    return fields
