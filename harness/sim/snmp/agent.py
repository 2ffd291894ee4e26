"""The virtual device's SNMP agent: pysnmp 7 command responders over the device's live OID table.

v1 and v2c answer one read-only community; v3 users (USM, auth/priv) are added when configured. Every SET
is refused with an SNMP error. The agent runs in the caller's asyncio loop: :meth:`SnmpAgent.start` and
:meth:`SnmpAgent.stop` must be awaited in that loop, and one agent never moves between loops (a pysnmp
engine reused across loops hangs).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from harness.sim.models import ModelUnit
from harness.sim.snmp import epson_ctrl
from harness.sim.snmp.mib import InterfaceTraffic, MibTable, Oid, build_mib
from harness.sim.status import DeviceStatus, StatusSnapshot

log = logging.getLogger(__name__)

#: Everything under iso.org.dod is readable; nothing is writable.
READ_VIEW = (1, 3, 6)
#: RFC 3411 engine ID: enterprise 1248 with the top bit set, format 3 (MAC address), then the MAC.
ENGINE_ID_PREFIX = bytes.fromhex("800004E003")

AUTH_PROTOCOLS = {
    "MD5": config.USM_AUTH_HMAC96_MD5,
    "SHA": config.USM_AUTH_HMAC96_SHA,
    "SHA224": config.USM_AUTH_HMAC128_SHA224,
    "SHA256": config.USM_AUTH_HMAC192_SHA256,
    "SHA384": config.USM_AUTH_HMAC256_SHA384,
    "SHA512": config.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "DES": config.USM_PRIV_CBC56_DES,
    "AES": config.USM_PRIV_CFB128_AES,
    "AES192": config.USM_PRIV_CFB192_AES,
    "AES256": config.USM_PRIV_CFB256_AES,
}


class SnmpDevice(Protocol):
    """What the agent reads from a device, afresh for every request."""

    @property
    def identity(self) -> ModelUnit: ...

    @property
    def status(self) -> DeviceStatus: ...


@dataclass
class DeviceFacts:
    """The simplest :class:`SnmpDevice`: an identity and a status object."""

    identity: ModelUnit
    status: DeviceStatus


@dataclass(frozen=True)
class V3User:
    """An SNMPv3 USM user; ``priv_protocol=None`` makes it authNoPriv."""

    name: str
    auth_key: str = field(repr=False)
    priv_key: str = field(default="", repr=False)
    auth_protocol: Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"] = "SHA"
    priv_protocol: Literal["DES", "AES", "AES192", "AES256"] | None = "AES"

    def __post_init__(self) -> None:
        if len(self.auth_key) < 8 or (self.priv_protocol and len(self.priv_key) < 8):
            raise ValueError(f"SNMPv3 user {self.name!r}: keys need at least 8 characters")

    @property
    def security_level(self) -> str:
        return "authPriv" if self.priv_protocol else "authNoPriv"


class DeviceMibController(AbstractMibInstrumController):
    """Answers GET/GETNEXT/GETBULK from the device's table; honours the engine's VACM view; refuses SETs."""

    def __init__(self, device: SnmpDevice, traffic: InterfaceTraffic) -> None:
        self._device = device
        self._traffic = traffic
        self._cached: tuple[ModelUnit, int, MibTable] | None = None

    def _current(self) -> tuple[ModelUnit, StatusSnapshot, MibTable]:
        identity, snap = self._device.identity, self._device.status.snapshot()
        cached = self._cached
        if cached is None or cached[1] != snap.version or cached[0] != identity:
            cached = (identity, snap.version, build_mib(identity, snap, self._traffic))
            self._cached = cached
        return identity, snap, cached[2]

    def read_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        identity, snap, table = self._current()
        out: list[tuple[Any, Any]] = []
        for idx, (name, _) in enumerate(var_binds):
            oid = tuple(name)
            try:
                if not _readable(oid, idx, ctx):
                    out.append((name, rfc1905.noSuchObject))
                elif epson_ctrl.is_ctrl(oid):
                    reply = epson_ctrl.answer(oid, identity, snap)
                    out.append((name, rfc1905.noSuchInstance if reply is None else rfc1902.OctetString(reply)))
                else:
                    value = table.get(oid)
                    if value is None:
                        value = rfc1905.noSuchInstance if table.names_object(oid) else rfc1905.noSuchObject
                    out.append((name, value))
            except smi_error.SmiError:
                raise
            except Exception as exc:  # a bug here must become genErr, never a dropped request
                log.exception("SNMP GET of %s failed", ".".join(map(str, oid)))
                raise smi_error.GenError(name=name, idx=idx) from exc
        return out

    def read_next_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        _, _, table = self._current()
        out: list[tuple[Any, Any]] = []
        for idx, (name, _) in enumerate(var_binds):
            try:
                out.append(_next_visible(table, tuple(name), name, idx, ctx))
            except smi_error.SmiError:
                raise
            except Exception as exc:
                log.exception("SNMP GETNEXT after %s failed", name)
                raise smi_error.GenError(name=name, idx=idx) from exc
        return out

    def write_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        # No community or user has a write view, so every SET is noAccess (noSuchName in SNMPv1). Not left to
        # VACM: pysnmp 7 lets a write through when the write view has no entries at all.
        name = var_binds[0][0] if var_binds else rfc1902.ObjectName((0, 0))
        raise smi_error.NoAccessError(name=name, idx=0)


def _readable(oid: Oid, idx: int, ctx: dict[str, Any]) -> bool:
    """True if the requester's view includes ``oid`` (pysnmp's access check returns True for not-in-view)."""
    ac = ctx.get("acFun")
    return ac is None or not ac("read", (rfc1902.ObjectName(oid), None), **{**ctx, "idx": idx})


def _next_visible(table: MibTable, oid: Oid, name: Any, idx: int, ctx: dict[str, Any]) -> tuple[Any, Any]:
    for next_oid, value in table.after(oid):
        if _readable(next_oid, idx, ctx):
            return rfc1902.ObjectName(next_oid), value
    return name, rfc1905.endOfMibView


class _CountingUdpTransport(udp.UdpAsyncioTransport):
    """pysnmp's UDP transport, counting what passes so ifTable shows real traffic."""

    def __init__(self, traffic: InterfaceTraffic) -> None:
        super().__init__()
        self.traffic = traffic

    def datagram_received(self, datagram: bytes, transportAddress: Any) -> None:
        self.traffic.in_octets += len(datagram)
        self.traffic.in_packets += 1
        self.loop.call_soon(self._dispatch, transportAddress, datagram)

    def _dispatch(self, address: Any, datagram: bytes) -> None:
        # pysnmp drops most malformed messages itself, but some BER shapes raise from deep inside pyasn1;
        # a real agent ignores those datagrams and keeps serving.
        try:
            self._callback_function(self, address, datagram)
        except Exception as exc:
            log.debug("ignored a malformed SNMP datagram from %s (%s)", address, type(exc).__name__)

    def send_message(self, outgoingMessage: bytes, transportAddress: Any) -> None:
        self.traffic.out_octets += len(outgoingMessage)
        self.traffic.out_packets += 1
        super().send_message(outgoingMessage, transportAddress)


class SnmpAgent:
    """One device's SNMP agent on a UDP port of its own."""

    def __init__(self, device: SnmpDevice, *, community: str = "public", v3_users: Sequence[V3User] = ()) -> None:
        self.device = device
        self.community = community
        self.v3_users = tuple(v3_users)
        self.host = ""
        self.port = 0
        self.traffic = InterfaceTraffic()
        self._engine: engine.SnmpEngine | None = None
        self._transport: _CountingUdpTransport | None = None
        self._responders: list[cmdrsp.CommandResponderBase] = []

    @property
    def running(self) -> bool:
        return self._engine is not None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0 = an ephemeral port) and return the bound UDP port."""
        if self._engine is not None:
            raise RuntimeError("the SNMP agent is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        mac = self.device.identity.mac.replace(":", "")
        snmp_engine = engine.SnmpEngine(snmpEngineID=rfc1902.OctetString(ENGINE_ID_PREFIX + bytes.fromhex(mac)))
        transport = _CountingUdpTransport(self.traffic).open_server_mode(sock=sock)
        await _until_bound(transport)
        config.add_transport(snmp_engine, udp.DOMAIN_NAME, transport)
        self._configure_access(snmp_engine)
        snmp_context = context.SnmpContext(snmp_engine)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(b"", DeviceMibController(self.device, self.traffic))
        self._responders = [
            responder(snmp_engine, snmp_context)
            for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder,
                              cmdrsp.BulkCommandResponder, cmdrsp.SetCommandResponder)
        ]
        self._engine, self._transport = snmp_engine, transport
        self.host, self.port = sock.getsockname()[:2]
        log.info("SNMP agent of %s listening on %s:%d", self.device.identity.name, self.host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop answering and release the port; idempotent."""
        snmp_engine, transport = self._engine, self._transport
        self._engine = self._transport = None
        if snmp_engine is None:
            return
        for responder in self._responders:
            responder.close(snmp_engine)
        self._responders = []
        config.delete_transport(snmp_engine, udp.DOMAIN_NAME)
        snmp_engine.close_dispatcher()
        if transport is not None:
            transport.close_transport()
        log.info("SNMP agent of %s stopped", self.device.identity.name)

    def _configure_access(self, snmp_engine: engine.SnmpEngine) -> None:
        config.add_v1_system(snmp_engine, "read-only", self.community)
        for model in (1, 2):  # SNMPv1, SNMPv2c
            config.add_vacm_user(snmp_engine, model, "read-only", "noAuthNoPriv", readSubTree=READ_VIEW)
        for user in self.v3_users:
            config.add_v3_user(
                snmp_engine, user.name,
                AUTH_PROTOCOLS[user.auth_protocol], user.auth_key,
                PRIV_PROTOCOLS[user.priv_protocol] if user.priv_protocol else config.USM_PRIV_NONE,
                user.priv_key or None,
            )
            config.add_vacm_user(snmp_engine, 3, user.name, user.security_level, readSubTree=READ_VIEW)


async def _until_bound(transport: udp.UdpAsyncioTransport, timeout: float = 5.0) -> None:
    """Wait (a few loop turns) until asyncio has attached the datagram endpoint to the transport."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while transport.transport is None:
        if loop.time() > deadline:
            raise RuntimeError("the SNMP agent's UDP endpoint did not open")
        await asyncio.sleep(0)
