"""One SNMP conversation with a device (pysnmp 7, asyncio): GET with v1 fallbacks, subtree walks, EPSON-CTRL.

A :class:`SnmpSession` owns its own pysnmp engine for the loop it is entered in, and closes it on exit: an
engine reused across event loops hangs (FIDELITY.md), so none is ever shared. Values come back as plain
Python: ``bytes`` (strings, addresses), ``int`` (integers, counters, ticks), an OID tuple, or None when the
agent has no such object.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from pyasn1.type import univ
from pysnmp import error as pysnmp_error
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_HMAC128_SHA224,
    USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC256_SHA384,
    USM_AUTH_HMAC384_SHA512,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_CFB192_AES,
    USM_PRIV_CFB256_AES,
    USM_PRIV_NONE,
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.proto import errind, rfc1905

from harness.device.errors import DeviceError, InfraError
from harness.device.snmp.oids import CTRL_PREFIX, Oid

__all__ = [
    "Community", "Credentials", "SnmpAgentError", "SnmpAuthError", "SnmpError", "SnmpSession", "SnmpUnreachable",
    "UsmUser", "Value", "parse_address",
]

#: What a variable reads as: octets, a number, an OID, or None (no such object or instance).
Value = bytes | int | Oid | None

DEFAULT_PORT = 161
#: Var-binds per GET; a printer's agent answers tooBig long before a loopback datagram would be too big.
GET_BATCH = 10
BULK_REPETITIONS = 24
#: A walk that never leaves its subtree is the agent's fault; stop long before it exhausts memory.
MAX_WALK = 5000

_AUTH = {"MD5": USM_AUTH_HMAC96_MD5, "SHA": USM_AUTH_HMAC96_SHA, "SHA224": USM_AUTH_HMAC128_SHA224,
         "SHA256": USM_AUTH_HMAC192_SHA256, "SHA384": USM_AUTH_HMAC256_SHA384, "SHA512": USM_AUTH_HMAC384_SHA512}
_PRIV = {"DES": USM_PRIV_CBC56_DES, "AES": USM_PRIV_CFB128_AES, "AES192": USM_PRIV_CFB192_AES,
         "AES256": USM_PRIV_CFB256_AES}
#: pysnmp error indications that mean the v3 credentials, not the network, are wrong.
_AUTH_FAILURES = (errind.WrongDigest, errind.UnknownUserName, errind.UnsupportedSecurityLevel,
                  errind.DecryptionError, errind.AuthenticationFailure, errind.AuthenticationError,
                  errind.UnknownSecurityName, errind.NotInTimeWindow)
_NO_SUCH_NAME = 2
_TOO_BIG = 1


class SnmpError(InfraError):
    """The SNMP conversation failed before the device could say anything about itself."""


class SnmpUnreachable(SnmpError):
    """No answer: the host is down or unknown, the port is wrong, or the agent ignores the community."""


class SnmpAuthError(SnmpError):
    """The agent refused the SNMPv3 credentials (unknown user, wrong key, unsupported security level)."""


class SnmpAgentError(DeviceError):
    """The agent answered with an error or a broken walk (genErr, OIDs not increasing)."""


@dataclass(frozen=True)
class Community:
    """SNMPv1 or v2c with a community string (Epson's own tools use v1 and ``public``)."""

    community: str = field(default="public", repr=False)
    version: Literal["1", "2c"] = "2c"

    def auth_data(self) -> CommunityData:
        return CommunityData(self.community, mpModel=0 if self.version == "1" else 1)


@dataclass(frozen=True)
class UsmUser:
    """An SNMPv3 user; no ``auth_key`` is noAuthNoPriv, no ``priv_protocol`` (or key) authNoPriv."""

    name: str
    auth_key: str = field(default="", repr=False)
    priv_key: str = field(default="", repr=False)
    auth_protocol: Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"] = "SHA"
    priv_protocol: Literal["DES", "AES", "AES192", "AES256"] | None = "AES"

    version = "3"

    def auth_data(self) -> UsmUserData:
        if not self.auth_key:
            return UsmUserData(self.name)
        if not (self.priv_protocol and self.priv_key):
            return UsmUserData(self.name, self.auth_key, authProtocol=_AUTH[self.auth_protocol],
                               privProtocol=USM_PRIV_NONE)
        return UsmUserData(self.name, self.auth_key, self.priv_key, authProtocol=_AUTH[self.auth_protocol],
                           privProtocol=_PRIV[self.priv_protocol])


Credentials = Community | UsmUser


def parse_address(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address → (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if not host:
        raise ValueError(f"no host in SNMP address {text!r}")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"SNMP port must be 1-65535, got {port!r}")
    return host, int(port) if port else default_port


class SnmpSession:
    """``async with SnmpSession(host, port, credentials) as s: await s.get(...)``; one engine per session."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, credentials: Credentials | None = None, *,
                 timeout: float = 2.0, retries: int = 1) -> None:
        if timeout <= 0 or retries < 0:
            raise ValueError("timeout must be positive and retries not negative")
        self.host, self.port = host, port
        self.credentials = credentials or Community()
        self.timeout, self.retries = timeout, retries
        self._engine: SnmpEngine | None = None
        self._target: UdpTransportTarget | Udp6TransportTarget | None = None

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def version(self) -> str:
        return self.credentials.version

    async def __aenter__(self) -> Self:
        self._engine = SnmpEngine()
        kind = Udp6TransportTarget if _is_ipv6(self.host) else UdpTransportTarget
        try:
            self._target = await kind.create((self.host, self.port), timeout=self.timeout, retries=self.retries)
        except pysnmp_error.PySnmpError as exc:
            self._close()
            raise SnmpUnreachable(f"SNMP agent {self.where}: cannot resolve the address ({exc})") from None
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._close()

    def _close(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
        self._engine = self._target = None

    async def get(self, oids: Sequence[Oid]) -> dict[Oid, Value]:
        """Each OID's value (None where the agent has none); asked in batches, v1's noSuchName worked around."""
        out: dict[Oid, Value] = {}
        for start in range(0, len(oids), GET_BATCH):
            out.update(await self._get_batch(list(oids[start:start + GET_BATCH])))
        return out

    async def get_one(self, oid: Oid) -> Value:
        return (await self.get([oid]))[oid]

    async def walk(self, root: Oid) -> list[tuple[Oid, Value]]:
        """Every (OID, value) under ``root`` in order: GETNEXT on v1, GETBULK otherwise."""
        rows: list[tuple[Oid, Value]] = []
        last = root
        while len(rows) < MAX_WALK:
            batch = await self._next(last)
            if not batch:
                return rows
            for oid, value in batch:
                if oid[:len(root)] != root or isinstance(value, _EndOfMib):
                    return rows
                if oid <= last:
                    raise SnmpAgentError(f"SNMP agent {self.where}: OID not increasing in a walk of "
                                         f"{_dotted(root)} ({_dotted(oid)} after {_dotted(last)})")
                rows.append((oid, value))
                last = oid
        raise SnmpAgentError(f"SNMP agent {self.where}: the walk of {_dotted(root)} did not end after {MAX_WALK} rows")

    async def ctrl(self, command: bytes, payload: bytes = b"\x00") -> bytes | None:
        """An EPSON-CTRL command over SNMP GET; the reply without its lead byte and form feed, or None."""
        oid = (*CTRL_PREFIX, *command, len(payload) & 0xFF, len(payload) >> 8, *payload)
        value = await self.get_one(oid)
        if not isinstance(value, bytes):
            return None
        return value.removeprefix(b"\x00").removesuffix(b"\x0c")

    # --- one request ---------------------------------------------------------------------------------
    async def _get_batch(self, oids: list[Oid]) -> dict[Oid, Value]:
        out: dict[Oid, Value] = {}
        pending = list(oids)
        while pending:
            status, index, binds = await self._request(get_cmd, pending)
            if status == _NO_SUCH_NAME and 0 < index <= len(pending):
                # SNMPv1 fails the whole request for one missing object: drop it and ask for the others.
                out[pending.pop(index - 1)] = None
                continue
            if status == _TOO_BIG and len(pending) > 1:
                half = len(pending) // 2
                out.update(await self._get_batch(pending[:half]))
                out.update(await self._get_batch(pending[half:]))
                return out
            self._raise_for(status, index, pending)
            for oid, (_, value) in zip(pending, binds, strict=False):
                converted = _convert(value)
                out[oid] = None if isinstance(converted, _EndOfMib) else converted
            return out
        return out

    async def _next(self, oid: Oid) -> list[tuple[Oid, Value | _EndOfMib]]:
        if self.version == "1":
            status, index, binds = await self._request(next_cmd, [oid])
        else:
            status, index, binds = await self._request(bulk_cmd, [oid], bulk=True)
        if status == _NO_SUCH_NAME:  # SNMPv1's end of the MIB
            return []
        self._raise_for(status, index, [oid])
        return [(tuple(name), _convert(value)) for name, value in binds]

    async def _request(self, command: Any, oids: list[Oid], bulk: bool = False) -> tuple[int, int, Any]:
        assert self._engine is not None and self._target is not None, "use the session in 'async with'"
        args: list[Any] = [self._engine, self.credentials.auth_data(), self._target, ContextData()]
        if bulk:
            args += [0, BULK_REPETITIONS]
        binds = [ObjectType(ObjectIdentity(univ.ObjectIdentifier(oid))) for oid in oids]
        try:
            indication, status, index, var_binds = await command(*args, *binds, lookupMib=False)
        except pysnmp_error.PySnmpError as exc:
            raise SnmpError(f"SNMP agent {self.where}: {exc}") from None
        if indication:
            raise self._indication_error(indication)
        return int(status), int(index), var_binds

    def _indication_error(self, indication: Any) -> SnmpError:
        if isinstance(indication, errind.RequestTimedOut):
            tries = self.retries + 1
            who = (f"user {self.credentials.name!r}" if isinstance(self.credentials, UsmUser)
                   else f"SNMPv{self.version} community")
            return SnmpUnreachable(
                f"no SNMP answer from {self.where} ({tries} tr{'y' if tries == 1 else 'ies'} of "
                f"{self.timeout:g} s): the device is off or unreachable, the port is wrong, or it ignores this {who}")
        if isinstance(indication, _AUTH_FAILURES):
            return SnmpAuthError(f"SNMP agent {self.where} refused SNMPv3 user "
                                 f"{getattr(self.credentials, 'name', '?')!r}: {indication}")
        return SnmpError(f"SNMP agent {self.where}: {indication}")

    def _raise_for(self, status: int, index: int, oids: list[Oid]) -> None:
        if status:
            name = rfc1905.errorStatus.getNamedValues().getName(status) or str(status)
            which = f" at {_dotted(oids[index - 1])}" if 0 < index <= len(oids) else ""
            raise SnmpAgentError(f"SNMP agent {self.where} answered {name}{which}")


class _EndOfMib:
    """endOfMibView: a walk is over (kept apart from None, which is 'no such object')."""


_END = _EndOfMib()
_ABSENT = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance)


def _convert(value: Any) -> Value | _EndOfMib:
    """A pysnmp value as plain Python; ``_END`` for endOfMibView."""
    if isinstance(value, rfc1905.EndOfMibView):
        return _END
    if isinstance(value, _ABSENT) or value is None:
        return None
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    if isinstance(value, univ.OctetString):
        return value.asOctets()
    if isinstance(value, univ.Integer):
        return int(value)
    return None


def _dotted(oid: Oid) -> str:
    return ".".join(map(str, oid))


def _is_ipv6(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False
