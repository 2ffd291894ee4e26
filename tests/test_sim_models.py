"""The virtual model catalogue: shipped models complete and distinct, lookups, identities, bad files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.lab.yamlfile import InventoryError, load_yaml
from harness.sim.models import (
    CATALOGUE_PATH,
    Capability,
    default_catalogue,
    firmware_build_date,
    get_model,
    list_models,
    load_catalogue,
    parse_device_id,
)
from harness.sim.status import DetectedError, DeviceState, DeviceStatus

MODELS = list_models()


def test_catalogue_covers_the_four_kinds_of_device() -> None:
    cat = default_catalogue()
    assert len(cat.models) >= 4
    assert len({spec.capabilities for spec in cat.models}) == len(cat.models), "each model differs in what it does"
    everyone = [spec for spec in cat.models if spec.has(Capability.OAUTH2_EMAIL)]
    assert everyone == list(cat.models), "every virtual model has OAuth2 e-mail, the feature under test"
    assert any(
        spec.prints and not spec.capabilities & {Capability.FAX_SERVER_EMAIL, Capability.SERVERLESS,
                                                Capability.EXTENDED_NETWORK}
        for spec in cat.models
    ), "a business MFP with OAuth2 e-mail only"
    assert any(spec.has("fax_server_email") and spec.has("serverless") for spec in cat.models)
    assert any(spec.has("extended_network") and len(spec.network_interfaces) == 2 for spec in cat.models)
    scanners = [spec for spec in cat.models if not spec.prints]
    assert scanners, "a network scanner"
    for spec in scanners:
        assert spec.has("scan_to_email")
        assert not spec.capabilities & {Capability.STATUS_SHEET, Capability.FAX, Capability.FAX_SERVER_EMAIL}
        assert parse_device_id(spec.ieee1284_device_id)["CLS"] == "SCANNER"


@pytest.mark.parametrize("spec", MODELS, ids=[spec.model for spec in MODELS])
def test_every_model_is_complete(spec: Any) -> None:
    assert firmware_build_date(spec.firmware) is not None
    assert re.fullmatch(spec.serial_pattern, spec.default_serial)
    assert re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", spec.default_mac)
    assert spec.sys_object_id.startswith("1.3.6.1.4.1.1248.")
    assert spec.sys_descr.startswith("EPSON Built-in")
    assert re.fullmatch(r"\d{2}\.\d{2}", spec.root_certificate_version)
    device_id = parse_device_id(spec.ieee1284_device_id)
    assert device_id["MFG"] == "EPSON" and device_id["MDL"] == spec.product_name
    assert spec.short_name and spec.network_interfaces[0].descr.startswith("EEPS2 Hard Ver.")
    if spec.prints:
        inks = [s.colorant for s in spec.supplies if not s.is_waste]
        assert len(inks) == len(set(inks)) >= 1
        assert sum(s.is_waste for s in spec.supplies) == 1, "one maintenance box"
        assert spec.inputs and spec.hr_devices[0].type == "printer"
    else:
        assert not spec.supplies and not spec.inputs
        assert all(d.type == "other" for d in spec.hr_devices)
    device = spec.unit()
    assert device.serial == spec.default_serial
    assert device.admin_password == device.serial, "the factory admin password is the serial number"
    assert device.name == "EPSON" + spec.default_mac.replace(":", "")[-6:]
    assert device.firmware_code == spec.firmware[-6:]


def test_lookup_by_model_name() -> None:
    assert get_model("wf-c5790").model == "WF-C5790"
    assert get_model(" AM-C4000 ").has(Capability.SERVERLESS)
    with pytest.raises(KeyError, match=r"unknown Epson model 'XP-1'.*WF-C5790.*DS-790WN"):
        get_model("XP-1")
    assert [spec.model for spec in default_catalogue().with_capability("extended_network")] == ["WF-C21000"]


def test_a_device_identity_takes_its_own_serial_mac_and_firmware() -> None:
    spec = get_model("WF-C21000")
    device = spec.unit(serial="X3ZP999001", mac="64eb8c0000ff", firmware="04.22.EL15O1", name="Floor3-MFP")
    assert (device.serial, device.mac, device.firmware, device.name) == (
        "X3ZP999001", "64:EB:8C:00:00:FF", "04.22.EL15O1", "Floor3-MFP")
    assert device.admin_password == "X3ZP999001"
    assert device.interface_mac(1) == "64:EB:8C:00:01:00", "the extended interface has the next MAC"
    assert str(firmware_build_date(device.firmware)) == "2024-01-15"
    labelled = spec.unit(admin_password="Label-1234")
    assert labelled.admin_password == "Label-1234"
    assert "Label-1234" not in repr(labelled), "the admin password never shows in a repr"


@pytest.mark.parametrize(("change", "message"), [
    ({"serial": "12"}, "does not match"),
    ({"mac": "65:EB:8C:00:00:01"}, "multicast"),
    ({"mac": "64:EB:8C:00:01"}, "MAC address"),
    ({"firmware": "1.0"}, "07.59.LW14NB"),
    ({"firmware": "07.59.LW32NB"}, "07.59.LW14NB"),  # day 32
])
def test_a_bad_identity_is_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        get_model("WF-C5790").unit(**change)


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _shipped() -> Any:
    return load_yaml(CATALOGUE_PATH)


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["models"][0].update(firmware="7.59"), r"models\[0\]\.firmware: .*07\.59\.LW14NB.*'7\.59'"),
    (lambda d: d["models"][1]["capabilities"].append("teleport"), r"models\[1\]\.capabilities\[\d+\]: .*'teleport'"),
    (lambda d: d["models"][2].pop("sys_descr"), r"models\[2\]\.sys_descr: Field required"),
    (lambda d: d["models"][3]["capabilities"].append("status_sheet"),
     r"models\[3\]: .*DS-790WN: capability status_sheet needs print"),
    (lambda d: d["models"][0]["supplies"][0].pop("colorant"), r"models\[0\]\.supplies\[0\]: .*needs a colorant"),
    (lambda d: d["models"][0].update(default_mac="zz"), r"models\[0\]\.default_mac: .*MAC address"),
    (lambda d: d["models"][0].update(sys_object_id="1.3.6.1.4.1.11.2"), r"models\[0\]\.sys_object_id: .*1248"),
    (lambda d: d["models"][0].update(colour="red"), r"models\[0\]\.colour: Extra inputs are not permitted"),
    (lambda d: d["models"].append(dict(d["models"][0])), r"model WF-C5790 is listed twice"),
])
def test_a_bad_catalogue_names_the_file_and_the_key(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = _shipped()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(InventoryError) as caught:
        load_catalogue(path)
    assert str(path) in str(caught.value)
    assert re.search(expected, str(caught.value)), str(caught.value)


def test_a_catalogue_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text("models:\n  - model: WF-C5790\n    firmware: [unclosed\n", encoding="utf-8")
    with pytest.raises(InventoryError, match=rf"{re.escape(str(path))}: not valid YAML at line \d+"):
        load_catalogue(path)
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(InventoryError, match="expected a mapping"):
        load_catalogue(path)


def test_status_changes_are_versioned_snapshots() -> None:
    status = DeviceStatus.for_model(get_model("WF-C5790"))
    first = status.snapshot()
    assert (first.state, first.errors, first.supply_levels) == (DeviceState.IDLE, DetectedError.NONE, (100,) * 5)
    status.set_state("printing")
    status.set_supply_level(2, 7)
    later = status.snapshot()
    assert later.version > first.version and later.state is DeviceState.PRINTING and later.supply_levels[2] == 7
    assert first.state is DeviceState.IDLE, "a snapshot does not change afterwards"
    with pytest.raises(IndexError):
        status.set_supply_level(5, 10)
    with pytest.raises(ValueError, match="percentage"):
        status.set_supply_level(0, 101)


def test_the_alert_table_keeps_the_newest_alerts_with_growing_indexes() -> None:
    status = DeviceStatus()
    for n in range(DeviceStatus.MAX_ALERTS + 3):
        status.raise_alert(f"alert {n}")
    alerts = status.snapshot().alerts
    assert len(alerts) == DeviceStatus.MAX_ALERTS
    assert [a.index for a in alerts] == list(range(4, DeviceStatus.MAX_ALERTS + 4))
    assert alerts[-1].description == f"alert {DeviceStatus.MAX_ALERTS + 2}"
    status.set_errors(DetectedError.JAMMED)
    status.power_cycle()
    after = status.snapshot()
    assert (after.alerts, after.errors, after.state) == ((), DetectedError.NONE, DeviceState.IDLE)
    assert status.raise_alert("after restart").index == DeviceStatus.MAX_ALERTS + 4
