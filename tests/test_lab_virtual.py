"""The virtual lab with its devices: lab.json, each device over HTTP, SNMP and the control API, bad inventories."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.lab.labfile import DeviceInfo, LabInfo
from harness.lab.virtual import VirtualLab
from harness.lab.yamlfile import InventoryError
from harness.sim.models import list_models

REQUIRED_DEVICE_KEYS = {"name", "model", "serial", "firmware", "webconfig", "snmp", "admin_password", "capabilities"}


@pytest.fixture(scope="module")
def lab(inventory_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualLab]:
    with VirtualLab(inventory_path, tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture(scope="module")
def info(lab: VirtualLab) -> LabInfo:
    assert lab.info is not None
    return lab.info


@pytest.fixture
def control(info: LabInfo) -> Iterator[requests.Session]:
    session = requests.Session()
    session.verify, session.trust_env = str(info.msft.ca_bundle), False
    session.headers["Authorization"] = f"Bearer {info.msft.control.token}"
    yield session
    session.close()


def api(info: LabInfo, path: str) -> str:
    return info.msft.control.url + path


def test_lab_json_lists_one_device_of_each_model(lab: VirtualLab, info: LabInfo) -> None:
    path = lab.state_dir / "lab.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = json.loads(path.read_text())
    assert {d["model"] for d in raw["devices"]} == {m.model for m in list_models()}
    for device in raw["devices"]:
        assert set(device) >= REQUIRED_DEVICE_KEYS
        assert {"host", "port", "community"} <= set(device["snmp"])
        assert device["admin_password"] == device["serial"]  # Epson's default
    scanner = next(d for d in info.devices if d.model == "DS-790WN")
    assert "print" not in scanner.capabilities and "scan_to_email" in scanner.capabilities


def test_every_device_answers_web_config_and_snmp_as_itself(info: LabInfo) -> None:
    for device in info.devices:
        page = requests.get(f"{device.webconfig}/PRESENTATION/ADVANCED/INFO_PRTINFO/TOP", timeout=10)
        assert page.status_code == 200 and page.headers["Server"] == "EPSON-HTTP"
        assert device.serial in page.text and device.firmware in page.text
        out = snmpget(device, "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.2.2.1.6.1")
        assert device.mac.replace(":", "")[-6:] in out  # sysName EPSONxxxxxx
        assert device.mac.replace(":", " ").upper() in out.upper()


def snmpget(device: DeviceInfo, *oids: str) -> str:
    result = subprocess.run(
        ["snmpget", "-v2c", "-c", device.snmp.community, "-t", "1", "-r", "1", "-On",
         f"{device.snmp.host}:{device.snmp.port}", *oids],
        capture_output=True, text=True, timeout=20, env={"MIBS": "", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_snmpwalk_of_a_lab_device_ends_cleanly(info: LabInfo) -> None:
    device = info.devices[0]
    result = subprocess.run(["snmpwalk", "-v2c", "-c", "public", "-t", "1", "-r", "1", "-On",
                             f"{device.snmp.host}:{device.snmp.port}", ".1"],
                            capture_output=True, text=True, timeout=60, env={"MIBS": "", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "No more variables left in this MIB View" in result.stdout or result.stdout.strip()
    assert "Timeout" not in result.stderr


def test_panel_through_the_control_api(info: LabInfo, control: requests.Session) -> None:
    name = info.devices[0].name
    home = control.get(api(info, f"/devices/{name}/panel")).json()
    assert home["id"] == "home" and "Settings" in home["actions"]
    refused = control.post(api(info, f"/devices/{name}/panel"), json={"action": "No Such Button"})
    assert refused.status_code == 409 and refused.json()["field"] == "action"
    bad = control.post(api(info, f"/devices/{name}/panel"), json={"action": 3})
    assert bad.status_code == 422
    assert control.get(api(info, "/devices/nope/panel")).status_code == 404
    listing = control.get(api(info, "/devices")).json()["devices"]
    assert {d["name"] for d in listing} == {d.name for d in info.devices}
    assert all("admin_password" not in d for d in listing)


def test_status_sheet_is_printed_from_the_panel(info: LabInfo, control: requests.Session) -> None:
    device = next(d for d in info.devices if "status_sheet" in d.capabilities)
    panel, sheet_url = api(info, f"/devices/{device.name}/panel"), api(info, f"/devices/{device.name}/status-sheet")
    control.post(panel, json={"action": "Home"})
    steps = [("Settings", {}), ("OK", {"password": device.admin_password}), ("General Settings", {}),
             ("Network Settings", {}), ("Network Status", {}), ("Print Status Sheet", {})]
    for action, args in steps:
        screen = control.post(panel, json={"action": action, "args": args}).json()
    assert screen["lines"] == ["Print the network status sheet?"]
    assert control.get(sheet_url).status_code == 404  # not printed until confirmed
    assert control.post(panel, json={"action": "OK"}).json()["lines"] == ["The status sheet has been printed."]
    sheet = control.get(sheet_url)
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=sheet.content, capture_output=True,
                          timeout=30).stdout.decode()
    assert device.serial in text and "Email Server" in text


def test_power_cycle_keeps_the_device_and_bumps_its_boot(info: LabInfo, control: requests.Session) -> None:
    name = info.devices[1].name
    first = control.post(api(info, f"/devices/{name}/power-cycle")).json()
    second = control.post(api(info, f"/devices/{name}/power-cycle")).json()
    assert second["boot_id"] == first["boot_id"] + 1
    assert control.get(api(info, f"/devices/{name}/status")).json()["state"] == "idle"


def test_other_ports_of_microsoft_hosts_are_refused_not_unresolved(lab: VirtualLab) -> None:
    assert lab.fleet is not None
    resolver = next(iter(lab.fleet.devices.values())).device.resolver
    host, port = resolver.resolve("smtp.office365.com", 2525)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=5)
    assert resolver.resolve("smtp.office365.com", 587)[1] == lab.tier.smtp_port  # type: ignore[union-attr]


@pytest.mark.parametrize(("devices", "expected"), [
    ("[{name: a, model: WF-NOPE}]", "devices[0].model"),
    ("[{name: a, model: WF-C5790, defects: [bogus]}]", "devices[0].defects: unknown defect 'bogus'"),
    ("[{name: a, model: WF-C5790, serial: '12'}]", "devices[0]: serial '12'"),
    ("[{name: Bad Name, model: WF-C5790}]", "devices[0].name"),
    ("[{name: a, model: WF-C5790}, {name: a, model: DS-790WN}]", "used twice"),
    ("[{name: a, kind: real, model: WF-C5790, address: 192.0.2.1, admin_password: {env: X}, serial: S, mac: M,"
     " firmware: F, capabilities: []}]", "virtual devices only"),
])
def test_bad_device_entries_name_file_and_key(tmp_path: Path, inventory_path: Path, devices: str,
                                              expected: str) -> None:
    text = inventory_path.read_text().split("\ndevices:")[0] + f"\ndevices: {devices}\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(InventoryError) as exc:
        VirtualLab(bad, tmp_path / "state").start()
    assert str(bad) in str(exc.value) and expected in str(exc.value)
    assert not (tmp_path / "state" / "lab.json").exists()
