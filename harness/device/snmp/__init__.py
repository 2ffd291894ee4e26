"""The harness's SNMP probe of a device (pysnmp 7, asyncio): identity, status, alerts, supplies, Epson ST2.

Works the same on a real Epson device and a virtual one; v1, v2c and v3. An agent that does not answer
raises :class:`SnmpUnreachable`, an :class:`~harness.device.errors.InfraError`.
"""

from harness.device.snmp.probe import (
    probe,
    probe_sync,
    read_alerts,
    read_identity,
    read_st2,
    read_status,
    read_supplies,
)
from harness.device.snmp.results import (
    PrinterAlert,
    SnmpIdentity,
    SnmpProbe,
    SnmpStatus,
    Supply,
    decode_detected_errors,
)
from harness.device.snmp.session import (
    Community,
    Credentials,
    SnmpAgentError,
    SnmpAuthError,
    SnmpError,
    SnmpSession,
    SnmpUnreachable,
    UsmUser,
    parse_address,
)
from harness.device.snmp.st2 import St2Error, St2Ink, St2Status, parse_st2

__all__ = [
    "Community", "Credentials", "PrinterAlert", "SnmpAgentError", "SnmpAuthError", "SnmpError", "SnmpIdentity",
    "SnmpProbe", "SnmpSession", "SnmpStatus", "SnmpUnreachable", "St2Error", "St2Ink", "St2Status", "Supply",
    "UsmUser", "decode_detected_errors", "parse_address", "parse_st2", "probe", "probe_sync", "read_alerts",
    "read_identity", "read_st2", "read_status", "read_supplies",
]
