"""The virtual device's SNMP agent, as net-snmp's command-line tools see it over real UDP on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import re
import socket
import subprocess
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.sim.models import get_model, list_models
from harness.sim.snmp import DeviceFacts, SnmpAgent, V3User
from harness.sim.snmp.bdc import FIELD_ERROR, FIELD_INK, FIELD_SERIAL, FIELD_STATUS, parse_status_record
from harness.sim.status import AlertCode, AlertSeverity, DetectedError, DeviceState, DeviceStatus

CTRL = ".1.3.6.1.4.1.1248.1.2.2.44.1.1.2.1"
SYS_DESCR, SYS_OBJECT_ID, SYS_NAME = ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.5.0"
IF_NUMBER, IF_DESCR, IF_PHYS = ".1.3.6.1.2.1.2.1.0", ".1.3.6.1.2.1.2.2.1.2", ".1.3.6.1.2.1.2.2.1.6"
HR_DEVICE_TYPE, HR_DEVICE_DESCR = ".1.3.6.1.2.1.25.3.2.1.2", ".1.3.6.1.2.1.25.3.2.1.3"
HR_DEVICE_STATUS, HR_PRINTER_STATUS = ".1.3.6.1.2.1.25.3.2.1.5.1", ".1.3.6.1.2.1.25.3.5.1.1.1"
HR_ERROR_STATE = ".1.3.6.1.2.1.25.3.5.1.2.1"
PRT_SERIAL = ".1.3.6.1.2.1.43.5.1.1.17.1"
PRT_INPUT_LEVEL = ".1.3.6.1.2.1.43.8.2.1.10.1.1"
PRT_SUPPLY_DESCR, PRT_SUPPLY_LEVEL = ".1.3.6.1.2.1.43.11.1.1.6.1", ".1.3.6.1.2.1.43.11.1.1.9.1"
PRT_CONSOLE = ".1.3.6.1.2.1.43.16.5.1.2.1.1"
PRT_ALERT = ".1.3.6.1.2.1.43.18.1.1"
E_DEVICE_ID, E_MODEL = ".1.3.6.1.4.1.1248.1.2.2.1.1.1.1.1", ".1.3.6.1.4.1.1248.1.2.2.1.1.1.2.1"
E_STATUS, E_SERIAL = ".1.3.6.1.4.1.1248.1.2.2.1.1.1.4.1", ".1.3.6.1.4.1.1248.1.2.2.1.1.1.5.1"
E_SHORT_NAME, E_MAC = ".1.3.6.1.4.1.1248.1.1.3.1.3.8.0", ".1.3.6.1.4.1.1248.1.1.3.1.1.5.0"
HR_DEVICE_PRINTER, HR_DEVICE_OTHER = ".1.3.6.1.2.1.25.3.1.5", ".1.3.6.1.2.1.25.3.1.1"

V3 = V3User("hil-reader", auth_key="Auth-Key-123", priv_key="Priv-Key-456")
V3_ARGS = ("-v3", "-l", "authPriv", "-u", "hil-reader", "-a", "SHA", "-A", "Auth-Key-123", "-x", "AES",
           "-X", "Priv-Key-456")


# --- running agents -------------------------------------------------------------------------------------
class LoopThread:
    """An asyncio loop in a background thread, as the lab process runs its agents."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="snmp-test-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass
class Running:
    agent: SnmpAgent
    device: DeviceFacts

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.agent.port}"

    @property
    def status(self) -> DeviceStatus:
        return self.device.status


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    running = LoopThread()
    yield running
    running.close()


def _start(loop: LoopThread, model: str, **agent_args: Any) -> Running:
    spec = get_model(model)
    device = DeviceFacts(spec.unit(), DeviceStatus.for_model(spec))
    agent = SnmpAgent(device, **agent_args)
    loop.run(agent.start())
    return Running(agent, device)


@pytest.fixture(scope="module")
def printer(loop: LoopThread) -> Iterator[Running]:
    """A WF-C5790 whose status the tests using it leave alone."""
    running = _start(loop, "WF-C5790", v3_users=[V3])
    yield running
    loop.run(running.agent.stop())


@pytest.fixture
def fresh(loop: LoopThread) -> Iterator[Running]:
    """A WF-C5790 of the test's own, for tests that change its status."""
    running = _start(loop, "WF-C5790")
    yield running
    loop.run(running.agent.stop())


@pytest.fixture(scope="module")
def scanner(loop: LoopThread) -> Iterator[Running]:
    running = _start(loop, "DS-790WN")
    yield running
    loop.run(running.agent.stop())


# --- net-snmp ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def snmp_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """net-snmp without MIB files (numeric OIDs) and with its persistent state in a temporary folder."""
    saved = {key: os.environ.get(key) for key in ("MIBS", "SNMP_PERSISTENT_DIR", "SNMPCONFPATH")}
    os.environ.update(MIBS="", SNMP_PERSISTENT_DIR=str(tmp_path_factory.mktemp("net-snmp")),
                      SNMPCONFPATH=str(tmp_path_factory.mktemp("net-snmp-conf")))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def net_snmp(tool: str, target: str, *args: str, auth: tuple[str, ...] = ("-v2c", "-c", "public"),
             retries: int = 1) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *auth, "-On", "-t", "1", "-r", str(retries), target, *args],
                          capture_output=True, text=True, timeout=60, check=False)


@dataclass(frozen=True)
class VarBind:
    oid: tuple[int, ...]
    type: str
    value: str

    @property
    def text(self) -> str:
        """A STRING value without its quotes."""
        return self.value[1:-1] if self.value.startswith('"') else self.value

    @property
    def octets(self) -> bytes:
        """A Hex-STRING (or any string printed with -Ox) as bytes."""
        return bytes.fromhex(self.value.replace('"', ""))


def parse(output: str) -> list[VarBind]:
    """net-snmp ``-On`` output as var-binds; a Hex-STRING may continue over several lines."""
    binds: list[tuple[str, str]] = []
    for line in output.splitlines():
        match = re.match(r"^(\.[\d.]+) = (.*)$", line)
        if match:
            binds.append((match[1], match[2]))
        elif binds and re.fullmatch(r"([0-9A-F]{2} ?)+", line.strip()):
            binds[-1] = (binds[-1][0], binds[-1][1] + " " + line.strip())
    out = []
    for name, rest in binds:
        if rest.startswith(("No Such", "No more variables")):
            kind, value = rest, ""
        elif rest == '""':  # an empty string prints without a type
            kind, value = "STRING", rest
        else:
            kind, _, value = rest.partition(": ")
        out.append(VarBind(oid(name), kind, value.strip()))
    return out


def oid(dotted: str) -> tuple[int, ...]:
    return tuple(int(p) for p in dotted.strip(".").split("."))


def get(running: Running, *oids: str, hex_strings: bool = False, **kw: Any) -> dict[str, VarBind]:
    extra = ("-Ox",) if hex_strings else ()
    result = net_snmp("snmpget", running.target, *extra, *oids, **kw)
    assert result.returncode == 0, result.stderr + result.stdout
    binds = parse(result.stdout)
    return {"." + ".".join(map(str, b.oid)): b for b in binds}


def walk(tool: str, running: Running, version: str = "-v2c", start: str = ".1") -> tuple[list[VarBind], str]:
    result = net_snmp(tool, running.target, start, auth=(version, "-c", "public"))
    assert result.returncode == 0, result.stderr
    assert "Timeout" not in result.stderr + result.stdout
    assert "OID not increasing" not in result.stderr
    return [b for b in parse(result.stdout) if not b.type.startswith(("No more variables", "No Such"))], \
        result.stdout


# --- the walk -----------------------------------------------------------------------------------------
def test_snmpwalk_v2c_walks_the_whole_tree_to_its_end(printer: Running) -> None:
    binds, raw = walk("snmpwalk", printer)
    assert raw.rstrip().endswith("No more variables left in this MIB View (It is past the end of the MIB tree)")
    oids = [b.oid for b in binds]
    assert all(a < b for a, b in itertools.pairwise(oids)), "OIDs strictly increase"
    assert len(oids) > 120
    assert not any(o[:len(oid(CTRL))] == oid(CTRL) for o in oids), "EPSON-CTRL is GET-only, never walked"
    by = {"." + ".".join(map(str, b.oid)): b for b in binds}
    identity = printer.device.identity
    assert by[SYS_DESCR].text == "EPSON Built-in 11b/g/n Print Server"
    assert by[SYS_OBJECT_ID].value == ".1.3.6.1.4.1.1248.1.1.2.1.3.5.69.69.80.83.50"
    assert by[SYS_NAME].text == identity.name == "EPSON3A51C7"
    assert by[IF_DESCR + ".1"].text == "EEPS2 Hard Ver.1.00 Firm Ver.0.61"
    assert by[IF_PHYS + ".1"].octets == bytes.fromhex(identity.mac.replace(":", ""))
    assert by[HR_DEVICE_TYPE + ".1"].value == HR_DEVICE_PRINTER
    assert {by[f"{HR_DEVICE_DESCR}.{n}"].text for n in (1, 2, 3)} == {"EPSON WF-C5790"}
    assert (by[HR_DEVICE_STATUS].value, by[HR_PRINTER_STATUS].value) == ("2", "3")
    assert by[HR_ERROR_STATE].value == '""'
    assert by[PRT_SERIAL].text == identity.serial
    assert [by[f"{PRT_SUPPLY_DESCR}.{n}"].text for n in range(1, 6)] == [
        "Black Ink Supply Unit", "Cyan Ink Supply Unit", "Magenta Ink Supply Unit", "Yellow Ink Supply Unit",
        "Maintenance Box"]
    assert [by[f"{PRT_SUPPLY_LEVEL}.{n}"].value for n in range(1, 6)] == ["100"] * 5
    assert by[PRT_CONSOLE].text == "Ready"
    assert by[E_MODEL].text == "WF-C5790 Series"
    assert by[E_DEVICE_ID].text.startswith("MFG:EPSON;") and "MDL:WF-C5790 Series;" in by[E_DEVICE_ID].text
    assert by[E_SHORT_NAME].text == "WF-C5790"
    assert by[E_MAC].octets == bytes.fromhex(identity.mac.replace(":", ""))
    assert by[E_SERIAL].text == identity.serial
    assert parse_status_record(by[E_STATUS].octets)[FIELD_STATUS] == b"\x04"


def test_snmpwalk_v1_and_snmpbulkwalk_see_the_same_tree(printer: Running) -> None:
    v2c, _ = walk("snmpwalk", printer)
    v1, raw = walk("snmpwalk", printer, "-v1")
    assert raw.rstrip().endswith("End of MIB")
    bulk, _ = walk("snmpbulkwalk", printer)
    assert [b.oid for b in v1] == [b.oid for b in v2c] == [b.oid for b in bulk]


def test_each_model_answers_its_own_identity(loop: LoopThread) -> None:
    for spec in list_models():
        running = _start(loop, spec.model)
        try:
            identity = running.device.identity
            last = len(spec.network_interfaces)
            got = get(running, SYS_DESCR, SYS_OBJECT_ID, IF_NUMBER, f"{IF_DESCR}.{last}", f"{IF_PHYS}.{last}",
                      f"{HR_DEVICE_DESCR}.1", E_MODEL, E_SHORT_NAME, E_SERIAL)
            assert got[SYS_DESCR].text == spec.sys_descr
            assert got[SYS_OBJECT_ID].value == "." + spec.sys_object_id
            assert got[IF_NUMBER].value == str(last)
            assert got[f"{IF_DESCR}.{last}"].text == spec.network_interfaces[-1].descr
            assert got[f"{IF_PHYS}.{last}"].octets.hex(":").upper() == identity.interface_mac(last - 1)
            assert got[f"{HR_DEVICE_DESCR}.1"].text == f"EPSON {spec.model}"
            assert (got[E_MODEL].text, got[E_SHORT_NAME].text) == (spec.product_name, spec.short_name)
            assert got[E_SERIAL].text == identity.serial
        finally:
            loop.run(running.agent.stop())


def test_a_scanner_has_no_printer_mib_but_answers_as_a_scanner(scanner: Running) -> None:
    binds, _ = walk("snmpwalk", scanner)
    oids = [b.oid for b in binds]
    assert not [o for o in oids if o[:7] == (1, 3, 6, 1, 2, 1, 43)], "no Printer-MIB on a scanner"
    assert not [o for o in oids if o[:10] == (1, 3, 6, 1, 2, 1, 25, 3, 5, 1)], "no hrPrinterTable"
    by = {"." + ".".join(map(str, b.oid)): b for b in binds}
    assert by[HR_DEVICE_TYPE + ".1"].value == HR_DEVICE_OTHER
    assert by[HR_DEVICE_DESCR + ".1"].text == "EPSON DS-790WN"
    assert "CLS:SCANNER;" in by[E_DEVICE_ID].text
    assert by[E_SERIAL].text == scanner.device.identity.serial
    record = parse_status_record(by[E_STATUS].octets)
    assert FIELD_INK not in record and record[FIELD_SERIAL] == scanner.device.identity.serial.encode()
    missing = net_snmp("snmpget", scanner.target, PRT_SERIAL)
    assert "No Such Object available on this agent at this OID" in missing.stdout


# --- EPSON-CTRL ------------------------------------------------------------------------------------------
def test_epson_ctrl_commands_over_snmp_get(printer: Running) -> None:
    st, di, vi = f"{CTRL}.115.116.1.0.1", f"{CTRL}.100.105.1.0.1", f"{CTRL}.118.105.1.0.0"
    unknown, bad_length, too_short = f"{CTRL}.120.120.1.0.1", f"{CTRL}.115.116.3.0.1", f"{CTRL}.115.116"
    got = get(printer, st, di, vi, unknown, bad_length, too_short, hex_strings=True)
    identity = printer.device.identity
    assert got[st].octets[:1] == b"\x00"
    record = parse_status_record(got[st].octets[1:])
    assert record[FIELD_STATUS] == b"\x04" and record[FIELD_SERIAL] == identity.serial.encode()
    assert got[di].octets == b"\x00@BDC PS\r\ndi:01:" + identity.model.ieee1284_device_id.encode() + b"\x0c"
    assert got[vi].octets == b"\x00@BDC PS\r\nvi:00:LW23O3;\x0c"
    assert got[unknown].octets == b"\x00XX:;\x0c"
    assert got[bad_length].octets == b"\x00XX:;\x0c", "a payload shorter than its length is not a command"
    assert got[too_short].type.startswith("No Such Instance")


# --- access --------------------------------------------------------------------------------------------
def test_a_set_is_refused_and_the_agent_keeps_answering(printer: Running) -> None:
    v2c = net_snmp("snmpset", printer.target, SYS_NAME, "s", "renamed")
    assert v2c.returncode != 0 and "noAccess" in v2c.stderr + v2c.stdout
    v1 = net_snmp("snmpset", printer.target, PRT_SUPPLY_LEVEL + ".1", "i", "5", auth=("-v1", "-c", "public"))
    assert v1.returncode != 0 and "noSuchName" in v1.stderr + v1.stdout
    v3 = net_snmp("snmpset", printer.target, SYS_NAME, "s", "renamed", auth=V3_ARGS)
    assert v3.returncode != 0 and "noAccess" in v3.stderr + v3.stdout
    got = get(printer, SYS_NAME, PRT_SUPPLY_LEVEL + ".1")
    assert (got[SYS_NAME].text, got[PRT_SUPPLY_LEVEL + ".1"].value) == ("EPSON3A51C7", "100")


def test_a_wrong_community_gets_no_answer(printer: Running) -> None:
    wrong = [("-v2c", "-c", "private"), ("-v1", "-c", "Public")]
    calls = [subprocess.Popen(["snmpget", *auth, "-On", "-t", "1", "-r", "0", printer.target, SYS_DESCR],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for auth in wrong]
    for call in calls:
        _, err = call.communicate(timeout=30)
        assert call.returncode != 0 and "Timeout" in err


def test_snmpv3_user_with_auth_and_privacy(printer: Running) -> None:
    got = get(printer, SYS_NAME, PRT_SERIAL, auth=V3_ARGS)
    assert got[PRT_SERIAL].text == printer.device.identity.serial
    result = net_snmp("snmpbulkwalk", printer.target, ".1.3.6.1.2.1.43.11", auth=V3_ARGS)
    binds = parse(result.stdout)
    assert result.returncode == 0 and len(binds) == 40
    wrong_key = net_snmp("snmpget", printer.target, SYS_NAME,
                         auth=tuple(a if a != "Auth-Key-123" else "Wrong-Key-123" for a in V3_ARGS), retries=0)
    assert wrong_key.returncode != 0 and "Authentication failure" in wrong_key.stderr
    unknown = net_snmp("snmpget", printer.target, SYS_NAME,
                       auth=tuple(a if a != "hil-reader" else "intruder" for a in V3_ARGS), retries=0)
    assert unknown.returncode != 0 and "Unknown user name" in unknown.stderr
    for level in (("-l", "noAuthNoPriv"), ("-l", "authNoPriv", "-a", "SHA", "-A", "Auth-Key-123")):
        weaker = net_snmp("snmpget", printer.target, SYS_NAME, auth=("-v3", *level, "-u", "hil-reader"), retries=0)
        assert weaker.returncode != 0 and "Unsupported security level" in weaker.stderr, "authPriv user: no less"


def test_garbage_datagrams_are_ignored(printer: Running, caplog: pytest.LogCaptureFixture) -> None:
    # SNMPv2c GetRequest for sysName.0, community "public"
    request = bytes.fromhex("302902010104067075626c6963a01c02043a2b1c0d020100020100300e300c06082b060102010105000500")
    junk = [b"", b"\x00", b"hello printer", os.urandom(64), b"\x30\x84\xff\xff\xff\xff" + os.urandom(16),
            request[:20], request.replace(b"public", b"publik"), request[:-3] + b"\x05\x00", b"\x30" * 1400]
    with caplog.at_level(logging.WARNING), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in junk:
            sock.sendto(datagram, ("127.0.0.1", printer.agent.port))
        sock.settimeout(2)
        sock.sendto(request, ("127.0.0.1", printer.agent.port))  # a well-formed GET sysName.0 after the junk
        answer, _ = sock.recvfrom(4096)
    assert b"EPSON3A51C7" in answer
    assert get(printer, SYS_NAME)[SYS_NAME].text == "EPSON3A51C7"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


# --- live status -----------------------------------------------------------------------------------------
def test_status_changes_show_in_the_next_get(fresh: Running) -> None:
    status = fresh.status
    status.set_state(DeviceState.PRINTING)
    got = get(fresh, HR_DEVICE_STATUS, HR_PRINTER_STATUS, E_STATUS, hex_strings=True)
    assert (got[HR_DEVICE_STATUS].value, got[HR_PRINTER_STATUS].value) == ("2", "4")
    assert parse_status_record(got[E_STATUS].octets)[FIELD_STATUS] == b"\x03"

    status.set_state(DeviceState.WARNING)
    alert = status.raise_alert("Email sending failed. Code 370", severity=AlertSeverity.WARNING)
    got = get(fresh, HR_DEVICE_STATUS, HR_PRINTER_STATUS, f"{PRT_ALERT}.8.1.{alert.index}",
              f"{PRT_ALERT}.2.1.{alert.index}", f"{PRT_ALERT}.7.1.{alert.index}")
    assert (got[HR_DEVICE_STATUS].value, got[HR_PRINTER_STATUS].value) == ("3", "3")
    assert got[f"{PRT_ALERT}.8.1.{alert.index}"].text == "Email sending failed. Code 370"
    assert got[f"{PRT_ALERT}.2.1.{alert.index}"].value == str(int(AlertSeverity.WARNING))
    assert got[f"{PRT_ALERT}.7.1.{alert.index}"].value == str(int(AlertCode.OTHER))

    status.set_state(DeviceState.DOWN)
    status.set_errors(DetectedError.JAMMED | DetectedError.DOOR_OPEN | DetectedError.NO_PAPER)
    got = get(fresh, HR_DEVICE_STATUS, HR_PRINTER_STATUS, HR_ERROR_STATE, PRT_INPUT_LEVEL, E_STATUS,
              hex_strings=True)
    assert (got[HR_DEVICE_STATUS].value, got[HR_PRINTER_STATUS].value) == ("5", "1")
    assert got[HR_ERROR_STATE].octets == bytes([0x40 | 0x08 | 0x04]), "noPaper, doorOpen, jammed (MSB = bit 0)"
    assert got[PRT_INPUT_LEVEL].value == "0"
    record = parse_status_record(got[E_STATUS].octets)
    assert (record[FIELD_STATUS], record[FIELD_ERROR]) == (b"\x00", b"\x02"), "error, cover open"

    status.set_supply_level(1, 7)
    status.set_display("Paper jam.", "Open the front cover.")
    got = get(fresh, f"{PRT_SUPPLY_LEVEL}.2", PRT_CONSOLE, PRT_CONSOLE[:-1] + "2", E_STATUS, hex_strings=False)
    assert got[f"{PRT_SUPPLY_LEVEL}.2"].value == "7"
    assert (got[PRT_CONSOLE].text, got[PRT_CONSOLE[:-1] + "2"].text) == ("Paper jam.", "Open the front cover.")
    inks = parse_status_record(got[E_STATUS].octets)[FIELD_INK]
    assert inks[0] == 3 and inks[1:].hex() == "010064" "030107" "040264" "050364", "cyan at 7 %"


def test_alerts_walk_in_order_and_go_with_a_power_cycle(fresh: Running) -> None:
    for text in ("first", "second", "third"):
        fresh.status.raise_alert(text)
    binds, _ = walk("snmpwalk", fresh, start=f"{PRT_ALERT}.8")
    assert [b.text for b in binds] == ["first", "second", "third"]
    fresh.status.power_cycle()
    binds, _ = walk("snmpwalk", fresh, start=PRT_ALERT)
    assert binds == []


def test_the_agent_stops_and_starts_again_on_its_port(loop: LoopThread, fresh: Running) -> None:
    port = fresh.agent.port
    with pytest.raises(RuntimeError, match="already running"):
        loop.run(fresh.agent.start())
    loop.run(fresh.agent.stop())
    silent = net_snmp("snmpget", fresh.target, SYS_NAME, retries=0)
    assert "Timeout" in silent.stderr
    assert loop.run(fresh.agent.start(port=port)) == port
    assert get(fresh, SYS_NAME)[SYS_NAME].text == "EPSON3A51C7"


def test_identity_changes_show_in_the_next_get(fresh: Running) -> None:
    fresh.device.identity = dataclasses.replace(fresh.device.identity, name="Floor3-MFP", location="Room 3.14")
    got = get(fresh, SYS_NAME, ".1.3.6.1.2.1.1.6.0")
    assert (got[SYS_NAME].text, got[".1.3.6.1.2.1.1.6.0"].text) == ("Floor3-MFP", "Room 3.14")
