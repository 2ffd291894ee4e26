"""The harness's SNMP probe against the virtual device's agent over real UDP: every model, v1/v2c/v3, live status,
and the ways an agent can fail to answer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from harness.asgi import LoopThread
from harness.device.errors import DeviceError, InfraError
from harness.device.snmp import (
    Community,
    SnmpAgentError,
    SnmpAuthError,
    SnmpSession,
    SnmpUnreachable,
    St2Error,
    UsmUser,
    decode_detected_errors,
    oids,
    parse_address,
    parse_st2,
    probe,
    probe_sync,
)
from harness.sim.models import ModelSpec, get_model, list_models
from harness.sim.snmp import DeviceFacts, SnmpAgent, V3User
from harness.sim.snmp.bdc import status_record
from harness.sim.snmp.mib import detected_error_octets
from harness.sim.status import AlertCode, AlertGroup, AlertSeverity, DetectedError, DeviceState, DeviceStatus

V3 = V3User("hil-probe", auth_key="Auth-Key-789", priv_key="Priv-Key-012")
V3_PROBE = UsmUser("hil-probe", "Auth-Key-789", "Priv-Key-012")
CREDENTIALS = {"1": Community(version="1"), "2c": Community(version="2c"), "3": V3_PROBE}


@dataclass
class Agent:
    spec: ModelSpec
    facts: DeviceFacts
    agent: SnmpAgent

    @property
    def port(self) -> int:
        return self.agent.port

    @property
    def status(self) -> DeviceStatus:
        return self.facts.status


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    running = LoopThread("snmp-probe-test-agents")
    yield running
    running.close()


def start(loop: LoopThread, model: str) -> Agent:
    spec = get_model(model)
    facts = DeviceFacts(spec.unit(), DeviceStatus.for_model(spec))
    agent = SnmpAgent(facts, v3_users=[V3])
    loop.run(agent.start())
    return Agent(spec, facts, agent)


@pytest.fixture(scope="module")
def agents(loop: LoopThread) -> Iterator[dict[str, Agent]]:
    """One agent per catalogue model, left in its power-on state."""
    running = {spec.model: start(loop, spec.model) for spec in list_models()}
    yield running
    for item in running.values():
        loop.run(item.agent.stop())


@pytest.fixture
def printer(loop: LoopThread) -> Iterator[Agent]:
    """A WF-C5790 of the test's own, for tests that change its status."""
    item = start(loop, "WF-C5790")
    yield item
    loop.run(item.agent.stop())


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A bound UDP port where nothing ever answers (so no ICMP reply cuts the wait short either)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# --- identity and status of every model --------------------------------------------------------------------
@pytest.mark.parametrize("version", ["1", "2c", "3"])
@pytest.mark.parametrize("model", [spec.model for spec in list_models()])
def test_probe_reads_each_models_identity_and_idle_status(agents: dict[str, Agent], model: str, version: str) -> None:
    item = agents[model]
    spec, unit = item.spec, item.facts.identity
    found = probe_sync("127.0.0.1", item.port, CREDENTIALS[version])
    assert (found.target, found.version) == (f"127.0.0.1:{item.port}", version)
    identity = found.identity
    assert (identity.model, identity.product_name, identity.serial) == (spec.model, spec.product_name, unit.serial)
    assert identity.firmware == unit.firmware_code and unit.firmware.endswith(identity.firmware or "-")
    assert identity.network_firmware == spec.network_interfaces[0].descr.rsplit("Ver.", 1)[1]
    assert identity.mac == unit.mac
    assert (identity.sys_descr, identity.sys_object_id, identity.sys_name) == (spec.sys_descr, spec.sys_object_id,
                                                                             unit.name)
    assert identity.device_id == spec.ieee1284_device_id
    assert identity.device_class == ("PRINTER" if spec.prints else "SCANNER")
    assert found.status.device_status_name == "running"
    assert found.status.detected_errors == () and found.alerts == ()
    assert found.st2 is not None and found.st2.status == "idle" and found.st2.ready and found.st2.error is None
    assert found.st2.serial == unit.serial
    assert found.problems == ()
    if spec.prints:
        assert (found.status.printer_status, found.status.printer_status_name) == (3, "idle")
        assert found.status.display == ("Ready",)
        assert [s.description for s in found.supplies] == [s.description for s in spec.supplies]
        assert {(s.unit, s.max_capacity, s.level, s.percent) for s in found.supplies} == {("percent", 100, 100, 100)}
        assert [s.type for s in found.supplies] == [s.type for s in spec.supplies]
        assert [i.name for i in found.st2.inks] == [s.colorant for s in spec.supplies if s.colorant]
    else:  # a scanner: no Printer-MIB, the serial from Epson's MIB
        assert found.status.printer_status is None and found.supplies == () and found.st2.inks == ()


T = TypeVar("T")


def run_in_fresh_loop(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: a session Playwright may already own this thread's loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_the_async_probe_runs_in_the_callers_loop_and_the_sync_one_inside_a_running_loop(
        agents: dict[str, Agent]) -> None:
    port = agents["DS-790WN"].port

    async def both() -> tuple[str | None, str | None]:
        direct = await probe("127.0.0.1", port, Community(version="1"), timeout=2, retries=0)
        nested = probe_sync("127.0.0.1", port)  # its own loop in a worker thread: this loop is busy
        return direct.identity.serial, nested.identity.serial

    assert run_in_fresh_loop(both()) == (agents["DS-790WN"].facts.identity.serial,) * 2


def test_probe_to_dict_is_plain_json_data(agents: dict[str, Agent]) -> None:
    data = probe_sync("127.0.0.1", agents["WF-C5790"].port).to_dict()
    assert {"model", "serial", "sys_descr", "sys_object_id", "mac", "firmware", "device_class"} <= set(data["identity"])
    assert data["status"]["device_status_name"] == "running" and data["supplies"][0]["percent"] == 100
    assert data["st2"]["ready"] is True and data["st2"]["status"] == "idle"


# --- status changes ------------------------------------------------------------------------------------------
def test_a_stopped_printer_shows_its_error_bits_alerts_and_st2_error(printer: Agent) -> None:
    printer.status.set_state(DeviceState.DOWN)
    printer.status.set_errors(DetectedError.DOOR_OPEN | DetectedError.NO_PAPER | DetectedError.LOW_TONER)
    printer.status.raise_alert("Front cover open.", severity=AlertSeverity.CRITICAL, code=AlertCode.COVER_OPEN,
                               group=AlertGroup.COVER)
    printer.status.raise_alert("Email sending failed. Code 370")
    printer.status.set_supply_level(2, 8)
    printer.status.set_display("Close the front cover.", "")
    for version in ("1", "2c"):
        found = probe_sync("127.0.0.1", printer.port, CREDENTIALS[version])
        status = found.status
        assert (status.device_status_name, status.printer_status_name) == ("down", "other")
        assert status.detected_errors == ("noPaper", "lowToner", "doorOpen")
        assert status.display == ("Close the front cover.", "")
        cover, mail = found.alerts
        assert (cover.index, cover.severity, cover.code, cover.code_name, cover.group, cover.description) == (
            1, "critical", 3, "coverOpen", "cover", "Front cover open.")
        assert (mail.index, mail.severity, mail.code_name, mail.training) == (2, "warning", "other", "management")
        assert mail.description == "Email sending failed. Code 370" and mail.time_ticks is not None
        assert [s.percent for s in found.supplies] == [100, 100, 8, 100, 100]
        assert found.st2 is not None
        assert (found.st2.status, found.st2.ready, found.st2.error_code, found.st2.error) == (
            "error", False, 0x02, "cover open")
        assert [i.level for i in found.st2.inks] == [100, 100, 8, 100]

    printer.status.power_cycle()
    again = probe_sync("127.0.0.1", printer.port)
    assert again.alerts == () and again.status.detected_errors == () and again.status.device_status_name == "running"


def test_a_printing_device_and_a_warning(printer: Agent) -> None:
    printer.status.set_state(DeviceState.PRINTING)
    busy = probe_sync("127.0.0.1", printer.port)
    assert (busy.status.device_status_name, busy.status.printer_status_name) == ("running", "printing")
    assert busy.st2 is not None and busy.st2.status == "waiting" and busy.st2.ready
    printer.status.set_state(DeviceState.WARNING)
    assert probe_sync("127.0.0.1", printer.port).status.device_status_name == "warning"


# --- failures --------------------------------------------------------------------------------------------------
def test_an_agent_that_never_answers_is_unreachable_after_the_configured_tries(silent_port: int) -> None:
    with pytest.raises(SnmpUnreachable) as caught:
        probe_sync("127.0.0.1", silent_port, timeout=0.2, retries=1)
    message = str(caught.value)
    assert f"127.0.0.1:{silent_port}" in message and "2 tries of 0.2 s" in message
    assert isinstance(caught.value, InfraError)


def test_a_wrong_community_looks_like_silence(agents: dict[str, Agent]) -> None:
    with pytest.raises(SnmpUnreachable, match="ignores this SNMPv1 community"):
        probe_sync("127.0.0.1", agents["WF-C5790"].port, Community("private", "1"), timeout=0.2, retries=0)


@pytest.mark.parametrize(("user", "why"), [
    (UsmUser("hil-probe", "Wrong-Key-789", "Priv-Key-012"), "Wrong SNMP PDU digest"),
    (UsmUser("intruder", "Auth-Key-789", "Priv-Key-012"), "Unknown USM user"),
    (UsmUser("hil-probe", "Auth-Key-789", priv_protocol=None), "security level"),
])
def test_refused_snmpv3_credentials_are_an_auth_error(agents: dict[str, Agent], user: UsmUser, why: str) -> None:
    with pytest.raises(SnmpAuthError, match=why) as caught:
        probe_sync("127.0.0.1", agents["WF-C5790"].port, user, timeout=1, retries=0)
    assert "Auth-Key" not in str(caught.value) and "Priv-Key" not in str(caught.value), "keys never in messages"
    assert "Auth-Key" not in repr(user) and "Priv-Key" not in repr(user)


def test_garbage_answers_are_ignored_and_end_as_unreachable() -> None:
    """A peer that answers every datagram with junk: pysnmp drops it, the probe times out cleanly."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.05)
        stop = threading.Event()

        def answer_junk() -> None:
            while not stop.is_set():
                try:
                    _, peer = sock.recvfrom(65535)
                except TimeoutError:
                    continue
                sock.sendto(b"\x30\x03\x02\x01" + b"junk" * 8, peer)

        thread = threading.Thread(target=answer_junk, daemon=True)
        thread.start()
        try:
            with pytest.raises(SnmpUnreachable):
                probe_sync("127.0.0.1", sock.getsockname()[1], timeout=0.3, retries=0)
        finally:
            stop.set()
            thread.join(5)


def test_a_v1_walk_to_the_end_of_the_mib_stops_at_no_such_name(agents: dict[str, Agent]) -> None:
    serial_column = oids.EPSON_SERIAL[:-1]  # the last object the agent has: v1 ends with noSuchName

    async def walk(version: str) -> list[tuple[tuple[int, ...], object]]:
        async with SnmpSession("127.0.0.1", agents["WF-C5790"].port, Community(version=version)) as session:
            return await session.walk(serial_column)

    serial = agents["WF-C5790"].facts.identity.serial.encode()
    assert run_in_fresh_loop(walk("1")) == run_in_fresh_loop(walk("2c")) == [(oids.EPSON_SERIAL, serial)]


def test_a_session_outside_async_with_and_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        SnmpSession("127.0.0.1", 161, timeout=0)
    assert issubclass(SnmpAgentError, DeviceError) and issubclass(SnmpAuthError, InfraError)


@pytest.mark.parametrize(("text", "expected"), [
    ("192.0.2.7", ("192.0.2.7", 161)), ("printer.lab:1161", ("printer.lab", 1161)), ("[::1]:16100", ("::1", 16100)),
    ("::1", ("::1", 161)), ("[fe80::1]", ("fe80::1", 161)),
])
def test_snmp_addresses_parse(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", ":161", "host:0", "host:70000", "host:snmp"])
def test_bad_snmp_addresses_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)


# --- decoders -----------------------------------------------------------------------------------------------------
def test_every_detected_error_bit_decodes_to_its_rfc_3805_name() -> None:
    for flag in DetectedError:
        if flag is DetectedError.NONE:
            continue
        camel = "".join(w.capitalize() for w in (flag.name or "").lower().split("_"))
        assert decode_detected_errors(detected_error_octets(flag)) == (camel[0].lower() + camel[1:],)
    assert decode_detected_errors(b"") == () and decode_detected_errors(b"\x00\x01") == ("bit15",)


def test_st2_records_decode_and_broken_ones_say_why(agents: dict[str, Agent]) -> None:
    unit = agents["WF-C5790"].facts.identity
    status = DeviceStatus.for_model(unit.model)
    status.set_state(DeviceState.DOWN)
    status.set_errors(DetectedError.JAMMED)
    record = status_record(unit, status.snapshot())
    decoded = parse_st2(b"\x00" + record + b"\x0c")  # as EPSON-CTRL 'st' frames it
    assert (decoded.status, decoded.error, decoded.serial) == ("error", "paper jam", unit.serial)
    assert decoded.maintenance_boxes == ("not full",)
    extra = record[:10] + (len(record) - 12 + 4).to_bytes(2, "little") + record[12:] + b"\x7e\x02\xab\xcd"
    assert parse_st2(extra).other == {0x7E: "abcd"}, "fields the decoder does not know are kept"
    for broken, why in [(b"@BDC PS\r\n", "no '@BDC ST2' header"), (record[:11], "without a length"),
                        (record[:-1], "says"), (record[:10] + b"\x02\x00\x01\x05", "truncated ST2 field"),
                        (record[:10] + b"\x02\x00\x02\x00", "without a status")]:
        with pytest.raises(St2Error, match=why):
            parse_st2(broken)
