"""The SNMP probe: read a device's identity, status, alerts, supplies and ST2 record, async or from sync code.

Nothing is written. Each value comes from the standard MIB first and from Epson's enterprise MIB where the
standard one is missing (scanners have no Printer-MIB; some firmware leaves ifPhysAddress empty).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
from collections import defaultdict

import allure

from harness.device.snmp import oids
from harness.device.snmp.results import (
    ALERT_CODE,
    ALERT_GROUP,
    ALERT_SEVERITY,
    ALERT_TRAINING,
    HR_DEVICE_STATUS,
    HR_PRINTER_STATUS,
    SUPPLY_CLASS,
    SUPPLY_TYPE,
    SUPPLY_UNIT,
    PrinterAlert,
    SnmpIdentity,
    SnmpProbe,
    SnmpStatus,
    Supply,
    decode_detected_errors,
    named,
    parse_device_id,
)
from harness.device.snmp.session import DEFAULT_PORT, Credentials, SnmpSession, Value
from harness.device.snmp.st2 import St2Error, St2Status, parse_st2
from harness.reporting import evidence
from harness.reporting.record import AttachmentKind
from harness.reporting.steps import device_label, step_title

__all__ = ["probe", "probe_sync", "read_alerts", "read_identity", "read_st2", "read_status", "read_supplies"]

_IDENTITY_OIDS = (oids.SYS_DESCR, oids.SYS_OBJECT_ID, oids.SYS_NAME, oids.IF_DESCR_1, oids.IF_PHYS_ADDRESS_1,
                  oids.HR_DEVICE_DESCR_1, oids.PRT_GENERAL_SERIAL_NUMBER_1, oids.EPSON_DEVICE_ID, oids.EPSON_MODEL,
                  oids.EPSON_SERIAL, oids.EPSON_MAC, oids.EPSON_SHORT_NAME)
_STATUS_OIDS = (oids.HR_DEVICE_STATUS_1, oids.HR_PRINTER_STATUS_1, oids.HR_PRINTER_DETECTED_ERROR_STATE_1)
_NETWORK_FIRMWARE = re.compile(r"\bFirm(?:ware)?\s*Ver\.?\s*(?P<version>[\w.]+)", re.I)
_PS_HEADER = b"@BDC PS\r\n"
_SYNC_GRACE = 5.0


async def probe(host: str, port: int = DEFAULT_PORT, credentials: Credentials | None = None, *,
                timeout: float = 2.0, retries: int = 1) -> SnmpProbe:
    """Read everything the probe knows from the agent at ``host:port``; raises an :class:`SnmpError` kind."""
    async with SnmpSession(host, port, credentials, timeout=timeout, retries=retries) as session:
        identity = await read_identity(session)
        status = await read_status(session)
        alerts = await read_alerts(session)
        supplies = await read_supplies(session)
        problems: list[str] = []
        try:
            st2 = await read_st2(session)
        except St2Error as exc:
            st2, problems = None, [f"ST2 status record: {exc}"]
        return SnmpProbe(session.where, session.version, identity, status, alerts, supplies, st2, tuple(problems))


def probe_sync(host: str, port: int = DEFAULT_PORT, credentials: Credentials | None = None, *,
               timeout: float = 2.0, retries: int = 1) -> SnmpProbe:
    """:func:`probe` from synchronous code: a fresh loop (and engine) in a worker thread, so it also works
    when the caller's thread already runs a loop."""
    where = device_label(f"{host}:{port}")
    with allure.step(step_title(f"{where}: read SNMP identity, status, alerts, supplies and ST2 record")):
        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="snmp-probe") as pool:
            future = pool.submit(asyncio.run, probe(host, port, credentials, timeout=timeout, retries=retries))
            found = future.result()
        evidence.attach(f"SNMP readings of {where}", json.dumps(found.to_dict(), indent=2, default=str),
                        AttachmentKind.SNMP, media_type="application/json", extension="json")
        return found


async def read_identity(session: SnmpSession) -> SnmpIdentity:
    got = await session.get(_IDENTITY_OIDS)
    device_id = _text(got[oids.EPSON_DEVICE_ID])
    if device_id is None:
        device_id = _ps_value(await session.ctrl(b"di", b"\x01"), b"di")
    fields = parse_device_id(device_id)
    hr_model = _text(got[oids.HR_DEVICE_DESCR_1])
    product = _text(got[oids.EPSON_MODEL]) or fields.get("MDL")
    model = (hr_model.removeprefix("EPSON ").strip() if hr_model else None) or \
        (product.removesuffix(" Series") if product else None) or _text(got[oids.EPSON_SHORT_NAME])
    if_descr = _text(got[oids.IF_DESCR_1])
    network = _NETWORK_FIRMWARE.search(if_descr or "")
    firmware = _ps_value(await session.ctrl(b"vi", b"\x00"), b"vi")
    return SnmpIdentity(
        model=model, product_name=product,
        serial=_text(got[oids.PRT_GENERAL_SERIAL_NUMBER_1]) or _text(got[oids.EPSON_SERIAL]),
        firmware=firmware, network_firmware=network["version"] if network else None,
        mac=_mac(got[oids.IF_PHYS_ADDRESS_1]) or _mac(got[oids.EPSON_MAC]),
        sys_descr=_text(got[oids.SYS_DESCR]), sys_object_id=_oid(got[oids.SYS_OBJECT_ID]),
        sys_name=_text(got[oids.SYS_NAME]), device_id=device_id, if_descr=if_descr,
    )


async def read_status(session: SnmpSession) -> SnmpStatus:
    got = await session.get(_STATUS_OIDS)
    device, printer = _int(got[oids.HR_DEVICE_STATUS_1]), _int(got[oids.HR_PRINTER_STATUS_1])
    error_state = got[oids.HR_PRINTER_DETECTED_ERROR_STATE_1]
    display = [_text(v) or "" for _, v in await session.walk(oids.PRT_CONSOLE_DISPLAY_BUFFER_TEXT)]
    return SnmpStatus(
        device_status=device, device_status_name=named(HR_DEVICE_STATUS, device),
        printer_status=printer, printer_status_name=named(HR_PRINTER_STATUS, printer),
        detected_errors=decode_detected_errors(error_state) if isinstance(error_state, bytes) else (),
        display=tuple(display),
    )


async def read_alerts(session: SnmpSession) -> tuple[PrinterAlert, ...]:
    """The alert table's rows in index order (columns 2-9 of prtAlertEntry)."""
    rows = _table(await session.walk(oids.PRT_ALERT_ENTRY), len(oids.PRT_ALERT_ENTRY))
    alerts = []
    for index, c in sorted(rows.items()):
        code = _int(c.get(7))
        alerts.append(PrinterAlert(
            index=index[-1], severity=named(ALERT_SEVERITY, _int(c.get(2))),
            training=named(ALERT_TRAINING, _int(c.get(3))), group=named(ALERT_GROUP, _int(c.get(4))),
            group_index=_int(c.get(5)), location=_int(c.get(6)), code=code, code_name=named(ALERT_CODE, code),
            description=_text(c.get(8)) or "", time_ticks=_int(c.get(9)),
        ))
    return tuple(alerts)


async def read_supplies(session: SnmpSession) -> tuple[Supply, ...]:
    """The marker supplies in index order (prtMarkerSuppliesEntry columns 4-9)."""
    rows = _table(await session.walk(oids.PRT_MARKER_SUPPLIES_ENTRY), len(oids.PRT_MARKER_SUPPLIES_ENTRY))
    return tuple(
        Supply(index=index[-1], description=_text(c.get(6)) or "", type=named(SUPPLY_TYPE, _int(c.get(5))),
               supply_class=named(SUPPLY_CLASS, _int(c.get(4))), unit=named(SUPPLY_UNIT, _int(c.get(7))),
               max_capacity=_int(c.get(8)), level=_int(c.get(9)))
        for index, c in sorted(rows.items())
    )


async def read_st2(session: SnmpSession) -> St2Status | None:
    """The ST2 record from Epson's status OID, else from EPSON-CTRL ``st``; None if the device has neither."""
    record = await session.get_one(oids.EPSON_STATUS)
    if not isinstance(record, bytes) or not record:
        record = await session.ctrl(b"st", b"\x01")
    if not record or record.startswith(b"XX:"):
        return None
    return parse_st2(record)


# --- value helpers --------------------------------------------------------------------------------------
def _table(rows: list[tuple[tuple[int, ...], Value]], prefix_len: int) -> dict[tuple[int, ...], dict[int, Value]]:
    """Walk rows ``entry.column.index...`` → {index: {column: value}}."""
    table: dict[tuple[int, ...], dict[int, Value]] = defaultdict(dict)
    for oid, value in rows:
        if len(oid) > prefix_len + 1:
            table[oid[prefix_len + 1:]][oid[prefix_len]] = value
    return table


def _text(value: Value) -> str | None:
    if not isinstance(value, bytes):
        return None
    text = value.decode("utf-8", "replace").strip("\x00").strip()
    return text or None


def _int(value: Value) -> int | None:
    return value if isinstance(value, int) else None


def _oid(value: Value) -> str | None:
    return ".".join(map(str, value)) if isinstance(value, tuple) else None


def _mac(value: Value) -> str | None:
    if not isinstance(value, bytes) or len(value) != 6 or not any(value):
        return None
    return value.hex(":").upper()


def _ps_value(reply: bytes | None, command: bytes) -> str | None:
    """The value of an EPSON-CTRL ``@BDC PS`` reply (``vi:00:LW23O3;`` → ``LW23O3``); None if refused."""
    if not reply:
        return None
    body = reply.removeprefix(_PS_HEADER)
    if not body.startswith(command + b":"):
        return None
    _, _, rest = body.partition(b":")
    status, _, value = rest.partition(b":")
    if status == b"NA":
        return None
    if command != b"di":  # a device ID ends with its own ';'; other values end with the reply's
        value = value.removesuffix(b";")
    return value.decode("ascii", "replace").strip() or None
