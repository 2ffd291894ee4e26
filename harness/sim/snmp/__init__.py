"""The virtual device's SNMP agent (system, interfaces, Host Resources, Printer-MIB, Epson enterprise MIB)."""

from harness.sim.snmp.agent import DeviceFacts, SnmpAgent, SnmpDevice, V3User

__all__ = ["DeviceFacts", "SnmpAgent", "SnmpDevice", "V3User"]
