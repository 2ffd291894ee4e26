"""EPSON-CTRL commands over SNMP GET: ``E.1.2.2.44.1.1.2.1.<c1>.<c2>.<lenLo>.<lenHi>.<payload...>``.

The two sub-identifiers after the prefix are the command's ASCII letters, the next two the payload length
(little-endian), then the payload bytes. Replies are octet strings that start with a zero byte and end
with a form feed, as Epson drivers expect (they skip the first byte): ``st`` answers the ``@BDC ST2``
record, ``di`` the IEEE-1284 device ID, ``vi`` the firmware build code, anything else ``XX:;``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.sim.models import ModelUnit
from harness.sim.snmp.bdc import status_record
from harness.sim.status import StatusSnapshot

CTRL_PREFIX: tuple[int, ...] = (1, 3, 6, 1, 4, 1, 1248, 1, 2, 2, 44, 1, 1, 2, 1)
PS_HEADER = b"@BDC PS\r\n"
LEAD = b"\x00"
END = b"\x0c"
UNKNOWN = b"XX:;"


@dataclass(frozen=True)
class CtrlRequest:
    """One decoded EPSON-CTRL request."""

    command: bytes
    payload: bytes
    length_ok: bool


def is_ctrl(oid: tuple[int, ...]) -> bool:
    return oid[:len(CTRL_PREFIX)] == CTRL_PREFIX and len(oid) > len(CTRL_PREFIX)


def parse_request(oid: tuple[int, ...]) -> CtrlRequest | None:
    """Decode the OID; None if it cannot be a command (too short, or a sub-identifier is not a byte)."""
    args = oid[len(CTRL_PREFIX):]
    if len(args) < 4 or any(not 0 <= arg <= 255 for arg in args):
        return None
    length = args[2] | args[3] << 8
    payload = bytes(args[4:])
    return CtrlRequest(command=bytes(args[:2]), payload=payload, length_ok=len(payload) == length)


def _st(identity: ModelUnit, snap: StatusSnapshot) -> bytes:
    return LEAD + status_record(identity, snap)


def _di(identity: ModelUnit, snap: StatusSnapshot) -> bytes:
    return LEAD + PS_HEADER + b"di:01:" + identity.model.ieee1284_device_id.encode("ascii") + END


def _vi(identity: ModelUnit, snap: StatusSnapshot) -> bytes:
    return LEAD + PS_HEADER + b"vi:00:" + identity.firmware_code.encode("ascii") + b";" + END


COMMANDS: dict[bytes, Callable[[ModelUnit, StatusSnapshot], bytes]] = {b"st": _st, b"di": _di, b"vi": _vi}


def answer(oid: tuple[int, ...], identity: ModelUnit, snap: StatusSnapshot) -> bytes | None:
    """The reply to the EPSON-CTRL request named by ``oid``; None when the OID is not a request at all."""
    request = parse_request(oid)
    if request is None:
        return None
    handler = COMMANDS.get(request.command)
    if handler is None or not request.length_ok:
        return LEAD + UNKNOWN + END
    return handler(identity, snap)
