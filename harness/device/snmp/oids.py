"""The OIDs the probe reads: MIB-II system and interfaces, Host Resources, Printer-MIB, Epson's enterprise MIB."""

from __future__ import annotations

Oid = tuple[int, ...]

SYS_DESCR: Oid = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID: Oid = (1, 3, 6, 1, 2, 1, 1, 2, 0)
SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
IF_DESCR_1: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1)
IF_PHYS_ADDRESS_1: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 6, 1)

HR_DEVICE_DESCR_1: Oid = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 3, 1)
HR_DEVICE_STATUS_1: Oid = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 5, 1)
HR_PRINTER_STATUS_1: Oid = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1, 1)
HR_PRINTER_DETECTED_ERROR_STATE_1: Oid = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2, 1)

PRT_GENERAL_SERIAL_NUMBER_1: Oid = (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1)
PRT_MARKER_SUPPLIES_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 43, 11, 1, 1)
PRT_CONSOLE_DISPLAY_BUFFER_TEXT: Oid = (1, 3, 6, 1, 2, 1, 43, 16, 5, 1, 2)
PRT_ALERT_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 43, 18, 1, 1)

EPSON: Oid = (1, 3, 6, 1, 4, 1, 1248)
EPSON_MAC: Oid = (*EPSON, 1, 1, 3, 1, 1, 5, 0)
EPSON_SHORT_NAME: Oid = (*EPSON, 1, 1, 3, 1, 3, 8, 0)
EPSON_DEVICE_ID: Oid = (*EPSON, 1, 2, 2, 1, 1, 1, 1, 1)
EPSON_MODEL: Oid = (*EPSON, 1, 2, 2, 1, 1, 1, 2, 1)
EPSON_STATUS: Oid = (*EPSON, 1, 2, 2, 1, 1, 1, 4, 1)
#: The serial number Epson's MIB carries; the only one on scanners, which have no Printer-MIB.
EPSON_SERIAL: Oid = (*EPSON, 1, 2, 2, 1, 1, 1, 5, 1)
#: EPSON-CTRL over SNMP GET: ``CTRL_PREFIX.<c1>.<c2>.<lenLo>.<lenHi>.<payload...>``.
CTRL_PREFIX: Oid = (*EPSON, 1, 2, 2, 44, 1, 1, 2, 1)
